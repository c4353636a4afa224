import { read } from 'node:fs'
import { SourceReadError } from '../errors.ts'
import { sleep } from '../http/sleep.ts'

/**
 * One `read(2)` of at most `length` bytes into `buffer` at `offset`; resolves with the count (0 at
 * the end of the data). The default is `fs.read` with a callback: Node, Deno and Bun run it off the
 * main thread, so a blocking descriptor (a pipe with no data yet) never blocks the event loop.
 */
export type ReadFn = (fd: number, buffer: Uint8Array, offset: number, length: number) => Promise<number>

export const fsRead: ReadFn = (fd, buffer, offset, length) =>
  new Promise((resolve, reject) => {
    // position null: read at the descriptor's current position (pipes have none; files advance).
    read(fd, buffer, offset, length, null, (error, bytesRead) => (error === null ? resolve(bytesRead) : reject(error)))
  })

/**
 * The most bytes one read asks for: 1 GiB. A part may be 5 GiB (`adaptivePartSize()` reaches 3 GiB),
 * but Node caps a read at 2^31 - 1 bytes, and Node 20, 22 and 24 abort the process on a longer one
 * (`Assertion failed: args[3]->IsInt32()` in `fs.read`; Node 26 throws a RangeError). Reads of a
 * regular file return what was asked for anyway, so a part is read in a few 1 GiB reads.
 */
export const MAX_READ_BYTES: number = 1024 * 1024 * 1024

/**
 * A non-blocking descriptor with no data answers EAGAIN: wait, doubling from the first wait to the
 * last, and read again (no busy loop; the wait resets as soon as bytes arrive, so a producer
 * faster than the upload never meets it). Node leaves stdin blocking unless `process.stdin` was
 * touched; another process sharing the descriptor may not.
 */
export const EAGAIN_FIRST_WAIT_MS = 1
export const EAGAIN_LAST_WAIT_MS = 50

const codeOf = (error: unknown): unknown => (error as { code?: unknown } | null)?.code

/** What `fdParts` reads from: {@link FdReader} (`fs.read`) or a `PipeReader` (a pipe read like a socket). */
export interface DescriptorReader {
  readonly ended: boolean
  readSome(buffer: Uint8Array, offset: number, length: number): Promise<number>
  fill(buffer: Uint8Array, from: number, to: number, onChunk: (chunk: Uint8Array) => void): Promise<number>
  /** Resolves once no read is in flight any more; never rejects. */
  idle(): Promise<unknown>
}

/**
 * Reads a file descriptor front to back (a pipe, FIFO, socket, TTY, or a regular file from its
 * current position) into buffers the caller owns. Never more than one read in flight.
 */
export class FdReader implements DescriptorReader {
  readonly fd: number
  readonly #reportedFd: number
  readonly #read: ReadFn
  readonly #signal: AbortSignal
  readonly #maxReadBytes: number
  #ended = false
  #waitMs = 0
  /** The last read started: closing the descriptor waits for it. */
  #pending: Promise<number> | undefined
  #rejectRead: ((reason: unknown) => void) | undefined
  #onAbort: (() => void) | undefined

  /**
   * `reportedFd`: the descriptor read errors name (the caller's, when `fd` is a copy of it).
   * `maxReadBytes`: the most one read asks for (tests lower it).
   */
  constructor(fd: number, signal: AbortSignal, readFn: ReadFn = fsRead, reportedFd: number = fd, maxReadBytes: number = MAX_READ_BYTES) {
    this.#maxReadBytes = maxReadBytes
    this.fd = fd
    this.#reportedFd = reportedFd
    this.#signal = signal
    this.#read = readFn
  }

  /** True once a read returned 0 bytes (the write end closed, or the file ended). */
  get ended(): boolean {
    return this.#ended
  }

  /**
   * Fills `buffer` from `from` to `to` (default: its end) or until the data ends, calling `onChunk`
   * on each read's bytes; resolves with the offset reached. Each read is started before the bytes
   * of the previous one are handed to `onChunk`, so hashing on the main thread overlaps the read
   * on the thread pool.
   */
  async fill(buffer: Uint8Array, from: number = 0, to: number = buffer.byteLength, onChunk?: (chunk: Uint8Array) => void): Promise<number> {
    let filled = from
    let reading = filled < to ? this.readSome(buffer, filled, to - filled) : undefined
    try {
      while (reading !== undefined) {
        const n = await reading
        reading = undefined
        if (n === 0) break
        const chunk = buffer.subarray(filled, filled + n)
        filled += n
        if (filled < to) reading = this.readSome(buffer, filled, to - filled)
        onChunk?.(chunk)
      }
    } catch (error) {
      reading?.catch(() => {})
      throw error
    }
    return filled
  }

  /** One successful read: at least 1 byte (at most `maxReadBytes`), or 0 at the end of the data. */
  async readSome(buffer: Uint8Array, offset: number, length: number): Promise<number> {
    if (this.#ended) return 0
    const asked = Math.min(length, this.#maxReadBytes)
    for (;;) {
      this.#signal.throwIfAborted()
      let bytesRead: number
      try {
        bytesRead = await this.#abortable(this.#read(this.fd, buffer, offset, asked))
      } catch (error) {
        if (this.#signal.aborted) throw this.#signal.reason
        const code = codeOf(error)
        if (code === 'EINTR') continue
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK') {
          this.#waitMs = this.#waitMs === 0 ? EAGAIN_FIRST_WAIT_MS : Math.min(this.#waitMs * 2, EAGAIN_LAST_WAIT_MS)
          await sleep(this.#waitMs, this.#signal)
          continue
        }
        throw new SourceReadError(this.#reportedFd, error)
      }
      this.#waitMs = 0
      if (bytesRead === 0) this.#ended = true
      return bytesRead
    }
  }

  /**
   * Rejects with `signal.reason` as soon as the signal aborts, even while `reading` is pending: a
   * read waiting for a producer cannot be cancelled (it runs on a worker thread), so the upload
   * must not wait for it; its own settlement is then ignored. One abort listener for the reader's
   * life, not one per read (this runs for every 64 KiB of a pipe).
   */
  #abortable(reading: Promise<number>): Promise<number> {
    this.#pending = reading
    const done = (): void => {
      if (this.#pending === reading) this.#pending = undefined
    }
    reading.then(done, done)
    if (this.#onAbort === undefined) {
      this.#onAbort = () => this.#rejectRead?.(this.#signal.reason)
      this.#signal.addEventListener('abort', this.#onAbort, { once: true })
    }
    return new Promise((resolve, reject) => {
      this.#rejectRead = reject
      reading.then(resolve, reject)
    })
  }

  /** Whether a read is in flight (one an abort left waiting for its producer, say). */
  get busy(): boolean {
    return this.#pending !== undefined
  }

  /** Resolves once no read is in flight any more; never rejects. Used before closing the descriptor. */
  idle(): Promise<unknown> {
    return (this.#pending ?? Promise.resolve(0)).then(
      () => {},
      () => {},
    )
  }
}
