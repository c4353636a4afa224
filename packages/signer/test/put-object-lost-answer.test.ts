// PutObject with `ifNoneMatch` whose first answer is lost, where the ETag cannot say whose the
// object is: SSE-KMS ETags are not the body's MD5, and RGW 16 has neither KMS here nor object
// checksums, so an in-process server plays S3. It stores the first PutObject and drops the
// connection before answering, answers the retry 412, and HeadObject as the test says. What is
// checked: the object is ours when its size and the checksum S3 reports match; another writer's
// when either differs; unknown (a typed error that does not claim "nothing was written") when
// nothing can be compared. A 412 after an attempt that did nothing (429) is not read back.
import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { after, before, beforeEach, describe, test } from 'node:test'
import { checksumHash, createS3Context, ObjectExistsError, putObject, S3ResponseError, upload, type Credentials, type UploadOptions } from '../src/index.ts'
import { failOnUnhandledRejections } from './fault/helpers.ts'
import { startStubServer, type StubRequest, type StubServer } from './stub-server.ts'

failOnUnhandledRejections()

const TEST = { timeout: 20_000 }
const credentials: Credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }
const BODY = new TextEncoder().encode('hello, exactly once\n')
/** A KMS-style ETag: 32 hex digits, not the body's MD5. */
const KMS_ETAG = '7b0c1a2f3e4d5c6b7a8990a1b2c3d4e5'

let server: StubServer
let handler: (req: StubRequest, res: ServerResponse) => void = () => {}
const seen: StubRequest[] = []
before(async () => {
  server = await startStubServer((req, res) => {
    seen.push(req)
    handler(req, res)
  })
})
after(() => server.close())
beforeEach(() => {
  seen.length = 0
})

async function crc32Bytes(data: Uint8Array): Promise<Uint8Array> {
  const hasher = (checksumHash('CRC32') as NonNullable<ReturnType<typeof checksumHash>>)()
  hasher.update(data)
  return hasher.digest()
}

const crc32Of = async (data: Uint8Array): Promise<string> => Buffer.from(await crc32Bytes(data)).toString('base64')

interface Plan {
  /** How the first PutObject fails: its answer lost (the default), or a 429 (nothing written). */
  readonly first?: 'lost' | 429
  /** HeadObject's answer headers (status 200). */
  readonly head: Readonly<Record<string, string>>
}

/**
 * `connection: close` on every answer: each attempt gets a connection of its own. Bun's client
 * silently sends a request again when a pooled connection closes without an answer, so the lost
 * answer would not even reach the retry logic there.
 */
const CLOSE = { connection: 'close' }

function plays(plan: Plan): void {
  let puts = 0
  handler = (req, res) => {
    if (req.method === 'PUT' && ++puts === 1) {
      if (plan.first === 429) res.writeHead(429, { ...CLOSE, 'content-type': 'application/xml' }).end('<Error><Code>TooManyRequests</Code></Error>')
      else res.destroy() // stored, then the connection drops: the answer is lost
      return
    }
    if (req.method === 'PUT') {
      res.writeHead(412, { ...CLOSE, 'content-type': 'application/xml' }).end('<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>')
      return
    }
    if (req.method === 'HEAD') {
      res.writeHead(200, { ...CLOSE, ...plan.head }).end()
      return
    }
    res.writeHead(500, CLOSE).end()
  }
}

const target = (): { bucket: string; key: string; endpoint: string; credentials: Credentials } => ({ bucket: 'bkt', key: 'k', endpoint: server.endpoint, credentials })
const OPTIONS: UploadOptions = { ifNoneMatch: true, serverSideEncryption: 'aws:kms', retry: { attempts: 3, baseDelayMs: 1 } }
const kinds = (): string[] => seen.map((r) => r.method)

