import assert from 'node:assert/strict'
import { Buffer } from 'node:buffer'
import { Readable } from 'node:stream'
import { describe, test } from 'node:test'
import {
  adaptivePartSize,
  createCrc32,
  createCrc32c,
  createCrc64Nvme,
  createSha256,
  fixedPartSize,
  InvalidArgumentError,
  InvalidChunkError,
  MAX_OBJECT_SIZE_BYTES,
  MAX_PARTS,
  ObjectTooLargeError,
  PartstreamError,
  toParts,
  TooManyPartsError,
  type Hasher,
  type Part,
  type PartSizePolicy,
} from '../src/index.ts'
import {
  bytesOf,
  collect,
  deferred,
  fakeSignal,
  growableSharedBuffer,
  MiB,
  nodeSha256,
  pseudoRandomBytes,
  resizableBuffer,
  settle,
  sha256Of,
  tracked,
} from './helpers/sources.ts'

const FIVE = 5 * MiB
const SIX = 6 * MiB
const shared = pseudoRandomBytes(13 * MiB, 7)

function shape(part: Part): [number, number, number, boolean] {
  return [part.partNumber, part.offset, part.byteLength, part.isLast]
}

describe('toParts: edges', () => {
  for (const sync of [false, true]) {
    test(`empty ${sync ? 'sync' : 'async'} source → one empty last part with the empty hash`, async () => {
      const { source, stats } = tracked([], { sync })
      const parts = toParts(source)
      const first = await parts.next()
      assert.equal(first.done, false)
      const part = first.value as Part
      assert.deepEqual(shape(part), [1, 0, 0, true])
      assert.deepEqual(part.chunks, [])
      assert.deepEqual(part.sha256, sha256Of())
      assert.deepEqual(await parts.next(), { done: true, value: undefined })
      assert.equal(stats.returns, 0, 'a finished source is not closed again')
      assert.equal(stats.finallies, 1)
    })
  }

  test('a plain empty array and only-empty chunks behave like the empty source', async () => {
    for (const source of [[], [new Uint8Array(0), new Uint8Array(0)]]) {
      const parts = await collect(toParts(source, { hash: null }))
      assert.equal(parts.length, 1)
      assert.deepEqual(shape(parts[0]!), [1, 0, 0, true])
      assert.equal(parts[0]!.sha256, undefined)
    }
  })

  test('exactly one part size → one last part holding the chunk itself', async () => {
    const chunk = shared.subarray(0, SIX)
    const parts = await collect(toParts([chunk], { hash: nodeSha256, maxViewOverhead: Infinity }))
    assert.equal(parts.length, 1)
    assert.deepEqual(shape(parts[0]!), [1, 0, SIX, true])
    assert.equal(parts[0]!.chunks[0], chunk)
    assert.deepEqual(parts[0]!.sha256, sha256Of(chunk))
  })

  test('part size + 1 → a full part that is a view of the chunk, and a 1-byte last part', async () => {
    const chunk = shared.subarray(0, SIX + 1)
    const parts = await collect(toParts([chunk], { hash: nodeSha256, maxViewOverhead: Infinity }))
    assert.deepEqual(parts.map(shape), [
      [1, 0, SIX, false],
      [2, SIX, 1, true],
    ])
    for (const part of parts) {
      assert.equal(part.chunks.length, 1)
      assert.deepEqual(part.sha256, sha256Of(bytesOf(part)))
    }
    assert.equal(parts[0]!.chunks[0]!.buffer, shared.buffer)
    assert.equal(parts[0]!.chunks[0]!.byteOffset, 0)
    assert.deepEqual(bytesOf(parts[1]!), shared.subarray(SIX, SIX + 1)) // under SMALL_CHUNK_BYTES: gathered (copied)
  })

  test('part size − 1 → one short last part', async () => {
    const parts = await collect(toParts([shared.subarray(0, SIX - 1)], { hash: null }))
    assert.deepEqual(parts.map(shape), [[1, 0, SIX - 1, true]])
  })

  test('1-byte chunks across a part boundary', async () => {
    const chunks = [shared.subarray(0, FIVE - 3)]
    for (let i = 0; i < 10; i++) chunks.push(shared.subarray(FIVE - 3 + i, FIVE - 2 + i))
    const parts = await collect(toParts(chunks, { partSize: FIVE, hash: nodeSha256, maxViewOverhead: Infinity }))
    assert.deepEqual(parts.map(shape), [
      [1, 0, FIVE, false],
      [2, FIVE, 7, true],
    ])
    // The 1-byte chunks are gathered: one copy after the big view, then one for part 2.
    assert.equal(parts[0]!.chunks.length, 2)
    assert.equal(parts[0]!.chunks[0]!.buffer, shared.buffer)
    assert.equal(parts[1]!.chunks.length, 1)
    assert.deepEqual(bytesOf(parts[1]!), shared.subarray(FIVE, FIVE + 7))
    assert.deepEqual(parts[0]!.sha256, sha256Of(shared.subarray(0, FIVE)))
  })

  test('tiny chunks (a line, a byte) are gathered into 64 KiB blocks: a few views per part, the bytes and hash exact', async () => {
    // Kept one view each, 6 MiB of 1-byte chunks held 6 million objects (+4.7 GiB RSS, 27 s).
    for (const size of [1, 16, 1023]) {
      const total = SIX + 12345
      function* lines(): Generator<Uint8Array> {
        for (let at = 0; at < total; at += size) yield shared.subarray(at, Math.min(at + size, total))
      }
      const parts = await collect(toParts(lines(), { hash: nodeSha256 }))
      assert.deepEqual(parts.map(shape), [
        [1, 0, SIX, false],
        [2, SIX, 12345, true],
      ])
      assert.ok(parts[0]!.chunks.length <= Math.ceil(SIX / (64 * 1024)) + 1, `${size}-byte chunks: ${parts[0]!.chunks.length} views in part 1`)
      for (const part of parts) {
        assert.deepEqual(bytesOf(part), shared.subarray(part.offset, part.offset + part.byteLength))
        assert.deepEqual(part.sha256, sha256Of(bytesOf(part)))
      }
    }
    // A chunk of SMALL_CHUNK_BYTES or more is still a view, between gathered ones.
    const mixed = await collect(toParts([shared.subarray(0, 10), shared.subarray(10, 10 + 4096), shared.subarray(4106, 4110)], { hash: null, maxViewOverhead: Infinity }))
    assert.deepEqual(mixed[0]!.chunks.map((c) => [c.byteLength, c.buffer === shared.buffer]), [
      [10, false],
      [4096, true],
      [4, false],
    ])
  })

  test('a 100 MiB chunk becomes 17 parts of views into it, not copies', async () => {
    const big = new Uint8Array(100 * MiB)
    const { source, stats } = tracked([big])
    const parts = await collect(toParts(source, { hash: null }))
    assert.equal(parts.length, 17)
    for (const [i, part] of parts.entries()) {
      assert.deepEqual(shape(part), [i + 1, i * SIX, i === 16 ? 4 * MiB : SIX, i === 16])
      assert.equal(part.chunks.length, 1)
      assert.equal(part.chunks[0]!.buffer, big.buffer)
      assert.equal(part.chunks[0]!.byteOffset, part.offset)
    }
    assert.equal(stats.nexts, 2, 'one chunk and the end')
  })

  test('empty chunks anywhere are skipped, never held in a part', async () => {
    const empty = new Uint8Array(0)
    const a = shared.subarray(0, 3 * MiB)
    const b = shared.subarray(3 * MiB, 7 * MiB)
    const parts = await collect(toParts([empty, a, empty, empty, b, empty], { hash: null, maxViewOverhead: Infinity }))
    assert.deepEqual(parts.map(shape), [
      [1, 0, SIX, false],
      [2, SIX, MiB, true],
    ])
    for (const part of parts) for (const chunk of part.chunks) assert.ok(chunk.byteLength > 0)
  })

  test('Buffers are Uint8Arrays', async () => {
    const parts = await collect(toParts([Buffer.from('hello '), Buffer.from('world')], { hash: nodeSha256 }))
    assert.equal(parts.length, 1)
    assert.equal(Buffer.from(bytesOf(parts[0]!)).toString(), 'hello world')
    assert.deepEqual(parts[0]!.sha256, sha256Of(Buffer.from('hello world')))
  })

  test('the default hash is SHA-256 of each part', async () => {
    const data = shared.subarray(0, 7 * MiB)
    const parts = await collect(toParts([data.subarray(0, 1000), data.subarray(1000)], { maxViewOverhead: Infinity }))
    assert.deepEqual(parts[0]!.sha256, sha256Of(data.subarray(0, SIX)))
    assert.deepEqual(parts[1]!.sha256, sha256Of(data.subarray(SIX)))
  })

  test('an async digest is awaited', async () => {
    const asyncHash = (): Hasher => {
      const inner = nodeSha256()
      return { update: (d) => inner.update(d), digest: async () => inner.digest() }
    }
    const [part] = await collect(toParts([Buffer.from('abc')], { hash: asyncHash }))
    assert.deepEqual(part!.sha256, sha256Of(Buffer.from('abc')))
  })

  test('sync sources: arrays and generators', async () => {
    function* gen(): Generator<Uint8Array> {
      yield shared.subarray(0, 4 * MiB)
      yield shared.subarray(4 * MiB, 8 * MiB)
    }
    const parts = await collect(toParts(gen(), { hash: null }))
    assert.deepEqual(parts.map(shape), [
      [1, 0, SIX, false],
      [2, SIX, 2 * MiB, true],
    ])
  })

  test('startPartNumber and startOffset number the parts', async () => {
    const parts = await collect(toParts([shared.subarray(0, 7 * MiB)], { hash: null, startPartNumber: 5, startOffset: 1000 }))
    assert.deepEqual(parts.map(shape), [
      [5, 1000, SIX, false],
      [6, 1000 + SIX, MiB, true],
    ])
  })

  test('sizeHint sizes the parts when partSize is not given', async () => {
    const parts = await collect(toParts([shared.subarray(0, 12 * MiB)], { hash: null, sizeHint: 100 * 1024 ** 3 }))
    assert.deepEqual(parts.map((p) => p.byteLength), [11 * MiB, MiB])
  })

  test('a policy with growing sizes: every non-last part is exactly sizeOf(partNumber)', async () => {
    const policy = adaptivePartSize({ initial: FIVE, growEvery: 2, factor: 2, max: 2 * FIVE })
    const data = [shared, shared, shared, shared].map((b) => b.subarray(0, 9 * MiB))
    const parts = await collect(toParts(data, { partSize: policy, hash: null }))
    assert.deepEqual(
      parts.map((p) => p.byteLength),
      [FIVE, FIVE, 2 * FIVE, 2 * FIVE, 36 * MiB - 30 * MiB],
    )
  })
})

