/**
 * `toParts`: split a stream of byte chunks into S3 parts, pulling only when asked.
 * @module
 */

import { isUint8Array } from './bytes.ts'
import { describeValue, InvalidArgumentError, InvalidChunkError, ObjectTooLargeError, TooManyPartsError } from './errors.ts'
import { startPart, type PartHashes } from './internal/digests.ts'
import { expectHashFactory, expectInteger } from './internal/expect.ts'
import { closeSourceQuietly, isThenable, openSource, settleWithin, type OpenedSource } from './internal/source.ts'
import { goneBytes, isResizable } from './internal/views.ts'
import { DEFAULT_MAX_VIEW_OVERHEAD_BYTES, MAX_OBJECT_SIZE_BYTES, MAX_PARTS } from './limits.ts'
import { resolvePartSize } from './part-size.ts'
import { createSha256 } from './sha256.ts'
import type { AbortSignalLike, Part, PartSizePolicy, ReadableStreamLike, ToPartsOptions } from './types.ts'

interface Settings {
  readonly policy: PartSizePolicy
  readonly hashes: PartHashes
  readonly signal: AbortSignalLike | undefined
  readonly maxViewOverhead: number
  readonly startPartNumber: number
  readonly startOffset: number
  readonly closeGraceMs: number
}

/** Largest delay `setTimeout` honours (2^31 - 1 ms); larger ones fire after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647

/**
 * Chunks shorter than this are copied into the part's gather blocks instead of kept as views. A
 * view is an object of ~100 bytes on the heap (more with its own ArrayBuffer), and hashing is a
 * call per chunk: a source of one short line per chunk held ~30× its bytes in objects (16-byte
 * lines: +1.5 GiB RSS for 30 MiB), and 1-byte chunks took 27 s per 6 MiB. Copying a chunk this
 * small costs less than keeping it; a part's memory stays its bytes plus one block.
 */
export const SMALL_CHUNK_BYTES: number = 1024
/** Size of a gather block (the last one of a part is cut to what the part has room for). */
const GATHER_BLOCK_BYTES = 64 * 1024

function readOptions(options: ToPartsOptions | undefined): Settings {
  if (options === undefined) {
    return {
      policy: resolvePartSize(),
      hashes: { hash: createSha256, checksum: null, md5: null },
      signal: undefined,
      maxViewOverhead: DEFAULT_MAX_VIEW_OVERHEAD_BYTES,
      startPartNumber: 1,
      startOffset: 0,
      closeGraceMs: Number.POSITIVE_INFINITY,
    }
  }
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`Expected \`options\` to be an object, got ${describeValue(options)}`)
  }
  const policy = resolvePartSize(options.partSize, options.sizeHint)
  const hashes: PartHashes = {
    hash: expectHashFactory('hash', options.hash, createSha256),
    checksum: expectHashFactory('checksum', options.checksum, null),
    md5: expectHashFactory('md5', options.md5, null),
  }
  const { signal } = options
  if (signal !== undefined && !isSignal(signal)) {
    throw new InvalidArgumentError(`Expected \`signal\` to be an AbortSignal, got ${describeValue(signal)}`)
  }
  const maxViewOverhead = options.maxViewOverhead ?? DEFAULT_MAX_VIEW_OVERHEAD_BYTES
  if (maxViewOverhead !== Number.POSITIVE_INFINITY) {
    expectInteger('maxViewOverhead', maxViewOverhead, { min: 0, max: Number.MAX_SAFE_INTEGER, bytes: true, hint: () => '`Infinity` never copies' })
  }
  const closeGraceMs = options.closeGraceMs ?? Number.POSITIVE_INFINITY
  if (closeGraceMs !== Number.POSITIVE_INFINITY) {
    expectInteger('closeGraceMs', closeGraceMs, { min: 0, max: MAX_TIMER_MS, hint: () => '`Infinity` waits as long as it takes' })
  }
  return {
    policy,
    hashes,
    signal,
    maxViewOverhead,
    closeGraceMs,
    startPartNumber: expectInteger('startPartNumber', options.startPartNumber ?? 1, { min: 1, max: MAX_PARTS }),
    startOffset: expectInteger('startOffset', options.startOffset ?? 0, { min: 0, max: MAX_OBJECT_SIZE_BYTES, bytes: true }),
  }
}

