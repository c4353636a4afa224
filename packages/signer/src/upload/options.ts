import { InvalidArgumentError, describeValue, resolvePartSize, type HashFactory, type PartSizePolicy, type ReadableStreamLike } from '@partstream/core'
import { checksumHash, validateChecksumAlgorithm, type ChecksumAlgorithm, type ObjectChecksum } from '../http/checksum.ts'
import type { S3ContextOptions } from '../http/context.ts'
import { requireWellFormed } from '../http/endpoint.ts'
import { builtinModule, defaultHash, nodeMd5 } from '../http/hash.ts'
import type { HashSpec } from './hash-job.ts'
import type { ObjectOptions } from '../operations/object-options.ts'
import type { UploadProgress } from './progress.ts'
import { checkOptionNames, optionNames } from './option-names.ts'

/**
 * Bytes `upload` accepts: any (async) iterable of `Uint8Array` chunks, a web `ReadableStream`
 * (`fetch`'s `response.body`; read with `getReader()`, so the DOM lib's, which TypeScript does not
 * call async-iterable without "dom.asynciterable", fits too), one `Uint8Array`, or a `Blob` (a
 * `File` from a form, `fetch`'s `response.blob()`), read through its stream.
 */
export type UploadSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array> | ReadableStreamLike<Uint8Array> | Uint8Array | Blob

/** `Blob` (and `File`) where the runtime has one: Node ≥ 18, Deno, Bun. */
export function isBlob(value: unknown): value is Blob {
  return typeof Blob === 'function' && value instanceof Blob
}

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
   * Send an S3 checksum with every part, computed in the same pass as the part's SHA-256 (with
   * `payload: 'unsigned'`, the only hash computed): PutObject sends `x-amz-checksum-<algorithm>`;
   * a multipart upload is created with `x-amz-checksum-algorithm` and `x-amz-checksum-type`
   * (`FULL_OBJECT` for the CRCs, `COMPOSITE` for SHA1 and SHA256), every part sends its checksum,
   * and Complete lists them and, for FULL_OBJECT, sends the whole object's CRC combined from the
   * part CRCs. The result's `checksum` is what S3 reports for the object. Off by default: servers
   * that do not know these headers have refused uploads carrying them (see the README's table).
   * @default undefined: no checksum
   */
  readonly checksum?: ChecksumAlgorithm | undefined
  /**
   * Send each part's MD5 as `Content-MD5` (computed in the same pass), for servers that require
   * it (S3 buckets with Object Lock and no checksum). Needs node:crypto.
   * @default false
   */
  readonly contentMd5?: boolean | undefined
  /**
   * On failure, keep the uploaded parts instead of sending AbortMultipartUpload. The error's
   * `uploadId` then names the upload to resume or abort later.
   * @default false
   */
  readonly leavePartsOnError?: boolean | undefined
  /**
   * Called synchronously for each step. An exception thrown here, or a promise it returns that
   * rejects, fails the upload (which is aborted) with that error; a rejection that arrives after
   * the upload settled is ignored.
   * @default undefined
   */
  readonly onProgress?: ((event: UploadProgress) => unknown) | undefined
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
  /**
   * `uploadFile` and `uploadFd`: worker threads that hash the parts (SHA-256, checksum, MD5) in
   * place, off the main thread: the part buffers are `SharedArrayBuffer`s, and a worker gets
   * (buffer, offset, length), never a copy. `0` hashes on the main thread.
   *
   * `'auto'`, for a file: the free cores (`availableParallelism() - 1`, at most 4) for a file of
   * 256 MiB or more, else 0 (a worker's start-up, ~0.15 CPU s, costs more than it saves on a
   * smaller file: SHA-256 is ~0.7 s/GiB). `uploadFd` hashes each part by one worker as it is read
   * (~1 MiB at a time), so it uses one worker at most: on a regular file, `'auto'` follows the file
   * rule; on a pipe or socket it starts the worker only where there are 3 cores or more (the
   * producer on the other end needs one), once 256 MiB have gone through (or at once with a
   * `sizeHint` of 256 MiB or more).
   *
   * Parts are hashed on the main thread until a worker has loaded, so its start-up never delays a
   * part. Without node:worker_threads, or with a custom `hash`, parts are hashed on the main
   * thread. Workers start with the upload and are terminated when it settles. Streams (`upload`)
   * always hash inline (measured: copying chunks into shared buffers costs more than the worker
   * saves).
   * @default 0
   */
  readonly hashThreads?: number | 'auto' | undefined
}