describe('toParts: invalid chunks', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['string', 'text', /got a string of length 4/],
    ['number', 42, /got `42` \(number\)/],
    ['ArrayBuffer', new ArrayBuffer(8), /got an instance of ArrayBuffer/],
    ['null', null, /got null/],
    ['undefined', undefined, /got undefined/],
    ['DataView', new DataView(new ArrayBuffer(8)), /got an instance of DataView/],
    ['Uint16Array', new Uint16Array(4), /got an instance of Uint16Array/],
    ['array of bytes', [1, 2, 3], /got an instance of Array/],
  ]
  for (const sync of [false, true]) {
    for (const [name, value, message] of cases) {
      test(`${name} (${sync ? 'sync' : 'async'}) → InvalidChunkError naming index 2, source closed`, async () => {
        const { source, stats } = tracked([Buffer.from('ok'), new Uint8Array(0), value, Buffer.from('never read')], { sync })
        const parts = toParts(source)
        await assert.rejects(parts.next(), (error: unknown) => {
          assert.ok(error instanceof InvalidChunkError)
          assert.equal(error.code, 'ERR_PARTSTREAM_INVALID_CHUNK')
          assert.equal(error.chunkIndex, 2)
          assert.match(error.message, /chunk 2/)
          assert.match(error.message, message)
          return true
        })
        assert.equal(stats.returns, 1)
        assert.equal(stats.finallies, 1)
        assert.equal(stats.yielded, 3, 'nothing read after the bad chunk')
        assert.deepEqual(await parts.next(), { done: true, value: undefined })
        await parts.return!()
        assert.equal(stats.returns, 1, 'closed exactly once')
      })
    }
  }
})

