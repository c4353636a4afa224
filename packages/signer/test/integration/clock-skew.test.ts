// Clock skew against Ceph RGW, every request and answer captured: RGW refuses a request signed
// more than 15 minutes off with 403 RequestTimeTooSkewed (and its `Date`); the context measures
// the offset, re-signs and re-sends at once, and signs everything after on the corrected clock.
import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { Agent } from 'undici'
import { fetchTransport, undiciTransport, upload, type Transport } from '../../src/index.ts'
import { fixedChunks, parseAmzDate } from '../fault/helpers.ts'
import { createBucket, getObject, randomData, sha256, target } from './s3.ts'

const MiB = 1024 * 1024
const HOUR = 3_600_000
const BUN = typeof (globalThis as { Bun?: unknown }).Bun === 'object'
let bucket: string
before(async () => {
  bucket = await createBucket('skew')
})

interface Exchange {
  readonly method: string
  readonly amzDate: string
  readonly status: number
}

/** A transport that records each request's x-amz-date and the answer's status. */
function recording(): { transport: Transport; seen: Exchange[]; close(): Promise<void> } {
  const agent = BUN ? undefined : new Agent()
  const inner = agent === undefined ? fetchTransport() : undiciTransport(agent)
  const seen: Exchange[] = []
  return {
    seen,
    transport: async (req) => {
      const res = await inner(req)
      seen.push({ method: req.method, amzDate: req.headers['x-amz-date'] ?? '', status: res.statusCode })
      return res
    },
    close: async () => agent?.close(),
  }
}


describe('clock skew on Ceph RGW', () => {
  for (const [name, offsetMs] of [
    ['an hour behind', -HOUR],
    ['an hour ahead', HOUR],
  ] as const) {
    test(`now ${name}: one RequestTimeTooSkewed, then the upload completes on the corrected clock (retries off)`, async () => {
      const rec = recording()
      try {
        const data = randomData(12 * MiB, 5)
        const result = await upload(fixedChunks(data, MiB), target(bucket, `skew/${offsetMs}`), {
          partSize: 5 * MiB,
          concurrency: 2,
          retry: false,
          transport: rec.transport,
          now: () => new Date(Date.now() + offsetMs),
        })
        assert.equal(result.partCount, 3)
        const statuses = rec.seen.map((e) => e.status)
        assert.equal(statuses[0], 403, 'Create refused')
        assert.ok(statuses.slice(1).every((s) => s === 200), `then every request passes at once: ${statuses.join(' ')}`)
        assert.equal(rec.seen.filter((e) => e.method === 'POST').length, 3, 'Create twice, Complete once')
        const [refused, ...rest] = rec.seen
        assert.ok(Math.abs(parseAmzDate(refused?.amzDate).getTime() - (Date.now() + offsetMs)) < 60_000, 'the refused request was signed on the skewed clock')
        for (const e of rest) assert.ok(Math.abs(parseAmzDate(e.amzDate).getTime() - Date.now()) < 60_000, `${e.method} signed on the corrected clock`)
        assert.equal(sha256(await getObject(bucket, `skew/${offsetMs}`)), sha256(data))
      } finally {
        await rec.close()
      }
    })
  }

  test('a HeadObject refused for its time (403, no body to say so) is re-signed on the corrected clock: ifNoneMatch finds the taken key first', async () => {
    const key = 'skew/head-taken'
    await upload([new TextEncoder().encode('taken')], target(bucket, key))
    const rec = recording()
    try {
      await assert.rejects(
        upload(fixedChunks(randomData(11 * MiB, 7), MiB), target(bucket, key), {
          partSize: 5 * MiB,
          ifNoneMatch: true,
          retry: false,
          transport: rec.transport,
          now: () => new Date(Date.now() - HOUR),
        }),
        { code: 'ERR_PARTSTREAM_OBJECT_EXISTS' },
      )
      // The key check, refused then re-signed, found the object: nothing else was sent.
      assert.deepEqual(
        rec.seen.map((e) => `${e.method} ${e.status}`),
        ['HEAD 403', 'HEAD 200'],
      )
    } finally {
      await rec.close()
    }
  })

  test('10 minutes behind (RGW still accepts): the server Date corrects the clock after the first answer', async () => {
    const rec = recording()
    try {
      await upload(fixedChunks(randomData(11 * MiB, 6), MiB), target(bucket, 'skew/ten'), {
        partSize: 5 * MiB,
        concurrency: 1,
        transport: rec.transport,
        now: () => new Date(Date.now() - 10 * 60_000),
      })
      assert.ok(rec.seen.every((e) => e.status === 200))
      assert.ok(Math.abs(parseAmzDate(rec.seen[0]?.amzDate).getTime() - (Date.now() - 10 * 60_000)) < 60_000)
      for (const e of rec.seen.slice(1)) assert.ok(Math.abs(parseAmzDate(e.amzDate).getTime() - Date.now()) < 60_000)
    } finally {
      await rec.close()
    }
  })
})
