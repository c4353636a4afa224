// BufferRecycler: the part buffers uploadAll reuses across the multipart files of one call.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { InvalidArgumentError } from '@partstream/core'
import { BufferRecycler, partBufferError } from '../src/upload/buffer-pool.ts'

test('a released buffer is handed out again (the same memory), up to `max` kept', () => {
  const recycler = new BufferRecycler(2)
  const a = recycler.take(8)
  const b = recycler.take(8)
  const c = recycler.take(8)
  recycler.release(a.subarray(0, 3)) // a part's chunk is a view of the buffer (the last part is shorter)
  recycler.release(b)
  recycler.release(c) // a third is not kept: max 2
  const again = [recycler.take(8), recycler.take(8), recycler.take(8)]
  assert.deepEqual(new Set(again.map((x) => x.buffer)).size, 3)
  assert.ok(again.some((x) => x.buffer === a.buffer) && again.some((x) => x.buffer === b.buffer))
  assert.ok(!again.some((x) => x.buffer === c.buffer))
  for (const x of again) assert.equal(x.byteLength, 8)
})

test('a buffer given back twice is kept once (two parts never share memory)', () => {
  const recycler = new BufferRecycler(4)
  const a = recycler.take(8)
  recycler.release(a)
  recycler.release(a)
  const first = recycler.take(8)
  const second = recycler.take(8)
  assert.equal(first.buffer, a.buffer)
  assert.notEqual(second.buffer, a.buffer)
})

test('another size drops the kept buffers; foreign buffers are ignored', () => {
  const recycler = new BufferRecycler(4)
  const a = recycler.take(8)
  recycler.release(a)
  const big = recycler.take(16)
  assert.notEqual(big.buffer, a.buffer)
  assert.equal(big.byteLength, 16)
  recycler.release(new Uint8Array(16)) // not one of ours
  recycler.release(undefined)
  assert.notEqual(recycler.take(16).buffer, a.buffer)
})

test('a part larger than the runtime can hold in one buffer: InvalidArgumentError naming partSize, not a raw RangeError', async () => {
  // Node 20 holds at most 4 GiB in one ArrayBuffer: a 4 GiB + 1 MiB part (partSize may be 5 GiB)
  // failed with "RangeError: Invalid typed array length". No runtime holds 2^53 bytes.
  const { InvalidArgumentError } = await import('@partstream/core')
  const { BufferPool } = await import('../src/upload/buffer-pool.ts')
  for (const take of [() => new BufferPool(1, 2 ** 53).take(), () => new BufferPool(1, 8, true).take(2 ** 53), () => new BufferRecycler(1).take(2 ** 53)]) {
    assert.throws(take, (error: unknown) => error instanceof InvalidArgumentError && /`partSize`.*9007199254740992 bytes.*smaller `partSize`/.test(error.message))
  }
})

test("a part buffer the runtime cannot make: InvalidArgumentError in the library's terms, not V8's", () => {
  // Node 20 says "Invalid typed array length: undefined" past 4 GiB, which the message quoted.
  const tooBig = partBufferError(5 * 1024 ** 3, new RangeError('Invalid typed array length: undefined'))
  assert.ok(tooBig instanceof InvalidArgumentError)
  assert.match(tooBig.message, /^Expected `partSize` to fit in one buffer of this runtime, got a part of 5368709120 bytes\. Choose a smaller `partSize` \(Node 20 holds at most 4 GiB/)
  assert.doesNotMatch(tooBig.message, /undefined/)
  const noMemory = partBufferError(1024 ** 3, new RangeError('Array buffer allocation failed'))
  assert.ok(noMemory instanceof InvalidArgumentError)
  assert.match(noMemory.message, /^Could not allocate a part buffer of 1073741824 bytes \(Array buffer allocation failed\): the process is out of memory\. Choose a smaller `partSize` or `concurrency`/)
  const other = new TypeError('x')
  assert.equal(partBufferError(1, other), other)
})
