// Resuming an upload created with a checksum, without S3: an in-process node:http server answers
// as AWS does. Its ListParts names the upload's own <ChecksumAlgorithm> and <ChecksumType> (also
// when it holds no part yet: a crash right after Create), UploadPart refuses a part whose checksum
// is not the upload's (InvalidRequest), and Complete refuses an object checksum of another type
// (BadDigest). Ceph RGW 16 reports none of these, so this cannot be shown against it.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import { createS3Context, InvalidArgumentError, listParts, upload, type ChecksumAlgorithm, type S3Context, type UploadProgress } from '../src/index.ts'
import { failOnUnhandledRejections } from './fault/helpers.ts'
import { startStubServer, type StubRequest, type StubServer } from './stub-server.ts'

failOnUnhandledRejections()

const TEST = { timeout: 20_000 }
const MiB = 1024 * 1024
const PART = 5 * MiB
const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }
const ALGORITHMS = ['CRC64NVME', 'CRC32C', 'CRC32', 'SHA1', 'SHA256'] as const

/** The upload the server holds: what it was created with (as ListParts reports it), and its parts. */
interface FakeUpload {
  algorithm?: string | undefined
  type?: string | undefined
  /** `false`: ListParts leaves the top-level elements out (a server that reports only per-part checksums). */
  reportTop?: boolean
  parts: Map<number, { etag: string; size: number; checksum?: { algorithm: string; value: string } | undefined }>
}

let server: StubServer
let current: FakeUpload
const kinds: string[] = []

function kindOf(req: StubRequest, url: URL): string {
  if (req.method === 'GET') return 'ListParts'
  if (req.method === 'PUT') return 'UploadPart'
  if (req.method === 'POST') return url.searchParams.has('uploads') ? 'Create' : 'Complete'
  if (req.method === 'DELETE') return 'Abort'
  return req.method
}

function answer(res: Parameters<Parameters<typeof startStubServer>[0]>[1], status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/xml', ...headers }).end(body)
}

const error = (code: string, message: string): string => `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`
const md5 = (bytes: Uint8Array): Buffer => createHash('md5').update(bytes).digest()

before(async () => {
  server = await startStubServer((req, res) => {
    const url = new URL(req.url, 'http://fake')
    const kind = kindOf(req, url)
    kinds.push(kind)
    const up = current
    if (kind === 'ListParts') {
      let xml = '<?xml version="1.0" encoding="UTF-8"?><ListPartsResult><Bucket>bkt</Bucket><Key>obj</Key><UploadId>up1</UploadId>'
      if (up.reportTop !== false && up.algorithm !== undefined) xml += `<ChecksumAlgorithm>${up.algorithm}</ChecksumAlgorithm>`
      if (up.reportTop !== false && up.type !== undefined) xml += `<ChecksumType>${up.type}</ChecksumType>`
      xml += '<IsTruncated>false</IsTruncated>'
      for (const [n, p] of [...up.parts].sort((a, b) => a[0] - b[0])) {
        const checksum = p.checksum === undefined ? '' : `<Checksum${p.checksum.algorithm}>${p.checksum.value}</Checksum${p.checksum.algorithm}>`
        xml += `<Part><PartNumber>${n}</PartNumber><ETag>"${p.etag}"</ETag><Size>${p.size}</Size>${checksum}</Part>`
      }
      return answer(res, 200, `${xml}</ListPartsResult>`)
    }
    if (kind === 'UploadPart') {
      // AWS: "Checksum Type mismatch occurred, expected checksum Type: sha256, actual checksum Type: null".
      const sent = ALGORITHMS.find((a) => req.headers[`x-amz-checksum-${a.toLowerCase()}`] !== undefined)
      if (sent !== up.algorithm) {
        return answer(res, 400, error('InvalidRequest', `Checksum Type mismatch occurred, expected checksum Type: ${up.algorithm?.toLowerCase() ?? 'null'}, actual checksum Type: ${sent?.toLowerCase() ?? 'null'}`))
      }
      const etag = md5(req.body).toString('hex')
      const value = sent === undefined ? undefined : String(req.headers[`x-amz-checksum-${sent.toLowerCase()}`])
      up.parts.set(Number(url.searchParams.get('partNumber')), { etag, size: req.body.length, checksum: sent === undefined ? undefined : { algorithm: sent, value: value as string } })
      return answer(res, 200, '', { etag: `"${etag}"` })
    }
    if (kind === 'Complete') {
      // AWS: a checksum type that is not the one given to CreateMultipartUpload is a BadDigest.
      const type = req.headers['x-amz-checksum-type']
      if (type !== undefined && type !== up.type) return answer(res, 400, error('BadDigest', `The upload was created using the ${up.type} checksum mode.`))
      const numbers = [...req.body.toString('utf8').matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) => Number(m[1]))
      const etags = Buffer.concat(numbers.map((n) => Buffer.from(up.parts.get(n)?.etag ?? '', 'hex')))
      return answer(res, 200, `<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult><ETag>"${md5(etags).toString('hex')}-${numbers.length}"</ETag></CompleteMultipartUploadResult>`)
    }
    if (kind === 'Abort') return res.writeHead(204).end()
    return answer(res, 400, error('NotImplemented', kind))
  })
})
after(async () => {
  await server.close()
})

