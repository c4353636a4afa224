/**
 * Test sources and signals that count what the code under test does to them: pulls, concurrent
 * pulls, return() calls, finally blocks, listeners. Deterministic: gates instead of timers.
 */
import { createHash } from 'node:crypto'
import type { AbortSignalLike, HashFactory, Part } from '../../src/index.ts'

export const MiB = 1024 * 1024

export interface SourceStats {
  /** Calls to next(). */
  nexts: number
  /** Calls to return(). */
  returns: number
  /** Times the generator's finally block ran. */
  finallies: number
  /** next() calls not yet settled, and the most there ever were at once. */
  inFlight: number
  maxInFlight: number
  /** Values yielded so far, and the bytes of those that were Uint8Arrays. */
  yielded: number
  bytesYielded: number
}

export interface Tracked {
  readonly source: AsyncIterable<Uint8Array> & Iterable<Uint8Array>
  readonly stats: SourceStats
}

function count(stats: SourceStats, result: IteratorResult<unknown>): void {
  if (result.done !== true) {
    stats.yielded++
    if (result.value instanceof Uint8Array) stats.bytesYielded += result.value.byteLength
  }
}

/**
 * Wrap values in a generator (sync or async) whose finally block is counted, behind an iterator
 * that counts next()/return() calls and concurrent pulls. `values` may be an async iterable, e.g.
 * an async generator that waits on gates; with `sync: true` it must be a sync iterable.
 */
export function tracked(values: Iterable<unknown> | AsyncIterable<unknown>, options: { sync?: boolean } = {}): Tracked {
  const stats: SourceStats = { nexts: 0, returns: 0, finallies: 0, inFlight: 0, maxInFlight: 0, yielded: 0, bytesYielded: 0 }
  if (options.sync === true) {
    function* run(): Generator<unknown> {
      try {
        yield* values as Iterable<unknown>
      } finally {
        stats.finallies++
      }
    }
    const inner = run()
    const iterator = {
      next(): IteratorResult<unknown> {
        stats.nexts++
        const result = inner.next()
        count(stats, result)
        return result
      },
      return(): IteratorResult<unknown> {
        stats.returns++
        return inner.return(undefined)
      },
      [Symbol.iterator]() {
        return iterator
      },
    }
    return { source: iterator as unknown as Tracked['source'], stats }
  }
  async function* run(): AsyncGenerator<unknown> {
    try {
      for await (const value of values) yield value
    } finally {
      stats.finallies++
    }
  }
  const inner = run()
  const iterator = {
    async next(): Promise<IteratorResult<unknown>> {
      stats.nexts++
      stats.inFlight++
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight)
      try {
        const result = await inner.next()
        count(stats, result)
        return result
      } finally {
        stats.inFlight--
      }
    },
    return(): Promise<IteratorResult<unknown>> {
      stats.returns++
      return inner.return(undefined)
    },
    [Symbol.asyncIterator]() {
      return iterator
    },
  }
  return { source: iterator as unknown as Tracked['source'], stats }
}

export interface Deferred<T = void> {
  readonly promise: Promise<T>
  resolve(value: T): void
  reject(error: unknown): void
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** Let every pending microtask and I/O callback run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** A structural AbortSignal that counts its listeners. */
export interface FakeSignal extends AbortSignalLike {
  abort(reason: unknown): void
  readonly listenerCount: number
}

export function fakeSignal(): FakeSignal {
  const listeners = new Set<() => void>()
  let aborted = false
  let reason: unknown
  return {
    get aborted() {
      return aborted
    },
    get reason() {
      return reason
    },
    get listenerCount() {
      return listeners.size
    },
    throwIfAborted() {
      if (aborted) throw reason
    },
    addEventListener(_type, listener) {
      listeners.add(listener)
    },
    removeEventListener(_type, listener) {
      listeners.delete(listener)
    },
    abort(why: unknown) {
      if (aborted) return
      aborted = true
      reason = why
      for (const listener of [...listeners]) {
        listeners.delete(listener)
        listener()
      }
    },
  }
}

/** node:crypto behind the Hasher seam, as signer wires it. */
export const nodeSha256: HashFactory = () => {
  const hash = createHash('sha256')
  return {
    update(data) {
      hash.update(data)
    },
    digest() {
      return new Uint8Array(hash.digest())
    },
  }
}

export function sha256Of(...chunks: readonly Uint8Array[]): Uint8Array {
  const hash = createHash('sha256')
  for (const chunk of chunks) hash.update(chunk)
  return new Uint8Array(hash.digest())
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}

/** Concatenate a part's chunks (tests only: production code never copies). */
export function bytesOf(part: Pick<Part, 'chunks'>): Uint8Array {
  const joined = Buffer.concat(part.chunks as Uint8Array[])
  return new Uint8Array(joined.buffer, joined.byteOffset, joined.byteLength)
}

/** Deterministic pseudo-random bytes (xorshift), cheaper than crypto for big test buffers. */
export function pseudoRandomBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length)
  const words = new Uint32Array(out.buffer, 0, length >>> 2)
  let x = seed | 0 || 1
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    words[i] = x
  }
  for (let i = words.length * 4; i < length; i++) out[i] = i & 0xff
  return out
}

/** A resizable ArrayBuffer (ES2024: the lib these tests compile with is ES2022). */
export interface ResizableBuffer extends ArrayBuffer {
  resize(byteLength: number): void
}

export function resizableBuffer(byteLength: number, maxByteLength: number): ResizableBuffer {
  const Resizable = ArrayBuffer as unknown as new (byteLength: number, options: { maxByteLength: number }) => ResizableBuffer
  return new Resizable(byteLength, { maxByteLength })
}

/** A growable SharedArrayBuffer (ES2024, as above). */
export interface GrowableSharedBuffer extends SharedArrayBuffer {
  grow(byteLength: number): void
}

export function growableSharedBuffer(byteLength: number, maxByteLength: number): GrowableSharedBuffer {
  const Growable = SharedArrayBuffer as unknown as new (byteLength: number, options: { maxByteLength: number }) => GrowableSharedBuffer
  return new Growable(byteLength, { maxByteLength })
}
