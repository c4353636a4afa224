// completeMultipartUpload against Ceph RGW with part ETags as other tools hand them out: the AWS
// SDK's UploadPart and ListParts give them quoted ('"<md5>"'), uploadPart unquoted. Both complete
// (S3's own request example lists `<ETag>"<md5>"</ETag>`); a quoted one used to be sent
// double-quoted, and RGW answered 400 InvalidPart.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { completeMultipartUpload, createMultipartUpload, createS3Context, uploadPart, type S3Context } from '../../src/index.ts'
import { createBucket, getObject, s3Env } from './s3.ts'

let bucket: string
let ctx: S3Context
before(async () => {
  bucket = await createBucket('etags')
  ctx = createS3Context({ ...s3Env(), bucket }, { retry: false })
})
after(() => ctx.close())

describe('completeMultipartUpload on Ceph RGW: quoted and unquoted part ETags', () => {
  for (const [name, quote] of [
    ['quoted, as the AWS SDK gives them', (etag: string) => `"${etag}"`],
    ['unquoted, as uploadPart gives them', (etag: string) => etag],
  ] as const) {
    test(`${name}: the upload completes with the part's bytes`, async () => {
      const key = `etags/${name.split(',')[0] as string}`
      const uploadId = await createMultipartUpload(ctx, { key })
      const part = await uploadPart(ctx, uploadId, { partNumber: 1, chunks: [new Uint8Array([1, 2, 3])], byteLength: 3, sha256: undefined }, { key })
      const completed = await completeMultipartUpload(ctx, uploadId, [{ ...part, etag: quote(part.etag) }], { key })
      assert.equal(completed.reconciled, false)
      assert.deepEqual([...(await getObject(bucket, key))], [1, 2, 3])
    })
  }
})
