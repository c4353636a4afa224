// The credentials cache: refresh times, one shared refresh for concurrent callers, failures not
// cached. Driven by a fake clock and deferreds (no sleeps, no timers).
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { cacheCredentials, refreshAtMs, REFRESH_BEFORE_EXPIRY_MS, REFRESH_RETRY_MS } from '../src/http/credential-cache.ts'
import type { Credentials } from '../src/http/credentials.ts'
import { deferred, type Deferred } from './fault/helpers.ts'

const MIN = 60_000

function creds(n: number, expiration?: number): Credentials {
  return { accessKeyId: `AK${n}`, secretAccessKey: `SK${n}`, ...(expiration === undefined ? {} : { expiration: new Date(expiration) }) }
}

/** A source whose loads are answered by the test, one deferred per call. */
function controlledSource() {
  const calls: Deferred<Credentials>[] = []
  const load = (): Promise<Credentials> => {
    const d = deferred<Credentials>()
    calls.push(d)
    return d.promise
  }
  return { calls, load }
}

/** A cache over a controlled source, its first load already answered with `first`. */
async function cacheLoadedWith(first: Credentials, clock: () => number) {
  const source = controlledSource()
  const get = cacheCredentials(source.load, clock)
  const loading = get()
  await settle()
  source.calls[0]?.resolve(first)
  assert.equal((await loading).accessKeyId, first.accessKeyId)
  return { source, get }
}

/** Lets pending promise callbacks run (the cache starts a load one microtask after the call). */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0))

describe('refreshAtMs', () => {
  test('no expiration: never', () => {
    assert.equal(refreshAtMs(creds(1), 0), Number.POSITIVE_INFINITY)
  })
  test('long-lived: 5 minutes before expiry', () => {
    assert.equal(refreshAtMs(creds(1, 60 * MIN), 0), 55 * MIN)
    assert.equal(refreshAtMs(creds(1, 10 * MIN), 0), 5 * MIN)
    assert.equal(REFRESH_BEFORE_EXPIRY_MS, 5 * MIN)
  })
  test('shorter than 10 minutes: at half the lifetime', () => {
    assert.equal(refreshAtMs(creds(1, 1000 + 4 * MIN), 1000), 1000 + 2 * MIN)
    assert.equal(refreshAtMs(creds(1, 2000), 0), 1000)
  })
  test('arrived expired: at once', () => {
    assert.equal(refreshAtMs(creds(1, 500), 1000), 500)
  })
})

