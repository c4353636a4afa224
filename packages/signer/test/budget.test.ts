// The shared budget of uploadAll alone: no S3. Slots, leases and two schedules sharing one set of
// send slots, driven by deferreds so every invariant is checked at an exact moment (no sleeps).
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Part } from '@partstream/core'
import { Slots } from '../src/http/slots.ts'
import { PartLease } from '../src/upload/budget.ts'
import { schedule } from '../src/upload/scheduler.ts'
import { deferred, type Deferred } from './fault/helpers.ts'

const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve()
  await new Promise<void>((resolve) => setImmediate(resolve))
}

const part = (partNumber: number, isLast = false): Part => ({ partNumber, offset: 0, chunks: [], byteLength: 0, sha256: undefined, isLast })

describe('Slots', () => {
  test('never more than size taken; waiters served in order', async () => {
    const slots = new Slots(2)
    await slots.acquire()
    await slots.acquire()
    assert.equal(slots.inUse, 2)
    const order: number[] = []
    const a = slots.acquire().then(() => order.push(1))
    const b = slots.acquire().then(() => order.push(2))
    await settle()
    assert.deepEqual(order, [])
    slots.release()
    await settle()
    assert.deepEqual(order, [1])
    assert.equal(slots.inUse, 2)
    slots.release()
    await Promise.all([a, b])
    assert.deepEqual(order, [1, 2])
    slots.release()
    slots.release()
    assert.equal(slots.inUse, 0)
    assert.throws(() => slots.release(), /without a matching acquire/)
  })

  test('an aborted waiter rejects with signal.reason and takes nothing', async () => {
    const slots = new Slots(1)
    await slots.acquire()
    const controller = new AbortController()
    const waiting = slots.acquire(controller.signal)
    const reason = new Error('stop')
    controller.abort(reason)
    await assert.rejects(waiting, (e) => e === reason)
    slots.release()
    assert.equal(slots.inUse, 0)
    await assert.rejects(slots.acquire(controller.signal), (e) => e === reason) // already aborted
    assert.equal(slots.inUse, 0)
  })

  test('a waiter behind others does not jump the queue when a slot frees', async () => {
    const slots = new Slots(1)
    await slots.acquire()
    const first = slots.acquire()
    slots.release() // goes to `first`, not to the pool
    await first
    assert.equal(slots.inUse, 1)
    slots.release()
  })
})