beforeEach(() => {
  kinds.length = 0
})

const target = (): { bucket: string; key: string; endpoint: string; region: string; credentials: typeof credentials } => ({
  bucket: 'bkt',
  key: 'obj',
  endpoint: server.endpoint,
  region: 'us-east-1',
  credentials,
})
const data = Buffer.alloc(11 * MiB, 7)
const shown = (algorithm: ChecksumAlgorithm | undefined): string => (algorithm === undefined ? 'undefined' : `'${algorithm}'`)

describe('listParts: the upload’s own checksum algorithm and type', () => {
  let ctx: S3Context
  beforeEach(() => {
    ctx = createS3Context({ ...target(), key: undefined }, { retry: false })
  })
  afterEach(() => ctx.close())

  test('reported at the top level even with no part stored: on the result, beside the parts', TEST, async () => {
    current = { algorithm: 'CRC32', type: 'COMPOSITE', parts: new Map() }
    const listed = await listParts(ctx, 'up1', { key: 'obj' })
    assert.equal(listed.length, 0)
    assert.equal(listed.checksumAlgorithm, 'CRC32')
    assert.equal(listed.checksumType, 'COMPOSITE')
  })

  test('a per-part checksum is not taken for the upload’s; none reported (Ceph RGW 16): both undefined, a plain array', TEST, async () => {
    current = { algorithm: 'SHA256', reportTop: false, parts: new Map([[1, { etag: 'a'.repeat(32), size: 3, checksum: { algorithm: 'SHA256', value: 'x' } }]]) }
    const listed = await listParts(ctx, 'up1', { key: 'obj' })
    assert.deepEqual(listed, [{ partNumber: 1, etag: 'a'.repeat(32), size: 3, checksum: 'x', checksumAlgorithm: 'SHA256' }])
    assert.equal(listed.checksumAlgorithm, undefined)
    assert.equal(listed.checksumType, undefined)
  })
})

