import {
  InvalidArgumentError,
  bufferParts,
  describeValue,
  resolvePartSize,
  toParts,
  type BufferPart,
  type HashFactory,
  type Part,
  type PartSizePolicy,
} from '@partstream/core'
import { createS3Context, type S3Context, type S3ContextOptions, type UploadTarget } from './context.ts'
import { defaultHash } from './internal/hash.ts'
import { runUpload } from './internal/run-upload.ts'
import type { ObjectOptions } from './operations/common.ts'
import type { UploadProgress } from './progress.ts'

/** Bytes `upload` accepts: any (async) iterable of `Uint8Array` chunks, or one `Uint8Array`. */
export type UploadSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array

/** Options of {@link upload}. */
export interface UploadOptions extends S3ContextOptions, ObjectOptions {
  /**
   * Part size in bytes, or a policy (`fixedPartSize`, `partSizeForTotal`, `adaptivePartSize`).
   * @default 6 MiB; for a `Uint8Array` or with `sizeHint`, the smallest size that fits 10,000 parts
   */
  readonly partSize?: number | PartSizePolicy | undefined
  /**
   * Expected total bytes (exact or an over-estimate) when `partSize` is not given.
   * @default undefined
   */
  readonly sizeHint?: number | undefined
  /**
   * Parts in flight at once. Peak retained input is about (concurrency + 1) × partSize.
   * @default 4
   */
  readonly concurrency?: number | undefined
  /**
   * Cancels the upload: in-flight requests stop, the multipart upload is aborted, the source is
   * closed, and `upload` rejects with `signal.reason`.
   * @default undefined
   */
  readonly signal?: AbortSignal | undefined
  /**
   * The payload hash. Each part is hashed exactly once, as it fills.
   * @default node:crypto SHA-256 (sha256-js where node:crypto is missing)
   */
  readonly hash?: HashFactory | undefined
  /**
   * `'sha256'`: every body is hashed and the hash signed; the server rejects corrupted bytes.
   * `'unsigned'`: `UNSIGNED-PAYLOAD`, no hashing at all (fastest); integrity then rests on TLS,
   * so use it with https endpoints.
   * @default 'sha256'
   */
  readonly payload?: 'sha256' | 'unsigned' | undefined
  /**
   * On failure, keep the uploaded parts instead of sending AbortMultipartUpload. The error's
   * `uploadId` then names the upload to resume or abort later.
   * @default false
   */
  readonly leavePartsOnError?: boolean | undefined
  /**
   * Called synchronously for each step. An exception thrown here fails the upload.
   * @default undefined
   */
  readonly onProgress?: ((event: UploadProgress) => void) | undefined
  /**
   * Resume the multipart upload with this id (from an `upload-created` event or an error's
   * `uploadId`, after a crash or with `leavePartsOnError`). Give the same source from its start
   * and the same part size: parts S3 already holds are checked (size, and MD5 against the ETag)
   * and skipped, so only the missing ones are sent.
   * @default undefined
   */
  readonly resumeUploadId?: string | undefined
  /**
   * See `toParts`: views this much smaller than their backing buffer are copied.
   * @default 65536
   */
  readonly maxViewOverhead?: number | undefined
}

/** What `upload` resolves with once S3 holds the whole object. */
export interface UploadResult {
  readonly bucket: string
  readonly key: string
  /** URL of the object. */
  readonly location: string
  /** The object's ETag, unquoted (from HeadObject where the server's Complete answer had none). */
  readonly etag: string
  readonly versionId: string | undefined
  /** Bytes written. */
  readonly size: number
  /** Parts sent: `1` for a single PutObject. */
  readonly partCount: number
  /** The multipart upload id; `undefined` when a single PutObject was used. */
  readonly uploadId: string | undefined
}

export const DEFAULT_CONCURRENCY = 4

/** Calls `return()` on whatever iterator the source has, for paths that fail before `toParts` owns it. */
async function closeSource(source: unknown): Promise<void> {
  try {
    if (source === null || typeof source !== 'object' || source instanceof Uint8Array) return
    const s = source as { return?: () => unknown; [Symbol.asyncIterator]?: () => { return?: () => unknown } }
    if (typeof s.return === 'function') await s.return()
    else if (typeof s[Symbol.asyncIterator] === 'function' && 'cancel' in s) await (s as { cancel(): Promise<void> }).cancel()
  } catch {
    // The original error is what the caller needs; a failing return() has nothing to add.
  }
}

