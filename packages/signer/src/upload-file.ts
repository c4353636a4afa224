import { constants } from 'node:fs'
import { open, statfs, type FileHandle } from 'node:fs/promises'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describeValue, digestChunks, InvalidArgumentError, planParts, resolvePartSize, type Part, type PlannedPart } from '@partstream/core'
import { SourceChangedError } from './errors.ts'
import type { FileIdentity } from './upload/walk-identity.ts'
import { closeOwnContext, createS3Context, type UploadTarget } from './http/context.ts'
import { validateKey } from './http/endpoint.ts'
import { objectHeaders, pickObjectOptions } from './operations/object-options.ts'
import { BufferPool } from './upload/buffer-pool.ts'
import { FileParts, type PartBuffers } from './upload/file-parts.ts'
import { HashPool, hashWorkersAvailable } from './upload/hash-pool.ts'
import { hashThreadsFor, partHashes, partHashSpec, validateUploadOptions, type UploadOptions, type UploadResult } from './upload/options.ts'
import { runUpload } from './upload/run-upload.ts'

/**
 * Uploads a file. Its size is known up front, so the part size fits 10,000 parts (unless
 * `partSize` says otherwise) and progress events carry `totalBytes`.
 *
 * Parts are read in place with positional reads at their offset into a pool of `concurrency`
 * + 1 reusable part buffers (never the whole file in memory): a buffer is refilled once S3 has
 * acknowledged its part. Peak memory is `(concurrency + 1) × partSize`. A file that changes size or
 * modification time while uploading fails with `SourceChangedError` (and the upload is aborted).
 * A path that is not a regular file (a directory, a FIFO, a device such as `/dev/zero`) or cannot
 * be opened (missing, no permission) is an `InvalidArgumentError` (the system error is its
 * `cause`, with its `code`, e.g. `ENOENT`); nothing is sent.
 *
 * With `hashThreads`, the part buffers are `SharedArrayBuffer`s and worker threads hash them in
 * place (SHA-256, checksum, MD5), reading up to `hashThreads` parts ahead into free buffers; the
 * memory bound is the same. The workers are terminated before `uploadFile` settles.
 * @example
 * const result = await uploadFile('./backup.tar', { bucket: 'backups', key: 'backup.tar' })
 */
export async function uploadFile(path: string | URL, target: UploadTarget, options: UploadOptions = {}): Promise<UploadResult> {
  const concurrency = validateUploadOptions(options, target)
  const ctx = createS3Context(target, { ...options, connections: options.connections ?? concurrency })
  let resolved = false
  let file: FileHandle | undefined
  let reader: FileParts | undefined
  let hashPool: HashPool | undefined
  let buffers: BufferPool | undefined
  try {
    const key = validateKey(target.key)
    objectHeaders(options, true) // invalid object options fail now, before any request
    file = await openRegularFile(path)
    options.signal?.throwIfAborted()
    const stats = await file.stat()
    const size = stats.size
    // An explicit partSize is taken as is: a file too large for it fails below with TooManyPartsError.
    const policy = resolvePartSize(options.partSize, options.partSize === undefined ? size : undefined)
    const plan = planParts(size, policy) // TooManyPartsError here, before any request
    const hashes = partHashes(options)
    const spec = partHashSpec(options)
    const threads = spec === undefined || !hashWorkersAvailable() ? 0 : hashThreadsFor(options.hashThreads, size, spec)
    const controller = new AbortController()
    // One buffer per part in flight, plus the part read ahead while they are sent; shared with
    // the hash workers (no copy) when there are any.
    const pool = (buffers = new BufferPool(Math.min(concurrency + 1, plan.length), plan.reduce((max, p) => Math.max(max, p.byteLength), 0), threads > 0))
    const workers = threads > 0 && spec !== undefined ? new HashPool(threads) : undefined
    hashPool = workers
    workers?.start()
    const inline = (view: Uint8Array): ReturnType<typeof digestChunks> => digestChunks([view], hashes)
    // Until a worker has loaded (tens of ms), parts are hashed here: its start-up is never on
    // the first part's path. A worker that could not load fails the upload (HashWorkerError),
    // as documented, instead of leaving every part to this thread unannounced.
    const digest =
      workers === undefined || spec === undefined
        ? inline
        : (view: Uint8Array) => (workers.takesJobs ? workers.digest(view, spec) : inline(view))
    // Up to `concurrency` parts are read (and hashed) ahead as buffers free up, so the next parts
    // are ready when the sender wants them. Measured (1 GiB, c = 4, 2 cores): with one hash
    // worker, reading ahead only `threads` parts left the pipeline starved (2 requests in flight
    // at once, 625 MiB/s); `concurrency` parts kept 4 in flight (764 MiB/s). The pool bounds memory.
    reader = new FileParts(file, plan, pool, digest, concurrency)
    const fileParts = reader
    const fh = file
    const result = await runUpload(ctx, fileParts.parts(controller.signal), {
      ...options,
      key,
      concurrency,
      controller,
      objectOptions: pickObjectOptions(options),
      totalBytes: size,
      release: (part) => {
        pool.release(part.chunks[0])
        fileParts.pump()
      },
      beforeComplete: () => assertUnchanged(fh, stats),
    })
    resolved = true
    return result
  } finally {
    // Reads and hashes still running finish before the workers stop and the file closes.
    await reader?.close()
    await hashPool?.close()
    await file?.close()
    buffers?.clear()
    await closeOwnContext(ctx, resolved)
  }
}