describe('PartLease', () => {
  /** An inner part source answered by hand. */
  function manualParts() {
    const pending: Array<Deferred<IteratorResult<Part>>> = []
    const iterator: AsyncIterator<Part> = {
      next() {
        const d = deferred<IteratorResult<Part>>()
        pending.push(d)
        return d.promise
      },
    }
    return { iterator, pending }
  }

  test('a slot per part read, back when the part is released; the prepaid slot serves the first read', async () => {
    const buffers = new Slots(2)
    await buffers.acquire() // the slot uploadAll takes before pulling the entry
    const lease = new PartLease(buffers, new AbortController().signal, true)
    const inner = manualParts()
    const parts = lease.wrap(inner.iterator)
    const n1 = parts.next()
    await settle()
    assert.equal(buffers.inUse, 1)
    inner.pending.shift()?.resolve({ done: false, value: part(1) })
    const p1 = (await n1).value as Part
    const n2 = parts.next()
    await settle()
    assert.equal(buffers.inUse, 2)
    inner.pending.shift()?.resolve({ done: false, value: part(2) })
    await n2
    const n3 = parts.next() // no slot: waits, and the source is not read
    await settle()
    assert.equal(inner.pending.length, 0)
    lease.release(p1)
    lease.release(p1) // idempotent
    await settle()
    assert.equal(inner.pending.length, 1)
    assert.equal(buffers.inUse, 2)
    inner.pending.shift()?.resolve({ done: true, value: undefined })
    assert.equal((await n3).done, true)
    assert.equal(buffers.inUse, 1) // part 2 still held
    lease.close()
    assert.equal(buffers.inUse, 0)
  })

  test('after the last part, next() ends without taking a slot or reading', async () => {
    const buffers = new Slots(1)
    const lease = new PartLease(buffers, new AbortController().signal, false)
    const inner = manualParts()
    const parts = lease.wrap(inner.iterator)
    const n1 = parts.next()
    await settle()
    inner.pending.shift()?.resolve({ done: false, value: part(1, true) })
    const p1 = (await n1).value as Part
    assert.equal((await parts.next()).done, true)
    assert.equal(inner.pending.length, 0)
    lease.release(p1)
    assert.equal(buffers.inUse, 0)
  })

  test('close() returns every slot: the prepaid one, held parts, and a pending read once it settles', async () => {
    const buffers = new Slots(3)
    await buffers.acquire()
    const unused = new PartLease(buffers, new AbortController().signal, true)
    unused.close() // failed before reading (the file could not be opened)
    assert.equal(buffers.inUse, 0)

    const lease = new PartLease(buffers, new AbortController().signal, false)
    const inner = manualParts()
    const parts = lease.wrap(inner.iterator)
    const n1 = parts.next()
    await settle()
    inner.pending.shift()?.resolve({ done: false, value: part(1) })
    await n1 // held, never released by the upload (it failed before sending it)
    const n2 = parts.next()
    await settle()
    assert.equal(buffers.inUse, 2)
    lease.close()
    assert.equal(buffers.inUse, 1) // part 1's slot back; the read in progress keeps its own
    inner.pending.shift()?.resolve({ done: false, value: part(2) })
    await n2
    assert.equal(buffers.inUse, 0)
  })

  test('a read that throws gives its slot back; an abort while waiting for a slot rejects with the reason', async () => {
    const buffers = new Slots(1)
    const controller = new AbortController()
    const lease = new PartLease(buffers, controller.signal, false)
    const inner = manualParts()
    const parts = lease.wrap(inner.iterator)
    const n1 = parts.next()
    await settle()
    const boom = new Error('read failed')
    inner.pending.shift()?.reject(boom)
    await assert.rejects(n1, (e) => e === boom)
    assert.equal(buffers.inUse, 0)
    await buffers.acquire() // someone else holds the only slot
    const n2 = parts.next()
    const reason = new Error('abort')
    controller.abort(reason)
    await assert.rejects(n2, (e) => e === reason)
    buffers.release()
    assert.equal(buffers.inUse, 0)
  })
})

describe('schedule with shared send slots', () => {
  test('two uploads sharing 3 slots never run more than 3 sends together', async () => {
    const slots = new Slots(3)
    let running = 0
    let maxRunning = 0
    const sends: Deferred<void>[] = []
    const send = async (): Promise<void> => {
      running++
      maxRunning = Math.max(maxRunning, running)
      const d = deferred()
      sends.push(d)
      try {
        await d.promise
      } finally {
        running--
      }
    }
    async function* items(n: number): AsyncGenerator<number> {
      for (let i = 1; i <= n; i++) yield i
    }
    const a = schedule(items(5), send, { concurrency: 3, controller: new AbortController(), slots })
    const b = schedule(items(5), send, { concurrency: 3, controller: new AbortController(), slots })
    for (let done = 0; done < 10; done++) {
      await settle()
      assert.ok(running <= 3, `running ${running}`)
      sends.shift()?.resolve()
    }
    await Promise.all([a, b])
    assert.equal(maxRunning, 3)
    assert.equal(slots.inUse, 0)
  })

  async function* list(items: string[]): AsyncGenerator<string> {
    yield* items
  }
  test('a failed upload gives its slots back and does not stop the other', async () => {
    const slots = new Slots(2)
    const pending: Array<{ item: string; d: Deferred<void> }> = []
    const send = async (item: string): Promise<void> => {
      const d = deferred()
      pending.push({ item, d })
      await d.promise
    }
    const a = schedule(list(['a1', 'a2']), send, { concurrency: 2, controller: new AbortController(), slots })
    const b = schedule(list(['b1', 'b2']), send, { concurrency: 2, controller: new AbortController(), slots })
    await settle()
    assert.deepEqual(pending.map((p) => p.item), ['a1', 'b1']) // fair: one each, in turn
    const boom = new Error('part failed')
    pending.shift()?.d.reject(boom)
    await assert.rejects(a, (e) => e === boom) // a2 is never sent
    const sent: string[] = ['a1']
    while (pending.length > 0) {
      const p = pending.shift()
      sent.push(p?.item ?? '')
      p?.d.resolve()
      await settle()
    }
    await b
    assert.deepEqual(sent, ['a1', 'b1', 'b2'])
    assert.equal(slots.inUse, 0)
  })
})
