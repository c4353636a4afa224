// After CompleteMultipartUpload the object's ETag is checked against the acknowledged parts (S3's
// composite: md5 of the binary part MD5s, then -N), except under SSE-KMS, where AWS documents
// ETags as not MD5 digests. A transport stands in for the server: no network.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createS3Context, multipartEtag, type Transport } from '../src/index.ts'
import { finishUpload, type Finishing } from '../src/upload/finish.ts'
import { textBody } from './fault/helpers.ts'

const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }
const parts = [
  { partNumber: 1, etag: 'a'.repeat(32), size: 5 },
  { partNumber: 2, etag: 'b'.repeat(32), size: 5 },
]

/** Answers CompleteMultipartUpload with `etag`. */
const completing =
  (etag: string): Transport =>
  async () => ({
    statusCode: 200,
    headers: {},
    body: textBody(`<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult><Key>k</Key><ETag>&quot;${etag}&quot;</ETag></CompleteMultipartUploadResult>`),
  })

/** Finishes the upload of `parts` through `transport` (`attempts` per request); resolves with the ETag. */
async function finishWith(transport: Transport, attempts = 1, compositeEtag = true): Promise<string> {
  const retry = attempts === 1 ? false : { attempts, baseDelayMs: 1 }
  const ctx = createS3Context({ bucket: 'bkt', endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials }, { transport, retry })
  const f: Finishing = { key: 'k', uploadId: 'u1', parts, size: 10, ifNoneMatch: false, checksumAlgorithm: undefined, compositeEtag, signal: new AbortController().signal }
  try {
    return (await finishUpload(ctx, f)).etag
  } finally {
    await ctx.close()
  }
}

const finish = (etag: string, compositeEtag: boolean): Promise<string> => finishWith(completing(etag), 1, compositeEtag)

describe('finishUpload: the ETag check', () => {
  const right = multipartEtag(parts) as string
  const wrong = `${'0'.repeat(32)}-2`

  test("the parts' composite ETag passes", async () => {
    assert.equal(await finish(right, true), right)
  })

  test('another composite ETag is an IntegrityError naming both', async () => {
    await assert.rejects(finish(wrong, true), { code: 'ERR_PARTSTREAM_INTEGRITY', message: `The object's ETag is ${wrong}, expected ${right} from the acknowledged parts.` })
  })

  test('under SSE-KMS (compositeEtag: false) the ETag is reported, not checked', async () => {
    assert.equal(await finish(wrong, false), wrong)
  })
})

/** A transport that answers each request with the next of `answers` and records what it was sent. */
function scripted(...answers: ReadonlyArray<{ status: number; body: string }>): { transport: Transport; sent: string[] } {
  const sent: string[] = []
  const transport: Transport = async (req) => {
    sent.push(`${req.method} ${req.path}`)
    const answer = answers[sent.length - 1]
    if (answer === undefined) throw new Error(`unexpected request ${req.method} ${req.path}`)
    const headers: Record<string, string> = req.method === 'HEAD' ? { 'content-length': '10', etag: `"${'c'.repeat(32)}"` } : {}
    return { statusCode: answer.status, headers, body: textBody(answer.body) }
  }
  return { transport, sent }
}

describe('finishUpload: a Complete answer that is not CompleteMultipartUploadResult is a lost answer', () => {
  const right = multipartEtag(parts) as string
  const result = `<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult><ETag>&quot;${right}&quot;</ETag></CompleteMultipartUploadResult>`

  for (const [name, body] of [
    ['an empty 200 (the connection cut after the headers)', ''],
    ["a proxy's HTML page", '<html><head><title>OK</title></head><body>fine</body></html>'],
    ['another XML document', '<?xml version="1.0"?><ListPartsResult></ListPartsResult>'],
  ] as const) {
    test(`${name}: never a success read from HeadObject; retried, the next answer completes`, async () => {
      const alone = scripted({ status: 200, body })
      await assert.rejects(finishWith(alone.transport, 1), (e: unknown) => {
        assert.equal((e as { code?: string }).code, 'ERR_PARTSTREAM_S3')
        assert.equal((e as { statusCode?: number }).statusCode, 0)
        assert.match(String((e as { cause?: { message?: string } }).cause?.message), /CompleteMultipartUpload answer (was empty|is a <\w+> document), not the <CompleteMultipartUploadResult>/)
        return true
      })
      // With every attempt's outcome unknown, HeadObject looks for the object (completeWithin's
      // reconcile); it finds none that is these parts' (the scripted HEAD is refused), so the error stands.
      assert.deepEqual(alone.sent, ['POST /bkt/k?uploadId=u1', 'HEAD /bkt/k'])
      const retried = scripted({ status: 200, body }, { status: 200, body: result })
      assert.equal(await finishWith(retried.transport, 2), right)
      assert.equal(retried.sent.length, 2)
    })
  }

  test('an MD5 ETag without -N read back (another object, one PutObject) is an IntegrityError', async () => {
    const { transport } = scripted({ status: 200, body: '<CompleteMultipartUploadResult><ETag></ETag></CompleteMultipartUploadResult>' }, { status: 200, body: '' })
    await assert.rejects(finishWith(transport, 1), { code: 'ERR_PARTSTREAM_INTEGRITY', message: `The object's ETag is ${'c'.repeat(32)}, expected ${right} from the acknowledged parts.` })
  })

  test("write-only credentials: the read-back HeadObject's 403 leaves the completed upload a success, with the parts' ETag", async () => {
    const { transport, sent } = scripted({ status: 200, body: '<CompleteMultipartUploadResult><ETag></ETag></CompleteMultipartUploadResult>' }, { status: 403, body: '' })
    assert.equal(await finishWith(transport, 1), right)
    assert.deepEqual(sent, ['POST /bkt/k?uploadId=u1', 'HEAD /bkt/k'])
  })
})
