/**
 * The few web-platform types core needs, declared structurally so core compiles with `types: []`
 * and no DOM lib (aws4fetch does the same). Any runtime's `AbortSignal` satisfies this shape.
 */
export interface AbortSignalLike {
  readonly aborted: boolean
  readonly reason: unknown
  throwIfAborted(): void
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void
  removeEventListener(type: 'abort', listener: () => void): void
}

/**
 * A web `ReadableStream` of `T` as far as `toParts` reads it: through a reader of its own
 * (`getReader()`), never through its async iterator, so a stream without `Symbol.asyncIterator`
 * is read too. Any runtime's `ReadableStream` fits, and so does the DOM lib's (`fetch`'s
 * `response.body`), which TypeScript does not call `AsyncIterable` without the
 * "dom.asynciterable" lib (the Next.js and Vite templates leave it out).
 */
export interface ReadableStreamLike<T> {
  /** A locked stream (a reader or a pipe holds it) is refused: nobody else may be reading it. */
  readonly locked: boolean
  getReader(): {
    read(): Promise<{ readonly done: boolean; readonly value?: T | undefined }>
    cancel(reason?: unknown): Promise<void>
    releaseLock(): void
  }
}

/**
 * An incremental hash. Structurally the smithy `Checksum` shape, so `new Sha256()` from
 * `@aws-crypto/sha256-js` plugs in directly, as does a thin wrapper over `node:crypto`. Core gives
 * one `update()` at most 1 GiB (a view of a larger chunk in pieces): node:crypto refuses 2 GiB.
 * @example
 * const nodeSha256 = (): Hasher => {
 *   const hash = createHash('sha256')
 *   return { update: (data) => void hash.update(data), digest: () => hash.digest() }
 * }
 */
export interface Hasher {
  update(data: Uint8Array): void
  digest(): Uint8Array | Promise<Uint8Array>
}

/**
 * Makes a fresh {@link Hasher} for each part.
 * @example
 * toParts(source, { hash: () => new Sha256() }) // @aws-crypto/sha256-js
 */
export type HashFactory = () => Hasher

/**
 * One part of the object, as yielded by `toParts` and `bufferParts`.
 *
 * Ownership rules:
 * - `chunks` are views (`subarray`) of the chunks the source yielded, never copies (except views
 *   of oversized buffers, see `maxViewOverhead`). The source must not mutate a chunk after
 *   yielding it.
 * - A view keeps its whole backing `ArrayBuffer` alive until the part is dropped.
 * @example
 * for await (const part of toParts(source)) {
 *   const body = part.chunks // send as is, with content-length: part.byteLength
 *   if (part.isLast && part.partNumber === 1) {
 *     // the whole object: one PutObject
 *   }
 * }
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
  /**
   * The part's checksum from the `checksum` hasher (e.g. 8 bytes of CRC64NVME), computed in the
   * same pass as `sha256`; `undefined` when no `checksum` was asked for.
   */
  readonly checksum?: Uint8Array | undefined
  /** The part's MD5 from the `md5` hasher (16 bytes), same pass; `undefined` when not asked for. */
  readonly md5?: Uint8Array | undefined
  /** `true` for the final part: nothing follows it. */
  readonly isLast: boolean
}

/**
 * Decides the size of each part. Non-last parts are exactly `sizeOf(partNumber)` bytes.
 * Built-in policies: `fixedPartSize`, `partSizeForTotal` (size hint), `adaptivePartSize`.
 * A custom policy is any object of this shape; every size it returns is checked against the S3
 * limits (5 MiB to its `maxPartSize`, at most 5 GiB) before a part is produced.
 * @example
 * const policy: PartSizePolicy = {
 *   description: '8 MiB, then 64 MiB parts',
 *   maxPartSize: 64 * 1024 * 1024,
 *   sizeOf: (n) => (n <= 100 ? 8 : 64) * 1024 * 1024,
 * }
 */
export interface PartSizePolicy {
  /** Short human description for error messages, e.g. `fixed 6 MiB parts`. */
  readonly description: string
  /** Size in bytes of part `partNumber` (1-based) if it is not the last. */
  sizeOf(partNumber: number): number
  /** Largest part size this policy can return: what one in-flight part may retain. */
  readonly maxPartSize: number
}

/**
 * Options of `toParts`. Validated when `toParts` is called.
 * @example
 * toParts(source, { sizeHint: size, signal: AbortSignal.timeout(60_000) })
 */
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
   * @default `createSha256`, the portable SHA-256 in core (~200 MB/s; signer passes node:crypto,
   *   about five times faster)
   */
  readonly hash?: HashFactory | null | undefined
  /**
   * A second hash fed the same chunks in the same pass as `hash`, for an S3 checksum: its digest
   * is the part's `checksum`. {@link createCrc64Nvme}, {@link createCrc32c}, {@link createCrc32}
   * fit, as does any `() => Hasher` (a node:crypto SHA-1).
   * @default null: no checksum
   */
  readonly checksum?: HashFactory | null | undefined
  /**
   * A third hash for the part's MD5 (`Content-MD5`), same pass; core has no MD5 of its own, so
   * pass one (a node:crypto wrapper).
   * @default null: no MD5
   */
  readonly md5?: HashFactory | null | undefined
  /**
   * Stops the split: the iterator rejects with `signal.reason` (unchanged) and the source is
   * closed. Checked at each `next()` and before each read; it also interrupts a read in progress.
   * @default undefined
   */
  readonly signal?: AbortSignalLike | undefined
  /**
   * A chunk whose backing `ArrayBuffer` is more than this many bytes larger than the chunk is
   * copied before it is held, however long the chunk is, so views of a huge buffer cannot pin it
   * and break the memory bound. A chunk that is its whole buffer is never copied. `0` copies
   * every partial view; `Infinity` never copies (views of a buffer kept resident anyway).
   * @default 65536 (`DEFAULT_MAX_VIEW_OVERHEAD_BYTES`)
   */
  readonly maxViewOverhead?: number | undefined
  /**
   * Number the first yielded part as this (for resuming after `startPartNumber - 1` parts).
   * An integer from 1 to 10,000; it counts towards the 10,000-part limit.
   * @default 1
   */
  readonly startPartNumber?: number | undefined
  /**
   * Offset of the first byte in the object (for resuming), counted towards the 5 TiB limit.
   * @default 0
   */
  readonly startOffset?: number | undefined
  /**
   * How long closing the source waits for its `return()` (after an error raised here, or on
   * `return()`/`throw()`), in milliseconds: past it, `next()` rejects with its error (and
   * `return()` resolves) while the close goes on unobserved. A source whose `return()` never
   * settles then cannot hang its consumer. An integer from 0 to 2^31 - 1, or `Infinity`.
   * @default Infinity (awaited as long as it takes)
   */
  readonly closeGraceMs?: number | undefined
}