describe('ifNoneMatch PutObject, answer lost, ETag not an MD5 (SSE-KMS)', () => {
  test('no checksum to compare: the outcome is unknown, a typed error that says so (not ObjectExistsError)', TEST, async () => {
    plays({ head: { 'content-length': String(BODY.byteLength), etag: `"${KMS_ETAG}"`, 'x-amz-server-side-encryption': 'aws:kms' } })
    await assert.rejects(upload([BODY], target(), OPTIONS), (e: unknown) => {
      assert.ok(!(e instanceof ObjectExistsError), `not ObjectExistsError: ${String(e)}`)
      assert.ok(e instanceof S3ResponseError, String(e))
      assert.equal(e.statusCode, 412)
      assert.equal(e.s3Code, 'PreconditionFailed')
      assert.match(e.message, /cannot be told/)
      assert.match(e.message, /SSE-KMS/)
      assert.doesNotMatch(e.message, /nothing was written/)
      assert.ok(e.cause instanceof S3ResponseError && e.cause.statusCode === 412)
      return true
    })
    assert.deepEqual(kinds(), ['PUT', 'PUT', 'HEAD'])
  })

  test('the bucket encrypts with KMS by default (no option given): its ETag is not compared either', TEST, async () => {
    plays({ head: { 'content-length': String(BODY.byteLength), etag: `"${KMS_ETAG}"`, 'x-amz-server-side-encryption': 'aws:kms' } })
    await assert.rejects(upload([BODY], target(), { ...OPTIONS, serverSideEncryption: undefined }), (e: unknown) => {
      assert.ok(e instanceof S3ResponseError && !(e instanceof ObjectExistsError), String(e))
      assert.match(e.message, /cannot be told/)
      return true
    })
    assert.deepEqual(kinds(), ['PUT', 'PUT', 'HEAD'])
  })

  test('the checksum S3 reports is ours: the upload succeeds, with the ETag HeadObject gives', TEST, async () => {
    const crc = await crc32Of(BODY)
    plays({ head: { 'content-length': String(BODY.byteLength), etag: `"${KMS_ETAG}"`, 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-checksum-crc32': crc, 'x-amz-version-id': 'v1' } })
    const result = await upload([BODY], target(), { ...OPTIONS, checksum: 'CRC32' })
    assert.equal(result.etag, KMS_ETAG)
    assert.equal(result.versionId, 'v1')
    assert.deepEqual(result.checksum, { algorithm: 'CRC32', type: 'FULL_OBJECT', value: crc })
    assert.deepEqual(kinds(), ['PUT', 'PUT', 'HEAD'])
    assert.equal(seen[2]?.headers['x-amz-checksum-mode'], 'ENABLED', 'the HeadObject asks for the checksum')
  })

  test('low-level putObject: the same, `reconciled: true`', TEST, async () => {
    const crc = await crc32Of(BODY)
    plays({ head: { 'content-length': String(BODY.byteLength), etag: `"${KMS_ETAG}"`, 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-checksum-crc32': crc } })
    const ctx = createS3Context({ bucket: 'bkt', endpoint: server.endpoint, credentials }, { retry: { attempts: 3, baseDelayMs: 1 } })
    try {
      const body = { chunks: [BODY], byteLength: BODY.byteLength, sha256: undefined, checksum: await crc32Bytes(BODY) }
      const put = await putObject(ctx, body, { key: 'k', ifNoneMatch: true, serverSideEncryption: 'aws:kms', checksumAlgorithm: 'CRC32' })
      assert.deepEqual(put, { etag: KMS_ETAG, versionId: undefined, checksum: crc, reconciled: true })
    } finally {
      await ctx.close()
    }
  })

  test('the checksum S3 reports differs: another writer\'s object, ObjectExistsError', TEST, async () => {
    plays({ head: { 'content-length': String(BODY.byteLength), etag: `"${KMS_ETAG}"`, 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-checksum-crc32': 'AAAAAA==' } })
    await assert.rejects(upload([BODY], target(), { ...OPTIONS, checksum: 'CRC32' }), ObjectExistsError)
    assert.deepEqual(kinds(), ['PUT', 'PUT', 'HEAD'])
  })

  test('the size differs: another writer\'s object, ObjectExistsError', TEST, async () => {
    plays({ head: { 'content-length': String(BODY.byteLength + 1), etag: `"${KMS_ETAG}"`, 'x-amz-server-side-encryption': 'aws:kms' } })
    await assert.rejects(upload([BODY], target(), OPTIONS), ObjectExistsError)
    assert.deepEqual(kinds(), ['PUT', 'PUT', 'HEAD'])
  })

  test('a multipart object (ETag with -N) is never one PutObject: ObjectExistsError', TEST, async () => {
    plays({ head: { 'content-length': String(BODY.byteLength), etag: `"${KMS_ETAG}-2"`, 'x-amz-server-side-encryption': 'aws:kms' } })
    await assert.rejects(upload([BODY], target(), OPTIONS), ObjectExistsError)
    assert.deepEqual(kinds(), ['PUT', 'PUT', 'HEAD'])
  })

  test('a 412 after an attempt that did nothing (429): ObjectExistsError, nothing read back', TEST, async () => {
    plays({ first: 429, head: { 'content-length': String(BODY.byteLength), etag: `"${KMS_ETAG}"` } })
    await assert.rejects(upload([BODY], target(), OPTIONS), ObjectExistsError)
    assert.deepEqual(kinds(), ['PUT', 'PUT'])
  })
})
