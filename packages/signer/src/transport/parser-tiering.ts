/**
 * Keeps undici's HTTP parser on V8's baseline WebAssembly code.
 *
 * undici parses answers with llhttp compiled to WebAssembly, instantiated once per process on its
 * first connection. V8 compiles WebAssembly twice: at once with its baseline compiler (Liftoff),
 * and again with TurboFan once a function has spent its *tiering budget*. llhttp is one large
 * function, and that second compile costs ~110 ms of CPU and a ~29 MiB compile zone (V8's own
 * trace, `--trace-wasm-compilation-times`: "took 113 ms and 29445768 / 42603904 max/total bytes").
 * Node 20 (V8 11.3, budget 1,800,000) starts it right after the first answer, whether or not the
 * parser gets hot; Node 22+ (budget 13,000,000) after a few hundred answers. An S3 answer to an
 * UploadPart is a few hundred bytes of headers: the baseline code parses it in microseconds, and
 * the compile buys nothing an upload can measure. Measured (bench e2e, 1 GiB in 171 parts,
 * Node 20, client pinned to one core, 2026-11-30): peak RSS over baseline, stream of views 38.8 ->
 * 15.3 MiB, `Uint8Array` 39 -> 9.0; `Uint8Array` client CPU 1.29 -> 1.21 s/GiB.
 *
 * V8 reads the budget when a module is instantiated. So for the one synchronous call in which
 * undici instantiates the parser (its connector's callback, which calls `connectH1`), the budget
 * is raised out of reach, and set back right after: nothing else runs in between, so no other
 * WebAssembly of the process is affected, and later modules get V8's default again. Done once per
 * process, on the context's own `Agent` (a `dispatcher` or `transport` of the caller's is left
 * alone), on Node only: Deno's `v8.setFlagsFromString` changes nothing at run time (checked with
 * Deno 2.9: the parser is compiled again there, ~10 MiB), and Bun is JavaScriptCore. Not
 * done when the process was started with its own `--wasm-tiering-budget` (read from
 * `process.execArgv`): the user's choice stands. A budget set at run time with
 * `v8.setFlagsFromString` before the first connection cannot be read back: it is replaced by V8's
 * default then.
 * @module
 */
import type { buildConnector } from 'undici'

/** The budget for the parser's instantiation: far more than any process spends. */
const OUT_OF_REACH = 2_000_000_000

type V8Flags = { setFlagsFromString(flags: string): void }

/** Set once the parser's instantiation was seen (or this process needs nothing). */
let done = false

/** What `raise` needs to know about the process; tests pass their own. */
export interface TieringHost {
  readonly setFlagsFromString: ((flags: string) => void) | undefined
  /** V8's version (`process.versions.v8`), or undefined off V8. */
  readonly v8Version: string | undefined
  readonly execArgv: readonly string[]
}

function currentHost(): TieringHost {
  const proc = (globalThis as { process?: { versions?: { v8?: string }; execArgv?: string[]; getBuiltinModule?: (id: string) => unknown } }).process
  const onNode = !('Deno' in globalThis) && !('Bun' in globalThis)
  const v8 = onNode ? (proc?.getBuiltinModule?.('node:v8') as V8Flags | undefined) : undefined
  return {
    setFlagsFromString: typeof v8?.setFlagsFromString === 'function' ? (flags) => v8.setFlagsFromString(flags) : undefined,
    v8Version: onNode ? proc?.versions?.v8 : undefined,
    execArgv: Array.isArray(proc?.execArgv) ? proc.execArgv : [],
  }
}

/** V8's default tiering budget for this V8 (1,800,000 up to V8 11, 13,000,000 from V8 12). */
export function defaultTieringBudget(v8Version: string): number {
  return Number.parseInt(v8Version, 10) >= 12 ? 13_000_000 : 1_800_000
}

/**
 * Raises V8's WebAssembly tiering budget out of reach and returns what sets it back to the
 * default, or `undefined` when it must not or cannot be touched (see the module's comment).
 */
export function raiseTieringBudget(host: TieringHost = currentHost()): (() => void) | undefined {
  const set = host.setFlagsFromString
  if (set === undefined || host.v8Version === undefined) return undefined
  if (host.execArgv.some((arg) => /^--wasm[-_]tiering[-_]budget(=|$)/.test(arg))) return undefined
  const restore = `--wasm-tiering-budget=${defaultTieringBudget(host.v8Version)}`
  try {
    set(`--wasm-tiering-budget=${OUT_OF_REACH}`)
  } catch {
    return undefined
  }
  return () => {
    try {
      set(restore)
    } catch {}
  }
}

/**
 * `connector` (undici's `buildConnector` result) whose first successful connection in the process
 * hands its socket to undici with the tiering budget raised: undici instantiates its parser in
 * that callback, synchronously. Every later connection goes straight through.
 */
export function baselineParserConnector(
  connector: buildConnector.connector,
  raise: () => (() => void) | undefined = raiseTieringBudget,
): buildConnector.connector {
  return (options, callback) =>
    connector(options, (...answer) => {
      if (done || answer[0] !== null) return callback(...answer)
      done = true
      const restore = raise()
      try {
        callback(...answer)
      } finally {
        restore?.()
      }
    })
}

/** Tests: forget that the parser was seen. */
export function resetParserTiering(): void {
  done = false
}
