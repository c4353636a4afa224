/**
 * `bufferParts`: split bytes already in memory into parts, all at once, hashing on demand.
 * @module
 */

import { isUint8Array } from './bytes.ts'
import { describeValue, InvalidArgumentError, TooManyPartsError } from './errors.ts'
import { startPart, type PartHashes } from './internal/digests.ts'
import { expectHashFactory } from './internal/expect.ts'
import { goneBytes } from './internal/views.ts'
import { MAX_PARTS } from './limits.ts'
import { expectPolicy, expectTotal, maxObjectSize, partSizeForTotal, resolvePartSize } from './part-size.ts'
import { createSha256 } from './sha256.ts'
import type { HashFactory, Part, PartSizePolicy } from './types.ts'

/**
 * One part of an in-memory buffer: the {@link Part} fields except the digests (`sha256`,
 * `checksum`, `md5`), which `toPart()` computes on demand, in one pass, so an uploader can hash several parts concurrently (or in workers) and
 * never hashes a part it does not send.
 * @example
 * const part: Part = await bufferParts(bytes)[0]!.toPart()
 */
export interface BufferPart {
  /** 1-based part number. */
  readonly partNumber: number
  /** Byte offset of the part in the buffer (and in the object). */
  readonly offset: number
  /** One `subarray` view of the buffer; empty only for the empty buffer. */
  readonly chunks: readonly Uint8Array[]
  /** Bytes in the part. */
  readonly byteLength: number
  /** `true` for the final part. */
  readonly isLast: boolean
  /**
   * Hash the part and return it as a {@link Part} with the same view. Memoized: later calls return
   * the same promise, so the part is hashed at most once (unless hashing failed).
   */
  toPart(): Promise<Part>
}

/**
 * Options of {@link bufferParts}.
 * @example
 * bufferParts(bytes, { partSize: 8 * 1024 * 1024, hash: nodeSha256 })
 */
export interface BufferPartsOptions {
  /**
   * Part size in bytes (a fixed size), or a `PartSizePolicy`.
   * @default `partSizeForTotal(bytes.byteLength)`: 6 MiB, or larger so the buffer fits in 10,000 parts
   */
  readonly partSize?: number | PartSizePolicy | undefined
  /**
   * Hash used by `toPart()`. `null` turns hashing off (`sha256` is then `undefined`).
   * @default the portable SHA-256 in core
   */
  readonly hash?: HashFactory | null | undefined
  /**
   * Checksum hash used by `toPart()`, in the same pass as `hash`: its digest is the part's `checksum`.
   * @default null: no checksum
   */
  readonly checksum?: HashFactory | null | undefined
  /**
   * MD5 hash used by `toPart()`, same pass: its digest is the part's `md5`.
   * @default null: no MD5
   */
  readonly md5?: HashFactory | null | undefined
}

function makePart(view: Uint8Array | undefined, partNumber: number, offset: number, isLast: boolean, hashes: PartHashes): BufferPart {
  const chunks: readonly Uint8Array[] = view === undefined ? [] : [view]
  const byteLength = view === undefined ? 0 : view.byteLength
  let hashed: Promise<Part> | undefined
  async function hashPart(): Promise<Part> {
    const digests = await digestChunks(chunks, hashes)
    return { partNumber, offset, chunks, byteLength, ...digests, isLast }
  }
  return {
    partNumber,
    offset,
    chunks,
    byteLength,
    isLast,
    toPart(): Promise<Part> {
      if (hashed === undefined) {
        hashed = hashPart()
        // Forget a failure so a retry hashes again instead of replaying the error forever.
        hashed.catch(() => {
          hashed = undefined
        })
      }
      return hashed
    },
  }
}

/**
 * Split bytes already in memory into parts: `subarray` views, no copies, every non-last part
 * exactly `policy.sizeOf(partNumber)` bytes. The whole list is returned at once (the size is
 * known), and nothing is hashed until a part's `toPart()` is called — so an uploader can hash and
 * send parts concurrently, in any order, with zero copies.
 *
 * Views keep `bytes` alive, and `bytes` must not be mutated until every part was sent. Nothing is
 * copied whatever `maxViewOverhead` would say: the caller holds `bytes` anyway. An empty buffer
 * gives one empty part, flagged `isLast` (one empty PutObject).
 * @param bytes The whole object.
 * @throws {InvalidArgumentError} when `bytes` is not a Uint8Array, or an option is invalid.
 * @throws {TooManyPartsError} when `bytes` needs more than 10,000 parts of an explicit `partSize`.
 * @throws {ObjectTooLargeError} when `bytes` is over 5 TiB.
 * @example
 * const parts = bufferParts(bytes)
 * await Promise.all(parts.map(async (p) => send(await p.toPart()))) // bound concurrency in real code
 */