function isSignal(value: unknown): value is AbortSignalLike {
  const signal = value as Partial<Record<keyof AbortSignalLike, unknown>> | null
  return (
    typeof signal === 'object' &&
    signal !== null &&
    typeof signal.aborted === 'boolean' &&
    typeof signal.throwIfAborted === 'function' &&
    typeof signal.addEventListener === 'function' &&
    typeof signal.removeEventListener === 'function'
  )
}

/** What an abort resolves the pull race with: a resolved sentinel never goes unhandled, a rejection could. */
const ABORTED: unique symbol = Symbol('aborted')

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })

function noop(): void {}

/** The fix for a chunk whose bytes are gone (see {@link goneBytes}). */
const GONE_HINT =
  "A source must not transfer or shrink a chunk's buffer before it yields the chunk, nor transfer, resize or reuse it after: " +
  'transfer a copy (chunk.slice()) instead.'

/** The protocol's IteratorResult is any object (`for await` throws a TypeError on anything else). */
function isIteratorResult(value: unknown): value is IteratorResult<unknown> {
  return (typeof value === 'object' && value !== null) || typeof value === 'function'
}

/**
 * Split a stream of byte chunks into S3 parts: zero-copy views, every non-last part exactly
 * `policy.sizeOf(partNumber)` bytes, hashed while it fills, the last one flagged `isLast`.
 *
 * **Pull, never push.** The source is read only inside `next()`, and only as far as the part being
 * built plus one look-ahead chunk (to know `isLast`): at most one partial part is ever held.
 * `next()` calls are serialized: calling it again before the previous call settled queues the call
 * (as an async generator does), so several workers may share one parts iterator, and the
 * source's `next()` is never called concurrently.
 *
 * **Zero copy.** Parts hold views of the source's chunks; a chunk straddling a part boundary is
 * split (into views of its buffer by offset, never through a subclass's constructor), a chunk
 * spanning many parts becomes many views, empty chunks are skipped. A chunk that reads as empty
 * because its buffer was detached or it is out of the bounds of a shrunk resizable buffer is
 * refused with `InvalidChunkError`: its bytes are gone. A length-tracking view of a resizable
 * buffer is kept as a fixed-length view of the length it was yielded with.
 * The one exception is `maxViewOverhead`, which copies a view of a much larger buffer so it
 * cannot pin that buffer. The exact rule: a chunk is copied (into a new `Uint8Array`) when
 * `chunk.buffer.byteLength - chunk.byteLength > maxViewOverhead`, however long it is: each part
 * in flight could otherwise pin a buffer of its own (6 MiB views of 64 MiB buffers held 5 × 64 MiB
 * at concurrency 4). And, unless `maxViewOverhead` is `Infinity`, a view (or the piece of one
 * left at a part boundary) shorter than 64 KiB and less than half its buffer is copied into the
 * part's gather blocks, as chunks under 1 KiB are: short views of 64 KiB buffers (Deno's socket
 * and stdin reads) held 43× their bytes. A chunk that is its whole buffer, however long, is never
 * copied.
 *
 * **Ownership.** Once `toParts` is called it owns the source, even when the call throws: an
 * options error closes the source (calls its iterator's `return()`) before it is thrown. Chunks
 * must not be mutated, nor their buffers transferred or resized, after the source yields them,
 * and each part keeps its chunks' backing buffers alive until it is dropped.
 *
 * **Iterator protocol.** The source is read as `for await` reads it: an async iterator's `next()`
 * may return the result or a promise of it, and a truthy `done` ends it. A `next()` that gives no
 * result object is refused with `InvalidChunkError` (the source is closed).
 *
 * **Closing.** The source's `return()` is called, exactly once and awaited, when the consumer
 * calls `return()` (a `break` out of `for await`) or `throw()`, and on every error raised here:
 * an invalid chunk, a policy error, too many parts, an object over 5 TiB, a failing hasher, an
 * abort. When that `return()` fails too, the original error is the one reported. It is not called
 * when the source ended or its own `next()` threw: by the iterator protocol it is finished then.
 * A Node `Readable` is also `destroy()`ed when it is closed: its iterator's `return()` alone does
 * not destroy it when it was never read. With `closeGraceMs`, `return()` is awaited for that
 * long at most: a source whose `return()` never settles cannot hang `next()` or `return()`.
 *
 * **Limits.** Nothing past an S3 limit is produced. When part 10,000 (`MAX_PARTS`) is full and
 * more data follows, `next()` rejects with `TooManyPartsError` instead of yielding part 10,000:
 * that part could never be completed either, so the uploader aborts without sending it. A part
 * that would end past 5 TiB (counting `startOffset`) rejects with `ObjectTooLargeError`.
 *
 * **Abort.** `signal` is checked at each `next()` and before each read of the source, and it also
 * interrupts a read in progress: `next()` then rejects at once with `signal.reason` unchanged, and
 * the source's `return()` is called without waiting for the stalled read (an async generator runs
 * its `finally` once that read settles). A web `ReadableStream` is read with a reader of its own,
 * so that close is `reader.cancel()`: the pending read ends and the stream's source is cancelled
 * at once (its own async iterator would queue the cancel behind the stalled read). The abort
 * listener is attached only while `next()` runs.
 *
 * The empty source yields one empty part (`partNumber` 1, no chunks, `isLast`), so an uploader
 * sends one empty PutObject instead of hanging.
 * @param source Chunks of the object, in order: any `AsyncIterable<Uint8Array>` (a Node `Readable`,
 *   an async generator), `Iterable<Uint8Array>`, or a web `ReadableStream` (not locked; read with
 *   `getReader()`, so one that is not async-iterable, as the DOM lib types `response.body`, fits).
 * @throws {InvalidArgumentError} synchronously, on an invalid source or option.
 * @throws {ObjectTooLargeError} synchronously, when `sizeHint` is over 5 TiB.
 * @example
 * for await (const part of toParts(createReadStream(path))) {
 *   console.log(part.partNumber, part.byteLength, part.isLast)
 * }
 */
