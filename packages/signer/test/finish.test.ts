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

async function finish(etag: string, compositeEtag: boolean): Promise<string> {
  const ctx = createS3Context({ bucket: 'bkt', endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials }, { transport: completing(etag), retry: false })
  const f: Finishing = { key: 'k', uploadId: 'u1', parts, size: 10, ifNoneMatch: false, checksumAlgorithm: undefined, compositeEtag, signal: new AbortController().signal }
  try {
    return (await finishUpload(ctx, f)).etag
  } finally {
    await ctx.close()
  }
}

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
