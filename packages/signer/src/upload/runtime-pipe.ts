import { close as closeFd, readlinkSync, type Stats } from 'node:fs'
import type { ReadFn } from './fd-reader.ts'
import { openOwn, probe, type Probe } from './pipe-reader.ts'

/**
 * A pipe read by Deno's or Bun's own reader, which waits for bytes without a read parked on a
 * thread: `fs.read` on a blocking pipe leaves one there, and although Deno and Bun do not join
 * that thread at exit, they wait for its callback, so after an abort while the producer was idle
 * the process stayed alive until the producer wrote again or closed the pipe (forever, for one
 * that keeps it open). Their readers end a read in flight when closed, and then let the process
 * exit. Reading the pipe's own non-blocking open with `fs.read` and waiting on EAGAIN with
 * timers (as a terminal is read) fixes that too, but caps a pipe at about 64 KiB (its capacity)
 * per timer tick: from `gzip -dc` (~220 MB/s), uploads fell from ~150 to 70 MiB/s on Bun 1.4.5
 * and from ~140 to 40 on Deno 2.9.6 (local RGW; with these readers, as fast as with `fs.read`).
 *
 * - Deno: `Deno.openSync('/proc/self/fd/N')` (a new open file description of the same pipe, so
 *   the caller's descriptor keeps its flags), read with `FsFile.read` straight into the part
 *   buffer; `close()` ends a read in flight (Interrupted) and the exit no longer waits for it.
 *   An anonymous pipe only: opening a named FIFO blocks while it has no writer, and
 *   `Deno.openSync` cannot ask for O_NONBLOCK.
 * - Bun: `Bun.file(fd).stream()`, Bun's own non-blocking reader, over the pipe's own
 *   non-blocking open ({@link openOwn}), or over a socket on stdin, stdout or stderr itself (a
 *   socket cannot be opened again; Bun leaves it open, its flags unchanged: checked);
 *   `cancel()` ends a read in flight. Its chunks are Bun's (up to 128 KiB each), copied into the
 *   part buffer.
 *
 * Linux only (`/proc/self/fd`; the Bun socket case was checked there only).
 */
export interface RuntimePipe {
  /** Reads like `fs.read` (at most `length` bytes; 0 at the end); the descriptor argument is ignored. */
  readonly read: ReadFn
  /**
   * Ends a read in flight (it settles at once) and closes what was opened for this pipe, once no
   * read of it is left. Never closes the caller's descriptor.
   */
  close(): void
}

interface DenoFile {
  read(into: Uint8Array): Promise<number | null>
  close(): void
}
interface DenoFs {
  openSync(path: string, options: { readonly read: boolean }): DenoFile
}
interface BunFiles {
  file(fd: number): { stream(): ReadableStream<Uint8Array> }
}

const DENO: DenoFs | undefined = (globalThis as { Deno?: DenoFs }).Deno
const BUN: BunFiles | undefined = (globalThis as { Bun?: BunFiles }).Bun

/**
 * A {@link RuntimePipe} for `fd` on Deno and Bun where one can be made (see there), else
 * `undefined`: Node (which reads a pipe like a socket: `openPipeReader`), another system, a
 * named FIFO on Deno, a terminal, a socket other than 0-2 (Bun) or any socket (Deno), no
 * permission to open `/proc/self/fd/N` (Deno without `--allow-read`).
 */
export function openRuntimePipe(fd: number, stats: Stats): RuntimePipe | undefined {
  if (process.platform !== 'linux') return undefined
  if (DENO !== undefined) return stats.isFIFO() && isAnonymousPipe(fd) ? denoPipe(DENO, fd) : undefined
  if (BUN !== undefined) {
    if (stats.isSocket() && fd <= 2) return bunPipe(BUN, fd, undefined, { bytes: new Uint8Array(0), ended: false })
    if (!stats.isFIFO()) return undefined
    const own = openOwn(fd)
    if (own === undefined) return undefined
    // Linux reports no hang-up to a reader that opened a FIFO non-blocking after its last writer
    // left (`PipeReader` has the same wait): Bun's reader would wait for ever (checked). What the
    // pipe holds is read first, until it would block (a writer is there) or ends.
    let first: Probe
    try {
      first = probe(own)
    } catch {
      closeFd(own, () => {})
      return undefined // `fs.read` meets the error again, and reports it
    }
    try {
      return bunPipe(BUN, own, own, first)
    } catch (error) {
      closeFd(own, () => {})
      throw error // not `fs.read` instead: the bytes `first` took would be lost
    }
  }
  return undefined
}

/** `/proc/self/fd/N` of a pipe made by `pipe(2)` reads `pipe:[inode]`; a named FIFO's, its path. */
function isAnonymousPipe(fd: number): boolean {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`).startsWith('pipe:')
  } catch {
    return false
  }
}

function denoPipe(deno: DenoFs, fd: number): RuntimePipe | undefined {
  let file: DenoFile
  try {
    file = deno.openSync(`/proc/self/fd/${fd}`, { read: true })
  } catch {
    return undefined // no read permission
  }
  let closed = false
  return {
    read: async (_fd, buffer, offset, length) => (await file.read(buffer.subarray(offset, offset + length))) ?? 0,
    close() {
      if (closed) return
      closed = true
      file.close()
    },
  }
}

/** A Bun stream over `fd`, after the bytes `first` already took from it; `own` is closed at the end. */
function bunPipe(bun: BunFiles, fd: number, own: number | undefined, first: Probe): RuntimePipe {
  let spill = first.bytes
  let done = first.ended
  const stream = done ? undefined : bun.file(fd).stream().getReader()
  let pending: Promise<unknown> = Promise.resolve()
  let closed = false
  const next = async (): Promise<void> => {
    // A chunk may be empty: only `done` is the end.
    while (spill.byteLength === 0 && !done && stream !== undefined) {
      const chunk = await stream.read()
      if (chunk.done) done = true
      else spill = chunk.value
    }
  }
  return {
    read: (_fd, buffer, offset, length) => {
      const reading = next().then(() => {
        const n = Math.min(length, spill.byteLength)
        buffer.set(spill.subarray(0, n), offset)
        spill = spill.subarray(n)
        return n
      })
      pending = reading.catch(() => {})
      return reading
    },
    close() {
      if (closed) return
      closed = true
      // cancel() settles a read in flight as the end; `own` is closed once Bun has let go of it.
      const cancelled = stream?.cancel() ?? Promise.resolve()
      const closeOwn = (): void => {
        if (own !== undefined) closeFd(own, () => {})
      }
      void Promise.all([cancelled, pending]).then(closeOwn, closeOwn)
    },
  }
}
