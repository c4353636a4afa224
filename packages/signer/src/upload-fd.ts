import { close as closeFd, fstat, readFile, type Stats } from 'node:fs'
import { setImmediate } from 'node:timers'
import {
  describeValue,
  InvalidArgumentError,
  MAX_OBJECT_SIZE_BYTES,
  MAX_PARTS,
  ObjectTooLargeError,
  planParts,
  resolvePartSize,
  TooManyPartsError,
  type HashFactory,
  type Part,
  type PartSizePolicy,
} from '@partstream/core'
import { closeOwnContext, createS3Context, type UploadTarget } from './http/context.ts'
import { validateKey } from './http/endpoint.ts'
import { updateInPieces } from './http/hash-pieces.ts'
import { objectHeaders, pickObjectOptions } from './operations/object-options.ts'
import { BufferPool } from './upload/buffer-pool.ts'
import { FdReader, fsRead, type DescriptorReader, type ReadFn } from './upload/fd-reader.ts'
import type { HashSpec } from './upload/hash-job.ts'
import { HashPool, hashWorkersAvailable } from './upload/hash-pool.ts'
import { openOwn, openPipeReader, openSocketReader, socketsTakeDescriptors } from './upload/pipe-reader.ts'
import { openRuntimePipe } from './upload/runtime-pipe.ts'
import {
  AUTO_HASH_THREADS_MIN_BYTES,
  partHashes,
  partHashSpec,
  requireBooleanOption,
  streamHashThreadsFor,
  UPLOAD_OPTION_NAMES,
  validateUploadOptions,
  type UploadOptions,
  type UploadResult,
} from './upload/options.ts'
import { optionNames } from './upload/option-names.ts'
import { runUpload } from './upload/run-upload.ts'

/** Options of {@link uploadFd}. */
export interface UploadFdOptions extends UploadOptions {
  /**
   * Close `fd` before the upload settles (resolved or rejected, invalid options included; when
   * an abort left a read waiting on an idle producer, once that read returns). Without it the
   * descriptor stays open and belongs to the caller; either way `uploadFd` reads it to its end
   * (or to the failure) and leaves its position there.
   * @default false
   */
  readonly close?: boolean | undefined
}

/** `uploadFd`'s option names: `upload`'s and `close` (typed: see `UPLOAD_OPTION_NAMES`). */
const FD_OPTIONS: Record<Exclude<keyof UploadFdOptions, keyof UploadOptions>, true> = { close: true }
const FD_NAMES = { fn: 'uploadFd', known: optionNames(UPLOAD_OPTION_NAMES, FD_OPTIONS) } as const

/**
 * Bytes read after a full part to learn whether more follow (`isLast`, which picks one PutObject
 * for a source that fits in one part). They start the next part: a copy of at most this much per
 * part, against a part of ≥ 5 MiB.
 */
const LOOK_AHEAD_BYTES = 64 * 1024

