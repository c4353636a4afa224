// How the signer takes answers a real S3 does not give but a broken server or a proxy does: an
// in-process node:http server plays them, through the default (undici) transport.
import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { after, before, describe, test } from 'node:test'
import { inspect } from 'node:util'
import { createS3Context, getObject, NetworkError, S3ResponseError, upload, type Credentials } from '../src/index.ts'
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
