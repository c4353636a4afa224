// Checksums (`checksum`, `contentMd5`) against Ceph RGW with every request captured, bodies
// included. RGW 16 ignores `x-amz-checksum-*`, so the server cannot vouch for the values: the
// capture does. Each header and the Complete body are checked against the bytes that went on the
// wire, with the AWS SDK's own implementations (@aws-crypto/crc32, @aws-crypto/crc32c,
// @aws-sdk/crc64-nvme) and node:crypto, and the whole-object CRC against the CRC of the
// concatenated part bodies (not our combination math). Flipping one captured byte makes the
// check fail, so it is not vacuous. Echoed checksums that differ, and resume's checksum rules, go
// through a transport that rewrites the server's answers.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { AwsCrc32 } from '@aws-crypto/crc32'
import { AwsCrc32c } from '@aws-crypto/crc32c'
import { Crc64Nvme } from '@aws-sdk/crc64-nvme'
import { Agent } from 'undici'
import { bufferParts } from '@partstream/core'
import {
  checksumHash,
  createMultipartUpload,
  createS3Context,
  fetchTransport,
  IntegrityError,
  InvalidArgumentError,
  undiciTransport,
  upload,
  uploadFile,
  uploadPart,
  type ChecksumAlgorithm,
  type Transport,
  type TransportRequest,
  type TransportResponse,
  type UploadOptions,
  type UploadResult,
} from '../../src/index.ts'
import { fixedChunks, textBody } from '../fault/helpers.ts'
import { createBucket, getObject, openUploads, randomChunks, randomData, sha256, target } from './s3.ts'

const MiB = 1024 * 1024
const ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC64NVME', 'CRC32C', 'CRC32', 'SHA1', 'SHA256']
let bucket: string
const dir = mkdtempSync(join(tmpdir(), 'partstream-checksums-'))
before(async () => {
  bucket = await createBucket('sums')
})
after(() => rmSync(dir, { recursive: true, force: true }))

/** Bun's `undici` import cannot send (see transport/resolve.ts): use fetch there, undici elsewhere. */
const BUN = typeof (globalThis as { Bun?: unknown }).Bun === 'object'

/** One request as it went out: what was signed and sent, and a copy of its body bytes. */
interface Sent {
  readonly req: TransportRequest
  readonly body: Buffer
}

/** A transport that records every request with a copy of its body, then sends it (optionally rewriting the answer). */
function recording(rewrite?: (req: TransportRequest, res: TransportResponse) => Promise<TransportResponse>): {
  transport: Transport
  sent: Sent[]
  close(): Promise<void>
} {
  const agent = BUN ? undefined : new Agent()
  const inner = agent === undefined ? fetchTransport() : undiciTransport(agent)
  const sent: Sent[] = []
  return {
    sent,
    transport: async (req) => {
      const chunks: Buffer[] = []
      const body = req.body
      const copying =
        body === null
          ? null
          : body instanceof Uint8Array
            ? (chunks.push(Buffer.from(body)), body)
            : (function* () {
                for (const chunk of body) {
                  chunks.push(Buffer.from(chunk))
                  yield chunk
                }
              })()
      const record = { req, get body() {
        return Buffer.concat(chunks)
      } }
      sent.push(record)
      const res = await inner({ ...req, body: copying })
      return rewrite === undefined ? res : await rewrite(req, res)
    },
    close: async () => agent?.close(),
  }
}

/** The S3 call a captured request is. */
function kind(req: TransportRequest): string {
  const q = new URL(req.path, 'http://x').searchParams
  if (req.method === 'POST') return q.has('uploads') ? 'Create' : 'Complete'
  if (req.method === 'PUT') return q.has('partNumber') ? 'UploadPart' : 'PutObject'
  if (req.method === 'GET' && q.has('uploadId')) return 'ListParts'
  return req.method
}