describe('cacheCredentials', () => {
  test('loads once; credentials without expiration are kept', async () => {
    let now = 0
    let loads = 0
    const get = cacheCredentials(async () => creds(++loads), () => now)
    assert.equal((await get()).accessKeyId, 'AK1')
    now = 365 * 24 * 60 * MIN
    assert.equal((await get()).accessKeyId, 'AK1')
    assert.equal(loads, 1)
  })

  test('concurrent first calls share one load', async () => {
    const source = controlledSource()
    const get = cacheCredentials(source.load, () => 0)
    const results = [get(), get(), get()]
    await settle()
    assert.equal(source.calls.length, 1)
    source.calls[0]?.resolve(creds(1))
    for (const r of await Promise.all(results)) assert.equal(r.accessKeyId, 'AK1')
  })

  test('refreshes 5 minutes before expiry, once for every caller in flight', async () => {
    let now = 0
    const { source, get } = await cacheLoadedWith(creds(1, 60 * MIN), () => now)

    now = 55 * MIN - 1 // just before the refresh time: cached
    assert.equal((await get()).accessKeyId, 'AK1')
    assert.equal(source.calls.length, 1)

    now = 55 * MIN // refresh time: every request now waits for the one refresh
    const waiting = [get(), get(), get(), get()]
    await settle()
    assert.equal(source.calls.length, 2)
    source.calls[1]?.resolve(creds(2, 120 * MIN))
    for (const r of await Promise.all(waiting)) assert.equal(r.accessKeyId, 'AK2')
    assert.equal((await get()).accessKeyId, 'AK2')
    assert.equal(source.calls.length, 2)
  })

  test('short-lived credentials are refreshed at half their lifetime, measured from the load', async () => {
    let now = 10_000
    const { source, get } = await cacheLoadedWith(creds(1, 12_000), () => now) // 2 s to live: refresh after 1 s
    now = 10_999
    assert.equal((await get()).accessKeyId, 'AK1')
    now = 11_000
    const next = get()
    await settle()
    source.calls[1]?.resolve(creds(2, 20_000))
    assert.equal((await next).accessKeyId, 'AK2')
  })

  test('a failed load is not cached: its waiters get the error, the next call loads again', async () => {
    const source = controlledSource()
    const get = cacheCredentials(source.load, () => 0)
    const a = get()
    const b = get()
    await settle()
    const boom = new Error('boom')
    source.calls[0]?.reject(boom)
    await assert.rejects(a, (e) => e === boom)
    await assert.rejects(b, (e) => e === boom)
    const c = get()
    await settle()
    assert.equal(source.calls.length, 2)
    source.calls[1]?.resolve(creds(3))
    assert.equal((await c).accessKeyId, 'AK3')
  })

  test('a refresh that fails while the credentials are still good keeps them, and tries again later', async () => {
    let now = 0
    const { source, get } = await cacheLoadedWith(creds(1, 60 * MIN), () => now)
    now = 56 * MIN
    const refreshing = get()
    const waiting = get()
    await settle()
    source.calls[1]?.reject(new Error('refresh failed'))
    // Four minutes are left: the callers get the credentials they had (as the AWS CLI does).
    assert.equal((await refreshing).accessKeyId, 'AK1')
    assert.equal((await waiting).accessKeyId, 'AK1')
    // Not a load per call while the source is down: the next attempt waits a little.
    assert.equal((await get()).accessKeyId, 'AK1')
    await settle()
    assert.equal(source.calls.length, 2)
    now = 56 * MIN + REFRESH_RETRY_MS
    const again = get()
    await settle()
    assert.equal(source.calls.length, 3)
    source.calls[2]?.resolve(creds(2, 120 * MIN))
    assert.equal((await again).accessKeyId, 'AK2')
  })

  test('a refresh that fails when the credentials are about to expire rejects, and the next call tries again', async () => {
    let now = 0
    const { source, get } = await cacheLoadedWith(creds(1, 60 * MIN), () => now)
    now = 60 * MIN - MIN / 2
    const refreshing = get()
    await settle()
    source.calls[1]?.reject(new Error('refresh failed'))
    await assert.rejects(refreshing, /refresh failed/)
    const again = get()
    await settle()
    assert.equal(source.calls.length, 3)
    source.calls[2]?.resolve(creds(2, 120 * MIN))
    assert.equal((await again).accessKeyId, 'AK2')
  })

  test('short-lived credentials: kept through a failed refresh until three quarters of their life', async () => {
    let now = 0
    const { source, get } = await cacheLoadedWith(creds(1, 8_000), () => now)
    now = 4_000 // half the lifetime: the refresh starts
    const first = get()
    await settle()
    source.calls[1]?.reject(new Error('down'))
    assert.equal((await first).accessKeyId, 'AK1')
    now = 6_000 // the last quarter: no longer good enough to sign with
    const late = get()
    await settle()
    source.calls[2]?.reject(new Error('still down'))
    await assert.rejects(late, /still down/)
  })

  test('a load that throws synchronously rejects (and is not stuck)', async () => {
    let calls = 0
    const get = cacheCredentials(() => {
      calls++
      if (calls === 1) throw new Error('sync')
      return Promise.resolve(creds(calls))
    }, () => 0)
    await assert.rejects(get(), /sync/)
    assert.equal((await get()).accessKeyId, 'AK2')
  })
})
