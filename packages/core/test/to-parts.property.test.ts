/**
 * Property tests of the chunker (STYLE.md §36): random chunk sizes including empty chunks, 1-byte
 * chunks, chunks larger than a part and exact multiples of it. Chunks are views of one shared
 * random buffer, so tens of MiB per run cost no copies: the structure is checked by mapping every
 * view back to its place in that buffer, and the hashing by a recording hasher. Real SHA-256 is
 * checked against node:crypto on a smaller set of runs.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { adaptivePartSize, fixedPartSize, toParts, type HashFactory, type Part, type PartSizePolicy } from '../src/index.ts'
import { SMALL_CHUNK_BYTES } from '../src/to-parts.ts'
import { bytesOf, MiB, pseudoRandomBytes, sha256Of, tracked } from './helpers/sources.ts'

const FIVE = 5 * MiB
const pool = pseudoRandomBytes(24 * MiB, 11)

/** A byte range of `pool`. */
type Range = readonly [start: number, length: number]

const chunkLength = fc.oneof(
  fc.constant(0),
  fc.constant(1),
  fc.integer({ min: 2, max: 100 }),
  fc.integer({ min: 101, max: 256 * 1024 }),
  fc.integer({ min: -2, max: 2 }).map((d) => FIVE + d),
  fc.constantFrom(FIVE, 2 * FIVE, 3 * FIVE),
  fc.integer({ min: 0, max: 4 * FIVE }),
)

const chunkRange = chunkLength.chain((length) => fc.integer({ min: 0, max: pool.length - length }).map((start): Range => [start, length]))

const policies: fc.Arbitrary<PartSizePolicy> = fc.oneof(
  fc.constant(fixedPartSize(FIVE)),
  fc.constant(fixedPartSize(6 * MiB)),
  fc
    .record({ growEvery: fc.integer({ min: 1, max: 3 }), factor: fc.constantFrom(1, 1.5, 2) })
    .map(({ growEvery, factor }) => adaptivePartSize({ initial: FIVE, growEvery, factor, max: 4 * FIVE })),
  // A custom policy: arbitrary valid sizes per part number.
  fc.array(fc.integer({ min: FIVE, max: 3 * FIVE }), { minLength: 1, maxLength: 5 }).map(
    (sizes): PartSizePolicy => ({ description: `cycle ${sizes.join(',')}`, maxPartSize: 3 * FIVE, sizeOf: (n) => sizes[(n - 1) % sizes.length]! }),
  ),
)

/** Whether two lists of views hold the same bytes, compared in place (no concatenation). */
function sameBytes(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  let i = 0
  let j = 0
  let x = a[0]?.subarray(0)
  let y = b[0]?.subarray(0)
  for (;;) {
    while (x !== undefined && x.byteLength === 0) x = a[++i]
    while (y !== undefined && y.byteLength === 0) y = b[++j]
    if (x === undefined || y === undefined) return x === y
    const n = Math.min(x.byteLength, y.byteLength)
    if (Buffer.compare(x.subarray(0, n), y.subarray(0, n)) !== 0) return false
    x = x.subarray(n)
    y = y.subarray(n)
  }
}

/** A hasher that records what it was fed; its digest names it. */
function recordingHash(fed: Uint8Array[][]): HashFactory {
  return () => {
    const id = fed.length
    const log: Uint8Array[] = []
    fed.push(log)
    return {
      update: (data) => void log.push(data),
      digest: () => new Uint8Array(new Uint32Array([id]).buffer),
    }
  }
}

