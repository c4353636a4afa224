// The commit point against Ceph RGW: once CompleteMultipartUpload is sent, or a PutObject is
// answered, the object may be written whatever the caller does next. An abort from then on, or a
// progress listener that throws, must not report as failed an upload whose object S3 wrote.
import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { Agent } from 'undici'
import { fetchTransport, undiciTransport, upload, type Transport, type UploadProgress } from '../../src/index.ts'
import { fixedChunks } from '../fault/helpers.ts'
import { createBucket, getObject, openUploads, randomData, sha256, target } from './s3.ts'

const MiB = 1024 * 1024
const BUN = typeof (globalThis as { Bun?: unknown }).Bun === 'object'
let bucket: string
before(async () => {
  bucket = await createBucket('commit')
})

/** The default transport, with `onSend` called as each request goes out. */
function watching(onSend: (method: string, path: string) => void): { transport: Transport; close(): Promise<void> } {
  const agent = BUN ? undefined : new Agent()
  const inner = agent === undefined ? fetchTransport() : undiciTransport(agent)
  return {
    transport: (req) => {
      const answer = inner(req)
      onSend(req.method, req.path)
      return answer
    },
    close: async () => agent?.close(),
  }
}

describe('the commit point on Ceph RGW', () => {
  test('an abort while CompleteMultipartUpload is in flight: its answer is awaited, the upload resolves with the object S3 wrote', async () => {
    const key = 'commit/abort-in-complete'
    const data = randomData(11 * MiB, 3)
    const controller = new AbortController()
    // The abort comes once the Complete is on its way (its body written: from then S3 may act);
    // before that it would still win at once.
    const net = watching((method, path) => {
      if (method === 'POST' && path.includes('uploadId=')) setTimeout(() => controller.abort(new Error('too late')), 50)
    })
    try {
      const result = await upload(fixedChunks(data, MiB), target(bucket, key), { partSize: 5 * MiB, signal: controller.signal, transport: net.transport })
      assert.equal(result.size, data.byteLength)
      assert.equal(result.partCount, 3)
      assert.equal(sha256(await getObject(bucket, key)), sha256(data))
      assert.deepEqual(await openUploads(bucket, key), [])
    } finally {
      await net.close()
    }
  })

  test('Complete answered within the grace, its check (HeadObject) still running when the grace ends: the upload resolves, the object is ours', async () => {
    const key = 'commit/check-past-grace'
    const data = randomData(11 * MiB, 6)
    const controller = new AbortController()
    const agent = BUN ? undefined : new Agent()
    const inner = agent === undefined ? fetchTransport() : undiciTransport(agent)
    const later = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
    // The grace is the idle timeout here (1.5 s): Complete answers 1 s after the abort, its check 1 s later.
    const transport: Transport = async (req) => {
      const completing = req.method === 'POST' && req.path.includes('uploadId=')
      if (completing) setTimeout(() => controller.abort(new Error('too late')), 50) // once its body is written
      const answer = await inner(req)
      if (completing || req.method === 'HEAD') await later(1000)
      return answer
    }
    try {
      const result = await upload(fixedChunks(data, MiB), target(bucket, key), { partSize: 5 * MiB, signal: controller.signal, transport, idleTimeoutMs: 1500 })
      assert.equal(result.size, data.byteLength)
      assert.equal(sha256(await getObject(bucket, key)), sha256(data))
      assert.deepEqual(await openUploads(bucket, key), [])
    } finally {
      await agent?.close()
    }
  })

  test('an abort once a single PutObject is answered, its answer still on the way: the upload resolves with the object S3 wrote (the old one replaced)', async () => {
    const key = 'commit/abort-in-put'
    await upload([new TextEncoder().encode('OLD CONTENT\n')], target(bucket, key))
    const data = randomData(1000, 8)
    const controller = new AbortController()
    const agent = BUN ? undefined : new Agent()
    const inner = agent === undefined ? fetchTransport() : undiciTransport(agent)
    const later = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
    // The server has written the object and answered; the abort comes while the answer is on its way (Ctrl-C then).
    const transport: Transport = async (req) => {
      const answer = await inner(req)
      if (req.method === 'PUT' && !req.path.includes('partNumber=')) {
        controller.abort(new Error('too late'))
        await later(300)
      }
      return answer
    }
    try {
      const result = await upload([data], target(bucket, key), { signal: controller.signal, transport })
      assert.equal(result.size, data.byteLength)
      assert.equal(result.partCount, 1)
      assert.equal(sha256(await getObject(bucket, key)), sha256(data))
    } finally {
      await agent?.close()
    }
  })

  test('an abort once a single PutObject is sent, no answer within the grace: rejects with signal.reason', async () => {
    const key = 'commit/abort-in-put-no-answer'
    const controller = new AbortController()
    const agent = BUN ? undefined : new Agent()
    const inner = agent === undefined ? fetchTransport() : undiciTransport(agent)
    // The answer is held until the upload settled: past the grace (the idle timeout here, 1 s).
    let abortedAt = 0
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    const transport: Transport = async (req) => {
      const answer = await inner(req)
      if (req.method === 'PUT') {
        abortedAt = performance.now()
        controller.abort(new Error('stop'))
        await held
      }
      return answer
    }
    try {
      await assert.rejects(upload([randomData(1000, 9)], target(bucket, key), { signal: controller.signal, transport, idleTimeoutMs: 1000 }), { message: 'stop' })
      const ms = performance.now() - abortedAt
      assert.ok(abortedAt > 0 && ms < 2500, `rejected after the grace from the abort, not after the answer: ${Math.round(ms)} ms`)
    } finally {
      release()
      await agent?.close()
    }
  })

  test('a Complete refused (503) as the abort comes is not sent again: the abort wins, no object, no upload left', async () => {
    const key = 'commit/refused-then-aborted'
    const controller = new AbortController()
    const agent = BUN ? undefined : new Agent()
    const inner = agent === undefined ? fetchTransport() : undiciTransport(agent)
    let completes = 0
    const transport: Transport = async (req) => {
      if (req.method === 'POST' && req.path.includes('uploadId=') && completes++ === 0) {
        controller.abort(new Error('stop'))
        const body = '<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>slow down</Message></Error>'
        return { statusCode: 503, headers: {}, body: { async *[Symbol.asyncIterator]() { yield new TextEncoder().encode(body) }, dump: async () => {} } }
      }
      return inner(req)
    }
    try {
      await assert.rejects(
        upload(fixedChunks(randomData(11 * MiB, 7), MiB), target(bucket, key), { partSize: 5 * MiB, signal: controller.signal, transport, retry: { attempts: 3, baseDelayMs: 1 } }),
        { message: 'stop' },
      )
      assert.equal(completes, 1, 'Complete was not sent again after the abort')
      await assert.rejects(getObject(bucket, key), /404|NoSuchKey/)
      assert.deepEqual(await openUploads(bucket, key), [])
    } finally {
      await agent?.close()
    }
  })

  for (const [name, size, event] of [
    ['done of a multipart upload', 11 * MiB, 'done'],
    ['done of a single PutObject', 1000, 'done'],
    ['part-acked of a single PutObject', 1000, 'part-acked'],
  ] as const) {
    test(`an onProgress that throws at ${name}: the object is written, so the upload resolves, after its done event`, async () => {
      const key = `commit/throw-at-${event}-${size}`
      const data = randomData(size, 4)
      const seen: string[] = []
      const result = await upload(fixedChunks(data, MiB), target(bucket, key), {
        partSize: 5 * MiB,
        onProgress: (e: UploadProgress) => {
          seen.push(e.type)
          if (e.type === event) throw new Error('listener bug')
        },
      })
      assert.equal(result.size, size)
      // A throw at part-acked of a single PutObject skipped its done: resolved without one.
      assert.equal(seen.at(-1), 'done')
      assert.equal(sha256(await getObject(bucket, key)), sha256(data))
      assert.deepEqual(await openUploads(bucket, key), [])
    })
  }

  test('one signal shared by 12 uploads at once: no MaxListenersExceededWarning', async () => {
    const warnings: string[] = []
    const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`)
    process.on('warning', onWarning)
    try {
      const controller = new AbortController()
      const data = randomData(6 * MiB, 5)
      await Promise.all(Array.from({ length: 12 }, (_, i) => upload(fixedChunks(data, MiB), target(bucket, `commit/shared-${i}`), { partSize: 5 * MiB, signal: controller.signal })))
      await new Promise((resolve) => setTimeout(resolve, 200)) // Node 22+ emits the warning late
      assert.deepEqual(
        warnings.filter((w) => w.includes('MaxListeners')),
        [],
      )
    } finally {
      process.off('warning', onWarning)
    }
  })
})