/** Throws `SourceChangedError` when the open file's size or mtime differ from `stats`. */
export async function assertUnchanged(file: FileHandle, stats: { readonly size: number; readonly mtimeMs: number }): Promise<void> {
  const now = await file.stat()
  if (now.size !== stats.size || now.mtimeMs !== stats.mtimeMs) {
    const [before, after] = [new Date(stats.mtimeMs).toISOString(), new Date(now.mtimeMs).toISOString()]
    // Within one millisecond (`touch -r`, `cp -p`), the ISO times read the same: the ms values, whole, then.
    const times = before === after ? `modified at ${stats.mtimeMs} ms, now ${now.mtimeMs} ms after the epoch (within ${before})` : `modified at ${before}, now ${after}`
    const what = now.size !== stats.size ? `size ${stats.size} → ${now.size}` : `${times}; size ${now.size} unchanged`
    throw new SourceChangedError(`The file changed while uploading (${what}).`)
  }
}

/**
 * Opens `path` for reading without blocking (a FIFO with no writer would block `open()` for
 * ever) and checks it is a regular file: the size must be known and stable, and reads at an
 * offset must be repeatable.
 */
export async function openRegularFile(path: string | URL, expected?: FileIdentity): Promise<FileHandle> {
  if (typeof path !== 'string' && !(path instanceof URL)) {
    throw new InvalidArgumentError(`Expected \`path\` to be a string or a file: URL, got ${describeValue(path)}.`)
  }
  // O_NONBLOCK changes nothing for regular files; where the platform lacks it (Windows), FIFOs
  // do not block open() either. With `expected` (a walk that does not follow links), O_NOFOLLOW:
  // a link in the last component fails the open (ELOOP) rather than being followed.
  const noFollow = expected !== undefined && constants.O_NOFOLLOW !== undefined ? constants.O_NOFOLLOW : 0
  const flags = constants.O_NONBLOCK === undefined ? 'r' : constants.O_RDONLY | constants.O_NONBLOCK | noFollow
  let file: FileHandle
  try {
    file = await open(path, flags)
  } catch (cause) {
    const code = (cause as { code?: unknown }).code
    if (expected !== undefined && code === 'ELOOP') throw swapped(path, 'a symbolic link', cause)
    throw new InvalidArgumentError(
      `Cannot open ${JSON.stringify(String(path))} for reading${typeof code === 'string' ? ` (${code})` : ''}: ` +
        `${cause instanceof Error ? cause.message : String(cause)}. Check the path and its permissions.`,
      { cause },
    )
  }
  const stats = await file.stat().catch(async (cause: unknown) => {
    await file.close()
    throw cause
  })
  // The inode alone: st_dev may differ between lstat and fstat on stacked filesystems (overlayfs
  // on older kernels), where a false alarm would fail every file of a tree.
  if (expected !== undefined && stats.ino !== expected.ino) {
    await file.close()
    throw swapped(path, 'another file (a directory on its path was swapped for a link, or the file replaced)', undefined)
  }
  if (!stats.isFile()) {
    await file.close()
    const kind = stats.isDirectory() ? 'a directory' : stats.isFIFO() ? 'a FIFO (named pipe)' : stats.isCharacterDevice() || stats.isBlockDevice() ? 'a device' : stats.isSocket() ? 'a socket' : 'not a regular file'
    throw new InvalidArgumentError(
      `Expected \`path\` to be a regular file, got ${kind} at ${JSON.stringify(String(path))}. ` +
        'To upload a directory use uploadDirectory(); to upload a pipe or a device, open it and pass the descriptor to uploadFd() (`close: true` closes it after).',
    )
  }
  // procfs and sysfs files make their content when read, whatever size they report: procfs says
  // 0 bytes (read by the size, an empty object without a word), sysfs 4096 for every attribute
  // (which failed as "the file changed", advice that can never work).
  const reported = stats.size === 0 && (await hasBytes(file)) ? 'reports 0 bytes but has content' : (await onPseudoFs(path)) ? `reports ${stats.size} bytes whatever it holds` : undefined
  if (reported !== undefined) {
    await file.close()
    throw new InvalidArgumentError(
      `Expected \`path\` to be a regular file of the size it reports, got ${JSON.stringify(String(path))}, which ${reported} (a /proc or /sys file). ` +
        'Read it to its end with uploadFd(openSync(path), …, { close: true }).',
    )
  }
  return file
}