describe('toParts: closing the source', () => {
  test('break out of for await → the source finally runs exactly once', async () => {
    const { source, stats } = tracked([shared.subarray(0, SIX), shared.subarray(0, SIX), shared.subarray(0, SIX)])
    const parts = toParts(source, { hash: null })
    for await (const part of parts) {
      assert.equal(part.partNumber, 1)
      break
    }
    assert.equal(stats.returns, 1)
    assert.equal(stats.finallies, 1)
    await parts.return!()
    assert.deepEqual(await parts.next(), { done: true, value: undefined })
    assert.equal(stats.returns, 1)
  })

  test('return() before the first next() still closes the source', async () => {
    const { source, stats } = tracked([Buffer.from('x')])
    const parts = toParts(source)
    assert.deepEqual(await parts.return!(), { done: true, value: undefined })
    assert.equal(stats.returns, 1)
    assert.equal(stats.nexts, 0)
  })

  test('a Node Readable closed before it was read is destroyed (its iterator return() alone leaves it open)', async () => {
    for (const close of ['return()', 'options error'] as const) {
      const readable = new Readable({ read() {} })
      const closed = new Promise<void>((resolve) => readable.once('close', resolve))
      if (close === 'return()') await toParts(readable).return!()
      else assert.throws(() => toParts(readable, { partSize: 1024 }), InvalidArgumentError)
      assert.equal(readable.destroyed, true, `destroyed after ${close}`)
      await closed
    }
  })

  test('closeGraceMs: a return() that never settles cannot hang next() or return()', async () => {
    let returns = 0
    const stuck = (values: unknown[]) =>
      ({
        [Symbol.asyncIterator]() {
          return this
        },
        next: async () => (values.length > 0 ? { done: false, value: values.shift() } : { done: true, value: undefined }),
        return: () => {
          returns++
          return new Promise(() => {})
        },
      }) as unknown as AsyncIterable<Uint8Array>
    // An error raised here: next() rejects with it once the grace is over.
    await assert.rejects(toParts(stuck([Buffer.from('ok'), 'not bytes']), { closeGraceMs: 5 }).next(), InvalidChunkError)
    // A consumer return(): it resolves once the grace is over.
    const parts = toParts(stuck([Buffer.from('ok')]), { closeGraceMs: 0 })
    assert.deepEqual(await parts.return!(), { done: true, value: undefined })
    assert.equal(returns, 2)
  })

  test('closeGraceMs: a return() that settles in time is awaited; invalid values are refused', async () => {
    const { source, stats } = tracked([Buffer.from('x'), 'not bytes'])
    await assert.rejects(toParts(source, { closeGraceMs: 60_000 }).next(), InvalidChunkError)
    assert.equal(stats.finallies, 1, 'awaited: the finally ran before the rejection')
    for (const closeGraceMs of [-1, 1.5, 2 ** 31, Number.NaN, '5']) {
      assert.throws(() => toParts([], { closeGraceMs: closeGraceMs as number }), InvalidArgumentError)
    }
  })

  test('throw(error) closes the source and rejects with that error', async () => {
    const { source, stats } = tracked([shared.subarray(0, SIX), shared.subarray(0, SIX)])
    const parts = toParts(source, { hash: null })
    await parts.next()
    const error = new Error('consumer failed')
    await assert.rejects(parts.throw!(error), (e) => e === error)
    assert.equal(stats.returns, 1)
    assert.equal(stats.finallies, 1)
  })

  test('an options error closes the source: once toParts is called it owns the source', () => {
    const { source, stats } = tracked([Buffer.from('x')])
    assert.throws(() => toParts(source, { partSize: 1024 }), InvalidArgumentError)
    assert.equal(stats.returns, 1)
  })

  test('an error thrown by the source is passed through; the source is not closed again', async () => {
    const boom = new Error('disk on fire')
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('a')
      throw boom
    }
    const { source, stats } = tracked(failing())
    await assert.rejects(toParts(source).next(), (e) => e === boom)
    assert.equal(stats.returns, 0)
    assert.equal(stats.finallies, 1)
  })

  test('a failing return() does not mask the original error', async () => {
    let returns = 0
    const source = {
      [Symbol.iterator]() {
        return this
      },
      next: () => ({ done: false, value: 'not bytes' }),
      return(): IteratorResult<unknown> {
        returns++
        throw new Error('return failed')
      },
    } as unknown as Iterable<Uint8Array>
    await assert.rejects(toParts(source).next(), InvalidChunkError)
    assert.equal(returns, 1)
  })

  test('a failing return() on a consumer return() is reported', async () => {
    const closeError = new Error('return failed')
    const source = {
      [Symbol.asyncIterator]() {
        return this
      },
      next: async () => ({ done: false, value: new Uint8Array(SIX + 1) }),
      return: async () => {
        throw closeError
      },
    } as unknown as AsyncIterable<Uint8Array>
    const parts = toParts(source, { hash: null })
    await parts.next()
    await assert.rejects(parts.return!(), (e) => e === closeError)
  })
})

