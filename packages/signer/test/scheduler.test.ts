// The part scheduler alone: no S3, no HTTP. Items come from a controllable iterator, sends are
// deferreds, so every invariant is checked at an exact moment rather than after a sleep.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { schedule } from '../src/upload/scheduler.ts'
import { deferred, type Deferred } from './fault/helpers.ts'

/** Lets every pending promise callback run. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve()
  await new Promise<void>((resolve) => setImmediate(resolve))
}

/** An iterator whose `next()` calls are answered by hand; it records concurrency of next(). */
function manualItems<T>() {
  const pending: Array<Deferred<IteratorResult<T>>> = []
  let active = 0
  let maxActive = 0
  let calls = 0
  const iterator: AsyncIterator<T> = {
    next() {
      calls++
      active++
      maxActive = Math.max(maxActive, active)
      const d = deferred<IteratorResult<T>>()
      pending.push(d)
      return d.promise.finally(() => active--)
    },
  }
  return {
    iterator,
    /** Answers the oldest pending next(). */
    yield(value: T) {
      const d = pending.shift()
      assert.ok(d !== undefined, 'a next() is pending')
      d.resolve({ done: false, value })
    },
    end() {
      const d = pending.shift()
      assert.ok(d !== undefined, 'a next() is pending')
      d.resolve({ done: true, value: undefined })
    },
    fail(error: unknown) {
      const d = pending.shift()
      assert.ok(d !== undefined, 'a next() is pending')
      d.reject(error)
    },
    get pending() {
      return pending.length
    },
    get calls() {
      return calls
    },
    get maxActive() {
      return maxActive
    },
  }
}

/** A send per item, each settled by hand; records the signal it got and how many run at once. */
function manualSends() {
  const sends = new Map<number, { done: Deferred<void>; signal: AbortSignal }>()
  let running = 0
  let maxRunning = 0
  const send = async (item: number, signal: AbortSignal): Promise<void> => {
    running++
    maxRunning = Math.max(maxRunning, running)
    const done = deferred()
    sends.set(item, { done, signal })
    try {
      await done.promise
    } finally {
      running--
    }
  }
  return {
    send,
    get(item: number) {
      const s = sends.get(item)
      assert.ok(s !== undefined, `send(${item}) was started`)
      return s
    },
    started: () => [...sends.keys()],
    get running() {
      return running
    },
    get maxRunning() {
      return maxRunning
    },
  }
}

/** A schedule over hand-driven items and sends. */
function started(concurrency: number, first?: number) {
  const items = manualItems<number>()
  const sends = manualSends()
  const controller = new AbortController()
  const run = schedule(items.iterator, sends.send, { concurrency, controller, first: first === undefined ? undefined : { value: first } })
  return { items, sends, controller, run }
}

