import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { GATHER_BYTES, SMALL_CHUNK_BYTES, gatherSmallChunks, worthGathering } from '../src/http/coalesce.ts'

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
