// The signing clock's skew correction: the clock alone, then sendS3 against a local node:http
// server (it sends a real `Date` on every answer) that refuses skewed requests like S3 does.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { bufferParts } from '@partstream/core'
import { createS3Context, InvalidArgumentError, putObject, S3ResponseError } from '../src/index.ts'
import { createSigningClock, CORRECT_SKEW_ABOVE_MS } from '../src/http/clock.ts'

const HOUR = 3_600_000
const httpDate = (ms: number): string => new Date(ms).toUTCString()

describe('createSigningClock', () => {
  test('no offset until a server says otherwise', () => {
    const clock = createSigningClock(() => new Date(1_000_000))
    assert.equal(clock.now().getTime(), 1_000_000)
    assert.equal(clock.offsetMs, 0)
  })

  test('a successful answer corrects only a skew of 5 minutes or more', () => {
    const base = Date.UTC(2030, 0, 1)
    const clock = createSigningClock(() => new Date(base))
    assert.equal(clock.observe(httpDate(base + CORRECT_SKEW_ABOVE_MS - 1000), false), false)
    assert.equal(clock.offsetMs, 0)
    assert.equal(clock.observe(httpDate(base - CORRECT_SKEW_ABOVE_MS), false), true)
    assert.equal(clock.offsetMs, -CORRECT_SKEW_ABOVE_MS)
    assert.equal(clock.now().getTime(), base - CORRECT_SKEW_ABOVE_MS)
  })

  test('a refusal (RequestTimeTooSkewed) corrects any skew of a second or more', () => {
    const base = Date.UTC(2030, 0, 1)
    const clock = createSigningClock(() => new Date(base))
    assert.equal(clock.observe(httpDate(base + 500), true), false)
    assert.equal(clock.observe(httpDate(base + 2000), true), true)
    assert.equal(clock.offsetMs, 2000)
  })

  test('the offset is absolute: answers racing each other agree instead of adding up', () => {
    const base = Date.UTC(2030, 0, 1)
    const clock = createSigningClock(() => new Date(base))
    clock.observe(httpDate(base + HOUR), true)
    clock.observe(httpDate(base + HOUR), true)
    assert.equal(clock.offsetMs, HOUR)
  })

  test('a missing or unparsable Date changes nothing', () => {
    const clock = createSigningClock(() => new Date())
    assert.equal(clock.observe(undefined, true), false)
    assert.equal(clock.observe('not a date', true), false)
  })

  test('a clock that returns no valid Date is an InvalidArgumentError', () => {
    assert.throws(() => createSigningClock(() => new Date(Number.NaN)).now(), InvalidArgumentError)
    assert.throws(() => createSigningClock(() => 'x' as never).now(), /Expected `now` to return a valid Date/)
  })
})

/** `20130524T000000Z` → ms. */
function amzDateMs(value: string | undefined): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? '')
  assert.ok(m, `x-amz-date ${value}`)
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]))
}

describe('sendS3 against a server that checks request times', () => {
  let server: Server
  let endpoint: string
  /** x-amz-date of every request, and the policy: refuse requests this far off (ms), or always. */
  const seen: number[] = []
  let refuse: 'skewed' | 'always' | 'never' = 'skewed'

  before(async () => {
    server = createServer((req, res) => {
      req.resume()
      req.on('end', () => {
        const signedAt = amzDateMs(req.headers['x-amz-date'] as string | undefined)
        seen.push(signedAt)
        if (refuse === 'always' || (refuse === 'skewed' && Math.abs(signedAt - Date.now()) > 15 * 60_000)) {
          res.writeHead(403, { 'content-type': 'application/xml' })
          res.end('<?xml version="1.0"?><Error><Code>RequestTimeTooSkewed</Code><Message>The difference between the request time and the current time is too large.</Message></Error>')
          return
        }
        res.writeHead(200, { etag: '"e"' })
        res.end()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const part = () => {
    const [first] = bufferParts(new Uint8Array(3))
    assert.ok(first)
    return first.toPart()
  }
  const contextWith = (offsetMs: number) =>
    createS3Context(
      { bucket: 'bkt', key: 'k', endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 's' } },
      { retry: false, now: () => new Date(Date.now() + offsetMs) },
    )

  test('an hour off: refused once, corrected by the measured offset, re-sent at once (even with retries off)', async () => {
    seen.length = 0
    refuse = 'skewed'
    const ctx = contextWith(-HOUR)
    const retried: string[] = []
    try {
      const result = await putObject(ctx, await part(), { onRetry: (e) => retried.push(e.s3Code ?? '') })
      assert.equal(result.etag, 'e')
      assert.equal(seen.length, 2)
      assert.ok(Math.abs((seen[0] as number) - (Date.now() - HOUR)) < 5000, 'first request signed an hour behind')
      assert.ok(Math.abs((seen[1] as number) - Date.now()) < 5000, 'the retry signed on the server time')
      assert.deepEqual(retried, ['RequestTimeTooSkewed'])
      // Later requests are signed on the corrected clock: no more refusals.
      await putObject(ctx, await part())
      assert.equal(seen.length, 3)
    } finally {
      await ctx.close()
    }
  })

  test('a server Date 10 minutes away corrects the clock without a refusal', async () => {
    seen.length = 0
    refuse = 'never'
    const ctx = contextWith(-10 * 60_000)
    try {
      await putObject(ctx, await part())
      await putObject(ctx, await part())
      assert.ok(Math.abs((seen[0] as number) - (Date.now() - 10 * 60_000)) < 5000)
      assert.ok(Math.abs((seen[1] as number) - Date.now()) < 5000, 'the second request is signed on the corrected clock')
    } finally {
      await ctx.close()
    }
  })

  test('a server that refuses again after the correction: the error, after one extra attempt only', async () => {
    seen.length = 0
    refuse = 'always'
    const ctx = contextWith(-HOUR)
    try {
      await assert.rejects(putObject(ctx, await part()), (e: unknown) => e instanceof S3ResponseError && e.s3Code === 'RequestTimeTooSkewed')
      assert.equal(seen.length, 2)
    } finally {
      await ctx.close()
    }
  })
})