export function bufferParts(bytes: Uint8Array, options?: BufferPartsOptions): readonly BufferPart[] {
  if (!isUint8Array(bytes)) {
    throw new InvalidArgumentError(`Expected \`bytes\` to be a Uint8Array, got ${describeValue(bytes)}`)
  }
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new InvalidArgumentError(`Expected \`options\` to be an object, got ${describeValue(options)}`)
  }
  const total = bytes.byteLength
  // A detached or out-of-bounds view reads as 0 bytes: not the empty object (one empty PutObject).
  const gone = total === 0 ? goneBytes(bytes) : undefined
  if (gone !== undefined) {
    throw new InvalidArgumentError(
      `Expected \`bytes\` to be a Uint8Array holding the object, got one ${gone === 'detached' ? 'whose ArrayBuffer was detached (transferred, as postMessage(bytes, [bytes.buffer]) or structuredClone with `transfer` do)' : 'out of the bounds of its resizable ArrayBuffer (the buffer shrank below the end of the view)'}, so it holds no bytes. ` +
        'Upload the bytes before transferring them, or transfer a copy (bytes.slice()).',
    )
  }
  const policy = options?.partSize === undefined ? partSizeForTotal(total) : resolvePartSize(options.partSize)
  const hashes: PartHashes = {
    hash: expectHashFactory('hash', options?.hash, createSha256),
    checksum: expectHashFactory('checksum', options?.checksum, null),
    md5: expectHashFactory('md5', options?.md5, null),
  }
  if (total === 0) return [makePart(undefined, 1, 0, true, hashes)]
  // Views made by subarray() of a plain Uint8Array: a subclass's subarray() goes through its own
  // constructor (Symbol.species), and one taking other arguments made views of the whole buffer.
  const plain = bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, total)
  return planParts(total, policy).map((p) =>
    makePart(plain.subarray(p.offset, p.offset + p.byteLength), p.partNumber, p.offset, p.isLast, hashes),
  )
}

/** Where one part of an object of known size lies. */
export interface PlannedPart {
  readonly partNumber: number
  readonly offset: number
  readonly byteLength: number
  readonly isLast: boolean
}

/**
 * The part boundaries of an object of known size under `policy` (one empty part for 0 bytes).
 * Throws `TooManyPartsError` before anything is sent when it needs more than 10,000 parts.
 * `bufferParts` and signer's `uploadFile` both split by it. A custom policy is held to the S3
 * limits as `resolvePartSize` holds it.
 * @param totalBytes The object size: an integer from 0 to 5 TiB.
 * @throws {InvalidArgumentError} when `totalBytes` is not an integer from 0 to 5 TiB, or `policy` is not a valid PartSizePolicy.
 * @throws {ObjectTooLargeError} when `totalBytes` is over 5 TiB.
 * @throws {TooManyPartsError} when `totalBytes` needs more than 10,000 parts of `policy`.
 * @example
 * planParts(13 * 1024 * 1024, fixedPartSize()) // 6 MiB, 6 MiB, 1 MiB
 */
export function planParts(totalBytes: number, policy: PartSizePolicy): PlannedPart[] {
  expectTotal('totalBytes', totalBytes)
  policy = expectPolicy('policy', policy)
  if (totalBytes === 0) return [{ partNumber: 1, offset: 0, byteLength: 0, isLast: true }]
  const capacity = maxObjectSize(policy)
  if (totalBytes > capacity) {
    // The size is known here: a stream's advice (give `sizeHint`) only led to another error.
    throw new TooManyPartsError(
      MAX_PARTS + 1,
      capacity,
      policy.description,
      `The size is known (${totalBytes} bytes): leave \`partSize\` out (parts are then sized to fit: ${partSizeForTotal(totalBytes).sizeOf(1)} bytes each), or raise it to at least that.`,
    )
  }
  const parts: PlannedPart[] = []
  let offset = 0
  for (let partNumber = 1; offset < totalBytes; partNumber++) {
    const end = Math.min(totalBytes, offset + policy.sizeOf(partNumber))
    parts.push({ partNumber, offset, byteLength: end - offset, isLast: end === totalBytes })
    offset = end
  }
  return parts
}

/** What {@link digestChunks} computes: each `null` (or absent) hash is skipped. */
export interface DigestChunksOptions {
  /** @default null */
  readonly hash?: HashFactory | null | undefined
  /** @default null */
  readonly checksum?: HashFactory | null | undefined
  /** @default null */
  readonly md5?: HashFactory | null | undefined
}

/**
 * Hash chunks the way `toParts` hashes a part: every chunk through each hasher in one pass.
 * For uploaders that fill their own part buffers (signer's `uploadFile`) and embedders.
 * @throws {InvalidArgumentError} (a rejection) when `chunks` is not an array of Uint8Array, or `options` not an object of hash factories.
 * @example
 * const { sha256, checksum } = await digestChunks([bytes], { hash: createSha256, checksum: createCrc64Nvme })
 */
export async function digestChunks(chunks: readonly Uint8Array[], options: DigestChunksOptions): Promise<{
  readonly sha256: Uint8Array | undefined
  readonly checksum: Uint8Array | undefined
  readonly md5: Uint8Array | undefined
}> {
  if (!Array.isArray(chunks)) throw new InvalidArgumentError(`Expected \`chunks\` to be an array of Uint8Array, got ${describeValue(chunks)}`)
  for (let i = 0; i < chunks.length; i++) {
    const chunk: unknown = chunks[i]
    if (!isUint8Array(chunk)) throw new InvalidArgumentError(`Expected \`chunks\` to be an array of Uint8Array, got ${describeValue(chunk)} at index ${i}`)
  }
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`Expected \`options\` to be an object ({ hash, checksum, md5 }: the hash factories to run), got ${describeValue(options)}`)
  }
  const digester = startPart({
    hash: expectHashFactory('hash', options.hash, null),
    checksum: expectHashFactory('checksum', options.checksum, null),
    md5: expectHashFactory('md5', options.md5, null),
  })
  for (const chunk of chunks) digester.update(chunk)
  return await digester.finish()
}
