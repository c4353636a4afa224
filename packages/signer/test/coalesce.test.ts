import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { GATHER_BYTES, SMALL_CHUNK_BYTES, gatherSmallChunks, joinAdjacentViews, worthGathering } from '../src/http/coalesce.ts'

const concat = (chunks: Iterable<Uint8Array>): Buffer => Buffer.concat([...chunks])

test('gathering keeps the bytes and their order, and passes large chunks through untouched', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 40_000 }), { maxLength: 60 }), (sizes) => {
      let seed = 1
      const chunks = sizes.map((n) => Uint8Array.from({ length: n }, () => (seed = (seed * 31 + 7) & 0xff)))
      const out = [...gatherSmallChunks(chunks)]
      assert.deepEqual(concat(out), concat(chunks))
      for (const c of out) assert.ok(c.byteLength <= Math.max(GATHER_BYTES, ...sizes))
      for (const c of chunks) if (c.byteLength >= SMALL_CHUNK_BYTES) assert.ok(out.includes(c), 'large chunk passed by reference')
    }),
  )
})

test('200,000 ten-byte chunks become ~31 writes', () => {
  const chunks = Array.from({ length: 200_000 }, () => new Uint8Array(10))
  assert.ok(worthGathering(chunks))
  assert.equal([...gatherSmallChunks(chunks)].length, Math.ceil(2_000_000 / (GATHER_BYTES - (GATHER_BYTES % 10))))
  assert.equal(worthGathering([new Uint8Array(65536), new Uint8Array(65536)]), false)
})

test('joining adjacent views: the same bytes in order, no copy, runs of one buffer joined up to the cap, nothing else merged', () => {
  fc.assert(
    fc.property(
      // Each chunk: a slice of one of two buffers, next to the previous slice of it or after a gap.
      fc.array(fc.record({ buffer: fc.integer({ min: 0, max: 1 }), size: fc.integer({ min: 0, max: 3000 }), gap: fc.boolean() }), { maxLength: 40 }),
      fc.integer({ min: 1, max: 8000 }),
      (specs, max) => {
        const buffers = [new Uint8Array(200_000).map((_, i) => i * 7), new Uint8Array(200_000).map((_, i) => i * 13)]
        const next = [0, 0]
        const chunks = specs.map(({ buffer, size, gap }) => {
          const start = (next[buffer] as number) + (gap ? 1 : 0)
          next[buffer] = start + size
          return (buffers[buffer] as Uint8Array).subarray(start, start + size)
        })
        const out = [...joinAdjacentViews(chunks, max)]
        assert.deepEqual(concat(out), concat(chunks))
        for (const view of out) {
          assert.ok(buffers.some((b) => b.buffer === view.buffer), 'a view of the caller\'s buffer, not a copy')
          assert.ok(view.byteLength <= max || chunks.includes(view), 'over the cap only as a chunk given that way')
        }
        // Fully joined: no two outputs in a row that could still have been one.
        for (let i = 1; i < out.length; i++) {
          const a = out[i - 1] as Uint8Array
          const b = out[i] as Uint8Array
          assert.ok(a.buffer !== b.buffer || a.byteOffset + a.byteLength !== b.byteOffset || a.byteLength + b.byteLength > max, `outputs ${i - 1} and ${i} could have been joined`)
        }
      },
    ),
  )
})

test('a 6 MiB part of 64 KiB views of one buffer goes as six 1 MiB writes; views of fresh buffers pass as they are', () => {
  const MiB = 1024 * 1024
  const big = new Uint8Array(6 * MiB)
  const views = Array.from({ length: 96 }, (_, i) => big.subarray(i * 65536, (i + 1) * 65536))
  const joined = [...joinAdjacentViews(views, MiB)]
  assert.deepEqual(joined.map((v) => v.byteLength), Array(6).fill(MiB))
  const fresh = Array.from({ length: 4 }, () => new Uint8Array(65536))
  assert.deepEqual([...joinAdjacentViews(fresh, MiB)], fresh)
})
