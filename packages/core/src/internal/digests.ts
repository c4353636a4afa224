import type { HashFactory, Hasher } from '../types.ts'
import { isThenable } from './source.ts'
import { viewOf } from './views.ts'

/** The hashes a part goes through, each `null` when off. */
export interface PartHashes {
  /** The payload hash: its digest is the part's `sha256`. */
  readonly hash: HashFactory | null
  readonly checksum: HashFactory | null
  readonly md5: HashFactory | null
}

/** What the hashes of one part gave. */
export interface PartDigests {
  readonly sha256: Uint8Array | undefined
  readonly checksum: Uint8Array | undefined
  readonly md5: Uint8Array | undefined
}

/** One part being hashed: each chunk goes through every hasher in turn, while it is hot in cache. */
export interface PartDigester {
  update(chunk: Uint8Array): void
  /** The digests; synchronous when every hasher's `digest()` is (no microtask per part then). */
  finish(): PartDigests | Promise<PartDigests>
}

const NONE: PartDigests = Object.freeze({ sha256: undefined, checksum: undefined, md5: undefined })

/**
 * The most bytes a hasher is given in one `update()`: 1 GiB. A part may be 5 GiB (S3), and
 * `adaptivePartSize()` reaches 3 GiB, but node:crypto refuses an update of 2^31 bytes or more
 * (RangeError "data is too long") and `zlib.crc32` on Node ≥ 22 counts the length mod 2^32: a
 * chunk is fed in views of at most this many bytes, which gives the same digest for any hash.
 */
export const MAX_HASH_UPDATE_BYTES: number = 1024 * 1024 * 1024

/**
 * Starts hashing one part with fresh hashers from `hashes`. `maxUpdateBytes`: the largest view one
 * `update()` of a hasher gets (tests lower it).
 */
export function startPart(hashes: PartHashes, maxUpdateBytes: number = MAX_HASH_UPDATE_BYTES): PartDigester {
  const sha256 = hashes.hash?.()
  const checksum = hashes.checksum?.()
  const md5 = hashes.md5?.()
  const all = [sha256, checksum, md5].filter((h): h is Hasher => h !== undefined)
  const updateAll = (piece: Uint8Array): void => {
    for (const hasher of all) hasher.update(piece)
  }
  return {
    update(chunk: Uint8Array): void {
      if (chunk.byteLength <= maxUpdateBytes) updateAll(chunk)
      else for (let at = 0; at < chunk.byteLength; at += maxUpdateBytes) updateAll(viewOf(chunk, at, Math.min(maxUpdateBytes, chunk.byteLength - at)))
    },
    finish(): PartDigests | Promise<PartDigests> {
      if (all.length === 0) return NONE
      const digests = [sha256?.digest(), checksum?.digest(), md5?.digest()]
      const make = (d: readonly (Uint8Array | undefined)[]): PartDigests => ({ sha256: d[0], checksum: d[1], md5: d[2] })
      if (!digests.some(isThenable)) return make(digests as (Uint8Array | undefined)[])
      return (async () => make([await digests[0], await digests[1], await digests[2]]))()
    },
  }
}