describe('toParts: abort', () => {
  test('aborted before start → next() rejects with signal.reason, source closed, no listener', async () => {
    const signal = fakeSignal()
    const reason = new Error('stop')
    signal.abort(reason)
    const { source, stats } = tracked([Buffer.from('x')])
    const parts = toParts(source, { signal })
    await assert.rejects(parts.next(), (e) => e === reason)
    assert.equal(stats.nexts, 0)
    assert.equal(stats.returns, 1)
    assert.equal(signal.listenerCount, 0)
  })

  test('aborted between parts', async () => {
    const signal = fakeSignal()
    const reason = { custom: 'reason object' }
    const { source, stats } = tracked([shared.subarray(0, SIX), shared.subarray(0, SIX), shared.subarray(0, SIX)])
    const parts = toParts(source, { signal, hash: null })
    assert.equal((await parts.next()).value?.partNumber, 1)
    assert.equal(signal.listenerCount, 0, 'no listener between next() calls')
    signal.abort(reason)
    await assert.rejects(parts.next(), (e) => e === reason)
    assert.equal(stats.returns, 1)
    assert.equal(stats.finallies, 1)
    assert.equal(signal.listenerCount, 0)
  })

  test('aborted while a read is stalled → rejects at once; the source finally runs when the read settles', async () => {
    const signal = fakeSignal()
    const reason = new Error('user cancelled')
    const gate = deferred()
    async function* stalling(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('first')
      await gate.promise
      yield Buffer.from('second')
    }
    const { source, stats } = tracked(stalling())
    const parts = toParts(source, { signal })
    const pending = parts.next()
    await settle()
    assert.equal(signal.listenerCount, 1, 'listening while next() runs')
    signal.abort(reason)
    await assert.rejects(pending, (e) => e === reason)
    assert.equal(signal.listenerCount, 0)
    assert.equal(stats.returns, 1)
    assert.equal(stats.finallies, 0, 'still inside the stalled read')
    gate.resolve()
    await settle()
    assert.equal(stats.finallies, 1)
    assert.deepEqual(await parts.next(), { done: true, value: undefined })
  })

  /** The runtime's own ReadableStream as a source (TypeScript's DOM types do not call it async iterable). */
  const webStream = (stream: ReadableStream<unknown>): AsyncIterable<Uint8Array> => stream as unknown as AsyncIterable<Uint8Array>

  test('a ReadableStream whose producer is idle is cancelled and unlocked by an abort', async () => {
    // Its own async iterator's return() would wait behind the pending read forever.
    let cancels = 0
    let pulls = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulls++ === 0) controller.enqueue(new Uint8Array(3))
        else return new Promise<void>(() => {}) // a stalled HTTP body
      },
      cancel() {
        cancels++
      },
    })
    const controller = new AbortController()
    const parts = toParts(webStream(stream), { signal: controller.signal, hash: null })
    const pending = parts.next()
    await settle()
    controller.abort()
    await assert.rejects(pending, (e) => e === controller.signal.reason)
    await settle()
    assert.equal(cancels, 1, 'the underlying source was cancelled')
    assert.equal(stream.locked, false)
  })

  test('a ReadableStream is cancelled when a later chunk is invalid, and a locked one is refused up front', async () => {
    let cancelled = false
    const stream = new ReadableStream<unknown>({
      start(controller) {
        controller.enqueue(new Uint8Array(3))
        controller.enqueue('text')
      },
      cancel() {
        cancelled = true
      },
    })
    await assert.rejects(toParts(webStream(stream), { hash: null }).next(), InvalidChunkError)
    assert.equal(cancelled, true)
    assert.equal(stream.locked, false)
    const locked = new ReadableStream<Uint8Array>()
    locked.getReader()
    assert.throws(() => toParts(webStream(locked)), (e) => e instanceof InvalidArgumentError && /locked/.test(e.message))
  })

  test('a ReadableStream read to its end gives its bytes and is unlocked', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(Buffer.alloc(MiB + i, i))
        controller.close()
      },
    })
    const parts = await collect(toParts(webStream(stream), { hash: null }))
    assert.equal(parts.length, 1)
    assert.equal(parts[0]!.byteLength, 5 * MiB + 10)
    assert.equal(stream.locked, false)
  })

  test('a ReadableStream without Symbol.asyncIterator (as the DOM lib types it, or a polyfill) is read through getReader()', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array([1, 2]))
        controller.enqueue(new Uint8Array([3]))
        controller.close()
      },
    })
    Object.defineProperty(stream, Symbol.asyncIterator, { value: undefined })
    const parts = await collect(toParts(stream, { hash: null }))
    assert.deepEqual(parts.map((p) => p.chunks.flatMap((c) => [...c])), [[1, 2, 3]])
    assert.equal(stream.locked, false)
  })

  test('with a signal, a part of a million 1-byte chunks holds nothing per read (the heap stays flat)', async () => {
    // Each read was raced against one promise per next(): a reaction per read stayed on it until
    // the part was done (1-byte chunks: +3.6 GiB for one 6 MiB part; +361 MiB for these 1 MiB).
    const controller = new AbortController()
    const count = MiB
    let peak = 0
    const base = process.memoryUsage().heapUsed
    async function* bytes(): AsyncGenerator<Uint8Array> {
      const one = new Uint8Array(1)
      for (let i = 0; i < count; i++) {
        if (i % 65536 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - base)
        yield one
      }
    }
    const parts = await collect(toParts(bytes(), { signal: controller.signal, hash: null }))
    assert.equal(parts[0]!.byteLength, count)
    // heapUsed counts garbage not yet collected too: Node 26 showed 121 MiB of it once (CI), the
    // bug 361; 200 tells them apart.
    assert.ok(peak < 200 * MiB, `heap grew ${Math.round(peak / MiB)} MiB within the part`)
  })

  test('a real AbortController: rejects with its reason unchanged', async () => {
    const controller = new AbortController()
    const parts = toParts([shared.subarray(0, SIX + 1)], { signal: controller.signal, hash: null })
    await parts.next()
    controller.abort()
    await assert.rejects(parts.next(), (e) => e === controller.signal.reason)
  })

  test('an aborted signal never makes toParts throw synchronously', () => {
    const controller = new AbortController()
    controller.abort()
    assert.doesNotThrow(() => toParts([], { signal: controller.signal }))
  })
})

describe('toParts: pulling', () => {
  test('concurrent next() calls are serialized: the source is never pulled concurrently', async () => {
    async function* slow(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 4; i++) {
        await settle()
        yield shared.subarray(0, FIVE)
      }
    }
    const { source, stats } = tracked(slow())
    const parts = toParts(source, { partSize: FIVE, hash: null })
    const results = await Promise.all([parts.next(), parts.next(), parts.next(), parts.next(), parts.next()])
    assert.equal(stats.maxInFlight, 1)
    assert.deepEqual(
      results.map((r) => (r.done === true ? 'done' : r.value.partNumber)),
      [1, 2, 3, 4, 'done'],
    )
    assert.equal(results[3]!.value?.isLast, true)
  })

  test('reads only inside next(), and at most one chunk past the part it returns', async () => {
    const chunk = 64 * 1024
    const total = 3 * FIVE + FIVE / 2
    const chunks: Uint8Array[] = []
    for (let at = 0; at < total; at += chunk) chunks.push(shared.subarray(at, Math.min(total, at + chunk)))
    const { source, stats } = tracked(chunks)
    const parts = toParts(source, { partSize: FIVE, hash: null, maxViewOverhead: Infinity })
    await settle()
    assert.equal(stats.nexts, 0, 'nothing read before the first next()')
    for (;;) {
      const result = await parts.next()
      if (result.done === true) break
      const part = result.value
      const end = part.offset + part.byteLength
      const pulled: number = stats.nexts
      if (part.isLast) {
        assert.equal(stats.bytesYielded, end)
      } else {
        assert.ok(stats.bytesYielded > end, 'looked ahead to know it is not last')
        assert.ok(stats.bytesYielded - end <= chunk, 'at most one chunk ahead')
      }
      await settle()
      assert.equal(stats.nexts, pulled, 'no read while the consumer holds the part')
    }
  })
})