/**
 * Uploads everything readable from a file descriptor: stdin (`0`), a pipe or FIFO, a socket, a
 * TTY, or a regular file from its current position. The fast path for `cmd | node upload.js`:
 * bytes are read with `fs.read` (on Node, a pipe or a socket on stdio like a socket, a terminal
 * without blocking a thread; on Deno and Bun, a pipe by their own readers: see `openSource`) straight into part buffers — a pool of `concurrency + 1`, each
 * refilled once S3 has acknowledged its part — so no per-chunk buffer is allocated and no stream
 * machinery runs (a Node `Readable` on a pipe allocates 64 KiB per read). Peak memory is
 * `(concurrency + 1) × partSize`.
 *
 * The length is unknown, so parts are `partSize` (6 MiB by default; give `sizeHint` for a large
 * stream, or `partSize: adaptivePartSize()`); a regular file's bytes after the descriptor's
 * position are its `sizeHint` by default and the progress events' `totalBytes` (on Linux, where
 * that position can be read; elsewhere its size is the `sizeHint` and the total is unknown; a
 * pipe's `totalBytes` is unknown until its last part is read, `sizeHint` or not).
 * The end of the data is the end of the upload: a producer that exits or closes its end of the
 * pipe early ends the object there (check its exit status). An empty source is one empty
 * PutObject. A read that fails (`EIO`…) rejects with `SourceReadError` and the multipart upload is
 * aborted. A descriptor that can give no data is an `InvalidArgumentError` before any request: a
 * directory; on Linux, a listening socket, and a stdin closed when the process started (`fd` 0 on
 * the /dev/null the runtime opened read-write in its place; `< /dev/null` is an empty source).
 * A non-blocking descriptor (EAGAIN) is waited on, without spinning; a blocking one is read on
 * libuv's thread pool, never blocking the event loop.
 *
 * With `hashThreads`, the part buffers are `SharedArrayBuffer`s and one worker thread hashes each
 * part as it is read, ~1 MiB at a time (see `UploadOptions.hashThreads` for `'auto'`).
 *
 * The descriptor stays open (it is the caller's) unless `close: true`. Works on Node, Deno and Bun.
 * @example
 * // pg_dump | gzip | node backup.js
 * const result = await uploadFd(0, { bucket: 'backups', key: 'db.sql.gz' }, { sizeHint: 50 * 1024 ** 3 })
 */
export function uploadFd(fd: number, target: UploadTarget, options: UploadFdOptions = {}): Promise<UploadResult> {
  return uploadFdWith(fsRead, fd, target, options)
}

/** {@link uploadFd} with the read seam exposed (tests inject failing reads). */
export async function uploadFdWith(readFn: ReadFn, fd: number, target: UploadTarget, options: UploadFdOptions = {}): Promise<UploadResult> {
  let source: Source | undefined
  let hashPool: HashPool | undefined
  let buffers: BufferPool | undefined
  const owns = typeof options === 'object' && options !== null && options.close === true
  try {
    if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0) {
      throw new InvalidArgumentError(`Expected \`fd\` to be a file descriptor (an integer ≥ 0, e.g. 0 for stdin), got ${describeValue(fd)}.`)
    }
    const concurrency = validateUploadOptions(options, target, FD_NAMES)
    requireBooleanOption(options, 'close')
    const ctx = createS3Context(target, { ...options, connections: options.connections ?? concurrency })
    let resolved = false
    try {
      const key = validateKey(target.key)
      objectHeaders(options, true) // invalid object options fail now, before any request
      const stats = await statFd(fd)
      await assertHoldsData(fd, stats)
      // A regular file's bytes from its position to its end: the progress events' `totalBytes`,
      // as uploadFile's. A pipe's length is unknown, `sizeHint` or not (as in `upload`).
      const totalBytes = stats.isFile() ? await bytesAfterPosition(fd, stats.size) : undefined
      // What is left of a regular file (its size where the position is unknown, which bounds it):
      // parts sized to fit, like uploadFile. Not the whole size: a 6 TiB file positioned 3 MiB
      // before its end is a 3 MiB upload, not an ObjectTooLargeError.
      const left = stats.isFile() ? (totalBytes ?? stats.size) : undefined
      const sizeHint = options.sizeHint ?? (options.partSize === undefined ? left : undefined)
      const policy = resolvePartSize(options.partSize, sizeHint)
      // A regular file with an explicit partSize: too many parts is refused now, as uploadFile does.
      if (left !== undefined && sizeHint === undefined) planParts(left, policy)
      const controller = new AbortController()
      const spec = partHashSpec(options)
      const threads = spec === undefined || !hashWorkersAvailable() ? 0 : streamHashThreadsFor(options.hashThreads, spec, left)
      // Shared with the hash workers (read in place) when there are any.
      const pool = (buffers = new BufferPool(concurrency + 1, policy.sizeOf(1), threads > 0))
      hashPool = threads > 0 ? new HashPool(threads) : undefined
      // `'auto'` on data of unknown length: the worker starts once the data has passed the size
      // from which `'auto'` starts workers for a file, so a short stream never pays its start-up.
      const startAt = options.hashThreads === 'auto' && !stats.isFile() && (sizeHint ?? 0) < AUTO_HASH_THREADS_MIN_BYTES ? AUTO_HASH_THREADS_MIN_BYTES : 0
      const digests = partDigests(partHashes(options), hashPool === undefined || spec === undefined ? undefined : { pool: hashPool, spec, startAt })
      source = openSource(fd, stats, owns, controller.signal, readFn)
      const result = await runUpload(ctx, fdParts(source.reader, policy, pool, digests), {
        ...options,
        key,
        concurrency,
        controller,
        objectOptions: pickObjectOptions(options),
        totalBytes,
        release: (part) => pool.release(part.chunks[0]),
      })
      resolved = true
      return result
    } finally {
      await hashPool?.close()
      buffers?.clear() // see BufferPool.clear
      await closeOwnContext(ctx, resolved)
    }
  } finally {
    // With `close: true`, closed before the promise settles; unless a read still waits on it (an
    // abort while the producer is idle): then once that read returns.
    if (source !== undefined) await source.release()
    else if (owns) await closeQuietly(fd)
  }
}