/** A buffer's parts are views of it; each is hashed only when the upload loop asks for it. */
async function* viewParts(parts: readonly BufferPart[]): AsyncGenerator<Part> {
  for (const part of parts) yield await part.toPart()
}

function toIterable(source: UploadSource): AsyncIterable<Uint8Array> | Iterable<Uint8Array> {
  if (source instanceof Uint8Array) return [source]
  if (
    source !== null &&
    typeof source === 'object' &&
    (typeof (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function' ||
      typeof (source as Iterable<Uint8Array>)[Symbol.iterator] === 'function')
  ) {
    return source
  }
  throw new InvalidArgumentError(
    `Expected \`source\` to be an AsyncIterable or Iterable of Uint8Array chunks, or a Uint8Array, got ${describeValue(source)}. ` +
      'Wrap a string with new TextEncoder().encode(s); pass a Node Readable or a ReadableStream as is.',
  )
}

/** Checks the options `upload` and `uploadFile` share; returns the concurrency. Throws before any I/O. */
export function validateUploadOptions(options: UploadOptions): number {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`Expected \`options\` to be an object, got ${describeValue(options)}.`)
  }
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY
  if (typeof concurrency !== 'number' || !Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000) {
    throw new InvalidArgumentError(`Expected \`concurrency\` to be an integer from 1 to 1000, got ${describeValue(concurrency)}.`)
  }
  if (options.payload !== undefined && options.payload !== 'sha256' && options.payload !== 'unsigned') {
    throw new InvalidArgumentError(`Expected \`payload\` to be 'sha256' or 'unsigned', got ${describeValue(options.payload)}.`)
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new InvalidArgumentError(`Expected \`onProgress\` to be a function, got ${describeValue(options.onProgress)}.`)
  }
  if (options.hash !== undefined && typeof options.hash !== 'function') {
    throw new InvalidArgumentError(`Expected \`hash\` to be a function returning a Hasher, got ${describeValue(options.hash)}.`)
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new InvalidArgumentError(`Expected \`signal\` to be an AbortSignal, got ${describeValue(options.signal)}.`)
  }
  if (options.resumeUploadId !== undefined && (typeof options.resumeUploadId !== 'string' || options.resumeUploadId === '')) {
    throw new InvalidArgumentError(`Expected \`resumeUploadId\` to be a non-empty string, got ${describeValue(options.resumeUploadId)}.`)
  }
  resolvePartSize(options.partSize, options.sizeHint) // throws InvalidArgumentError for a bad size
  options.signal?.throwIfAborted()
  return concurrency
}

/**
 * Uploads a stream of unknown length (or a buffer) to S3 as one object, with bounded memory.
 *
 * Reads the source only when a part slot is free, hashes each part once as it fills, sends up
 * to `concurrency` parts at once, and completes the upload. A source that fits in one part is
 * sent with a single PutObject (the empty source too: a 0-byte object).
 *
 * Once called, `upload` owns the source: on any failure or abort (validation failures included)
 * it stops pulling, lets in-flight parts settle, aborts the multipart upload (unless
 * `leavePartsOnError`), calls the source's `return()`, and rejects with the first error (or
 * `signal.reason`).
 * @example
 * const result = await upload(lines(), {
 *   bucket: 'logs', key: 'today.txt', endpoint: 'http://127.0.0.1:7480',
 *   credentials: { accessKeyId, secretAccessKey },
 * })
 */
export async function upload(source: UploadSource, target: UploadTarget, options: UploadOptions = {}): Promise<UploadResult> {
  let ctx: S3Context
  let iterable: AsyncIterable<Uint8Array> | Iterable<Uint8Array>
  let concurrency: number
  try {
    iterable = toIterable(source)
    concurrency = validateUploadOptions(options)
    ctx = createS3Context(target, { ...options, connections: options.connections ?? concurrency })
  } catch (error) {
    await closeSource(source)
    throw error
  }
  const totalBytes = source instanceof Uint8Array ? source.byteLength : undefined
  const controller = new AbortController()
  try {
    const hash = options.payload === 'unsigned' ? null : (options.hash ?? defaultHash)
    const parts =
      source instanceof Uint8Array
        ? viewParts(bufferParts(source, { partSize: options.partSize, hash }))
        : toParts(iterable, { partSize: options.partSize, sizeHint: options.sizeHint, hash, signal: controller.signal, maxViewOverhead: options.maxViewOverhead })
    return await runUpload(ctx, parts, { ...options, concurrency, controller, totalBytes })
  } finally {
    await ctx.close()
  }
}