/** What `upload` resolves with once S3 holds the whole object. */
export interface UploadResult {
  readonly bucket: string
  readonly key: string
  /**
   * The object's URL: the endpoint's origin and the bucket and key, each path segment
   * URI-encoded (`https://bucket.s3.us-east-1.amazonaws.com/logs/day%201.gz`,
   * `http://127.0.0.1:7480/bucket/key` path-style). Built by partstream, the same for a PutObject
   * and a multipart upload, whatever the server's `<Location>` says.
   */
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
  /**
   * With `checksum`: the object's checksum as S3 reports it (`GetObjectAttributes`, `HeadObject`
   * with `ChecksumMode: ENABLED`): the CRC of the whole object (`FULL_OBJECT`, also for a single
   * PutObject) or `base64(alg(part digests))-N` (`COMPOSITE`). `undefined` without `checksum`.
   */
  readonly checksum: ObjectChecksum | undefined
}

/** `hashThreads` when not given. */
export const HASH_THREADS_DEFAULT: number | 'auto' = 0

/** The most `hashThreads` accepts. */
const MAX_HASH_THREADS = 64

/** Parts in flight at once when `concurrency` is not given. */
export const DEFAULT_CONCURRENCY = 4

/** Every option of {@link UploadOptions}: typed, so one added to the interface must be added here. */
const UPLOAD_OPTIONS: Record<keyof UploadOptions, true> = {
  // S3ContextOptions
  dispatcher: true,
  transport: true,
  connections: true,
  ca: true,
  retry: true,
  now: true,
  idleTimeoutMs: true,
  // ObjectOptions
  contentType: true,
  cacheControl: true,
  contentDisposition: true,
  contentEncoding: true,
  metadata: true,
  ifNoneMatch: true,
  storageClass: true,
  serverSideEncryption: true,
  sseKmsKeyId: true,
  acl: true,
  tagging: true,
  // UploadOptions' own
  partSize: true,
  sizeHint: true,
  concurrency: true,
  signal: true,
  hash: true,
  payload: true,
  checksum: true,
  contentMd5: true,
  leavePartsOnError: true,
  onProgress: true,
  resumeUploadId: true,
  maxViewOverhead: true,
  hashThreads: true,
}

/** `upload`'s (and `uploadFile`'s) option names, which the other entry points add to. */
export const UPLOAD_OPTION_NAMES: ReadonlySet<string> = optionNames(UPLOAD_OPTIONS)
const UPLOAD_NAMES = { fn: 'upload', known: UPLOAD_OPTION_NAMES } as const

/** Every boolean option of {@link UploadOptions}: `ifNoneMatch` from the object options, the others `upload`'s own. */
const BOOLEAN_UPLOAD_OPTIONS = ['contentMd5', 'leavePartsOnError', 'ifNoneMatch'] as const

/**
 * Refuses an option that is given (not `undefined`) but not a boolean: a truthy `'yes'` or `1`
 * compared with `=== true` would otherwise be read as `false`, silently.
 */
export function requireBooleanOption<T extends object>(options: T, name: keyof T & string): void {
  const value = options[name]
  if (value !== undefined && typeof value !== 'boolean') {
    throw new InvalidArgumentError(`Expected \`${name}\` to be a boolean, got ${describeValue(value)}.`)
  }
}

/**
 * Checks the options `upload` and `uploadFile` share; returns the concurrency. Throws before any
 * I/O. `target` is the one the call was given (a target field in the options is refused unless
 * the target has the same value: `upload(src, config, config)` is fine); `names`, the entry
 * point's own option names (see `checkOptionNames`), `upload`'s by default.
 */
export function validateUploadOptions(options: UploadOptions, target?: unknown, names: { readonly fn: string; readonly known: ReadonlySet<string> } = UPLOAD_NAMES): number {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`Expected \`options\` to be an object, got ${describeValue(options)}.`)
  }
  checkOptionNames(options, names.known, names.fn, target)
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
  validateChecksumAlgorithm(options.checksum, 'checksum')
  // A flag given as 'yes' or 1 must not pass for `false` (no MD5, the parts aborted, an existing object overwritten).
  for (const name of BOOLEAN_UPLOAD_OPTIONS) requireBooleanOption(options, name)
  if (options.contentMd5 === true && nodeMd5 === undefined) {
    throw new InvalidArgumentError('`contentMd5: true` needs node:crypto (MD5), which this runtime lacks.')
  }
  if (options.resumeUploadId !== undefined && (typeof options.resumeUploadId !== 'string' || options.resumeUploadId === '')) {
    throw new InvalidArgumentError(`Expected \`resumeUploadId\` to be a non-empty string, got ${describeValue(options.resumeUploadId)}.`)
  }
  if (options.resumeUploadId !== undefined) requireWellFormed(options.resumeUploadId, '`resumeUploadId`')
  const threads = options.hashThreads
  if (threads !== undefined && threads !== 'auto' && (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 0 || threads > MAX_HASH_THREADS)) {
    throw new InvalidArgumentError(`Expected \`hashThreads\` to be an integer from 0 to ${MAX_HASH_THREADS} or 'auto', got ${describeValue(threads)}.`)
  }
  resolvePartSize(options.partSize, options.sizeHint) // throws InvalidArgumentError for a bad size
  // Checked for every source, as toParts checks it for streams: a Uint8Array or a file never
  // reads it, but a wrong value is still a wrong call.
  const overhead = options.maxViewOverhead
  if (overhead !== undefined && overhead !== Number.POSITIVE_INFINITY && (typeof overhead !== 'number' || !Number.isSafeInteger(overhead) || overhead < 0)) {
    throw new InvalidArgumentError(`Expected \`maxViewOverhead\` to be a whole number of bytes ≥ 0, or Infinity (never copy), got ${describeValue(overhead)}.`)
  }
  options.signal?.throwIfAborted()
  return concurrency
}