describe('schedule', () => {
  test('never more than `concurrency` sends in flight; one item read ahead, then next() waits for a slot', async () => {
    const { items, sends, run } = started(2)
    items.yield(1)
    await settle()
    items.yield(2)
    await settle()
    assert.deepEqual(sends.started(), [1, 2])
    // Both slots taken: item 3 is read ahead, and nothing more is asked for.
    items.yield(3)
    await settle()
    assert.equal(items.pending, 0, 'no next() while both slots are busy and one item is held')
    assert.equal(items.calls, 3)
    assert.deepEqual(sends.started(), [1, 2])
    sends.get(1).done.resolve()
    await settle()
    assert.deepEqual(sends.started(), [1, 2, 3], 'the held item starts once a slot frees')
    assert.equal(items.pending, 1, 'and the next one is read ahead')
    items.end()
    sends.get(2).done.resolve()
    sends.get(3).done.resolve()
    await run
    assert.equal(sends.maxRunning, 2)
    assert.equal(items.maxActive, 1, 'next() is never called concurrently')
  })

  test('`first` is sent before anything is pulled', async () => {
    const { items, sends, run } = started(1, 1)
    await settle()
    assert.deepEqual(sends.started(), [1])
    assert.equal(items.pending, 1)
    items.end()
    sends.get(1).done.resolve()
    await run
  })

  test('`first` is taken out of its box as it starts: only its send holds it (part 1 stayed in memory to the end)', async () => {
    const items = manualItems<number>()
    const sends = manualSends()
    const box: { value: number | undefined } = { value: 1 }
    const run = schedule(items.iterator, sends.send, { concurrency: 1, controller: new AbortController(), first: box })
    await settle()
    assert.deepEqual(sends.started(), [1])
    assert.equal(box.value, undefined)
    items.end()
    sends.get(1).done.resolve()
    await run
  })

  test('a failed send frees its slot, aborts the others and stops pulling; rejects after all settled', async () => {
    const { items, sends, controller, run } = started(2)
    let rejected = false
    run.catch(() => (rejected = true))
    items.yield(1)
    await settle()
    items.yield(2)
    await settle()
    items.yield(3) // held: both slots busy
    await settle()
    const boom = new Error('part 1 failed')
    sends.get(1).done.reject(boom)
    await settle()
    assert.equal(controller.signal.aborted, true)
    assert.equal(controller.signal.reason, boom, 'the first failure is the abort reason')
    assert.equal(sends.get(2).signal.aborted, true, 'sends in flight see the abort')
    assert.deepEqual(sends.started(), [1, 2], 'the held item is not started after a failure')
    assert.equal(rejected, false, 'schedule waits for the sends in flight')
    sends.get(2).done.reject(new Error('cancelled'))
    await assert.rejects(run, boom)
    assert.equal(items.pending, 0)
  })

  test('a source that throws while sends are in flight fails at once and cancels them', async () => {
    const { items, sends, controller, run } = started(4)
    items.yield(1)
    await settle()
    const broken = new Error('source broke')
    items.fail(broken) // the read-ahead rejects while send 1 runs
    await settle()
    assert.equal(controller.signal.aborted, true)
    assert.equal(sends.get(1).signal.reason, broken)
    sends.get(1).done.reject(controller.signal.reason)
    await assert.rejects(run, broken)
    assert.equal(items.calls, 2, 'nothing is pulled after the failure')
  })

  test('a source that throws while waiting for a slot fails without waiting for the slot', async () => {
    const { items, sends, run } = started(1)
    items.yield(1)
    await settle()
    items.fail(new Error('late failure'))
    await settle()
    assert.equal(sends.get(1).signal.aborted, true, 'send 1 is cancelled, not awaited to completion')
    sends.get(1).done.resolve()
    await assert.rejects(run, /late failure/)
  })

  test('an outside abort stops it with the abort reason', async () => {
    const { items, sends, controller, run } = started(2)
    items.yield(1)
    await settle()
    const reason = new Error('user abort')
    controller.abort(reason)
    await settle()
    assert.equal(sends.get(1).signal.aborted, true)
    sends.get(1).done.resolve()
    items.yield(2) // the read-ahead answers after the abort: not started
    await assert.rejects(run, reason)
    assert.deepEqual(sends.started(), [1])
  })

  test('an already aborted controller starts nothing and pulls nothing', async () => {
    const items = manualItems<number>()
    const sends = manualSends()
    const controller = new AbortController()
    controller.abort(new Error('early'))
    await assert.rejects(schedule(items.iterator, sends.send, { concurrency: 2, controller, first: { value: 1 } }), /early/)
    assert.equal(items.calls, 0)
    assert.deepEqual(sends.started(), [])
  })

  test('a send that throws synchronously is a failure like any other', async () => {
    const items = manualItems<number>()
    const controller = new AbortController()
    const run = schedule(
      items.iterator,
      () => {
        throw new Error('sync throw')
      },
      { concurrency: 2, controller, first: { value: 1 } },
    )
    await assert.rejects(run, /sync throw/)
  })

  test('an empty source resolves without a send', async () => {
    const { items, sends, run } = started(3)
    items.end()
    await run
    assert.deepEqual(sends.started(), [])
  })
})
