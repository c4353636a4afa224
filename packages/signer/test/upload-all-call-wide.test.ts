// uploadAll stops at an error no other file can escape (wrong credentials, no such bucket, a
// server that never answers) instead of failing every file the same way, one by one; an error
// that may be about one key (AccessDenied, or a signature mismatch once a file went through) lets
// the others go on. Against an in-process node:http server that answers S3 errors.
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { AbortFailedError, CredentialsError, S3ResponseError, uploadAll, type Credentials, type FileResult, type UploadEntry } from '../src/index.ts'
import { stopsTheCall } from '../src/upload-all.ts'
import { failOnUnhandledRejections } from './fault/helpers.ts'
import { startStubServer, type StubRequest, type StubServer } from './stub-server.ts'

failOnUnhandledRejections()

const TEST = { timeout: 20_000 }
const FILES = 40
const credentials: Credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }

/** What the server answers a request: 200 with an ETag, or an S3 error of `status` and `code`. */
let answer: (req: StubRequest) => { status: number; code?: string } = () => ({ status: 200 })
let requests: string[] = []
let server: StubServer
before(async () => {
  server = await startStubServer((req, res) => {
    requests.push(`${req.method} ${req.url}`)
    const { status, code } = answer(req)
    if (status === 200) return void res.writeHead(200, { etag: '"0123456789abcdef0123456789abcdef"' }).end()
    res.writeHead(status, { 'content-type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>refused</Message></Error>`)
  })
})
after(() => server.close())

function entries(count = FILES, prefix = 'f'): UploadEntry[] {
  return Array.from({ length: count }, (_, i) => ({ key: `${prefix}/${i}`, source: new Uint8Array(16) }))
}

/** uploadAll of `list` against the server, with the files settled on the way. */
async function run(list: UploadEntry[], extra: { concurrency?: number; failFast?: boolean; credentials?: Credentials | (() => Promise<Credentials>); endpoint?: string } = {}) {
  requests = []
  const settled: FileResult[] = []
  const { credentials: creds = credentials, endpoint = server.endpoint, ...options } = extra
  const promise = uploadAll(list, { bucket: 'bkt', endpoint, credentials: creds }, { ...options, retry: { attempts: 2, baseDelayMs: 1 }, onFile: (f) => void settled.push(f) })
  return { promise, settled }
}

describe('uploadAll: an error every file would meet stops the call', () => {
  for (const code of ['InvalidAccessKeyId', 'NoSuchBucket', 'ExpiredToken', 'RequestTimeTooSkewed'] as const) {
    test(`${code}: rejects with it after the files in flight, not once per file (failFast: false too)`, TEST, async () => {
      answer = () => ({ status: code === 'NoSuchBucket' ? 404 : 403, code })
      const { promise, settled } = await run(entries(), { failFast: false })
      await assert.rejects(promise, (error: unknown) => error instanceof S3ResponseError && error.s3Code === code)
      assert.ok(settled.length <= 5, `${settled.length} files settled`)
      // concurrency + 1 files are open at once; RequestTimeTooSkewed is retried once after correcting the clock.
      assert.ok(requests.length <= 10, `${requests.length} requests for ${FILES} files`)
    })
  }

  test('SignatureDoesNotMatch before any file went through (a wrong secret): stops', TEST, async () => {
    answer = () => ({ status: 403, code: 'SignatureDoesNotMatch' })
    const { promise, settled } = await run(entries())
    await assert.rejects(promise, { name: 'S3ResponseError', s3Code: 'SignatureDoesNotMatch' })
    assert.ok(settled.length <= 5, `${settled.length} files settled`)
  })

  test('SignatureDoesNotMatch once a file went through (the secret works; the key is the matter): the others go on', TEST, async () => {
    answer = (req) => (req.url.includes('/bad/') ? { status: 403, code: 'SignatureDoesNotMatch' } : { status: 200 })
    const { promise, settled } = await run([...entries(1, 'ok'), ...entries(10, 'bad'), ...entries(3, 'ok2')], { concurrency: 1 })
    const result = await promise
    assert.equal(result.failed, 10)
    assert.equal(result.succeeded, 4)
    assert.equal(settled.length, 14)
  })

  test('AccessDenied (a policy may name keys): every file is tried', TEST, async () => {
    answer = () => ({ status: 403, code: 'AccessDenied' })
    const { promise } = await run(entries())
    const result = await promise
    assert.equal(result.failed, FILES)
    assert.equal(requests.length, FILES)
  })

  test('no answer after the retries (nothing listens) before any file went through: stops', TEST, async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const { promise, settled } = await run(entries(), { endpoint: `http://127.0.0.1:${port}` })
    await assert.rejects(promise, (error: unknown) => error instanceof S3ResponseError && error.statusCode === 0)
    assert.ok(settled.length <= 5, `${settled.length} files settled`)
  })

  test('credentials that cannot be resolved: CredentialsError once, nothing sent', TEST, async () => {
    answer = () => ({ status: 200 })
    let calls = 0
    const { promise, settled } = await run(entries(), {
      credentials: async () => {
        calls++
        throw new Error('vault unreachable')
      },
    })
    await assert.rejects(promise, CredentialsError)
    assert.equal(requests.length, 0)
    assert.ok(settled.length <= 5, `${settled.length} files settled`)
    assert.ok(calls <= 5, `the provider was asked ${calls} times`)
  })
})

describe('stopsTheCall', () => {
  const s3 = (statusCode: number, s3Code?: string): S3ResponseError => new S3ResponseError({ statusCode, s3Code, operation: 'PutObject' })
  test('judges an AbortFailedError by the error that started it', () => {
    assert.equal(stopsTheCall(new AbortFailedError(s3(403, 'InvalidAccessKeyId'), s3(403, 'InvalidAccessKeyId'), 'u1'), true), true)
    assert.equal(stopsTheCall(new AbortFailedError(s3(500, 'InternalError'), s3(403, 'InvalidAccessKeyId'), 'u1'), false), false)
  })
  test('a server error, a part checksum refused, or a network error after a success: the others go on', () => {
    assert.equal(stopsTheCall(s3(500, 'InternalError'), false), false)
    assert.equal(stopsTheCall(s3(400, 'BadDigest'), false), false)
    assert.equal(stopsTheCall(s3(0), true), false)
    assert.equal(stopsTheCall(s3(403, 'SignatureDoesNotMatch'), true), false)
    assert.equal(stopsTheCall(new Error('source failed'), false), false)
  })
})