describe('toParts: properties', () => {
  test('parts reassemble the input, are exactly sizeOf(n), hash exactly their bytes, and pull at most one chunk ahead', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(chunkRange, { maxLength: 24 }), policies, fc.boolean(), fc.nat({ max: 5 }), async (input, policy, sync, start) => {
        const chunks = input.map(([at, length]) => pool.subarray(at, at + length))
        const { source, stats } = tracked(chunks, { sync })
        const fed: Uint8Array[][] = []
        const startPartNumber = start + 1
        const startOffset = start * 1000
        const parts: Part[] = []
        // Cumulative end offset of each input chunk, to know how far the source may have been read.
        const ends: number[] = []
        let total = 0
        for (const chunk of chunks) ends.push((total += chunk.byteLength))

        const iterator = toParts(source, { partSize: policy, hash: recordingHash(fed), maxViewOverhead: Infinity, startPartNumber, startOffset })
        for (;;) {
          const result = await iterator.next()
          if (result.done === true) break
          const part = result.value
          parts.push(part)
          const end = part.offset - startOffset + part.byteLength
          // Pulled exactly up to the chunk holding byte `end` (the look-ahead), or to the end.
          const expectedNexts = part.isLast ? chunks.length + 1 : ends.findIndex((e) => e > end) + 1
          assert.equal(stats.nexts, expectedNexts, 'reads exactly one non-empty chunk ahead')
        }

        assert.ok(parts.length >= 1)
        const out = parts.flatMap((p) => p.chunks)
        assert.ok(sameBytes(out, chunks), 'parts concatenate back to the input')
        // Zero-copy but for chunks under SMALL_CHUNK_BYTES (and the short ends of a chunk cut at a
        // part boundary), which are copied into gather blocks of at most 64 KiB.
        const viewed = out.filter((c) => c.buffer === pool.buffer).reduce((n, c) => n + c.byteLength, 0)
        const large = chunks.filter((c) => c.byteLength >= SMALL_CHUNK_BYTES).reduce((n, c) => n + c.byteLength, 0)
        assert.ok(viewed >= large - 2 * parts.length * SMALL_CHUNK_BYTES, `${viewed} of ${large} bytes of large chunks kept as views`)
        for (const c of out) assert.ok(c.buffer === pool.buffer || c.buffer.byteLength <= 64 * 1024, 'a copy only into a gather block')
        let offset = startOffset
        for (const [i, part] of parts.entries()) {
          assert.equal(part.partNumber, startPartNumber + i)
          assert.equal(part.offset, offset)
          assert.equal(part.isLast, i === parts.length - 1)
          assert.equal(part.byteLength, part.chunks.reduce((sum, c) => sum + c.byteLength, 0))
          for (const chunk of part.chunks) assert.ok(chunk.byteLength > 0, 'no empty views')
          if (part.isLast) assert.ok(part.byteLength <= policy.sizeOf(part.partNumber) && (part.byteLength > 0 || total === 0))
          else assert.equal(part.byteLength, policy.sizeOf(part.partNumber), 'every non-last part is exactly sizeOf(n)')
          const id = new Uint32Array(part.sha256!.buffer)[0]!
          assert.ok(sameBytes(fed[id]!, part.chunks), 'the hasher saw exactly the part, in order')
          offset += part.byteLength
        }
        assert.equal(fed.length, parts.length, 'one hasher per part')
        assert.equal(stats.returns, 0)
        assert.equal(stats.finallies, 1)
      }),
      { numRuns: 150 },
    )
  })

  test('the default SHA-256 of every part matches node:crypto', async () => {
    const smallRange = fc
      .oneof(fc.constant(0), fc.constant(1), fc.integer({ min: 2, max: 70_000 }), fc.integer({ min: FIVE - 64, max: FIVE + 64 }))
      .chain((length) => fc.integer({ min: 0, max: pool.length - length }).map((start): Range => [start, length]))
    await fc.assert(
      fc.asyncProperty(fc.array(smallRange, { maxLength: 8 }), async (input) => {
        const chunks = input.map(([at, length]) => pool.subarray(at, at + length))
        for await (const part of toParts(chunks, { partSize: FIVE, maxViewOverhead: Infinity })) {
          assert.deepEqual(part.sha256, sha256Of(bytesOf(part)))
        }
      }),
      { numRuns: 20 },
    )
  })

  test('with copying on: the same bytes come out; what is held is a view of the pool or a buffer no longer than its chunk', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(chunkRange, { maxLength: 12 }), fc.constantFrom(0, 100, 65_536), async (input, maxViewOverhead) => {
        const chunks = input.map(([at, length]) => pool.subarray(at, at + length))
        const parts = []
        for await (const part of toParts(chunks, { partSize: FIVE, hash: null, maxViewOverhead })) parts.push(part)
        assert.ok(sameBytes(parts.flatMap((p) => p.chunks), chunks))
        for (const part of parts) {
          for (const view of part.chunks) {
            // A copy (or a gather block) owns no more than one input chunk; anything else is a view of the pool.
            if (view.buffer !== pool.buffer) assert.ok(view.buffer.byteLength <= Math.max(64 * 1024, ...input.map(([, length]) => length)))
          }
        }
      }),
      { numRuns: 40 },
    )
  })
})
