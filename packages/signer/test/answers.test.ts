// How the signer takes answers a real S3 does not give but a broken server or a proxy does: an
// in-process node:http server plays them, through the default (undici) transport.
import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { after, before, describe, test } from 'node:test'
import { inspect } from 'node:util'
import { createS3Context, getObject, headObject, NetworkError, putObject, S3ResponseError, upload, type Credentials, type Transport } from '../src/index.ts'
import { finishUpload } from '../src/upload/finish.ts'
import { failOnUnhandledRejections } from './fault/helpers.ts'
import { startStubServer, type StubRequest, type StubServer } from './stub-server.ts'

failOnUnhandledRejections()

const TEST = { timeout: 20_000 }
const credentials: Credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }

let server: StubServer
let handler: (req: StubRequest, res: ServerResponse) => void = () => {}
before(async () => {
  server = await startStubServer((req, res) => handler(req, res))
})
after(() => server.close())

describe('answers from a broken server or a proxy', () => {
  test('a GetObject body cut mid-stream (undici): NetworkError, as with fetch, not undici’s own SocketError', TEST, async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-length': '1000' })
      res.write(Buffer.alloc(100))
      setTimeout(() => res.destroy(), 50)
    }
    const ctx = createS3Context({ bucket: 'bkt', endpoint: server.endpoint, credentials }, { retry: false })
    try {
      const { body } = await getObject(ctx, { key: 'k' })
      let read = 0
      await assert.rejects(
        (async () => {
          for await (const chunk of body) read += chunk.byteLength
        })(),
        (e: unknown) => {
          assert.ok(e instanceof NetworkError, `NetworkError, got ${inspect(e)}`)
          assert.equal(e.code, 'ERR_PARTSTREAM_NETWORK')
          return true
        },
      )
      assert.equal(read, 100)
    } finally {
      await ctx.close()
    }
  })

  // The socket gate is the undici pool's (`connections`); Bun's fetch has no such queue to wait in.
  const BUN = typeof (globalThis as { Bun?: unknown }).Bun === 'object'
  if (!BUN) test('a Complete still waiting for a socket when the abort comes is never sent: the commit grace is for a request in flight only', TEST, async () => {
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    const seen: string[] = []
    handler = (req, res) => {
      seen.push(`${req.method} ${req.url}`)
      if (req.method === 'PUT') void held.then(() => res.writeHead(200, { etag: '"0123456789abcdef0123456789abcdef"' }).end())
      else res.writeHead(200).end(`<CompleteMultipartUploadResult><ETag>"${'b'.repeat(32)}-1"</ETag></CompleteMultipartUploadResult>`)
    }
    // One socket, taken by a PutObject the server holds: the Complete queues behind it.
    const ctx = createS3Context({ bucket: 'bkt', endpoint: server.endpoint, credentials }, { retry: false, connections: 1 })
    try {
      const first = putObject(ctx, { chunks: [new Uint8Array(1)], byteLength: 1, sha256: undefined }, { key: 'hold' })
      while (seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
      const user = new AbortController()
      const parts = [{ partNumber: 1, etag: 'a'.repeat(32), size: 1 }]
      const finishing = finishUpload(ctx, { key: 'k', uploadId: 'u1', parts, size: 1, ifNoneMatch: false, checksumAlgorithm: undefined, compositeEtag: true, signal: user.signal })
      setTimeout(() => user.abort(new Error('stop')), 50)
      setTimeout(release, 200) // the socket frees after the abort, well within a grace
      await assert.rejects(finishing, { message: 'stop' })
      await first
      await new Promise((resolve) => setTimeout(resolve, 300))
      assert.deepEqual(seen, ['PUT /bkt/hold'], 'the Complete never reached the server')
    } finally {
      await ctx.close()
    }
  })

  test('a transport whose answer body never ends (and that ignores the signal): idleTimeoutMs still ends the attempt; a 200 is kept', TEST, async () => {
    // dump() and the error body were read without the attempt's signal: the upload hung for ever.
    const stuck = { async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> { await new Promise(() => {}) }, dump: () => new Promise<void>(() => {}) }
    const failing: Transport = async () => ({ statusCode: 503, headers: {}, body: stuck })
    const started = Date.now()
    await assert.rejects(upload(new Uint8Array(10), { bucket: 'bkt', key: 'k', endpoint: 'http://127.0.0.1:9', credentials }, { transport: failing, idleTimeoutMs: 300, retry: false }), /No progress for 300 ms/)
    assert.ok(Date.now() - started < 3000)
    const written: Transport = async () => ({ statusCode: 200, headers: { etag: '"0123456789abcdef0123456789abcdef"' }, body: stuck })
    const result = await upload(new Uint8Array(10), { bucket: 'bkt', key: 'k', endpoint: 'http://127.0.0.1:9', credentials }, { transport: written, idleTimeoutMs: 300, retry: false })
    assert.equal(result.etag, '0123456789abcdef0123456789abcdef')
  })

  test('a GetObject body dropped after its first chunk: its timer still fires, its socket is freed and ctx.close() settles', TEST, async () => {
    // While the reader held a chunk the timer was paused: a body dropped then kept the process
    // alive for ever, and ctx.close() never settled.
    handler = (req, res) => {
      if (req.method === 'HEAD') return void res.writeHead(200, { 'content-length': '3' }).end()
      res.writeHead(200, { 'content-length': '100000' })
      res.write(Buffer.alloc(1000)) // and nothing more
    }
    const ctx = createS3Context({ bucket: 'bkt', endpoint: server.endpoint, credentials }, { retry: false, idleTimeoutMs: 200, connections: 1 })
    let closed = false
    try {
      const { body } = await getObject(ctx, { key: 'dropped-later' })
      const first = await body[Symbol.asyncIterator]().next() // read one chunk, then drop the body
      assert.equal(first.done, false)
      await new Promise((resolve) => setTimeout(resolve, 500))
      const head = await Promise.race([headObject(ctx, { key: 'k' }), new Promise((resolve) => setTimeout(() => resolve('pending'), 2000))])
      assert.notEqual(head, 'pending', 'the slot of the dropped body was never given back')
    } finally {
      await Promise.race([ctx.close().then(() => (closed = true)), new Promise((resolve) => setTimeout(resolve, 3000))])
    }
    assert.ok(closed, 'ctx.close() did not settle')
  })

  test("a GetObject body left unread: once its idle timer fires, its socket slot is given back (the context's next request hung)", TEST, async () => {
    handler = (req, res) => {
      if (req.method === 'HEAD') return void res.writeHead(200, { 'content-length': '3' }).end()
      res.writeHead(200, { 'content-length': '1000' })
      res.write(Buffer.alloc(10)) // and nothing more
    }
    const ctx = createS3Context({ bucket: 'bkt', endpoint: server.endpoint, credentials }, { retry: false, idleTimeoutMs: 200, connections: 1 })
    try {
      await getObject(ctx, { key: 'dropped' }) // its body is never read nor returned
      await new Promise((resolve) => setTimeout(resolve, 500))
      const head = await Promise.race([headObject(ctx, { key: 'k' }), new Promise((resolve) => setTimeout(() => resolve('pending'), 2000))])
      assert.notEqual(head, 'pending', 'the slot of the dropped body was never given back')
    } finally {
      await ctx.close()
    }
  })

  test('a request waiting for a socket of the context is signed when it gets one, not before (its X-Amz-Date aged in the queue)', TEST, async () => {
    const ages: number[] = []
    handler = (req, res) => {
      const date = String(req.headers['x-amz-date'])
      const signedAt = Date.parse(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`)
      ages.push(Date.now() - signedAt)
      setTimeout(() => res.writeHead(200, { etag: '"0123456789abcdef0123456789abcdef"' }).end(), 1500)
    }
    const ctx = createS3Context({ bucket: 'bkt', endpoint: server.endpoint, credentials }, { retry: false, connections: 1 })
    try {
      const body = { chunks: [new Uint8Array(1)], byteLength: 1, sha256: new Uint8Array(32), checksum: undefined, md5: undefined }
      await Promise.all([putObject(ctx, body, { key: 'a' }), putObject(ctx, body, { key: 'b' }), putObject(ctx, body, { key: 'c' })])
      // X-Amz-Date has whole seconds: up to 1 s old when signed at once; the third waited 3 s.
      for (const age of ages) assert.ok(age < 1500, `signed ${age} ms before it was sent: ${ages.join(', ')}`)
    } finally {
      await ctx.close()
    }
  })

  test('Retry-After on a 503 or 429 is a floor for the backoff, as in the AWS SDK (capped at 20 s); none: the usual jitter', TEST, async () => {
    for (const [status, retryAfterOf] of [[503, () => '1'], [429, () => new Date(Date.now() + 2500).toUTCString()]] as const) {
      const retryAfter = retryAfterOf()
      const arrivals: number[] = []
      handler = (_req, res) => {
        arrivals.push(Date.now())
        if (arrivals.length === 1) return void res.writeHead(status, { 'retry-after': retryAfter }).end('<Error><Code>SlowDown</Code></Error>')
        res.writeHead(200, { etag: '"0123456789abcdef0123456789abcdef"' }).end()
      }
      const ctx = createS3Context({ bucket: 'bkt', endpoint: server.endpoint, credentials }, { retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 } })
      try {
        await putObject(ctx, { chunks: [new Uint8Array(1)], byteLength: 1, sha256: new Uint8Array(32), checksum: undefined, md5: undefined }, { key: 'k' })
      } finally {
        await ctx.close()
      }
      const waited = (arrivals[1] as number) - (arrivals[0] as number)
      // The HTTP date has whole seconds: at least ~1 s either way; a 1 ms backoff without it.
      assert.ok(waited >= 900, `retried ${waited} ms after a ${status} with Retry-After: ${retryAfter}`)
    }
  })

  test("an error in JSON (Ceph RGW's format for some refusals): its Code and Message are read, as from XML", TEST, async () => {
    handler = (_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json', 'x-amz-request-id': 'tx-json' })
      res.end(JSON.stringify({ Code: 'InvalidRequest', Message: 'bad key', RequestId: 'tx-json', HostId: 'h' }))
    }
    const ctx = createS3Context({ bucket: 'bkt', endpoint: server.endpoint, credentials }, { retry: false })
    try {
      await assert.rejects(putObject(ctx, { chunks: [new Uint8Array(1)], byteLength: 1, sha256: new Uint8Array(32), checksum: undefined, md5: undefined }, { key: 'k' }), (e: unknown) => {
        assert.ok(e instanceof S3ResponseError, inspect(e))
        assert.equal(e.statusCode, 400)
        assert.equal(e.s3Code, 'InvalidRequest')
        assert.match(e.message, /HTTP 400 InvalidRequest: bad key/)
        assert.equal(e.requestId, 'tx-json')
        assert.doesNotMatch(e.message, /not an S3 answer/)
        return true
      })
    } finally {
      await ctx.close()
    }
  })

  test('an error body that trickles (a byte every 50 ms) is read for idleTimeoutMs at most: the failure comes at once after', TEST, async () => {
    const timers: NodeJS.Timeout[] = []
    handler = (_req, res) => {
      res.writeHead(403, { 'content-type': 'application/xml' })
      res.write('<Error><Code>AccessDenied</Code><Message>')
      timers.push(setInterval(() => res.write('x'), 50))
    }
    const started = Date.now()
    try {
      await assert.rejects(upload(new Uint8Array(10), { bucket: 'bkt', key: 'k', endpoint: server.endpoint, credentials }, { retry: false, idleTimeoutMs: 1000 }), (e: unknown) => {
        assert.ok(e instanceof S3ResponseError, `S3ResponseError, got ${inspect(e)}`)
        assert.equal(e.statusCode, 403)
        assert.equal(e.s3Code, 'AccessDenied')
        return true
      })
      const took = Date.now() - started
      assert.ok(took < 3000, `settled after ${took} ms`)
    } finally {
      for (const t of timers) clearInterval(t)
    }
  })
})
