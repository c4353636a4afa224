// ctx.close() with requests of the context not settled yet: those made before it complete, wherever
// they wait (a socket of the context's own pool, the retry backoff, the credentials), and close()
// settles after them; a request made after it is an InvalidArgumentError. An in-process node:http
// server plays S3, through the default (undici) transport.
import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { after, before, describe, test } from 'node:test'
import { createS3Context, headObject, InvalidArgumentError, type Credentials, type S3Context } from '../src/index.ts'
import { failOnUnhandledRejections } from './fault/helpers.ts'
import { startStubServer, type StubRequest, type StubServer } from './stub-server.ts'

failOnUnhandledRejections()

const TEST = { timeout: 20_000 }
const credentials: Credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }
const ETAG = '"0123456789abcdef0123456789abcdef"'

let server: StubServer
let handler: (req: StubRequest, res: ServerResponse) => void = () => {}
before(async () => {
  server = await startStubServer((req, res) => handler(req, res))
})
after(() => server.close())

/** A promise and its resolve function. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

/** What settled, in order: `label`, or `label: <error code or message>`. */
function recorder(): { log: string[]; track: (label: string, promise: Promise<unknown>) => Promise<void> } {
  const log: string[] = []
  const track = (label: string, promise: Promise<unknown>): Promise<void> =>
    promise.then(
      () => void log.push(label),
      (error: unknown) => void log.push(`${label}: ${(error as { code?: string }).code ?? String(error)}`),
    )
  return { log, track }
}

/** A request after close() is refused as the README says: typed, before any I/O. */
async function assertRefusedAfterClose(ctx: S3Context): Promise<void> {
  await assert.rejects(headObject(ctx, { key: 'late' }), (e: unknown) => {
    assert.ok(e instanceof InvalidArgumentError, String(e))
    assert.match(e.message, /HeadObject on an S3 context that is closed/)
    return true
  })
}

describe('ctx.close() with requests not settled yet', () => {
  test('requests queued for a socket of the pool (`connections`) are sent, and close() settles after them', TEST, async () => {
    const first = deferred()
    const release = deferred()
    const seen: string[] = []
    handler = (req, res) => {
      seen.push(req.url)
      first.resolve()
      if (req.url === '/bkt/k1') void release.promise.then(() => res.writeHead(200, { etag: ETAG, 'content-length': '0' }).end())
      else res.writeHead(200, { etag: ETAG, 'content-length': '0' }).end()
    }
    const ctx = createS3Context({ bucket: 'bkt', endpoint: server.endpoint, credentials }, { retry: false, connections: 1 })
    const { log, track } = recorder()
    const requests = [1, 2, 3].map((n) => track(`k${n}`, headObject(ctx, { key: `k${n}` })))
    await first.promise // k1 holds the only socket; k2 and k3 wait in the context's gate
    const closing = track('close', ctx.close())
    release.resolve()
    await Promise.all([...requests, closing])
    assert.deepEqual(log.slice().sort(), ['close', 'k1', 'k2', 'k3'])
    assert.equal(log.at(-1), 'close', 'close() settled after the requests made before it')
    assert.deepEqual(seen.slice().sort(), ['/bkt/k1', '/bkt/k2', '/bkt/k3'])
    await assertRefusedAfterClose(ctx)
  })

  test('a request in its retry backoff is retried, and close() settles after it', TEST, async () => {
    let count = 0
    handler = (_req, res) => {
      count++
      if (count === 1) res.writeHead(500, { 'content-length': '0' }).end()
      else res.writeHead(200, { etag: ETAG, 'content-length': '0' }).end()
    }
    const ctx = createS3Context({ bucket: 'bkt', endpoint: server.endpoint, credentials }, { retry: { attempts: 3, baseDelayMs: 200, maxDelayMs: 200 } })
    const { log, track } = recorder()
    let closing: Promise<void> | undefined
    // onRetry runs just before the backoff sleep: close() comes while the request waits in it.
    const request = track('head', headObject(ctx, { key: 'k', onRetry: () => void (closing ??= track('close', ctx.close())) }))
    await request
    await closing
    assert.deepEqual(log, ['head', 'close'])
    assert.equal(count, 2)
    await assertRefusedAfterClose(ctx)
  })

  test('a request waiting for its credentials is signed and sent, and close() settles after it', TEST, async () => {
    handler = (_req, res) => res.writeHead(200, { etag: ETAG, 'content-length': '0' }).end()
    const asked = deferred()
    const answer = deferred<Credentials>()
    const provider = (): Promise<Credentials> => {
      asked.resolve()
      return answer.promise
    }
    const ctx = createS3Context({ bucket: 'bkt', endpoint: server.endpoint, credentials: provider }, { retry: false })
    const { log, track } = recorder()
    const request = track('head', headObject(ctx, { key: 'k' }))
    await asked.promise
    const closing = track('close', ctx.close())
    answer.resolve(credentials)
    await Promise.all([request, closing])
    assert.deepEqual(log, ['head', 'close'])
    await assertRefusedAfterClose(ctx)
  })

  test('close() twice gives the same promise; with nothing in flight it settles at once', TEST, async () => {
    const ctx = createS3Context({ bucket: 'bkt', endpoint: server.endpoint, credentials })
    const closing = ctx.close()
    assert.equal(ctx.close(), closing)
    await closing
  })
})