/** The hashes each part goes through, in one pass, for `upload`'s and `uploadFile`'s options. */
export function partHashes(options: Pick<UploadOptions, 'payload' | 'hash' | 'checksum' | 'contentMd5'>): { hash: HashFactory | null; checksum: HashFactory | null; md5: HashFactory | null } {
  const hash = options.payload === 'unsigned' ? null : (options.hash ?? defaultHash)
  const algorithm = options.checksum
  // SHA256 next to the payload hash: the part's SHA-256 is the checksum too, computed once.
  const checksum = algorithm === undefined || (algorithm === 'SHA256' && hash !== null) ? null : (checksumHash(algorithm) ?? null)
  return { hash, checksum, md5: options.contentMd5 === true ? (nodeMd5 ?? null) : null }
}

/**
 * The hashes of {@link partHashes} by name, for hash workers; `undefined` when a worker cannot
 * compute them (a custom `hash`) or there is nothing to hash.
 */
export function partHashSpec(options: Pick<UploadOptions, 'payload' | 'hash' | 'checksum' | 'contentMd5'>): HashSpec | undefined {
  if (options.hash !== undefined && options.payload !== 'unsigned') return undefined
  const hash = options.payload !== 'unsigned'
  const algorithm = options.checksum
  const checksum = algorithm === undefined || (algorithm === 'SHA256' && hash) ? null : algorithm
  const md5 = options.contentMd5 === true
  return hash || checksum !== null || md5 ? { hash, checksum, md5 } : undefined
}

type NodeOs = { availableParallelism?: () => number; cpus?: () => unknown[] }

/** `hashThreads: 'auto'` starts workers for files of this size or more. */
export const AUTO_HASH_THREADS_MIN_BYTES: number = 256 * 1024 * 1024

/**
 * The hash workers for a file of `size` bytes: `hashThreads` resolved. `'auto'`: the free cores,
 * at most 4, for files of 256 MiB or more whose parts need a slow hash (SHA-256, SHA-1, MD5); a
 * CRC alone is hashed on the main thread. Measured (1 GiB `cp FILE` over HTTPS, unsigned +
 * CRC32, 2 cores): 1.98-2.07 CPU s/GiB inline against 2.27-2.64 with a worker, whose start-up
 * and messages cost more than the CRC (3.6 GiB/s with zlib) it takes off the main thread.
 */
export function hashThreadsFor(option: number | 'auto' | undefined, size: number, spec?: HashSpec): number {
  const value = option ?? HASH_THREADS_DEFAULT
  if (value !== 'auto') return value
  if (size < AUTO_HASH_THREADS_MIN_BYTES) return 0
  if (spec !== undefined && !needsSlowHash(spec)) return 0
  return Math.max(0, Math.min(cores() - 1, 4))
}

/**
 * `hashThreads` resolved for `uploadFd`, which reads one part after the other and hashes each as
 * it is read: one worker at most. On a regular file of `fileSize` bytes, `'auto'` is the file rule
 * ({@link hashThreadsFor}); on a pipe or socket it is one worker where there are 3 cores or more,
 * else none, whatever the `sizeHint`: the process writing the pipe needs a core too. Measured (1 GiB
 * from `head -c` through a pipe, 2 cores shared with the sink, 5-7 interleaved runs each), one
 * worker gave 495-531 MiB/s against 481-520 inline, for +0.2 CPU s/GiB and +16 MiB peak RSS.
 */
export function streamHashThreadsFor(option: number | 'auto' | undefined, spec: HashSpec, fileSize?: number): number {
  const value = option ?? HASH_THREADS_DEFAULT
  if (fileSize !== undefined) return Math.min(hashThreadsFor(value, fileSize, spec), 1)
  if (value !== 'auto') return Math.min(value, 1)
  return needsSlowHash(spec) && cores() >= 3 ? 1 : 0
}

function cores(): number {
  const os = builtinModule<NodeOs>('node:os')
  return os?.availableParallelism?.() ?? os?.cpus?.().length ?? 1
}

/** SHA-256, SHA-1 or MD5: hashes slow enough (0.5-1.5 CPU s/GiB even with SHA instructions) to be worth a worker. */
function needsSlowHash(spec: HashSpec): boolean {
  return spec.hash || spec.md5 || spec.checksum === 'SHA256' || spec.checksum === 'SHA1'
}
