import { describeValue, InvalidArgumentError } from '../errors.ts'
import type { ReadableStreamLike } from '../types.ts'
import { timers } from './web.ts'

/** A source iterator, sync or async, as `toParts` drives it. */
export type SourceIterator = Iterator<unknown> | AsyncIterator<unknown>

/** The iterator of a source, and whether its `next()` returns promises. */
export interface OpenedSource {
  readonly iterator: SourceIterator
  readonly isAsync: boolean
  /** Destroys a stream source when it is closed (see {@link destroyerOf}); `undefined` for others. */
  readonly destroy: (() => void) | undefined
}

/**
 * A Node `Readable` (anything with `destroy()` and a boolean `destroyed`) is destroyed when it is
 * closed, after its iterator's `return()`. That iterator is an async generator: a `return()`
 * before its first `next()` completes it without running its body, whose `finally` is what
 * destroys the stream, so a Readable closed before it was read would stay open (its file
 * descriptor or socket too).
 */
function destroyerOf(source: object): (() => void) | undefined {
  const stream = source as { destroy?: unknown; destroyed?: unknown }
  if (typeof stream.destroy !== 'function' || typeof stream.destroyed !== 'boolean') return undefined
  const destroy = stream.destroy as (this: unknown) => void
  return () => {
    if (stream.destroyed !== true) destroy.call(source)
  }
}

function isReadableStream(source: object): source is ReadableStreamLike<unknown> {
  const stream = source as { getReader?: unknown; locked?: unknown }
  return typeof stream.getReader === 'function' && typeof stream.locked === 'boolean'
}

/**
 * A `ReadableStream` read through a reader of our own instead of its async iterator, whose
 * `return()` waits behind a pending read (WebIDL queues it): an abort while the producer is idle
 * (a stalled HTTP body, a slow `blob.stream()`) would leave the stream uncancelled and locked, its
 * connection open. `reader.cancel()` settles the pending read at once (done) and cancels the
 * underlying source. The lock is released when the stream ends, fails or is cancelled.
 */
function readerIterator(stream: ReadableStreamLike<unknown>): AsyncIterator<unknown> {
  if (stream.locked) {
    throw new InvalidArgumentError(
      'Expected `source` to be a ReadableStream nobody is reading, got a locked one (a reader or a pipe holds it). ' +
        'Release its reader (releaseLock()) or pass the stream before reading from it',
    )
  }
  const reader = stream.getReader()
  let open = true
  const release = (): void => {
    open = false
    try {
      reader.releaseLock()
    } catch {
      // Already released, or a runtime that refuses while a read settles: the stream is done either way.
    }
  }
  return {
    async next() {
      try {
        const result = await reader.read()
        if (result.done) release()
        return result as IteratorResult<unknown>
      } catch (error) {
        release()
        throw error
      }
    },
    async return(value?: unknown) {
      if (open) {
        open = false
        try {
          await reader.cancel()
        } finally {
          release()
        }
      }
      return { done: true, value }
    },
  }
}

/**
 * Get the iterator of a source, preferring `Symbol.asyncIterator` as `for await` does. Bytes and
 * strings are iterable too (of numbers and characters), so they are rejected up front with a hint
 * instead of failing at chunk 0.
 */
export function openSource(source: unknown): OpenedSource {
  if (typeof source === 'object' && source !== null) {
    if (ArrayBuffer.isView(source) || source instanceof ArrayBuffer) {
      throw new InvalidArgumentError(
        `Expected \`source\` to be an iterable or async iterable of Uint8Array chunks, got ${describeValue(source)}. ` + bytesHint(source),
      )
    }
    if (isReadableStream(source)) return { iterator: readerIterator(source), isAsync: true, destroy: undefined }
    const asyncIterable = (source as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator]
    if (typeof asyncIterable === 'function') {
      return { iterator: expectIterator(asyncIterable.call(source), 'source[Symbol.asyncIterator]()'), isAsync: true, destroy: destroyerOf(source) }
    }
    const iterable = (source as Partial<Iterable<unknown>>)[Symbol.iterator]
    if (typeof iterable === 'function') {
      return { iterator: expectIterator(iterable.call(source), 'source[Symbol.iterator]()'), isAsync: false, destroy: destroyerOf(source) }
    }
  }
  const blobLike = typeof (source as { stream?: unknown } | null)?.stream === 'function' && typeof (source as { arrayBuffer?: unknown }).arrayBuffer === 'function'
  throw new InvalidArgumentError(
    `Expected \`source\` to be an iterable or async iterable of Uint8Array chunks, got ${describeValue(source)}` +
      (typeof source === 'string' ? '. Encode strings first: [new TextEncoder().encode(text)]' : '') +
      (blobLike ? '. For a Blob or File, pass blob.stream() (upload() takes the Blob itself)' : ''),
  )
}

/**
 * The fix for bytes given as the source: `bufferParts` and a chunk take a `Uint8Array` only, so
 * other bytes are wrapped first, zero-copy (a view of the same memory).
 */
function bytesHint(bytes: ArrayBufferView | ArrayBuffer): string {
  const wrap = ArrayBuffer.isView(bytes) ? 'new Uint8Array(view.buffer, view.byteOffset, view.byteLength)' : 'new Uint8Array(buffer)'
  return (
    // The toStringTag getter of typed arrays, as isUint8Array reads it (true across realms); not
    // imported from bytes.ts, a public module above this layer.
    (Object.prototype.toString.call(bytes) === '[object Uint8Array]' ? '' : `Wrap them as a Uint8Array first, with no copy: ${wrap}. `) +
    'For bytes already in memory use bufferParts(bytes), or pass [bytes] (upload() takes a Uint8Array or a Blob itself)'
  )
}

/** The iterator an iterable's method returned: an object with `next()`, or the source is refused by name. */
function expectIterator(iterator: unknown, made: string): SourceIterator {
  if ((typeof iterator === 'object' || typeof iterator === 'function') && iterator !== null && typeof (iterator as { next?: unknown }).next === 'function') {
    return iterator as SourceIterator
  }
  throw new InvalidArgumentError(`Expected \`${made}\` to return an iterator (an object with a next() method), got ${describeValue(iterator)}`)
}

/**
 * Close a source without waiting, when there is no caller to report a second error to: the error
 * being thrown is the one that matters, so a failing `return()` (sync throw or rejected promise)
 * or `destroy()` is dropped here on purpose.
 */
export function closeSourceQuietly({ iterator, destroy }: OpenedSource): void {
  try {
    const closing: unknown = iterator.return?.()
    if (isThenable(closing)) closing.then(undefined, () => {})
  } catch {
    // Dropped on purpose, see above.
  }
  try {
    destroy?.()
  } catch {
    // Dropped on purpose, see above.
  }
}

/**
 * Waits for a source's `return()` result, for at most `graceMs` (`Infinity`: for as long as it
 * takes). Past the grace the close goes on unobserved: a later rejection is dropped.
 */
export async function settleWithin(closing: unknown, graceMs: number): Promise<void> {
  if (graceMs === Number.POSITIVE_INFINITY || !isThenable(closing)) {
    await closing
    return
  }
  let handle: unknown
  const grace = new Promise<void>((resolve) => {
    handle = timers.setTimeout(resolve, graceMs)
  })
  try {
    // race() observes `closing`: its rejection after the grace is not an unhandled one.
    await Promise.race([closing, grace])
  } finally {
    timers.clearTimeout(handle)
  }
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}