/** procfs and sysfs (`statfs` f_type): their files make their content as they are read. */
const PSEUDO_FS_TYPES: ReadonlySet<number> = new Set([0x9fa0, 0x62656572])

/**
 * Whether `path` is a procfs or sysfs file, whose size says nothing of its content. Only a path
 * under /proc or /sys is asked (uploadAll opens thousands of files), and then its filesystem
 * decides: `/proc/self/cwd/…` or `/proc/<pid>/root/…` reach ordinary files.
 */
async function onPseudoFs(path: string | URL): Promise<boolean> {
  const absolute = resolve(typeof path === 'string' ? path : fileURLToPath(path))
  if (!/^\/(?:proc|sys)\//.test(absolute)) return false
  try {
    return PSEUDO_FS_TYPES.has(Number((await statfs(absolute)).type))
  } catch {
    return true // cannot tell: by its name
  }
}

/** Whether a file that reports 0 bytes gives any when read (one byte is enough to know). */
async function hasBytes(file: FileHandle): Promise<boolean> {
  const { bytesRead } = await file.read(new Uint8Array(1), 0, 1, 0).catch(() => ({ bytesRead: 0 }))
  return bytesRead > 0
}

export async function* readParts(
  file: FileHandle,
  plan: readonly PlannedPart[],
  pool: PartBuffers,
  hashes: Parameters<typeof digestChunks>[1],
  signal: AbortSignal,
): AsyncGenerator<Part> {
  yield* new FileParts(file, plan, pool, (view) => digestChunks([view], hashes)).parts(signal)
}

/** A walked file (links not followed) that is not the file the walk found any more: not uploaded, not followed. */
function swapped(path: string | URL, now: string, cause: unknown): SourceChangedError {
  const error = new SourceChangedError(
    `${JSON.stringify(String(path))} is now ${now} since the directory was listed; symbolic links are not followed (\`followSymlinks\` is off), so it was not uploaded.`,
    undefined,
    'Upload the tree once it is stable, or set `followSymlinks: true` to follow links.',
  )
  if (cause !== undefined) Object.defineProperty(error, 'cause', { value: cause, configurable: true, writable: true })
  return error
}