/** The reference digest: the AWS SDK's CRC implementations, node:crypto for SHA-1/SHA-256/MD5. */
async function reference(algorithm: ChecksumAlgorithm | 'MD5', bytes: Uint8Array): Promise<Buffer> {
  if (algorithm === 'SHA1' || algorithm === 'SHA256' || algorithm === 'MD5') return createHash(algorithm.replace('SHA', 'sha').toLowerCase()).update(bytes).digest()
  const hasher = algorithm === 'CRC32' ? new AwsCrc32() : algorithm === 'CRC32C' ? new AwsCrc32c() : new Crc64Nvme()
  hasher.update(bytes)
  return Buffer.from(await hasher.digest())
}
const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64')

/**
 * Everything wrong with the captured checksums of one upload, as sentences (empty: all correct).
 * `bodies` overrides captured bodies by request index (the corruption test).
 */
async function checkCapture(sent: readonly Sent[], algorithm: ChecksumAlgorithm, contentMd5: boolean, bodies = new Map<number, Buffer>()): Promise<string[]> {
  const problems: string[] = []
  const header = `x-amz-checksum-${algorithm.toLowerCase()}`
  const type = algorithm.startsWith('CRC') ? 'FULL_OBJECT' : 'COMPOSITE'
  /** The last body sent for each part number (a retried part is sent again). */
  const parts = new Map<number, Buffer>()
  for (const [i, { req, body: captured }] of sent.entries()) {
    const body = bodies.get(i) ?? captured
    const what = kind(req)
    const q = new URL(req.path, 'http://x').searchParams
    if (what === 'Create') {
      if (req.headers['x-amz-checksum-algorithm'] !== algorithm) problems.push(`Create: x-amz-checksum-algorithm ${req.headers['x-amz-checksum-algorithm']}`)
      if (req.headers['x-amz-checksum-type'] !== type) problems.push(`Create: x-amz-checksum-type ${req.headers['x-amz-checksum-type']}`)
    }
    if (what === 'UploadPart' || what === 'PutObject') {
      const name = what === 'UploadPart' ? `part ${q.get('partNumber')}` : 'PutObject'
      if (Number(req.headers['content-length']) !== body.length) problems.push(`${name}: content-length ${req.headers['content-length']} for ${body.length} bytes`)
      const expected = b64(await reference(algorithm, body))
      if (req.headers[header] !== expected) problems.push(`${name}: ${header} ${req.headers[header]}, the bytes have ${expected}`)
      const md5 = b64(await reference('MD5', body))
      if (contentMd5 ? req.headers['content-md5'] !== md5 : req.headers['content-md5'] !== undefined) problems.push(`${name}: content-md5 ${req.headers['content-md5']}`)
      for (const other of ALGORITHMS) {
        if (other !== algorithm && req.headers[`x-amz-checksum-${other.toLowerCase()}`] !== undefined) problems.push(`${name}: also sends ${other}`)
      }
      if (what === 'UploadPart') parts.set(Number(q.get('partNumber')), body)
    }
    if (what === 'Complete') {
      const xml = body.toString('utf8')
      const listed = [...xml.matchAll(/<Part><PartNumber>(\d+)<\/PartNumber><ETag>[^<]*<\/ETag>(?:<Checksum(\w+)>([^<]*)<\/Checksum\w+>)?<\/Part>/g)]
      if (listed.length !== parts.size) problems.push(`Complete lists ${listed.length} parts, ${parts.size} were sent`)
      for (const [, n, tag, value] of listed) {
        const bytes = parts.get(Number(n))
        const expected = bytes === undefined ? undefined : b64(await reference(algorithm, bytes))
        if (tag !== algorithm || value !== expected) problems.push(`Complete: part ${n} listed with Checksum${tag} ${value}, its bytes have ${expected}`)
      }
      const object = Buffer.concat([...parts.keys()].sort((a, b) => a - b).map((n) => parts.get(n) as Buffer))
      if (type === 'FULL_OBJECT') {
        const whole = b64(await reference(algorithm, object))
        if (req.headers[header] !== whole) problems.push(`Complete: ${header} ${req.headers[header]}, the object's bytes have ${whole}`)
        if (req.headers['x-amz-checksum-type'] !== 'FULL_OBJECT') problems.push(`Complete: x-amz-checksum-type ${req.headers['x-amz-checksum-type']}`)
      } else if (req.headers[header] !== undefined || req.headers['x-amz-checksum-type'] !== undefined) {
        problems.push(`Complete: a COMPOSITE upload sends ${header} ${req.headers[header]}`)
      }
    }
  }
  return problems
}