/** `close(fd)`, settled once done; an error (already closed) is nothing to report. */
function closeQuietly(fd: number): Promise<void> {
  return new Promise((resolve) => closeFd(fd, () => resolve()))
}

/** What an upload reads `fd` through, and how it lets go of it once settled. */
interface Source {
  readonly reader: DescriptorReader
  /**
   * Stops reading, closes what this upload opened, and `fd` itself with `close: true`: settles
   * once closed, or at once when a read is still in flight (closed when it returns, so the number
   * is never reused under it).
   */
  release(): Promise<void>
}

/**
 * How `fd` is read. `fs.read` on it is the fallback, but where it can be avoided it is: a blocking
 * read waits on a thread that nothing cancels, and the process cannot exit before it returns
 * (Node's exit joins libuv's threads; Deno and Bun wait for the read's callback), so after an
 * abort while the producer is idle the process stayed alive until it wrote again (Ctrl-C on
 * `partstream cp -` fed by a terminal, or by a parent process through a socket, which is what
 * `child_process.spawn` gives a child's stdin; on Deno and Bun, `producer | deno run up.ts`).
 * - a pipe on Node: its own non-blocking open, read like a socket ({@link openPipeReader}; Linux);
 * - a socket that is stdin, stdout or stderr, on Node: read as a socket, on the descriptor itself
 *   (a socket cannot be opened again; libuv never closes descriptors 0-2); it is left
 *   non-blocking, as `process.stdin` leaves it. Another socket descriptor is the caller's to keep,
 *   and closing a socket handle would close it: `fs.read`;
 * - on Deno and Bun, a pipe (Deno: an anonymous one) or (Bun) a socket on 0-2: the runtime's own
 *   reader, which a close interrupts ({@link openRuntimePipe}; Linux);
 * - a terminal (or another character device), and a named FIFO on Deno: its own non-blocking
 *   open, read with `fs.read`, which then never waits (EAGAIN is retried after a short sleep; a
 *   person types slowly; a FIFO read so is capped at about 64 KiB per sleep).
 * Anything else (a regular file, which never blocks; a socket on Deno, or not on 0-2; another
 * system; an injected `readFn`): `fs.read` on `fd`.
 */