describe('toParts: maxViewOverhead', () => {
  const parent = new Uint8Array(16 * MiB)

  async function held(chunk: Uint8Array, options: { maxViewOverhead?: number; partSize?: number } = {}): Promise<Uint8Array> {
    const [part] = await collect(toParts([chunk], { hash: null, ...options }))
    assert.equal(part!.chunks.length, 1)
    const plain = (b: Uint8Array): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength) // a Buffer compares as a Uint8Array
    assert.deepEqual(plain(part!.chunks[0]!), plain(chunk))
    return part!.chunks[0]!
  }

  async function held1(chunk: Uint8Array, options: { maxViewOverhead?: number } = {}): Promise<Uint8Array> {
    const [part] = await collect(toParts([chunk], { hash: null, ...options }))
    return part!.chunks[0]!
  }

  test('a short view of a big buffer is copied', async () => {
    const kept = await held(parent.subarray(100, 1124))
    assert.notEqual(kept.buffer, parent.buffer)
    assert.equal(kept.buffer.byteLength, 1024)
  })

  test('a short Buffer view of a big Buffer is copied too (Buffer#slice would return another view)', async () => {
    // A Node stream yields Buffers: the copy must own its bytes, not pin the 16 MiB behind them.
    const big = Buffer.alloc(16 * MiB, 7)
    const kept = await held(big.subarray(100, 1124))
    assert.notEqual(kept.buffer, big.buffer)
    assert.equal(kept.buffer.byteLength, 1024, 'the retained backing store is the 1 KiB copy')
    big[100] = 8
    assert.equal(kept[0], 7, 'a copy, not a view')
  })

  test('Infinity never copies', async () => {
    assert.equal((await held(parent.subarray(100, 1124), { maxViewOverhead: Infinity })).buffer, parent.buffer)
  })

  test('the threshold is exclusive: overhead == maxViewOverhead is kept, one byte more is copied', async () => {
    // A view of at least a gather block (64 KiB), which the relative rule leaves alone.
    const buffer = new Uint8Array(65536 + 70_000)
    assert.equal((await held(buffer.subarray(0, 70_000))).buffer, buffer.buffer)
    assert.notEqual((await held(buffer.subarray(0, 69_999))).buffer, buffer.buffer)
  })

  test('a view under 64 KiB that is less than half its buffer is copied, whatever maxViewOverhead says (short reads as views of 64 KiB buffers held 43x their bytes)', async () => {
    // Deno's sockets and stdin: each read a view of a fresh 64 KiB buffer.
    const reads = Array.from({ length: 200 }, () => new Uint8Array(65536).subarray(0, 1500))
    const [part] = await collect(toParts(reads, { hash: null }))
    let held = 0
    for (const buffer of new Set(part!.chunks.map((c) => c.buffer))) held += buffer.byteLength
    assert.ok(held <= 2 * part!.byteLength, `${held} bytes of buffers held for ${part!.byteLength} bytes`)
    // Half its buffer or more: a view, as before.
    assert.equal((await held1(new Uint8Array(4096).subarray(0, 2048))).byteLength, 2048)
    const half = new Uint8Array(4096)
    assert.equal((await held1(half.subarray(0, 2048))).buffer, half.buffer)
    // Infinity: never.
    const wide = new Uint8Array(65536)
    assert.equal((await held1(wide.subarray(0, 1500), { maxViewOverhead: Infinity })).buffer, wide.buffer)
  })

  test('0 copies every partial view', async () => {
    const buffer = new Uint8Array(4096)
    assert.notEqual((await held(buffer.subarray(1), { maxViewOverhead: 0 })).buffer, buffer.buffer)
    assert.equal((await held(buffer, { maxViewOverhead: 0 })).buffer, buffer.buffer)
  })

  test('a chunk at least one part long is copied too when its buffer is much larger: each part in flight would pin one', async () => {
    // Each chunk a 6 MiB view of its own 64 MiB buffer: five parts in flight held 5 × 64 MiB
    // (measured 384 MiB live where the bound says 158), since such chunks were never copied.
    const views = Array.from({ length: 3 }, () => new Uint8Array(64 * MiB).subarray(MiB, MiB + SIX))
    const parts = await collect(toParts(views, { hash: null }))
    assert.equal(parts.length, 3)
    for (const part of parts) for (const chunk of part.chunks) assert.ok(chunk.buffer.byteLength <= SIX, `a ${chunk.buffer.byteLength}-byte buffer held for a ${chunk.byteLength}-byte chunk`)
    // Longer than a part: copied once, then split into views of the copy (the 4 KiB left past
    // the boundary, less than half of that copy, is gathered: part 2 does not pin it).
    const longer = parent.subarray(0, SIX + 4096)
    const split = await collect(toParts([longer], { hash: null }))
    assert.equal(split[0]!.chunks[0]!.buffer.byteLength, SIX + 4096)
    assert.ok(split[1]!.chunks[0]!.buffer.byteLength <= 64 * 1024, 'a gather block, not the 6 MiB copy')
  })

  test('a chunk that is its whole buffer is never copied, however long; a short piece of it left past a part boundary is', async () => {
    const whole = new Uint8Array(SIX + 4096)
    const parts = await collect(toParts([whole], { hash: null }))
    assert.equal(parts[0]!.chunks[0]!.buffer, whole.buffer)
    assert.notEqual(parts[1]!.chunks[0]!.buffer, whole.buffer, 'part 2 does not keep the 6 MiB buffer for its 4 KiB')
    const even = new Uint8Array(2 * SIX - 4096)
    for (const part of await collect(toParts([even], { hash: null }))) assert.equal(part.chunks[0]!.buffer, even.buffer, 'a piece of at least a block stays a view')
  })
})

describe('toParts: S3 limits', () => {
  const part = new Uint8Array(FIVE)

  function* repeat(count: number, tail?: Uint8Array): Generator<Uint8Array> {
    for (let i = 0; i < count; i++) yield part
    if (tail !== undefined) yield tail
  }

  test('exactly 10,000 parts is fine: part 10,000 is last', async () => {
    let last: Part | undefined
    let count = 0
    for await (const p of toParts(repeat(MAX_PARTS), { partSize: FIVE, hash: null })) {
      count++
      last = p
    }
    assert.equal(count, MAX_PARTS)
    assert.deepEqual(shape(last!), [MAX_PARTS, (MAX_PARTS - 1) * FIVE, FIVE, true])
  })

  test('one byte more → TooManyPartsError instead of part 10,000; nothing past the limit is produced', async () => {
    const { source, stats } = tracked(repeat(MAX_PARTS, new Uint8Array(1)), { sync: true })
    const parts = toParts(source, { partSize: FIVE, hash: null })
    for (let n = 1; n < MAX_PARTS; n++) assert.equal((await parts.next()).value?.partNumber, n)
    await assert.rejects(parts.next(), (error: unknown) => {
      assert.ok(error instanceof TooManyPartsError)
      assert.equal(error.code, 'ERR_PARTSTREAM_TOO_MANY_PARTS')
      assert.equal(error.partNumber, MAX_PARTS + 1)
      assert.equal(error.bytesSoFar, MAX_PARTS * FIVE)
      assert.match(error.message, /fixed 5 MiB parts/)
      assert.match(error.message, /adaptivePartSize/)
      return true
    })
    assert.equal(stats.returns, 1)
    assert.equal(stats.finallies, 1)
  })

  test('startPartNumber counts towards the limit', async () => {
    const parts = toParts(repeat(3), { partSize: FIVE, hash: null, startPartNumber: MAX_PARTS - 1 })
    assert.equal((await parts.next()).value?.partNumber, MAX_PARTS - 1)
    await assert.rejects(parts.next(), TooManyPartsError)
  })

  test('a part ending exactly at 5 TiB is fine; one byte past it → ObjectTooLargeError', async () => {
    const startOffset = MAX_OBJECT_SIZE_BYTES - FIVE
    const ok = await collect(toParts([part], { partSize: FIVE, hash: null, startOffset }))
    assert.deepEqual(shape(ok[0]!), [1, startOffset, FIVE, true])
    const { source, stats } = tracked([part, new Uint8Array(1)])
    await assert.rejects(toParts(source, { partSize: FIVE, hash: null, startOffset }).next(), (error: unknown) => {
      assert.ok(error instanceof ObjectTooLargeError)
      assert.equal(error.code, 'ERR_PARTSTREAM_OBJECT_TOO_LARGE')
      assert.equal(error.byteLength, MAX_OBJECT_SIZE_BYTES + 1)
      return true
    })
    assert.equal(stats.returns, 1)
    await assert.rejects(toParts([new Uint8Array(SIX)], { hash: null, startOffset }).next(), ObjectTooLargeError)
  })
})

