/**
 * Hashes fed at most 1 GiB at a time. A part may be 5 GiB (S3's limit), and `adaptivePartSize()`
 * reaches 3 GiB, but node:crypto refuses an `update()` of 2^31 bytes or more (RangeError "data is
 * too long", `ERR_OUT_OF_RANGE`), and `zlib.crc32` on Node ≥ 22 counts the length mod 2^32 (a part
 * over 4 GiB got the CRC32 of its first bytes). Every hash gives the same digest for its input in
 * pieces, so signer's own hashing goes through here; core feeds its hashers the same way
 * (`MAX_HASH_UPDATE_BYTES` in core's internal/digests.ts).
 * @module
 */

/** The most bytes one `update()` of a hash (or one `zlib.crc32` call) is given: 1 GiB. */
export const MAX_HASH_UPDATE_BYTES: number = 1024 * 1024 * 1024

/**
 * Calls `update` with `data` in views of at most `maxBytes` bytes, in order: `data` itself when it
 * fits (the usual case), no copies.
 * @example
 * updateInPieces((piece) => hash.update(piece), part)
 */
export function updateInPieces(update: (piece: Uint8Array) => void, data: Uint8Array, maxBytes: number = MAX_HASH_UPDATE_BYTES): void {
  if (data.byteLength <= maxBytes) {
    update(data)
    return
  }
  // By offset, not data.subarray(): a Uint8Array subclass's constructor (Symbol.species) may take other arguments.
  for (let at = 0; at < data.byteLength; at += maxBytes) update(new Uint8Array(data.buffer, data.byteOffset + at, Math.min(maxBytes, data.byteLength - at)))
}
