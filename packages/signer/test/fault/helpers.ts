// Shared pieces of the fault suite: deferreds and gates (no sleeps as synchronization), a source
// that reports its `finally`, an AbortSignal that counts its 'abort' listeners, and a guard
// that fails the file on any unhandled rejection.
import assert from 'node:assert/strict'
import { after } from 'node:test'

export interface Deferred<T> {
  readonly promise: Promise<T>
  resolve(value: T): void
  reject(error: unknown): void
  readonly settled: boolean
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  let settled = false
  const promise = new Promise<T>((res, rej) => {
    resolve = (v) => {
      settled = true
      res(v)
    }
    reject = (e) => {
      settled = true
      rej(e)
    }
  })
  return {
    promise,
    resolve,
    reject,
    get settled() {
      return settled
    },
  }
}

/** What a tracked source saw: how far it was pulled, whether `return()` reached it, whether its `finally` ran. */
export interface SourceState {
  pulled: number
  returnCalled: boolean
  /** Resolves when the generator's `finally` ran. */
  readonly finished: Deferred<void>
}

/**
 * An async source over `chunks` whose `finally` is observable. `gateAt`: before yielding chunk
 * `gateAt`, it signals `atGate` and waits for `gate` (the "between parts" phase).
 */
export function trackedSource(
  chunks: Iterable<Uint8Array>,
  options: { gateAt?: number; gate?: Promise<void>; atGate?: Deferred<void>; throwAt?: number; error?: unknown } = {},
): { source: AsyncIterableIterator<Uint8Array>; state: SourceState } {
  const state: SourceState = { pulled: 0, returnCalled: false, finished: deferred() }
  async function* gen(): AsyncGenerator<Uint8Array> {
    try {
      for (const chunk of chunks) {
        if (options.gateAt === state.pulled) {
          options.atGate?.resolve()
          await options.gate
        }
        if (options.throwAt === state.pulled) throw options.error
        state.pulled++
        yield chunk
      }
    } finally {
      state.finished.resolve()
    }
  }
  const inner = gen()
  const source: AsyncIterableIterator<Uint8Array> = {
    next: () => inner.next(),
    return: (value?: unknown) => {
      state.returnCalled = true
      return inner.return(value as never)
    },
    [Symbol.asyncIterator]() {
      return this
    },
  }
  return { source, state }
}

/**
 * An AbortController whose signal counts the 'abort' listeners attached and not yet removed.
 * Listeners added with `{ once: true }` leave by themselves when the event fires, as the
 * platform does.
 */
export function countedController(): { controller: AbortController; listeners: () => number } {
  const controller = new AbortController()
  const signal = controller.signal
  const active = new Map<unknown, boolean>() // listener → once
  const add = signal.addEventListener.bind(signal)
  const remove = signal.removeEventListener.bind(signal)
  // Registered first, so it runs first: once-listeners are gone after the event.
  add('abort', () => {
    for (const [listener, once] of active) if (once) active.delete(listener)
  })
  type Add = AbortSignal['addEventListener']
  type Remove = AbortSignal['removeEventListener']
  signal.addEventListener = ((type: string, listener: unknown, options?: unknown) => {
    if (type === 'abort' && listener !== null && !active.has(listener)) {
      active.set(listener, typeof options === 'object' && options !== null && (options as { once?: unknown }).once === true)
    }
    ;(add as (...args: unknown[]) => void)(type, listener, options)
  }) as Add
  signal.removeEventListener = ((type: string, listener: unknown, options?: unknown) => {
    if (type === 'abort') active.delete(listener)
    ;(remove as (...args: unknown[]) => void)(type, listener, options)
  }) as Remove
  return { controller, listeners: () => active.size }
}

/** Fails the file if any promise rejection goes unhandled while it runs. */
export function failOnUnhandledRejections(): void {
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason)
  }
  process.on('unhandledRejection', onUnhandled)
  after(() => {
    process.off('unhandledRejection', onUnhandled)
    assert.deepEqual(unhandled, [], 'no unhandled rejections')
  })
}

/** A small seeded PRNG (mulberry32): the soak prints its seed, so a failure can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** 'Timeout' handles keeping the event loop alive now (leaked timers show up here). */
export function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
}

/** A response body of `text` (one chunk; none when empty), for fake transports. */
export function textBody(text: string): { [Symbol.asyncIterator](): AsyncGenerator<Uint8Array>; dump(): Promise<void> } {
  const bytes = new TextEncoder().encode(text)
  return {
    async *[Symbol.asyncIterator]() {
      if (bytes.byteLength > 0) yield bytes
    },
    dump: async () => {},
  }
}

/** An `x-amz-date` value (`20261129T180000Z`) as a Date. */
export function parseAmzDate(value: string | undefined): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? '')
  assert.ok(m, `x-amz-date ${value}`)
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])))
}

/** `data` as views of `size` bytes (the last one shorter). */
export function* fixedChunks(data: Uint8Array, size: number): Generator<Uint8Array> {
  for (let offset = 0; offset < data.byteLength; offset += size) yield data.subarray(offset, offset + size)
}