describe('toParts: part-size policies', () => {
  test('a custom policy is used, each size checked before a part is produced', async () => {
    const policy: PartSizePolicy = { description: 'alternating', maxPartSize: SIX, sizeOf: (n) => (n % 2 === 1 ? FIVE : SIX) }
    const parts = await collect(toParts([shared.subarray(0, 13 * MiB)], { partSize: policy, hash: null }))
    assert.deepEqual(
      parts.map((p) => p.byteLength),
      [FIVE, SIX, 2 * MiB],
    )
  })

  // It used to be found at that part: from upload(), after CreateMultipartUpload (then aborted).
  test('a custom policy returning an invalid size for any part number → InvalidArgumentError at the call, source closed', () => {
    for (const [policy, message] of [
      [{ description: 'tiny', maxPartSize: FIVE, sizeOf: (n: number) => (n === 1 ? FIVE : 1024) }, /^Expected `partSize.sizeOf\(2\)` of the policy "tiny" to return an integer from 5 MiB/],
      [{ description: 'late', maxPartSize: SIX, sizeOf: (n: number) => (n < 9000 ? FIVE : SIX + 1) }, /`partSize.sizeOf\(9000\)` of the policy "late"/],
      [
        {
          description: 'throws',
          maxPartSize: FIVE,
          sizeOf: (n: number) => {
            if (n > 100) throw new RangeError('only 100 parts')
            return FIVE
          },
        },
        /^`partSize.sizeOf\(101\)` of the policy "throws" threw: only 100 parts$/,
      ],
    ] as const) {
      const { source, stats } = tracked([shared.subarray(0, 12 * MiB)])
      assert.throws(
        () => toParts(source, { partSize: policy as PartSizePolicy, hash: null }),
        (error: unknown) => error instanceof InvalidArgumentError && message.test(error.message),
      )
      assert.equal(stats.returns, 1)
    }
  })
})

describe('toParts: validation at the call', () => {
  const bad: Array<[string, unknown, RegExp]> = [
    ['partSize too small', { partSize: 1024 }, /^Expected `partSize` to be an integer from 5 MiB \(5242880\) to 5 GiB \(5368709120\), got `1024` \(number\)\. S3 rejects/],
    ['partSize too big', { partSize: 5 * 1024 ** 3 + 1 }, /got `5368709121` \(number\)\. S3 rejects larger parts/],
    ['partSize not an integer', { partSize: SIX + 0.5 }, /`partSize`.*got `6291456\.5`/],
    ['partSize a string', { partSize: '6MiB' }, /`partSize`.*or a PartSizePolicy.*got a string of length 4/],
    ['partSize a bad policy', { partSize: { sizeOf: () => SIX } }, /PartSizePolicy/],
    ['custom policy maxPartSize', { partSize: { description: 'x', sizeOf: () => SIX, maxPartSize: 1 } }, /`partSize.maxPartSize`/],
    ['sizeHint negative', { sizeHint: -1 }, /`sizeHint`.*got `-1`/],
    ['sizeHint fractional', { sizeHint: 1.5 }, /`sizeHint`/],
    ['sizeHint beyond partSize', { partSize: FIVE, sizeHint: 60 * 1024 ** 3 }, /`sizeHint`.*fit in 10000 parts of fixed 5 MiB parts/],
    ['hash', { hash: 'sha256' }, /`hash`/],
    ['signal', { signal: {} }, /`signal`/],
    ['maxViewOverhead', { maxViewOverhead: -1 }, /`maxViewOverhead`.*`Infinity` never copies/],
    ['startPartNumber 0', { startPartNumber: 0 }, /`startPartNumber` to be an integer from 1 to 10000, got `0`/],
    ['startPartNumber 10,001', { startPartNumber: 10_001 }, /`startPartNumber`/],
    ['startOffset', { startOffset: -5 }, /`startOffset`/],
    ['options', null, /`options` to be an object, got null/],
  ]
  for (const [name, options, message] of bad) {
    test(`${name} → InvalidArgumentError, source closed`, () => {
      const { source, stats } = tracked([])
      assert.throws(
        () => toParts(source, options as never),
        (error: unknown) => {
          assert.ok(error instanceof InvalidArgumentError)
          assert.ok(error instanceof PartstreamError)
          assert.equal(error.code, 'ERR_PARTSTREAM_INVALID_ARGUMENT')
          assert.match(error.message, message)
          return true
        },
      )
      assert.equal(stats.returns, 1)
    })
  }

  test('sizeHint over 5 TiB → ObjectTooLargeError', () => {
    assert.throws(() => toParts([], { sizeHint: MAX_OBJECT_SIZE_BYTES + 1 }), ObjectTooLargeError)
    assert.throws(() => toParts([], { partSize: fixedPartSize(), sizeHint: MAX_OBJECT_SIZE_BYTES + 1 }), ObjectTooLargeError)
  })

  test('sources that are not iterables of chunks are rejected with a hint', () => {
    assert.throws(() => toParts(new Uint8Array(4) as never), /bufferParts\(bytes\)/)
    assert.throws(() => toParts(Buffer.from('x') as never), /bufferParts\(bytes\)/)
    assert.throws(() => toParts('text' as never), /TextEncoder/)
    assert.throws(() => toParts(42 as never), /`source`.*got `42` \(number\)/)
    assert.throws(() => toParts({} as never), InvalidArgumentError)
    assert.throws(() => toParts(new Blob(['x']) as never), /got an instance of Blob\. For a Blob or File, pass blob\.stream\(\)/)
  })

  test('the iterator is its own async iterable', () => {
    const parts = toParts([])
    assert.equal(parts[Symbol.asyncIterator](), parts)
  })
})

