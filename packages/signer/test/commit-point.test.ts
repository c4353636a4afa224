// The commit point of a single PutObject: S3 writes nothing before it has the whole body, so an
// abort while the body is still going out ends the upload at once; once it is handed over whole
// (the `committing` event), an abort waits for S3's answer a grace. Fake transports, no server.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { describe, test } from 'node:test'
import { upload, uploadAll, type Transport, type TransportRequest, type UploadAllProgress, type UploadProgress } from '../src/index.ts'

const MiB = 1024 * 1024
const target = { bucket: 'bkt', key: 'k', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } }
const GRACE_MS = 800 // the grace is min(5 s, idleTimeoutMs)

/** Rejects with the request's abort reason, never answering. */
const never = (req: TransportRequest): Promise<never> =>
  new Promise((_, reject) => req.signal?.addEventListener('abort', () => reject(req.signal?.reason), { once: true }))

/** Pulls `slices` of the body (all when undefined), then waits for `answer`. */
function reading(slices: number | undefined, answer: (req: TransportRequest) => Promise<never> | ReturnType<Transport>): { transport: Transport; pulled: () => number } {
  let pulled = 0
  return {
    pulled: () => pulled,
    transport: (req) => {
      const body = req.body
      if (body !== null && !(body instanceof Uint8Array)) {
        const it = body[Symbol.iterator]()
        while (slices === undefined || pulled < slices) {
          if (it.next().done === true) break
          pulled++
        }
      }
      return answer(req)
    },
  }
}

async function timed(run: Promise<unknown>): Promise<{ ms: number; outcome: 'resolved' | 'rejected'; value: unknown }> {
  const start = performance.now()
  try {
    const value = await run
    return { ms: performance.now() - start, outcome: 'resolved', value }
  } catch (error) {
    return { ms: performance.now() - start, outcome: 'rejected', value: error }
  }
}

describe('a single PutObject: the grace starts once the body is handed over whole', () => {
  test('an abort while the body is still going out ends the upload at once, with no committing event (it waited the whole grace)', async () => {
    const { transport, pulled } = reading(1, never)
    const events: UploadProgress[] = []
    const controller = new AbortController()
    const reason = new Error('stop')
    setTimeout(() => controller.abort(reason), 100)
    const { ms, outcome, value } = await timed(upload(new Uint8Array(3 * MiB), target, { transport, retry: false, idleTimeoutMs: 10 * GRACE_MS, signal: controller.signal, onProgress: (e) => events.push(e) }))
    assert.equal(outcome, 'rejected')
    assert.equal(value, reason)
    assert.equal(pulled(), 1, 'one slice of the body went out')
    assert.ok(ms < 100 + GRACE_MS, `rejected ${Math.round(ms)} ms after the start, expected at once after the abort at 100 ms (the grace is 5 s)`)
    assert.deepEqual(events.filter((e) => e.type === 'committing'), [])
  })

  test('the whole body handed over, no answer: committing once, then the abort waits the grace and rejects with its reason', async () => {
    const { transport } = reading(undefined, never)
    const events: UploadProgress[] = []
    const controller = new AbortController()
    const reason = new Error('stop')
    const run = upload(new Uint8Array(3 * MiB), target, {
      transport,
      retry: false,
      idleTimeoutMs: GRACE_MS,
      signal: controller.signal,
      onProgress: (e) => {
        events.push(e)
        if (e.type === 'committing') setTimeout(() => controller.abort(reason), 0)
      },
    })
    const { ms, outcome, value } = await timed(run)
    assert.equal(outcome, 'rejected')
    assert.equal(value, reason)
    assert.ok(ms >= GRACE_MS - 50, `the grace was waited (${Math.round(ms)} ms)`)
    assert.deepEqual(events.filter((e) => e.type === 'committing'), [{ type: 'committing', bytesAcked: 0, totalBytes: 3 * MiB }])
  })

  test('answered within the grace: the upload resolves; committing comes before part-acked and done', async () => {
    let answer!: () => void
    const { transport } = reading(undefined, () =>
      new Promise((resolve) => {
        answer = () => resolve({ statusCode: 200, headers: { etag: '"0123456789abcdef0123456789abcdef"' }, body: Object.assign((async function* () {})(), { dump: async () => {} }) })
      }),
    )
    const events: string[] = []
    const controller = new AbortController()
    const result = await upload(new Uint8Array(3 * MiB), target, {
      transport,
      retry: false,
      idleTimeoutMs: 10 * GRACE_MS,
      signal: controller.signal,
      onProgress: (e) => {
        events.push(e.type)
        if (e.type === 'committing') {
          controller.abort(new Error('too late'))
          setTimeout(() => answer(), 50)
        }
      },
    })
    assert.equal(result.size, 3 * MiB)
    assert.deepEqual(events, ['part-started', 'committing', 'part-acked', 'done'])
  })

  test('a small body the transport has not taken (still connecting): an abort ends it at once, no committing (it was emitted at hand-over)', async () => {
    // The transport never pulls the body: what undici does while it connects.
    const transport: Transport = (req) => never(req)
    const events: UploadProgress[] = []
    const controller = new AbortController()
    const reason = new Error('stop')
    setTimeout(() => controller.abort(reason), 100)
    const { ms, outcome, value } = await timed(upload(new Uint8Array(1000), target, { transport, retry: false, idleTimeoutMs: 10 * GRACE_MS, signal: controller.signal, onProgress: (e) => events.push(e) }))
    assert.equal(outcome, 'rejected')
    assert.equal(value, reason)
    assert.ok(ms < 100 + GRACE_MS, `rejected ${Math.round(ms)} ms after the start, expected at once after the abort at 100 ms (the grace is 5 s)`)
    assert.deepEqual(events.filter((e) => e.type === 'committing'), [])
  })
})

