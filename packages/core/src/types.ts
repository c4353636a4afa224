import type { AbortSignalLike } from './internal/web.ts'

/**
 * An incremental hash. Structurally the smithy `Checksum` shape, so `new Sha256()` from
 * `@aws-crypto/sha256-js` plugs in directly, as does a thin wrapper over `node:crypto`.
 */
export interface Hasher {
  update(data: Uint8Array): void
  digest(): Uint8Array | Promise<Uint8Array>
}

/** Makes a fresh {@link Hasher} for each part. */
export type HashFactory = () => Hasher

/**
 * One part of the object, as yielded by `toParts` and `bufferParts`.
 *
 * Ownership rules:
 * - `chunks` are views (`subarray`) of the chunks the source yielded, never copies (except views
 *   of oversized buffers, see `maxViewOverhead`). The source must not mutate a chunk after
 *   yielding it.
 * - A view keeps its whole backing `ArrayBuffer` alive until the part is dropped.
 */
export interface Part {
  /** 1-based part number, as S3 numbers parts. */
  readonly partNumber: number
  /** Byte offset of the part's first byte in the object. */
  readonly offset: number
  /** Zero-copy views whose concatenation is the part. Empty only for the empty object. */
  readonly chunks: readonly Uint8Array[]
  /** Total bytes in `chunks`. */
  readonly byteLength: number
  /** SHA-256 of the part (32 bytes), or `undefined` when hashing is off (`hash: null`). */
  readonly sha256: Uint8Array | undefined
  /** `true` for the final part: nothing follows it. */
  readonly isLast: boolean
}

/**
 * Decides the size of each part. Non-last parts are exactly `sizeOf(partNumber)` bytes.
 * Built-in policies: `fixedPartSize`, `partSizeForTotal` (size hint), `adaptivePartSize`.
 */
export interface PartSizePolicy {
  /** Short human description for error messages, e.g. `fixed 6 MiB parts`. */
  readonly description: string
  /** Size in bytes of part `partNumber` (1-based) if it is not the last. */
  sizeOf(partNumber: number): number
  /** Largest part size this policy can return: what one in-flight part may retain. */
  readonly maxPartSize: number
}

/** Options of `toParts`. */
export interface ToPartsOptions {
  /**
   * Part size in bytes (a fixed size), or a {@link PartSizePolicy}.
   * A number must be an integer from 5 MiB to 5 GiB.
   * @default 6 MiB fixed, or `partSizeForTotal(sizeHint)` when `sizeHint` is given
   */
  readonly partSize?: number | PartSizePolicy | undefined
  /**
   * Expected total size in bytes (exact or an over-estimate). When `partSize` is not given, the
   * smallest part size that fits it into 10,000 parts is used (never below 6 MiB).
   * @default undefined
   */
  readonly sizeHint?: number | undefined
  /**
   * Hash each part as it fills. `null` turns hashing off (`sha256` is then `undefined`).
   * @default the portable SHA-256 in core (signer passes node:crypto, ~10× faster)
   */
  readonly hash?: HashFactory | null | undefined
  /**
   * Stops the split: the iterator rejects with `signal.reason` and the source is closed.
   * @default undefined
   */
  readonly signal?: AbortSignalLike | undefined
  /**
   * A chunk whose backing `ArrayBuffer` is more than this many bytes larger than the chunk is
   * copied before it is held, so a small view of a huge buffer cannot pin the huge buffer and
   * break the memory bound. `Infinity` never copies.
   * @default 65536
   */
  readonly maxViewOverhead?: number | undefined
  /**
   * Number the first yielded part as this (for resuming after `startPartNumber - 1` parts).
   * Offsets start at `startOffset`.
   * @default 1
   */
  readonly startPartNumber?: number | undefined
  /** @default 0 */
  readonly startOffset?: number | undefined
}
