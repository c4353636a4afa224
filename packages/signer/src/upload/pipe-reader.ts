import { closeSync, constants, openSync, readSync } from 'node:fs'
import { Socket, type SocketConstructorOpts } from 'node:net'
import { SourceReadError } from '../errors.ts'
import { concat } from '../transport/fetch.ts'

/** One read's landing buffer: twice a pipe's default capacity. */
const SCRATCH_BYTES = 128 * 1024

/**
 * Reads a pipe (or FIFO) the way Node reads a socket: libuv waits on it with epoll and reads it on
 * the main thread as bytes arrive (`net.Socket`'s `onread`), straight into the part buffer being
 * filled; only the first read after a pause lands in a 128 KiB scratch buffer and is copied.
 * `fs.read` instead sends every read of a pipe (at most 64 KiB, the pipe's capacity) to the
 * thread pool and back: measured here on 1 GiB from `head -c`,
 * 1.9–2.1 CPU s against 1.06 for this reader (`process.stdin`'s Readable: 1.55, plus a new
 * 64 KiB Buffer per read).
 *
 * A pipe is opened again through `/proc/self/fd/N` (Linux): a new open file description of the
 * same pipe, non-blocking and owned by this reader, so the caller's descriptor keeps its flags and
 * stays open. Elsewhere, on Deno and Bun (their own readers: `runtime-pipe.ts`), or where that
 * open fails, {@link openPipeReader} returns `undefined`. A socket is read on its own descriptor
 * ({@link openSocketReader}).
 * Unlike `fs.read`, whose blocking read waits on a libuv thread that nothing can cancel (and that
 * Node's exit joins), an abort here stops reading at once.
 */
export class PipeReader {
  readonly #socket: Socket
  readonly #signal: AbortSignal
  readonly #fd: number
  /** Where each read lands (the socket's `onread` buffer, reused). */
  readonly #scratch: Uint8Array
  /** Bytes read that no request took yet: the tail of the read that filled the last request. */
  #spill: Uint8Array = new Uint8Array(0)
  #ended = false
  #error: unknown
  #request: Request | undefined

  constructor(socket: Socket, scratch: Uint8Array, fd: number, signal: AbortSignal, first: Probe) {
    this.#socket = socket
    this.#scratch = scratch
    this.#fd = fd
    this.#signal = signal
    this.#spill = first.bytes
    this.#ended = first.ended
  }

  /**
   * Where the socket's next read lands: straight into the part being filled, else the scratch
   * buffer. Node asks after every read (and once at the start).
   */
  nextBuffer(): Uint8Array {
    const request = this.#request
    return request !== undefined && request.whole && request.at < request.to ? request.buffer.subarray(request.at, request.to) : this.#scratch
  }

  /** Called by the socket for each read: `n` bytes in `landed` (the buffer `nextBuffer` gave). */
  onRead(n: number, landed: Uint8Array): boolean {
    const request = this.#request
    if (landed !== this.#scratch) {
      // Read in place into the waiting request's buffer (at most the room it had).
      if (request === undefined || landed.buffer !== request.buffer.buffer) {
        this.onError(new Error('a pipe read landed in a buffer that no read asked for'))
        return false
      }
      request.onChunk?.(landed.subarray(0, n))
      request.at += n
      return this.#maybeSettle(request)
    }
    if (request === undefined) {
      // Nobody waits: keep the bytes and stop reading until they are taken.
      this.#spill = concat([this.#spill, this.#scratch.subarray(0, n)])
      return false
    }
    const bytes = this.#scratch.subarray(0, n)
    const taken = copyInto(request, bytes)
    if (taken < n) this.#spill = bytes.slice(taken)
    return this.#maybeSettle(request)
  }