// A listening socket whose accept queue is full: a connect to it hangs (SYN unanswered), as to a
// host behind a firewall that drops packets. A Node child (the machine's `node` under Deno and
// Bun; it used to be python3, which a machine may lack, and the test was skipped there) listens
// with a backlog of 1, connects 4 times to fill the queue, prints its port with a synchronous
// write and blocks its thread before its event loop could accept anything.
const HANG = `
const net = require('node:net'), fs = require('node:fs')
const s = net.createServer().listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
  const { port } = s.address()
  for (let i = 0; i < 4; i++) net.connect(port, '127.0.0.1').on('error', () => {})
  process.nextTick(() => process.nextTick(() => {
    fs.writeSync(1, port + '\\n')
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000)
  }))
})
`
const NODE = 'Deno' in globalThis || 'Bun' in globalThis ? 'node' : process.execPath

describe('an abort while a connect hangs (the context destroyed, not closed gracefully)', () => {
  test('upload rejects at once with the reason, not after undici\'s 10 s connect timeout', async () => {
    const child = spawn(NODE, ['-e', HANG], { stdio: ['ignore', 'pipe', 'inherit'] })
    try {
      const [line] = (await once(child.stdout, 'data')) as [Buffer]
      const port = Number(line.toString().trim())
      const controller = new AbortController()
      const reason = new Error('stop')
      setTimeout(() => controller.abort(reason), 300)
      const { ms, outcome, value } = await timed(upload(new Uint8Array(4 * MiB), { ...target, endpoint: `http://127.0.0.1:${port}` }, { retry: false, signal: controller.signal }))
      assert.equal(outcome, 'rejected')
      assert.equal(value, reason)
      assert.ok(ms < 3000, `rejected ${Math.round(ms)} ms after the start (abort at 300 ms)`)
    } finally {
      child.kill()
    }
  })
})

describe('uploadAll passes committing on, per file', () => {
  test('each file: committing between its part-started and its file-done (it was dropped: cp -r could not tell a commit was under way)', async () => {
    const { transport } = reading(undefined, async () => ({ statusCode: 200, headers: { etag: '"0123456789abcdef0123456789abcdef"' }, body: Object.assign((async function* () {})(), { dump: async () => {} }) }))
    const events: string[] = []
    const result = await uploadAll(
      [
        { key: 'a', source: new Uint8Array(10) },
        { key: 'b', source: new Uint8Array(2 * MiB) },
      ],
      { bucket: 'bkt', endpoint: target.endpoint, credentials: target.credentials },
      { transport, retry: false, concurrency: 1, onProgress: (e: UploadAllProgress) => events.push(`${e.type}${'key' in e ? ` ${e.key}` : ''}`) },
    )
    assert.equal(result.failed, 0)
    assert.deepEqual(events.filter((e) => e.startsWith('committing')), ['committing a', 'committing b'])
    assert.ok(events.indexOf('committing a') < events.findIndex((e) => e.startsWith('file-done')), 'before its file-done')
  })
})

