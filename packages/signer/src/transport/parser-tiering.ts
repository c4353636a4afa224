/**
 * Keeps undici's HTTP parser on V8's baseline WebAssembly code.
 *
 * undici parses answers with llhttp compiled to WebAssembly, instantiated once per process on its
 * first connection. V8 compiles WebAssembly twice: at once with its baseline compiler (Liftoff),
 * and again with TurboFan once a function has spent its tiering budget. llhttp is one large
 * function, and that second compile costs ~100 ms of CPU and a ~29 MiB compile zone (V8's own
 * trace, `--trace-wasm-compilation-times`: "took 113 ms and 29445768 / 42603904 max/total bytes").
 * Node 20 (V8 11.3) starts it right after the first answer, whether or not the parser gets hot;
 * Node 22-26 after a few hundred answers. An S3 answer to an UploadPart is a few hundred bytes of
 * headers: the baseline code parses it in microseconds, and the compile buys nothing an upload can
 * measure. Measured interleaved, with and without (1 GiB in 171 parts, Node 20, client pinned to
 * one core, 2026-11-30): a `Uint8Array` 798 -> 899 MiB/s, 1.27 -> 1.13 CPU s/GiB, peak RSS over
 * baseline 38.8 -> 11.3 MiB; a stream of views 766 -> 846 MiB/s, 41.3 -> 16.9 MiB.
 *
 * V8 decides how a module's functions tier when it compiles them, and compiles them lazily, on
 * first call. So for the one synchronous call in which undici creates the parser (its connector's
 * callback, which calls `connectH1`), V8 is told to compile WebAssembly eagerly and on Liftoff
 * only (`--no-wasm-lazy-compilation --liftoff-only`, and the two flags `--liftoff-only` implies,
 * which Node 24 and 26 need set on their own: `--no-wasm-dynamic-tiering --no-wasm-tier-up`),
 * and set back to V8's defaults (the same on Node 20-26) right after. Checked on Node 20, 22, 24
 * and 26 with V8's trace: no TurboFan compile of the parser after 400 S3-like answers (1,000 in a
 * scratch run), where there was one within 200; a module the application creates afterwards still
 * tiers up. (Raising `--wasm-tiering-budget` instead, what the CLI did for its whole process,
 * only delays it: S3's answers spend even the largest budget, a 32-bit integer, in ~200 answers.
 * Holding the flags without eager compilation leaves the functions first called after the
 * release to tier up as before.)
 *
 * Nothing else runs on this thread in between. Done once per process, on the context's own `Agent`
 * (a `dispatcher` or `transport` of the caller's is left alone); on Node's main thread only (the
 * flags are the process's: a worker cannot see the flags the process was started with, and other
 * threads keep running meanwhile); not on Deno (its `v8.setFlagsFromString` changes nothing at
 * run time: the parser is compiled again there, ~10 MiB) nor Bun (JavaScriptCore). Not done when
 * the process was started with a WebAssembly flag of its own (`--liftoff…`, `--wasm…`, in
 * `process.execArgv`): the user's choice stands. WebAssembly flags set at run time with
 * `v8.setFlagsFromString` before the first connection cannot be read back: these three are set to
 * V8's defaults then.
 * @module
 */
import type { buildConnector } from 'undici'

/** What compiles a module created now at once, on Liftoff for good; and V8's defaults. */
const HOLD = '--liftoff-only --no-wasm-dynamic-tiering --no-wasm-tier-up --no-wasm-lazy-compilation'
const RELEASE = '--no-liftoff-only --wasm-dynamic-tiering --wasm-tier-up --wasm-lazy-compilation'

type V8Flags = { setFlagsFromString(flags: string): void }
type WorkerThreads = { readonly isMainThread?: boolean }

/** Set once the parser's creation was seen. */
let done = false

/** What {@link holdBaseline} needs to know about the process; tests pass their own. */
export interface TieringHost {
  /** `v8.setFlagsFromString`, or undefined where it changes nothing (Deno, Bun) or is missing. */
  readonly setFlagsFromString: ((flags: string) => void) | undefined
  readonly isMainThread: boolean
  readonly execArgv: readonly string[]
}

function currentHost(): TieringHost {
  const proc = (globalThis as { process?: { execArgv?: string[]; getBuiltinModule?: (id: string) => unknown } }).process
  const onNode = !('Deno' in globalThis) && !('Bun' in globalThis)
  const v8 = onNode ? (proc?.getBuiltinModule?.('node:v8') as V8Flags | undefined) : undefined
  const threads = onNode ? (proc?.getBuiltinModule?.('node:worker_threads') as WorkerThreads | undefined) : undefined
  return {
    setFlagsFromString: typeof v8?.setFlagsFromString === 'function' ? (flags) => v8.setFlagsFromString(flags) : undefined,
    isMainThread: threads?.isMainThread === true,
    execArgv: Array.isArray(proc?.execArgv) ? proc.execArgv : [],
  }
}

/**
 * Tells V8 to keep the WebAssembly modules created from now on on Liftoff, and returns what sets
 * its defaults back; `undefined` when it must not or cannot (see the module's comment).
 */
export function holdBaseline(host: TieringHost = currentHost()): (() => void) | undefined {
  const set = host.setFlagsFromString
  if (set === undefined || !host.isMainThread) return undefined
  if (host.execArgv.some((arg) => /^--(no-)?(liftoff|wasm)/.test(arg))) return undefined
  try {
    set(HOLD)
  } catch {
    return undefined
  }
  return () => {
    try {
      set(RELEASE)
    } catch {}
  }
}

/**
 * `connector` (undici's `buildConnector` result) whose first successful connection in the process
 * hands its socket to undici with WebAssembly held on Liftoff: undici creates its parser in that
 * callback, synchronously. Every later connection goes straight through.
 */
export function baselineParserConnector(connector: buildConnector.connector, hold: () => (() => void) | undefined = holdBaseline): buildConnector.connector {
  return (options, callback) =>
    connector(options, (...answer) => {
      if (done || answer[0] !== null) return callback(...answer)
      done = true
      const release = hold()
      try {
        callback(...answer)
      } finally {
        release?.()
      }
    })
}

/** Tests: forget that the parser was seen. */
export function resetParserTiering(): void {
  done = false
}
