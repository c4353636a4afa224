/**
 * @partstream/core — bytes → S3 parts. Zero runtime dependencies, no `node:*` imports, no HTTP.
 *
 * - {@link toParts} splits a (sync or async) iterable of `Uint8Array` chunks into parts, pulling
 *   only when asked: zero-copy views, each part hashed while it fills, the last one flagged.
 * - {@link bufferParts} splits bytes already in memory into views, hashed on demand.
 * - Part-size policies ({@link fixedPartSize}, {@link partSizeForTotal}, {@link adaptivePartSize})
 *   keep every part within the S3 limits (5 MiB–5 GiB, 10,000 parts, 5 TiB).
 * - {@link createSha256} is the portable default hash; inject a faster one through `hash`.
 * - {@link createCrc64Nvme}, {@link createCrc32c}, {@link createCrc32} are S3 checksums (WebAssembly,
 *   no dependencies) for the `checksum` hook, hashed in the same pass; {@link combineCrc} makes a
 *   whole-object CRC from part CRCs.
 *
 * Errors share one base, {@link PartstreamError}: match on `err.code`.
 * @example
 * import { toParts } from '@partstream/core'
 *
 * for await (const part of toParts(source, { sizeHint: size })) {
 *   console.log(part.partNumber, part.byteLength, part.isLast)
 * }
 * @packageDocumentation
 */

export {
  bufferParts,
  digestChunks,
  planParts,
  type BufferPart,
  type BufferPartsOptions,
  type DigestChunksOptions,
  type PlannedPart,
} from './buffer-parts.ts'
export { isUint8Array } from './bytes.ts'
export { combineCrc, createCrc32, createCrc32c, createCrc64Nvme, type CrcAlgorithm } from './crc.ts'
export {
  describeValue,
  InvalidArgumentError,
  InvalidChunkError,
  ObjectTooLargeError,
  PartstreamError,
  TooManyPartsError,
  type PartstreamErrorCode,
} from './errors.ts'
export { createSha256 } from './sha256.ts'
export {
  DEFAULT_MAX_VIEW_OVERHEAD_BYTES,
  DEFAULT_PART_SIZE_BYTES,
  MAX_OBJECT_SIZE_BYTES,
  MAX_PART_SIZE_BYTES,
  MAX_PARTS,
  MAX_SINGLE_PUT_BYTES,
  MIN_PART_SIZE_BYTES,
} from './limits.ts'
export {
  adaptivePartSize,
  fixedPartSize,
  maxObjectSize,
  partSizeForTotal,
  resolvePartSize,
  type AdaptivePartSizeOptions,
  type PartSizeForTotalOptions,
} from './part-size.ts'
export { toParts } from './to-parts.ts'
export type { AbortSignalLike, Hasher, HashFactory, Part, PartSizePolicy, ReadableStreamLike, ToPartsOptions } from './types.ts'