export function toParts(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | ReadableStreamLike<Uint8Array>,
  options?: ToPartsOptions,
): AsyncIterableIterator<Part> {
  const opened = openSource(source)
  let settings: Settings
  try {
    settings = readOptions(options)
  } catch (error) {
    closeSourceQuietly(opened)
    throw error
  }
  return split(opened, settings)
}

function split(opened: OpenedSource, settings: Settings): AsyncIterableIterator<Part> {
  const { iterator, isAsync } = opened
  const { policy, hashes, signal, maxViewOverhead } = settings
  // `Infinity` never copies; any finite value copies views under a block that waste half their buffer too.
  const relativeViews = maxViewOverhead !== Number.POSITIVE_INFINITY
  const syncIterator = iterator as Iterator<unknown>
  const asyncIterator = iterator as AsyncIterator<unknown>

  let partNumber = settings.startPartNumber
  let offset = settings.startOffset
  /** 0-based index of the next chunk the source yields, for InvalidChunkError. */
  let chunkIndex = 0
  /** Unconsumed rest of the last chunk read: the look-ahead. Never empty. */
  let held: Uint8Array | undefined
  /**
   * `open`: may be closed with `return()`. `ended`: it returned done or its `next()` threw, so by
   * the iterator protocol there is nothing to close. `closed`: `return()` was called.
   */
  let sourceState: 'open' | 'ended' | 'closed' = 'open'
  /** An abort interrupted a read: the source's `next()` is still pending. */
  let readInFlight = false
  /** No more parts: after the last part, an error, `return()` or `throw()`. */
  let finished = false
  /** Listening to the signal: only while a `next()` runs (one listener per call, not per read). */
  let listening = false
  /** Ends the read in progress with ABORTED; set per read, while the signal is listened to. */
  let interruptRead: ((value: typeof ABORTED) => void) | undefined
  /** The queue that serializes next/return/throw. */
  let tail: Promise<unknown> = Promise.resolve()

  function enqueue<T>(operation: () => Promise<T>): Promise<T> {
    const run = tail.then(operation)
    tail = run.then(noop, noop)
    return run
  }

  /** Validate a value the source yielded; `undefined` for an empty chunk, which is skipped. */
  function admit(value: unknown): Uint8Array | undefined {
    const index = chunkIndex++
    if (!isUint8Array(value)) throw new InvalidChunkError(index, describeValue(value))
    const length = value.byteLength
    if (length === 0) {
      // A detached or out-of-bounds view reads as 0 bytes too: skipping it would drop its bytes
      // without a word (a short object stored). Probed only here, off the path of bytes.
      const gone = goneBytes(value)
      if (gone === undefined) return undefined
      throw new InvalidChunkError(
        index,
        gone === 'detached'
          ? 'a Uint8Array whose ArrayBuffer was detached (transferred, as postMessage(chunk, [chunk.buffer]) or structuredClone with `transfer` do), so it holds no bytes'
          : 'a Uint8Array out of the bounds of its resizable ArrayBuffer (the buffer shrank below the end of the view), so it holds no bytes',
        { hint: GONE_HINT },
      )
    }
    // A chunk under SMALL_CHUNK_BYTES is copied into a gather block when its part takes it.
    if (length < SMALL_CHUNK_BYTES) return value
    const buffer = value.buffer
    // Copy a view of a much larger buffer, so holding it cannot pin the whole buffer; see the rule
    // in toParts' documentation. Not `value.slice()`: a Node Buffer's slice is a view.
    if (buffer.byteLength - length > maxViewOverhead) return new Uint8Array(value)
    // A length-tracking view of a resizable buffer would change length with it while its part is
    // in flight (the body no longer matching its content-length): keep the bytes yielded, as a
    // fixed-length view of the same buffer. A shrink below its end then reads as 0 bytes, which
    // the uploader reports before sending.
    if (isResizable(buffer)) return new Uint8Array(buffer, value.byteOffset, length)
    return value
  }

  function readSync(): Uint8Array | undefined {
    for (;;) {
      if (signal !== undefined && signal.aborted) throw signal.reason
      let result: unknown
      try {
        result = syncIterator.next()
      } catch (error) {
        sourceState = 'ended'
        throw error
      }
      if (!isIteratorResult(result)) throw notAResult(result)
      // Truthy, not `=== true`: the protocol reads `done` as `for await` does (ToBoolean).
      if (result.done) {
        sourceState = 'ended'
        return undefined
      }
      const chunk = admit(result.value)
      if (chunk !== undefined) return chunk
    }
  }

  /** The source's `next()` gave no iterator result object: refused like an invalid chunk, and the source closed. */
  function notAResult(result: unknown): InvalidChunkError {
    return new InvalidChunkError(chunkIndex, describeValue(result), {
      expected: `the source's iterator \`next()\` to give an iterator result { done, value } for chunk ${chunkIndex}`,
      hint: 'Return { done: false, value: chunk } for each chunk and { done: true } at the end, or write the source as a generator.',
    })
  }

  async function readAsync(): Promise<Uint8Array | undefined> {
    for (;;) {
      if (signal !== undefined && signal.aborted) throw signal.reason
      let result: unknown
      try {
        const read: unknown = asyncIterator.next()
        // Not Promise.race with one promise per next(): each race left a reaction on it until the
        // part was done, a part of 1-byte chunks millions of them (gigabytes). A next() that
        // returns the result itself, not a promise of it, is read as `for await` reads it (it
        // awaits whatever next() returns); such a read is over already, nothing to interrupt.
        result =
          !listening || !isThenable(read)
            ? await read
            : await new Promise<unknown>((resolve, reject) => {
                interruptRead = resolve
                read.then(resolve, reject)
              })
        interruptRead = undefined
      } catch (error) {
        sourceState = 'ended'
        throw error
      }
      if (result === ABORTED) {
        readInFlight = true
        throw signal?.reason
      }
      if (!isIteratorResult(result)) throw notAResult(result)
      // Truthy, not `=== true`: the protocol reads `done` as `for await` does (ToBoolean).
      if (result.done) {
        sourceState = 'ended'
        return undefined
      }
      const chunk = admit(result.value)
      if (chunk !== undefined) return chunk
    }
  }

  /** Call the source's `return()` once, if it is still open. */
  async function closeSource(): Promise<void> {
    if (sourceState !== 'open') return
    sourceState = 'closed'
    if (readInFlight) {
      // The source is stuck in a read that the abort interrupted. Waiting for `return()` would
      // wait for that read (an async generator queues `return()` behind a pending `next()`), so
      // start it and go; the abort reason is what the caller gets either way.
      closeSourceQuietly(opened)
      return
    }
    try {
      await settleWithin(iterator.return?.(), settings.closeGraceMs)
    } finally {
      opened.destroy?.()
    }
  }

  /** Stop after `error`: close the source, and report `error` even if closing fails too. */
  async function fail(error: unknown): Promise<never> {
    finished = true
    held = undefined
    try {
      await closeSource()
    } catch {
      // The original error wins; a second error from return() would only hide it.
    }
    throw error
  }

  async function nextPart(): Promise<IteratorResult<Part>> {
    if (finished) return DONE
    let onAbort: (() => void) | undefined
    try {
      signal?.throwIfAborted()
      const size = policy.sizeOf(partNumber)
      if (signal !== undefined && isAsync) {
        // One listener per next() call, not per read, and none left behind between calls.
        onAbort = () => interruptRead?.(ABORTED)
        listening = true
        signal.addEventListener('abort', onAbort, { once: true })
      }
      const digester = startPart(hashes)
      const chunks: Uint8Array[] = []
      let filled = 0
      // Small chunks gathered: `block[from, to)` is copied in and not yet in `chunks`.
      let block: Uint8Array | undefined
      let from = 0
      let to = 0
      const flush = (): void => {
        if (block === undefined || to === from) return
        const view = block.subarray(from, to)
        chunks.push(view)
        digester.update(view)
        from = to
      }
      while (filled < size) {
        let chunk = held
        if (chunk === undefined) {
          if (sourceState !== 'open') break
          chunk = isAsync ? await readAsync() : readSync()
          if (chunk === undefined) break
        }
        const room = size - filled
        if (chunk.byteLength <= room) {
          held = undefined
        } else {
          // Split by offset, not with subarray(): that builds the views through the chunk's
          // constructor (Symbol.species), and a Uint8Array subclass taking other arguments made
          // views of its whole buffer (endless parts of the wrong bytes).
          const { buffer, byteOffset } = chunk
          held = new Uint8Array(buffer, byteOffset + room, chunk.byteLength - room)
          chunk = new Uint8Array(buffer, byteOffset, room)
        }
        // Gathered (copied): a small chunk, and a view of under a block that is less than half of
        // its buffer (Deno's sockets and stdin hand each short read over as a view of a fresh
        // 64 KiB buffer: 1,500-byte views held 43x their bytes, 525 MiB for a 6 MiB part at
        // concurrency 1; the 64 KiB of maxViewOverhead alone never copied them). A view's buffer is
        // then at most twice its bytes, or it is a view of at least a block.
        if (chunk.byteLength < SMALL_CHUNK_BYTES || (relativeViews && chunk.byteLength < GATHER_BLOCK_BYTES && chunk.buffer.byteLength > 2 * chunk.byteLength)) {
          if (block === undefined || to + chunk.byteLength > block.byteLength) {
            flush()
            block = new Uint8Array(Math.min(GATHER_BLOCK_BYTES, size - filled))
            from = to = 0
          }
          block.set(chunk, to)
          to += chunk.byteLength
        } else {
          flush()
          chunks.push(chunk)
          digester.update(chunk)
        }
        filled += chunk.byteLength
      }
      flush()
      // Look ahead one chunk so the last part is known to be last.
      if (held === undefined && sourceState === 'open') held = isAsync ? await readAsync() : readSync()
      const isLast = held === undefined
      const end = offset + filled
      // Past the limit by at least one byte: the end of this part, or the held byte after it.
      if (end > MAX_OBJECT_SIZE_BYTES || (!isLast && end === MAX_OBJECT_SIZE_BYTES)) {
        throw new ObjectTooLargeError(end > MAX_OBJECT_SIZE_BYTES ? end : end + 1, { atLeast: true })
      }
      if (!isLast && partNumber >= MAX_PARTS) throw new TooManyPartsError(partNumber + 1, end, policy.description)
      const digests = digester.finish()
      const { sha256, checksum, md5 } = isThenable(digests) ? await digests : digests
      const part: Part = { partNumber, offset, chunks, byteLength: filled, sha256, checksum, md5, isLast }
      partNumber++
      offset = end
      if (isLast) finished = true
      return { done: false, value: part }
    } catch (error) {
      return fail(error)
    } finally {
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort)
      listening = false
      interruptRead = undefined
    }
  }

  const parts: AsyncIterableIterator<Part> = {
    next(): Promise<IteratorResult<Part>> {
      return enqueue(nextPart)
    },
    return(): Promise<IteratorResult<Part>> {
      return enqueue(async () => {
        finished = true
        held = undefined
        await closeSource()
        return DONE
      })
    },
    throw(error?: unknown): Promise<IteratorResult<Part>> {
      return enqueue(() => fail(error))
    },
    [Symbol.asyncIterator](): AsyncIterableIterator<Part> {
      return parts
    },
  }
  return parts
}