/** A hand-written iterator (not a generator) whose results are given by `results`, counting return() calls. */
function handWritten(results: readonly unknown[], options: { async: boolean; plain: boolean }): { source: object; returns: () => number } {
  let i = 0
  let returns = 0
  const wrap = (value: unknown): unknown => (options.plain ? value : Promise.resolve(value))
  const iterator = {
    next: () => wrap(i < results.length ? results[i++] : { done: true, value: undefined }),
    return: () => {
      returns++
      return wrap({ done: true, value: undefined })
    },
  }
  const key = options.async ? Symbol.asyncIterator : Symbol.iterator
  return { source: { [key]: () => iterator }, returns: () => returns }
}

describe('toParts: the iterator protocol, as for await follows it', () => {
  for (const signal of [undefined, new AbortController().signal]) {
    test(`an async iterator whose next() returns the result itself, not a promise (${signal === undefined ? 'no signal' : 'with a signal'})`, async () => {
      const { source, returns } = handWritten(
        [
          { done: false, value: new Uint8Array([1, 2]) },
          { done: false, value: new Uint8Array([3]) },
        ],
        { async: true, plain: true },
      )
      const parts = await collect(toParts(source as AsyncIterable<Uint8Array>, { signal, hash: null }))
      assert.deepEqual(parts.map((p) => [...bytesOf(p)]), [[1, 2, 3]])
      assert.equal(returns(), 0, 'an ended source is not closed')
    })

    test(`such an iterator is closed (its plain return() too) on an invalid chunk (${signal === undefined ? 'no signal' : 'with a signal'})`, async () => {
      const { source, returns } = handWritten([{ done: false, value: 'text' }], { async: true, plain: true })
      await assert.rejects(collect(toParts(source as AsyncIterable<Uint8Array>, { signal })), InvalidChunkError)
      assert.equal(returns(), 1)
    })
  }

  for (const async of [false, true]) {
    for (const done of [1, 'yes', {}]) {
      test(`a truthy done (${JSON.stringify(done)}) ends the ${async ? 'async' : 'sync'} source, as for await reads it`, async () => {
        const { source, returns } = handWritten(
          [
            { done: false, value: new Uint8Array([1, 2, 3]) },
            { done, value: undefined },
            { done: false, value: 'never read' },
          ],
          { async, plain: !async },
        )
        const parts = await collect(toParts(source as AsyncIterable<Uint8Array>, { hash: null, signal: new AbortController().signal }))
        assert.deepEqual(parts.map((p) => p.byteLength), [3])
        assert.equal(returns(), 0)
      })
    }
    test(`a falsy done (0, '', absent) is a chunk (${async ? 'async' : 'sync'})`, async () => {
      const { source } = handWritten(
        [
          { done: 0, value: new Uint8Array([1]) },
          { done: '', value: new Uint8Array([2]) },
          { value: new Uint8Array([3]) },
        ],
        { async, plain: !async },
      )
      const parts = await collect(toParts(source as AsyncIterable<Uint8Array>, { hash: null }))
      assert.deepEqual(parts.map((p) => [...bytesOf(p)]), [[1, 2, 3]])
    })

    for (const [name, result] of [
      ['null', null],
      ['undefined', undefined],
      ['a number', 42],
      ['a string', 'chunk'],
    ] as const) {
      test(`next() giving ${name} instead of a result object (${async ? 'async' : 'sync'}) → InvalidChunkError naming the iterator result, source closed`, async () => {
        const { source, returns } = handWritten([{ done: false, value: new Uint8Array([1]) }, result], { async, plain: !async })
        await assert.rejects(collect(toParts(source as AsyncIterable<Uint8Array>, { signal: new AbortController().signal })), (error: unknown) => {
          assert.ok(error instanceof InvalidChunkError, String(error))
          assert.equal(error.chunkIndex, 1)
          assert.match(error.message, /next\(\)` to give an iterator result \{ done, value \} for chunk 1/)
          return true
        })
        assert.equal(returns(), 1)
      })
    }
  }

  test('an iterable whose iterator method does not return an iterator → InvalidArgumentError at the call', () => {
    for (const source of [
      { [Symbol.asyncIterator]: () => undefined },
      { [Symbol.asyncIterator]: () => ({}) },
      { [Symbol.iterator]: () => 42 },
      { [Symbol.iterator]: () => ({ next: 'no' }) },
    ]) {
      assert.throws(
        () => toParts(source as never),
        (error: unknown) => error instanceof InvalidArgumentError && /to return an iterator \(an object with a next\(\) method\)/.test(error.message),
      )
    }
  })
})

describe('toParts: chunks whose bytes are gone when yielded', () => {
  /** A view detached by a transfer, as `postMessage(chunk, [chunk.buffer])` leaves it. */
  function detached(length: number): Uint8Array {
    const chunk = new Uint8Array(length).fill(1)
    structuredClone(chunk.buffer, { transfer: [chunk.buffer] })
    return chunk
  }
  /** A view beyond the end of its resizable buffer, once the buffer shrank. */
  function outOfBounds(): Uint8Array {
    const buffer = resizableBuffer(1024, 2048)
    const view = new Uint8Array(buffer, 512, 512)
    buffer.resize(256)
    return view
  }

  for (const sync of [false, true]) {
    for (const [name, make, message] of [
      ['detached (its ArrayBuffer transferred)', () => detached(4096), /got a Uint8Array whose ArrayBuffer was detached/],
      ['detached, a short one', () => detached(3), /got a Uint8Array whose ArrayBuffer was detached/],
      ['out of the bounds of its shrunk resizable buffer', outOfBounds, /got a Uint8Array out of the bounds of its resizable ArrayBuffer/],
    ] as const) {
      test(`a chunk ${name} when yielded → InvalidChunkError, not skipped as empty (${sync ? 'sync' : 'async'})`, async () => {
        const { source, stats } = tracked([Buffer.from('ok'), make(), Buffer.from('never read')], { sync })
        await assert.rejects(collect(toParts(source)), (error: unknown) => {
          assert.ok(error instanceof InvalidChunkError, String(error))
          assert.equal(error.chunkIndex, 1)
          assert.match(error.message, message)
          assert.match(error.message, /must not transfer/)
          return true
        })
        assert.equal(stats.returns, 1)
      })
    }
  }

  test('empty chunks that are not detached are still skipped: of a 0-byte buffer, of a resizable one, at the end of a buffer', async () => {
    const resizable = resizableBuffer(8, 16)
    const chunks = [new Uint8Array(0), new Uint8Array(new ArrayBuffer(0)), new Uint8Array(resizable, 8, 0), new Uint8Array(resizable, 4, 0), new Uint8Array(8).subarray(8), Buffer.alloc(0), new Uint8Array([7])]
    const parts = await collect(toParts(chunks, { hash: null }))
    assert.deepEqual(parts.map((p) => [...bytesOf(p)]), [[7]])
  })
})

describe('toParts: chunks of a resizable buffer', () => {
  /** Chunks from this length on are kept as views (shorter ones are copied into the part). */
  const SMALL_CHUNK_BYTES = 1024
  test('a length-tracking view is kept at its length when yielded: the buffer growing or shrinking later does not change the part', async () => {
    const buffer = resizableBuffer(SMALL_CHUNK_BYTES * 4, SMALL_CHUNK_BYTES * 16)
    const tracking = new Uint8Array(buffer).fill(3)
    const parts = toParts([tracking], { hash: null })
    const { value: part } = (await parts.next()) as IteratorResult<Part, undefined> & { value: Part }
    buffer.resize(SMALL_CHUNK_BYTES * 8)
    assert.equal(part.byteLength, SMALL_CHUNK_BYTES * 4)
    assert.deepEqual(part.chunks.map((c) => c.byteLength), [SMALL_CHUNK_BYTES * 4], 'grown: the chunk still holds the bytes yielded')
    assert.equal(part.chunks[0]?.buffer, buffer, 'zero copy: a view of the same buffer')
    buffer.resize(SMALL_CHUNK_BYTES)
    assert.deepEqual(part.chunks.map((c) => c.byteLength), [0], 'shrunk below its end: out of bounds (byteLength 0), which the uploader reports')
  })

  test('a length-tracking view of a growable SharedArrayBuffer is kept at its length too', async () => {
    const buffer = growableSharedBuffer(SMALL_CHUNK_BYTES * 2, SMALL_CHUNK_BYTES * 8)
    const parts = await collect(toParts([new Uint8Array(buffer).fill(5)], { hash: null }))
    buffer.grow(SMALL_CHUNK_BYTES * 4)
    assert.deepEqual(parts[0]?.chunks.map((c) => c.byteLength), [SMALL_CHUNK_BYTES * 2])
  })
})

describe('toParts: Uint8Array subclasses', () => {
  /** A subclass whose constructor does not take (buffer, byteOffset, length): subarray() through it views the whole buffer. */
  class Labelled extends Uint8Array {
    readonly label: string
    constructor(length: number, label: string) {
      super(length)
      this.label = label
    }
  }

  test('a subclass chunk kept whole is hashed right by every core hasher (their pieces are views by offset too)', async () => {
    const chunk = new Labelled(3 * MiB + 5, 'x')
    chunk.set(shared.subarray(0, chunk.byteLength))
    const plain = new Uint8Array(chunk.buffer)
    const oneShot = async (make: () => Hasher, bytes: Uint8Array): Promise<Uint8Array> => {
      const hasher = make()
      hasher.update(bytes)
      return await hasher.digest()
    }
    const [part] = await collect(toParts([chunk], { hash: createSha256, checksum: createCrc32c, md5: createCrc64Nvme }))
    assert.deepEqual(part!.sha256, sha256Of(plain))
    assert.deepEqual(part!.checksum, await oneShot(createCrc32c, plain))
    assert.deepEqual(part!.md5, await oneShot(createCrc64Nvme, plain))
    for (const make of [createSha256, createCrc32, createCrc32c, createCrc64Nvme]) {
      assert.deepEqual(await oneShot(make, chunk), await oneShot(make, plain), make.name)
    }
  })

  test('a subclass whose constructor takes other arguments is split by offset, not through its constructor (Symbol.species)', async () => {
    const chunk = new Labelled(FIVE + 3, 'x')
    for (let i = 0; i < chunk.length; i++) chunk[i] = i & 0xff
    const parts = await collect(toParts([chunk], { partSize: FIVE }))
    assert.deepEqual(parts.map(shape), [
      [1, 0, FIVE, false],
      [2, FIVE, 3, true],
    ])
    assert.deepEqual(bytesOf(parts[0]!), new Uint8Array(chunk.buffer, 0, FIVE))
    assert.deepEqual(parts[0]!.sha256, sha256Of(new Uint8Array(chunk.buffer, 0, FIVE)))
    assert.deepEqual([...bytesOf(parts[1]!)], [...new Uint8Array(chunk.buffer, FIVE, 3)])
  })
})

describe('toParts: bytes given as the source', () => {
  test('the hint for an ArrayBuffer or another typed array says how to wrap it zero-copy, and following it works', async () => {
    const buffer = new Uint8Array([1, 2, 3, 4]).buffer
    for (const [bytes, wrap] of [
      [buffer, /Wrap them as a Uint8Array first, with no copy: new Uint8Array\(buffer\)\./],
      [new Int8Array(buffer, 1, 2), /Wrap them as a Uint8Array first, with no copy: new Uint8Array\(view\.buffer, view\.byteOffset, view\.byteLength\)\./],
      [new DataView(buffer, 1, 2), /new Uint8Array\(view\.buffer, view\.byteOffset, view\.byteLength\)/],
    ] as const) {
      assert.throws(
        () => toParts(bytes as never),
        (error: unknown) => {
          assert.ok(error instanceof InvalidArgumentError)
          assert.match(error.message, wrap)
          assert.match(error.message, /upload\(\) takes a Uint8Array or a Blob itself/)
          return true
        },
      )
    }
    const view = new DataView(buffer, 1, 2)
    const parts = await collect(toParts([new Uint8Array(view.buffer, view.byteOffset, view.byteLength)], { hash: null }))
    assert.deepEqual(parts.map((p) => [...bytesOf(p)]), [[2, 3]])
  })

  test('a Uint8Array source gets no wrapping hint: it is bytes already', () => {
    assert.throws(() => toParts(new Uint8Array(4) as never), (error: unknown) => error instanceof InvalidArgumentError && !/Wrap them/.test(error.message) && /bufferParts\(bytes\), or pass \[bytes\]/.test(error.message))
  })
})