  /** Settles `request` when it has what it asked for; false (stop reading) then. */
  #maybeSettle(request: Request): boolean {
    if (request.at < request.to && request.whole) return true
    this.#settle(request.at)
    return false
  }

  onEnd(): void {
    this.#ended = true
    this.#settle(this.#request?.at ?? 0)
  }

  onError(error: unknown): void {
    this.#error = new SourceReadError(this.#fd, error)
    const request = this.#request
    this.#request = undefined
    request?.reject(this.#error)
  }

  get ended(): boolean {
    return this.#ended && this.#spill.byteLength === 0
  }

  /** At least 1 byte into `buffer` at `offset` (at most `length`), or 0 at the end of the data. */
  readSome(buffer: Uint8Array, offset: number, length: number): Promise<number> {
    return this.#read(buffer, offset, offset + length, undefined, false).then((end) => end - offset)
  }

  /**
   * Fills `buffer` from `from` to `to` (or until the data ends), calling `onChunk` on each piece as
   * it lands (hashed while hot in cache); resolves with the offset reached.
   */
  fill(buffer: Uint8Array, from: number, to: number, onChunk: (chunk: Uint8Array) => void): Promise<number> {
    return this.#read(buffer, from, to, onChunk, true)
  }

  #read(buffer: Uint8Array, from: number, to: number, onChunk: ((chunk: Uint8Array) => void) | undefined, whole: boolean): Promise<number> {
    if (this.#error !== undefined) return Promise.reject(this.#error)
    this.#signal.throwIfAborted()
    const taking = { buffer, at: from, to, onChunk }
    if (this.#spill.byteLength > 0 && from < to) {
      this.#spill = this.#spill.subarray(copyInto(taking, this.#spill))
      if (taking.at === to || !whole) return Promise.resolve(taking.at)
    }
    const at = taking.at
    if (this.#ended || at === to) return Promise.resolve(at)
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.#request = undefined
        this.#socket.pause()
        reject(this.#signal.reason)
      }
      this.#signal.addEventListener('abort', onAbort, { once: true })
      const done = (): void => this.#signal.removeEventListener('abort', onAbort)
      this.#request = {
        buffer,
        at,
        to,
        onChunk,
        whole,
        resolve: (end) => {
          done()
          resolve(end)
        },
        reject: (error) => {
          done()
          reject(error)
        },
      }
      this.#socket.resume()
    })
  }

  #settle(end: number): void {
    const request = this.#request
    this.#request = undefined
    request?.resolve(end)
  }

  /** Closes this reader's own descriptor (never the caller's). */
  close(): void {
    this.#socket.destroy()
  }

  /** For symmetry with `FdReader`: reads here never outlive `close()`. */
  idle(): Promise<unknown> {
    return Promise.resolve()
  }
}

/** Copies what fits of `bytes` into `into` at its offset, hands the copy to its `onChunk`, advances it; returns the count. */
function copyInto(into: Pick<Request, 'buffer' | 'at' | 'to' | 'onChunk'>, bytes: Uint8Array): number {
  const taken = Math.min(bytes.byteLength, into.to - into.at)
  into.buffer.set(bytes.subarray(0, taken), into.at)
  into.onChunk?.(into.buffer.subarray(into.at, into.at + taken))
  into.at += taken
  return taken
}

interface Request {
  readonly buffer: Uint8Array
  at: number
  readonly to: number
  readonly onChunk: ((chunk: Uint8Array) => void) | undefined
  readonly whole: boolean
  resolve(end: number): void
  reject(error: unknown): void
}

/**
 * Node (not Deno or Bun, whose `net.Socket` does not take a descriptor the same way: Deno 2.9.6
 * takes only 0-2, and closes it on `destroy()`; Bun 1.4.5 reads nothing from one).
 */
export function socketsTakeDescriptors(): boolean {
  const versions = process.versions as Record<string, string | undefined>
  return versions['bun'] === undefined && versions['deno'] === undefined
}

/**
 * A {@link PipeReader} for the pipe `fd` where this runtime can make one (Node on Linux), else
 * `undefined` (the caller uses `fs.read`). It reads its own non-blocking open of the pipe, so the
 * caller's descriptor keeps its flags and stays open.
 */