function openSource(fd: number, stats: Stats, owns: boolean, signal: AbortSignal, readFn: ReadFn): Source {
  const closeIfGiven = async (): Promise<void> => {
    if (owns) await closeQuietly(fd)
  }
  /** `close` once `reader` is idle: waited for unless a read is still in flight. */
  const afterReads = async (reader: { readonly busy: boolean; idle(): Promise<unknown> }, close: () => Promise<void>): Promise<void> => {
    const closed = reader.idle().then(close)
    if (!reader.busy) await closed
  }
  const native = readFn === fsRead
  const pipe = !native ? undefined : stats.isFIFO() ? openPipeReader(fd, signal) : stats.isSocket() && fd <= 2 ? openSocketReader(fd, signal) : undefined
  if (pipe !== undefined) {
    return {
      reader: pipe,
      async release() {
        pipe.close()
        await closeIfGiven()
      },
    }
  }
  const runtimePipe = native ? openRuntimePipe(fd, stats) : undefined
  if (runtimePipe !== undefined) {
    const reader = new FdReader(fd, signal, runtimePipe.read)
    return {
      reader,
      async release() {
        runtimePipe.close() // a read in flight settles now
        await afterReads(reader, closeIfGiven)
      },
    }
  }
  // A FIFO on Node that openPipeReader could not take stays on `fs.read` of `fd`, as before.
  const own = native && (stats.isCharacterDevice() || (stats.isFIFO() && !socketsTakeDescriptors())) ? openOwn(fd) : undefined
  const reader = new FdReader(own ?? fd, signal, readFn, fd)
  return {
    reader,
    async release() {
      // A read still in flight (aborted while the producer was idle) holds the descriptor: close it
      // once that read returns, so the number is never reused under it.
      await afterReads(reader, async () => {
        if (own !== undefined) await closeQuietly(own)
        await closeIfGiven()
      })
    },
  }
}

/**
 * What is left of a regular file after the descriptor's position (uploadFd reads from there to its
 * end), or `undefined` when the position cannot be learnt. Node has no `lseek`; Linux reports the
 * position as `pos:` in `/proc/self/fdinfo/<fd>`. Elsewhere, or where that file cannot be read
 * (Deno without `--allow-read`), the total stays unknown rather than count bytes before the
 * position. A file that grows while it is read passes this total (`done` has the final count);
 * one that shrinks ends short of it.
 */
function bytesAfterPosition(fd: number, size: number): Promise<number | undefined> {
  if (process.platform !== 'linux') return Promise.resolve(undefined)
  return new Promise((resolve) => {
    try {
      readFile(`/proc/self/fdinfo/${fd}`, 'utf8', (error, text) => {
        const pos = error === null ? /^pos:\s*(\d+)$/m.exec(text)?.[1] : undefined
        resolve(pos === undefined ? undefined : Math.max(0, size - Number(pos)))
      })
    } catch {
      resolve(undefined) // a runtime that refuses the read at once (a permission check) rather than in the callback
    }
  })
}

/** Linux's /dev/null, character device 1:3, as `stat` encodes it in `rdev`. */
const DEV_NULL_RDEV = (1 << 8) | 3
/** The access mode bits of open(2)'s flags (O_ACCMODE), and read-write (O_RDWR), as /proc/self/fdinfo shows them. */
const ACCESS_MODE_MASK = 0o3
const READ_WRITE = 0o2
/** `/proc/net/unix` Flags: __SO_ACCEPTCON, a socket that listen(2) was called on. */
const UNIX_ACCEPTING = 0x10000
/** `/proc/net/tcp{,6}` st: TCP_LISTEN. */
const TCP_LISTEN = '0A'

/**
 * Descriptors that are open but can give no data, refused before any request. On Linux, which
 * shows both in /proc; elsewhere, or where /proc cannot be read (Deno without `--allow-read`),
 * they are read as before.
 * - `fd` 0 on /dev/null opened read-write: what Node, Deno and Bun open in place of a stdin that
 *   was closed when the process started (`cmd <&-`, a cron or daemon that closed it; glibc's
 *   daemon(3) leaves the same). It read as an empty object, a backup that "succeeded" with 0
 *   bytes. A shell's `< /dev/null` is read-only, and stays an empty source (the AWS CLI refuses a
 *   closed stdin too: "stdin is required for this operation, but is not available").
 * - a listening socket (an inetd "wait" service is handed one): no data comes until a connection
 *   is accepted on it, and a read fails (EINVAL for AF_UNIX, ENOTCONN for TCP, as `cat` reports);
 *   Node's and Bun's socket readers waited for ever. Found by its inode in /proc/net (Node has no
 *   getsockopt(SO_ACCEPTCONN)).
 */