/** The checksum S3 reports for the object, computed independently from the bytes. */
async function expectedObjectChecksum(algorithm: ChecksumAlgorithm, data: Uint8Array, partSize: number): Promise<UploadResult['checksum']> {
  if (algorithm.startsWith('CRC') || data.length <= partSize) return { algorithm, type: 'FULL_OBJECT', value: b64(await reference(algorithm, data)) }
  const digests: Buffer[] = []
  for (let o = 0; o < data.length; o += partSize) digests.push(await reference(algorithm, data.subarray(o, o + partSize)))
  return { algorithm, type: 'COMPOSITE', value: `${b64(await reference(algorithm, Buffer.concat(digests)))}-${digests.length}` }
}

const PART = 5 * MiB

describe('checksums on Ceph RGW, every request captured and checked against its bytes', () => {
  for (const algorithm of ALGORITHMS) {
    test(`${algorithm}: multipart (FULL_OBJECT for CRCs, COMPOSITE for SHAs) and single PutObject; the object is intact`, async () => {
      const rec = recording()
      try {
        const data = randomData(13 * MiB + 4321, 11)
        const key = `each/${algorithm}`
        // A Uint8Array (bufferParts: parts hashed on demand) for two of the five, a stream for the rest.
        const source = algorithm === 'CRC32' || algorithm === 'SHA1' ? data : randomChunks(data, 200_000, 3)
        const result = await upload(source, target(bucket, key), { partSize: PART, concurrency: 2, checksum: algorithm, transport: rec.transport })
        assert.deepEqual(rec.sent.map((s) => kind(s.req)), ['Create', 'UploadPart', 'UploadPart', 'UploadPart', 'Complete', 'HEAD'])
        assert.deepEqual(await checkCapture(rec.sent, algorithm, false), [])
        assert.deepEqual(result.checksum, await expectedObjectChecksum(algorithm, data, PART))
        assert.equal(result.partCount, 3)
        assert.equal(sha256(await getObject(bucket, key)), sha256(data))

        rec.sent.length = 0
        const small = randomData(4097, 12)
        const single = await upload(algorithm === 'CRC32' ? small : [small], target(bucket, `${key}/small`), { checksum: algorithm, transport: rec.transport })
        assert.deepEqual(rec.sent.map((s) => kind(s.req)), ['PutObject'])
        assert.deepEqual(await checkCapture(rec.sent, algorithm, false), [])
        assert.deepEqual(single.checksum, { algorithm, type: 'FULL_OBJECT', value: b64(await reference(algorithm, small)) })
        assert.equal(sha256(await getObject(bucket, `${key}/small`)), sha256(small))
      } finally {
        await rec.close()
      }
    })
  }

  test('the empty object: one PutObject carrying the empty input\'s checksum and MD5', async () => {
    const rec = recording()
    try {
      for (const algorithm of ALGORITHMS) {
        rec.sent.length = 0
        const result = await upload([], target(bucket, `empty/${algorithm}`), { checksum: algorithm, contentMd5: true, transport: rec.transport })
        assert.deepEqual(rec.sent.map((s) => kind(s.req)), ['PutObject'])
        assert.deepEqual(await checkCapture(rec.sent, algorithm, true), [])
        assert.deepEqual(result.checksum, { algorithm, type: 'FULL_OBJECT', value: b64(await reference(algorithm, new Uint8Array(0))) })
        assert.equal(result.size, 0)
      }
    } finally {
      await rec.close()
    }
  })

  test('one corrupted byte in a captured part body: the check reports the part, its Complete listing and the whole-object CRC', async () => {
    const rec = recording()
    try {
      const data = randomData(11 * MiB, 13)
      await upload(fixedChunks(data, MiB), target(bucket, 'corrupt'), { partSize: PART, checksum: 'CRC64NVME', transport: rec.transport })
      assert.deepEqual(await checkCapture(rec.sent, 'CRC64NVME', false), [])
      const index = rec.sent.findIndex((s) => kind(s.req) === 'UploadPart' && s.req.path.includes('partNumber=2'))
      const corrupted = Buffer.from((rec.sent[index] as Sent).body)
      corrupted[1234] = (corrupted[1234] as number) ^ 0x01
      const problems = await checkCapture(rec.sent, 'CRC64NVME', false, new Map([[index, corrupted]]))
      assert.equal(problems.length, 3, problems.join('\n'))
      assert.match(problems[0] as string, /^part 2: x-amz-checksum-crc64nvme/)
      assert.match(problems[1] as string, /^Complete: part 2 listed/)
      assert.match(problems[2] as string, /^Complete: x-amz-checksum-crc64nvme .*, the object's bytes have/)
    } finally {
      await rec.close()
    }
  })

  test("payload: 'unsigned' computes only the checksum (CRC64NVME and SHA256); contentMd5 sends Content-MD5, which RGW checks", async () => {
    const rec = recording()
    try {
      for (const algorithm of ['CRC64NVME', 'SHA256'] as const) {
        rec.sent.length = 0
        const data = randomData(12 * MiB + 1, 14)
        const result = await upload(fixedChunks(data, 64 * 1024), target(bucket, `unsigned/${algorithm}`), {
          partSize: PART,
          payload: 'unsigned',
          checksum: algorithm,
          contentMd5: true,
          transport: rec.transport,
        })
        for (const { req } of rec.sent.filter((s) => kind(s.req) === 'UploadPart')) assert.equal(req.headers['x-amz-content-sha256'], 'UNSIGNED-PAYLOAD')
        assert.deepEqual(await checkCapture(rec.sent, algorithm, true), [])
        assert.deepEqual(result.checksum, await expectedObjectChecksum(algorithm, data, PART))
        assert.equal(sha256(await getObject(bucket, `unsigned/${algorithm}`)), sha256(data))
      }
    } finally {
      await rec.close()
    }
  })

  test('uploadFile: the same headers from the pooled part buffers (CRC32C, with contentMd5), multipart and single', async () => {
    const rec = recording()
    try {
      for (const [name, size] of [['big', 16 * MiB + 17], ['small', 999]] as const) {
        rec.sent.length = 0
        const data = randomData(size, 15)
        const path = join(dir, name)
        writeFileSync(path, data)
        const result = await uploadFile(path, target(bucket, `file/${name}`), { partSize: PART, checksum: 'CRC32C', contentMd5: true, transport: rec.transport })
        assert.deepEqual(await checkCapture(rec.sent, 'CRC32C', true), [])
        assert.deepEqual(result.checksum, await expectedObjectChecksum('CRC32C', data, PART))
        assert.equal(sha256(await getObject(bucket, `file/${name}`)), sha256(data))
      }
    } finally {
      await rec.close()
    }
  })

  test('an unknown algorithm or a bad contentMd5 is InvalidArgumentError before any request, the source closed', async () => {
    const rec = recording()
    try {
      for (const [options, pattern] of [
        [{ checksum: 'crc64nvme' }, /Expected `checksum` to be one of 'CRC64NVME', 'CRC32C', 'CRC32', 'SHA1', 'SHA256', got .*Did you mean 'CRC64NVME'\?/],
        [{ checksum: 'MD5' }, /Expected `checksum` to be one of/],
        [{ checksum: 'CRC64' }, /Expected `checksum` to be one of/],
        [{ contentMd5: 'yes' }, /Expected `contentMd5` to be a boolean/],
      ] as const) {
        let closed = false
        // An iterator whose return() reports the close (a generator's finally would not run: it never started).
        const source: AsyncIterable<Uint8Array> = {
          [Symbol.asyncIterator]: () => ({
            next: async () => ({ done: false, value: new Uint8Array(10) }),
            return: async () => {
              closed = true
              return { done: true, value: undefined }
            },
          }),
        }
        const opts = { ...options, transport: rec.transport } as unknown as UploadOptions
        await assert.rejects(upload(source, target(bucket, 'invalid'), opts), (e) => e instanceof InvalidArgumentError && pattern.test(e.message))
        assert.equal(closed, true)
        await assert.rejects(uploadFile(join(dir, 'missing'), target(bucket, 'invalid'), opts), (e) => e instanceof InvalidArgumentError && pattern.test(e.message))
      }
      assert.equal(rec.sent.length, 0)
    } finally {
      await rec.close()
    }
  })
})

/** A response whose body is `text`. */
function textResponse(res: TransportResponse, text: string): TransportResponse {
  return { statusCode: res.statusCode, headers: { ...res.headers, 'content-length': String(Buffer.byteLength(text)) }, body: textBody(text) }
}

async function readText(res: TransportResponse): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of res.body) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks).toString('utf8')
}