export function openPipeReader(fd: number, signal: AbortSignal): PipeReader | undefined {
  if (!socketsTakeDescriptors()) return undefined
  const own = openOwn(fd)
  if (own === undefined) return undefined
  try {
    return socketReader(own, fd, signal, probe(own))
  } catch {
    closeSync(own)
    return undefined
  }
}

/**
 * A {@link PipeReader} over the socket `fd` itself, on Node, else `undefined`. A socket cannot be
 * opened again through `/proc`, so its own descriptor becomes non-blocking, as `process.stdin`
 * makes it, and `close()` would close it were it not stdin, stdout or stderr (libuv never closes
 * those): for descriptors 0-2 only.
 */
export function openSocketReader(fd: number, signal: AbortSignal): PipeReader | undefined {
  if (!socketsTakeDescriptors()) return undefined
  try {
    return socketReader(fd, fd, signal, { bytes: new Uint8Array(0), ended: false })
  } catch {
    return undefined
  }
}

/**
 * `fd` opened again (a new open file description of the same pipe or terminal, Linux's
 * `/proc/self/fd/N`), non-blocking and owned by the caller of this; `undefined` where that cannot
 * be done (another system, a socket: ENXIO, Deno without `--allow-read`). A pipe holds no
 * position, so both descriptions read the one stream of bytes: nothing is read twice or skipped.
 * Node, Deno and Bun alike (checked on Deno 2.9.6 and Bun 1.4.5: the open works, and an empty
 * pipe answers EAGAIN).
 */
export function openOwn(fd: number): number | undefined {
  if (process.platform !== 'linux') return undefined
  try {
    return openSync(`/proc/self/fd/${fd}`, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY)
  } catch {
    return undefined
  }
}

/** A reader over a `net.Socket` of descriptor `own`; read errors name `fd`, the caller's. */
function socketReader(own: number, fd: number, signal: AbortSignal, first: Probe): PipeReader {
  const scratch = new Uint8Array(SCRATCH_BYTES)
  let reader: PipeReader | undefined
  // `onread` in the constructor (Node ≥ 18.13; @types/node lists it for connect() only). The
  // buffer function is asked once now (no reader yet: the scratch buffer) and after every read.
  const onread = {
    buffer: () => reader?.nextBuffer() ?? scratch,
    callback: (n: number, landed: Uint8Array) => reader?.onRead(n, landed) ?? false,
  }
  const options = { fd: own, readable: true, writable: false, onread }
  const socket = new Socket(options as SocketConstructorOpts)
  socket.pause()
  reader = new PipeReader(socket, scratch, fd, signal, first)
  const it = reader
  socket.on('end', () => it.onEnd())
  socket.on('error', (error) => it.onError(error))
  return reader
}

/** What {@link probe} read: the pipe's bytes so far, and whether it already ended. */
export interface Probe {
  readonly bytes: Uint8Array
  readonly ended: boolean
}

/** A pipe holds at most this much without a writer (Linux's default pipe-max-size). */
const PROBE_LIMIT_BYTES = 1024 * 1024

/**
 * Reads what the pipe holds now, until it would block or ends. Linux reports no hang-up (so libuv
 * would never see the end) to a reader that opened the FIFO with O_NONBLOCK while no writer had it
 * open: a producer that already exited (`cat small-file | node up.js`, slow to start). Reading
 * here until EAGAIN (a writer is there, and its leaving will be reported) or 0 (the end, already)
 * settles which case this is before the socket (Node) or Bun's reader (`runtime-pipe.ts`) takes over.
 */
export function probe(fd: number): Probe {
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const chunk = new Uint8Array(64 * 1024)
    let n: number
    try {
      n = readSync(fd, chunk, 0, chunk.byteLength, null)
    } catch (error) {
      if ((error as { code?: unknown }).code === 'EAGAIN') break
      throw error
    }
    if (n === 0) return { bytes: concat(chunks), ended: true }
    chunks.push(chunk.subarray(0, n))
    total += n
    if (total >= PROBE_LIMIT_BYTES) break
  }
  return { bytes: concat(chunks), ended: false }
}