async function assertHoldsData(fd: number, stats: Stats): Promise<void> {
  if (process.platform !== 'linux') return
  if (fd === 0 && stats.isCharacterDevice() && stats.rdev === DEV_NULL_RDEV) {
    const flags = /^flags:\s*([0-7]+)$/m.exec((await readProc('/proc/self/fdinfo/0')) ?? '')?.[1]
    if (flags !== undefined && (Number.parseInt(flags, 8) & ACCESS_MODE_MASK) === READ_WRITE) {
      throw new InvalidArgumentError(
        'Expected `fd` 0 (stdin) to give the data to upload, but it was closed when the process started: it is /dev/null opened ' +
          'read-write, which the runtime (or a daemon) puts in place of a closed stdin, so there is nothing to read. Give the data ' +
          'on stdin (`producer | …`, `< file`); for an empty object, `< /dev/null` (read-only).',
      )
    }
  }
  if (stats.isSocket() && (await isListening(stats.ino))) {
    throw new InvalidArgumentError(
      `Expected \`fd\` ${fd} to be readable data, got a listening socket (as an inetd "wait" service is handed): it has no data ` +
        'until a connection is accepted on it, and reading it fails or waits for ever. Pass the descriptor of an accepted connection, or a pipe.',
    )
  }
}

/** Whether the socket of inode `ino` listens for connections: AF_UNIX, TCP or TCP over IPv6 (the families /proc/net lists this way). */
async function isListening(ino: number): Promise<boolean> {
  const inode = String(ino)
  // Num RefCount Protocol Flags Type St Inode Path
  for (const fields of rows(await readProc('/proc/net/unix'))) {
    if (fields[6] === inode) return (Number.parseInt(fields[3] ?? '0', 16) & UNIX_ACCEPTING) !== 0
  }
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    for (const fields of rows(await readProc(table))) {
      if (fields[9] === inode) return fields[3] === TCP_LISTEN
    }
  }
  return false
}

/** A /proc table's lines, split on blanks (the header too: its fields are words, never an inode). */
function rows(text: string | undefined): string[][] {
  return (text ?? '').split('\n').map((line) => line.trim().split(/\s+/))
}

/** A /proc file's text, or `undefined` where it cannot be read. */
function readProc(path: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    try {
      readFile(path, 'utf8', (error, text) => resolve(error === null ? text : undefined))
    } catch {
      resolve(undefined) // a runtime that refuses the read at once (a permission check) rather than in the callback
    }
  })
}

function statFd(fd: number): Promise<Stats> {
  return new Promise((resolve, reject) => {
    fstat(fd, (error, stats) => {
      if (error === null) {
        if (stats.isDirectory()) reject(new InvalidArgumentError(`Expected \`fd\` ${fd} to be readable data, got a directory.`))
        else resolve(stats)
        return
      }
      const code = typeof error.code === 'string' ? ` (${error.code})` : ''
      reject(new InvalidArgumentError(`Expected \`fd\` ${fd} to be an open file descriptor${code}: ${error.message}.`, { cause: error }))
    })
  })
}

/** One part's digests, fed piece by piece as its bytes land (while they are hot in cache). */
export interface PartDigest {
  update(chunk: Uint8Array): void
  finish(): Promise<Pick<Part, 'sha256' | 'checksum' | 'md5'>>
}

/**
 * Where each part is hashed: on this thread as the bytes land, or, with `workers`, by a hash worker
 * that gets each ~1 MiB of the part once it is read (a view of the shared part buffer, no copy),
 * so that hashing runs beside the reading and sending. Parts starting before `startAt` bytes, or
 * before a worker has loaded, are hashed here: a worker's start-up is never on a part's path.
 */