describe('resume: the upload’s own checksum algorithm and type, checked before any part is sent', () => {
  for (const [created, type, resumed] of [
    ['CRC32', 'FULL_OBJECT', 'SHA256'],
    ['SHA256', 'COMPOSITE', undefined],
    ['CRC64NVME', 'FULL_OBJECT', 'CRC32C'],
  ] as const) {
    test(`created with ${created} ${type}, no part stored yet, resumed with checksum ${shown(resumed)}: InvalidArgumentError naming both, only ListParts sent`, TEST, async () => {
      current = { algorithm: created, type, parts: new Map() }
      await assert.rejects(upload(data, target(), { partSize: PART, checksum: resumed, resumeUploadId: 'up1', retry: false }), (e: unknown) => {
        assert.ok(e instanceof InvalidArgumentError, String(e))
        assert.match(e.message, new RegExp(`^Upload up1 was created with checksum ${created} .*got \`checksum: ${shown(resumed)}\``))
        assert.match(e.message, new RegExp(`Resume it with \`checksum: '${created}'\``))
        return true
      })
      assert.deepEqual(kinds, ['ListParts'], 'nothing sent, the upload not aborted')
    })
  }

  test('an algorithm partstream does not compute (S3 has added others): refused, named, with what to do', TEST, async () => {
    current = { algorithm: 'XXHASH64', type: 'FULL_OBJECT', parts: new Map() }
    await assert.rejects(upload(data, target(), { partSize: PART, checksum: 'CRC64NVME', resumeUploadId: 'up1', retry: false }), (e: unknown) => {
      assert.ok(e instanceof InvalidArgumentError, String(e))
      assert.match(e.message, /^Upload up1 was created with checksum XXHASH64 .*got `checksum: 'CRC64NVME'`.*partstream cannot compute XXHASH64/)
      return true
    })
    assert.deepEqual(kinds, ['ListParts'])
  })

  test('created with CRC32 COMPOSITE (S3’s default type for CRC32), resumed with checksum CRC32: refused before any part, not completed as FULL_OBJECT', TEST, async () => {
    current = { algorithm: 'CRC32', type: 'COMPOSITE', parts: new Map() }
    await assert.rejects(upload(data, target(), { partSize: PART, checksum: 'CRC32', resumeUploadId: 'up1', retry: false }), (e: unknown) => {
      assert.ok(e instanceof InvalidArgumentError, String(e))
      assert.match(e.message, /^Upload up1 was created with checksum CRC32 of type COMPOSITE.*`checksum: 'CRC32'` completes it as FULL_OBJECT/)
      assert.match(e.message, /Abort it and upload afresh, or finish it with the low-level operations .*`checksumType: 'COMPOSITE'`/)
      return true
    })
    assert.deepEqual(kinds, ['ListParts'])
  })

  test('the same algorithm and type, no part stored: every part sent, completed, the upload-resumed event', TEST, async () => {
    current = { algorithm: 'CRC32', type: 'FULL_OBJECT', parts: new Map() }
    const events: UploadProgress[] = []
    const result = await upload(data, target(), { partSize: PART, checksum: 'CRC32', resumeUploadId: 'up1', retry: false, onProgress: (e) => events.push(e) })
    assert.deepEqual(kinds, ['ListParts', 'UploadPart', 'UploadPart', 'UploadPart', 'Complete'])
    assert.equal(result.checksum?.type, 'FULL_OBJECT')
    assert.equal(result.checksum?.algorithm, 'CRC32')
    assert.deepEqual(events.find((e) => e.type === 'upload-resumed'), { type: 'upload-resumed', uploadId: 'up1', storedParts: 0 })
  })

  test('an algorithm reported without a type (a server that predates checksum types): the algorithm alone is checked', TEST, async () => {
    current = { algorithm: 'SHA256', type: undefined, parts: new Map() }
    await upload(data, target(), { partSize: PART, checksum: 'SHA256', resumeUploadId: 'up1', retry: false })
    assert.deepEqual(kinds, ['ListParts', 'UploadPart', 'UploadPart', 'UploadPart', 'Complete'])
  })

  test('no algorithm reported (Ceph RGW 16 ignores checksums; or an upload created without): resumed with any checksum, as before', TEST, async () => {
    current = { algorithm: 'CRC64NVME', type: 'FULL_OBJECT', reportTop: false, parts: new Map() }
    await upload(data, target(), { partSize: PART, checksum: 'CRC64NVME', resumeUploadId: 'up1', retry: false })
    assert.deepEqual(kinds, ['ListParts', 'UploadPart', 'UploadPart', 'UploadPart', 'Complete'])
  })

  test('only stored parts name the algorithm (no top-level elements): still refused, as before', TEST, async () => {
    current = { algorithm: 'CRC32', reportTop: false, parts: new Map([[1, { etag: 'a'.repeat(32), size: PART, checksum: { algorithm: 'CRC32', value: 'AAAAAA==' } }]]) }
    await assert.rejects(
      upload(data, target(), { partSize: PART, checksum: 'SHA1', resumeUploadId: 'up1', retry: false }),
      (e: unknown) => e instanceof InvalidArgumentError && /^Upload up1 was created with checksum CRC32 .*Resume it with `checksum: 'CRC32'`/.test(e.message),
    )
    assert.deepEqual(kinds, ['ListParts'])
  })
})