describe('checksums the server reports (answers rewritten in transit)', () => {
  test('an UploadPart answer echoing another CRC64NVME is an IntegrityError; the upload is aborted', async () => {
    const rec = recording(async (req, res) => {
      if (kind(req) !== 'UploadPart' || !req.path.includes('partNumber=2')) return res
      return { ...res, headers: { ...res.headers, 'x-amz-checksum-crc64nvme': 'AAAAAAAAAAA=' } }
    })
    try {
      const data = randomData(11 * MiB, 16)
      await assert.rejects(upload(fixedChunks(data, MiB), target(bucket, 'echo/part'), { partSize: PART, checksum: 'CRC64NVME', transport: rec.transport }), (e) => {
        assert.ok(e instanceof IntegrityError, String(e))
        assert.match(e.message, /CRC64NVME AAAAAAAAAAA= for part 2, but the bytes sent have/)
        assert.ok(e.uploadId !== undefined)
        return true
      })
      assert.ok(rec.sent.some((s) => s.req.method === 'DELETE'))
      assert.deepEqual(await openUploads(bucket, 'echo/part'), [])
    } finally {
      await rec.close()
    }
  })

  test('a PutObject answer, and a Complete answer, reporting another checksum are IntegrityErrors', async () => {
    const rec = recording(async (req, res) => {
      if (kind(req) === 'PutObject') return { ...res, headers: { ...res.headers, 'x-amz-checksum-sha256': b64(new Uint8Array(32)) } }
      if (kind(req) !== 'Complete') return res
      const text = await readText(res)
      return textResponse(res, text.replace('</CompleteMultipartUploadResult>', '<ChecksumCRC32>AAAAAA==</ChecksumCRC32><ChecksumType>FULL_OBJECT</ChecksumType></CompleteMultipartUploadResult>'))
    })
    try {
      await assert.rejects(upload([randomData(100, 17)], target(bucket, 'echo/put'), { checksum: 'SHA256', transport: rec.transport }), (e) => e instanceof IntegrityError && /for the object/.test(e.message))
      const data = randomData(11 * MiB, 18)
      await assert.rejects(upload(fixedChunks(data, MiB), target(bucket, 'echo/complete'), { partSize: PART, checksum: 'CRC32', transport: rec.transport }), (e) => {
        assert.ok(e instanceof IntegrityError, String(e))
        assert.match(e.message, /CRC32 AAAAAA== for the completed object/)
        return true
      })
    } finally {
      await rec.close()
    }
  })

  test('resume: a stored part is reused only if its checksum matches; another algorithm is refused before any part is sent', async () => {
    const key = 'resume/checksum'
    const data = randomData(16 * MiB, 19)
    // Parts 1–3 of 4 stored with their CRC64NVME, as an interrupted upload leaves them.
    const ctx = createS3Context(target(bucket, key))
    let uploadId: string
    try {
      uploadId = await createMultipartUpload(ctx, { checksumAlgorithm: 'CRC64NVME' })
      for (const part of bufferParts(data, { partSize: PART, checksum: checksumHash('CRC64NVME') ?? null }).slice(0, 3)) {
        await uploadPart(ctx, uploadId, await part.toPart(), { checksumAlgorithm: 'CRC64NVME' })
      }
    } finally {
      await ctx.close()
    }
    const ours = async (n: number): Promise<string> => b64(await reference('CRC64NVME', data.subarray((n - 1) * PART, n * PART)))
    // RGW's ListParts carries no checksums: report ours for parts 1 and 3 and a wrong one for part 2.
    const listed = new Map([
      [1, await ours(1)],
      [2, 'AAAAAAAAAAA='],
      [3, await ours(3)],
    ])
    const withChecksums = (algorithm: string) => async (req: TransportRequest, res: TransportResponse): Promise<TransportResponse> => {
      if (kind(req) !== 'ListParts') return res
      const text = await readText(res)
      return textResponse(
        res,
        text.replace(/<Part>([\s\S]*?)<PartNumber>(\d+)<\/PartNumber>/g, (all, before: string, n: string) => `<Part>${before}<PartNumber>${n}</PartNumber><Checksum${algorithm}>${listed.get(Number(n))}</Checksum${algorithm}>`),
      )
    }
    const wrong = recording(withChecksums('CRC32'))
    try {
      await assert.rejects(
        upload(fixedChunks(data, MiB), target(bucket, key), { partSize: PART, checksum: 'CRC64NVME', resumeUploadId: uploadId, leavePartsOnError: true, transport: wrong.transport }),
        (e) => e instanceof InvalidArgumentError && /was created with checksum CRC32 .*Resume it with `checksum: 'CRC32'`/.test(e.message),
      )
      assert.deepEqual(wrong.sent.map((s) => kind(s.req)), ['ListParts'])
    } finally {
      await wrong.close()
    }
    const rec = recording(withChecksums('CRC64NVME'))
    try {
      const result = await upload(fixedChunks(data, MiB), target(bucket, key), { partSize: PART, checksum: 'CRC64NVME', resumeUploadId: uploadId, transport: rec.transport })
      const sentParts = rec.sent.filter((s) => kind(s.req) === 'UploadPart').map((s) => new URL(s.req.path, 'http://x').searchParams.get('partNumber'))
      assert.deepEqual(sentParts.sort(), ['2', '4'], 'part 2 (checksum differs) and part 4 (never stored) are sent; 1 and 3 are reused')
      assert.deepEqual(await checkCapture(rec.sent.filter((s) => kind(s.req) === 'UploadPart'), 'CRC64NVME', false), [])
      const complete = rec.sent.find((s) => kind(s.req) === 'Complete') as Sent
      for (let n = 1; n <= 4; n++) {
        assert.ok(complete.body.toString('utf8').includes(`<PartNumber>${n}</PartNumber><ETag>`), `part ${n} listed`)
        assert.ok(complete.body.toString('utf8').includes(`<ChecksumCRC64NVME>${await ours(n)}</ChecksumCRC64NVME>`), `part ${n} checksum`)
      }
      assert.equal(complete.req.headers['x-amz-checksum-crc64nvme'], b64(await reference('CRC64NVME', data)))
      assert.deepEqual(result.checksum, await expectedObjectChecksum('CRC64NVME', data, PART))
      assert.equal(sha256(await getObject(bucket, key)), sha256(data))
    } finally {
      await rec.close()
    }
  })
})