export function partDigests(
  hashes: PartHashFactories,
  workers?: { readonly pool: HashPool; readonly spec: HashSpec; readonly startAt: number },
): (offset: number) => PartDigest {
  let started = false
  return (offset) => {
    if (workers !== undefined && offset >= workers.startAt) {
      const { pool, spec } = workers
      if (!started) {
        started = true
        pool.start()
      }
      if (pool.takesJobs) return pool.stream(spec)
    }
    return inlineDigest(hashes)
  }
}

function inlineDigest(hashes: PartHashFactories): PartDigest {
  const hashers = [hashes.hash?.(), hashes.checksum?.(), hashes.md5?.()]
  const step = (piece: Uint8Array): void => {
    for (const hasher of hashers) hasher?.update(piece)
  }
  return {
    // A read is at most 1 GiB already (MAX_READ_BYTES); in pieces whatever a reader hands over.
    update: (chunk) => updateInPieces(step, chunk),
    async finish() {
      // A digest may be a promise (sha256-js): await each, in order.
      const [sha256, checksum, md5] = hashers.map((hasher) => hasher?.digest())
      return { sha256: await sha256, checksum: await checksum, md5: await md5 }
    },
  }
}

type PartHashFactories = { readonly [K in 'hash' | 'checksum' | 'md5']: HashFactory | null }

/**
 * The parts of a descriptor's data, each read into a buffer from `pool` and hashed piece by piece
 * as it lands (`reader.fill`, `digestAt(offset)`). A full part is followed by one read of up to `LOOK_AHEAD_BYTES`: no
 * bytes means it was the last; the bytes read ahead start the next part.
 */
export async function* fdParts(reader: DescriptorReader, policy: PartSizePolicy, pool: BufferPool, digestAt: (offset: number) => PartDigest): AsyncGenerator<Part> {
  const ahead = new Uint8Array(LOOK_AHEAD_BYTES)
  let carried = 0
  let offset = 0
  for (let partNumber = 1; ; partNumber++) {
    const size = policy.sizeOf(partNumber)
    const buffer = pool.take(size)
    const digest = digestAt(offset)
    let filled: number
    try {
      buffer.set(ahead.subarray(0, carried))
      digest.update(buffer.subarray(0, carried))
      filled = await reader.fill(buffer, carried, size, (chunk) => digest.update(chunk))
      carried = filled < size ? 0 : await reader.readSome(ahead, 0, ahead.byteLength)
    } catch (error) {
      void digest.finish().catch(() => {}) // a worker's job ends (it is not left waiting for more)
      pool.release(buffer)
      throw error
    }
    const isLast = carried === 0
    const end = offset + filled
    if (end > MAX_OBJECT_SIZE_BYTES || (!isLast && end === MAX_OBJECT_SIZE_BYTES)) {
      throw new ObjectTooLargeError(end > MAX_OBJECT_SIZE_BYTES ? end : end + 1, { atLeast: true })
    }
    // Part 10,000 is held back when more follows: nothing is sent that could not be completed.
    if (!isLast && partNumber >= MAX_PARTS) throw new TooManyPartsError(partNumber + 1, end, policy.description)
    const chunks = filled === 0 ? [] : [buffer.subarray(0, filled)]
    const digests = await digest.finish()
    // The end of the data: one turn of the event loop before the last part goes out. A Ctrl-C
    // kills the producer and this process together; its EOF could be read, and the last part
    // sent as a PutObject (over the key's previous object), before the SIGINT handler ran: the
    // truncated stream written, exit 0 (4 runs in 10 on Node 22). The signal's callback now runs
    // first, and the abort wins.
    if (isLast) await oneLoopTurn()
    yield { partNumber, offset, chunks, byteLength: filled, ...digests, isLast }
    if (isLast) return
    offset = end
  }
}

/** Resolves after the event loop has gone once round: through its poll phase, where signals land. */
export function oneLoopTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)))
}
