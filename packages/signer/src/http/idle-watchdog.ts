import { IdleTimeoutError, type IdlePhase } from '../errors.ts'

/** One attempt's idle timer and the signal that cancels it. */
export interface IdleWatchdog {
  /** Aborted by the caller's signal (with its reason) or by the watchdog (with an `IdleTimeoutError`). */
  readonly signal: AbortSignal
  /** The watchdog's error once it fired, else `undefined`. */
  readonly fired: IdleTimeoutError | undefined
  /** Progress was made: the countdown starts again (and the phase is noted for the message). */
  touch(phase?: IdlePhase): void
  /** Clears the timer and the listener on the caller's signal. Idempotent; call it in `finally`. */
  stop(): void
}

/**
 * Starts the idle watchdog of one request attempt.
 *
 * Why our own timer: undici's `headersTimeout`/`bodyTimeout` only exist on a dispatcher we own (a
 * user's `dispatcher` has its own settings), and nothing in undici times out a request *body*
 * that the server stopped reading: its headers timer only fires during a blocked write on some
 * versions, and a body that fits in the socket buffers leaves nothing blocked. The watchdog
 * covers every phase of every attempt, whatever the dispatcher.
 *
 * `touch()` only stores a timestamp; the single timer re-arms itself for the remaining time when
 * it finds recent progress, so per-chunk progress costs no timer churn.
 */
export function startIdleWatchdog(idleTimeoutMs: number, parent: AbortSignal | undefined): IdleWatchdog {
  const controller = new AbortController()
  let phase: IdlePhase = 'waiting for the response'
  let lastProgress = performance.now()
  let timer: ReturnType<typeof setTimeout> | undefined
  let fired: IdleTimeoutError | undefined
  let stopped = false

  const stop = (): void => {
    if (stopped) return
    stopped = true
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
    parent?.removeEventListener('abort', onParentAbort)
  }
  function onParentAbort(): void {
    const reason = parent?.reason
    stop()
    controller.abort(reason)
  }
  const check = (): void => {
    timer = undefined
    if (stopped) return
    const idle = performance.now() - lastProgress
    if (idle < idleTimeoutMs) {
      timer = setTimeout(check, Math.ceil(idleTimeoutMs - idle))
      return
    }
    fired = new IdleTimeoutError(idleTimeoutMs, phase)
    const error = fired
    stop()
    controller.abort(error)
  }

  if (parent?.aborted) {
    stopped = true
    controller.abort(parent.reason)
  } else {
    parent?.addEventListener('abort', onParentAbort, { once: true })
    timer = setTimeout(check, idleTimeoutMs)
  }
  return {
    signal: controller.signal,
    get fired() {
      return fired
    },
    touch(next) {
      lastProgress = performance.now()
      if (next !== undefined) phase = next
    },
    stop,
  }
}

/**
 * Request bodies are handed to undici in slices of at most this size, so the watchdog sees
 * progress at least once per slice drained into the socket (undici pulls the next slice only
 * after the previous write drained). Views, not copies. 1 MiB keeps the per-write overhead
 * negligible. The slowest link that never times out is set by the end of the body, though: once
 * the last slice is taken, what the socket buffers hold (a few MiB) must reach the server, and
 * its answer come, within one `idleTimeoutMs` (see `ContextOptions.idleTimeoutMs`).
 */
export const BODY_SLICE_BYTES: number = 1024 * 1024

/**
 * The chunks as ≤ 1 MiB views, touching the watchdog as each one is pulled by undici. `sent` is
 * called as the last one is taken: a transport that knows the length may never ask past it (Bun's
 * fetch), so it cannot wait for the end of the iteration. For that, one chunk is looked ahead.
 */
export function* watchedBody(chunks: Iterable<Uint8Array>, watchdog: IdleWatchdog, sent?: () => void): Generator<Uint8Array, void, undefined> {
  if (sent === undefined) {
    for (const chunk of chunks) yield* slicesOf(chunk, watchdog, undefined)
  } else {
    let held: Uint8Array | undefined
    for (const chunk of chunks) {
      if (held !== undefined) yield* slicesOf(held, watchdog, undefined)
      held = chunk
    }
    if (held !== undefined) yield* slicesOf(held, watchdog, sent)
  }
  // Everything is written once undici asks past the last slice: from here we wait for headers.
  watchdog.touch('waiting for the response')
  sent?.()
}

/** One chunk's ≤ 1 MiB views; `last` called as the final one is taken. */
function* slicesOf(chunk: Uint8Array, watchdog: IdleWatchdog, last: (() => void) | undefined): Generator<Uint8Array, void, undefined> {
  for (let offset = 0; offset < chunk.byteLength; offset += BODY_SLICE_BYTES) {
    watchdog.touch('sending the request body')
    const length = Math.min(BODY_SLICE_BYTES, chunk.byteLength - offset)
    if (last !== undefined && offset + length >= chunk.byteLength) last()
    // By offset, not chunk.subarray(): a Uint8Array subclass's constructor (Symbol.species) may take other arguments.
    yield offset === 0 && chunk.byteLength <= BODY_SLICE_BYTES ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset + offset, length)
  }
}
