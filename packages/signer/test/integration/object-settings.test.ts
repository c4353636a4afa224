// Storage class, canned ACL, server-side encryption and the cache headers, against Ceph RGW with
// every request captured: each goes on CreateMultipartUpload and PutObject and on nothing else.
// RGW checks the storage class (an unknown one is refused, so the header is seen and signed) and
// applies the ACL (a public-read object is readable without credentials); RGW 16 refuses
// SSE over plain HTTP without a KMS, so there the capture is the proof, and the refusal must
// leave nothing behind.
import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { createS3Context, getObjectTagging, S3ResponseError, upload, type TransportRequest, type UploadOptions } from '../../src/index.ts'
import { fixedChunks } from '../fault/helpers.ts'
import { kind, recording } from './recording.ts'
import { createBucket, getObject, openUploads, randomData, s3Env, sha256, target } from './s3.ts'

const MiB = 1024 * 1024
let bucket: string
before(async () => {
  bucket = await createBucket('objset')
})

const SETTINGS_HEADERS = ['x-amz-storage-class', 'x-amz-acl', 'x-amz-tagging', 'cache-control', 'content-disposition', 'content-encoding', 'x-amz-server-side-encryption', 'x-amz-server-side-encryption-aws-kms-key-id']

/** Each captured request as `Kind header=value …`, for the settings headers only. */
const summary = (sent: readonly TransportRequest[]): string[] =>
  sent.map((r) => [kind(r), ...SETTINGS_HEADERS.filter((h) => r.headers[h] !== undefined).map((h) => `${h}=${r.headers[h]}`)].join(' '))

/** A source that records whether it was closed. */
function closable(data: Uint8Array): { source: AsyncGenerator<Uint8Array>; closed: () => boolean } {
  let closed = false
  async function* gen(): AsyncGenerator<Uint8Array> {
    try {
      yield* fixedChunks(data, MiB)
    } finally {
      closed = true
    }
  }
  return { source: gen(), closed: () => closed }
}

describe('object settings on Ceph RGW, requests captured', () => {
  test('storageClass, acl and the cache headers: on Create and PutObject only; RGW stores the objects, readable by anyone', async () => {
    const rec = recording()
    const options: UploadOptions = {
      partSize: 5 * MiB,
      storageClass: 'STANDARD',
      acl: 'public-read',
      cacheControl: 'public, max-age=60',
      contentDisposition: 'attachment; filename="x.bin"',
      contentEncoding: 'identity',
      transport: rec.transport,
    }
    try {
      const small = randomData(1000, 1)
      await upload([small], target(bucket, 'set/small'), options)
      const large = randomData(11 * MiB, 2)
      assert.equal((await upload(fixedChunks(large, MiB), target(bucket, 'set/large'), options)).partCount, 3)
      const headers = 'x-amz-storage-class=STANDARD x-amz-acl=public-read cache-control=public, max-age=60 content-disposition=attachment; filename="x.bin" content-encoding=identity'
      assert.deepEqual(
        summary(rec.sent).filter((s) => !s.startsWith('Head')),
        [`PutObject ${headers}`, `Create ${headers}`, 'UploadPart', 'UploadPart', 'UploadPart', 'Complete'],
      )
      assert.equal(sha256(await getObject(bucket, 'set/small')), sha256(small))
      assert.equal(sha256(await getObject(bucket, 'set/large')), sha256(large))
      // The ACL was applied: a GET without credentials reads both; an object without it is refused.
      for (const [key, data] of [['set/small', small], ['set/large', large]] as const) {
        const anonymous = await fetch(`${s3Env().endpoint}/${bucket}/${key}`)
        assert.equal(anonymous.status, 200, key)
        assert.equal(sha256(new Uint8Array(await anonymous.arrayBuffer())), sha256(data), key)
      }
      await upload([small], target(bucket, 'set/private'))
      const refused = await fetch(`${s3Env().endpoint}/${bucket}/set/private`)
      await refused.body?.cancel()
      assert.equal(refused.status, 403)
      await getObject(bucket, 'set/private')
    } finally {
      await rec.close()
    }
  })

  test('tagging: on Create and PutObject; RGW 16 keeps the tags of a PutObject (read back), and ignores them on CreateMultipartUpload', async () => {
    const rec = recording()
    const tagging = { retention: '30d', 'team name': 'a+b/c=d' }
    try {
      await upload([randomData(1000, 5)], target(bucket, 'tags/small'), { tagging, transport: rec.transport })
      await upload(fixedChunks(randomData(11 * MiB, 6), MiB), target(bucket, 'tags/large'), { partSize: 5 * MiB, tagging, transport: rec.transport })
      const header = 'x-amz-tagging=retention=30d&team%20name=a%2Bb%2Fc%3Dd'
      assert.deepEqual(
        summary(rec.sent).filter((r) => r !== 'Head'),
        [`PutObject ${header}`, `Create ${header}`, 'UploadPart', 'UploadPart', 'UploadPart', 'Complete'],
      )
      const tagsOf = async (key: string): Promise<Record<string, string>> => {
        const ctx = createS3Context(target(bucket, key))
        try {
          return await getObjectTagging(ctx)
        } finally {
          await ctx.close()
        }
      }
      assert.deepEqual(await tagsOf('tags/small'), tagging)
      // AWS applies x-amz-tagging on CreateMultipartUpload; RGW 16 does not (if this fails, RGW
      // now does: update the README's tagging note).
      assert.deepEqual(await tagsOf('tags/large'), {})
      await getObject(bucket, 'tags/small')
      await getObject(bucket, 'tags/large')
    } finally {
      await rec.close()
    }
  })

  test('an unknown storage class: RGW refuses the Create (400), no part is sent, the source is closed, nothing is left', async () => {
    const rec = recording()
    const { source, closed } = closable(randomData(11 * MiB, 3))
    try {
      await assert.rejects(upload(source, target(bucket, 'set/refused'), { partSize: 5 * MiB, storageClass: 'NOT_A_CLASS', transport: rec.transport }), (error: unknown) => {
        assert.ok(error instanceof S3ResponseError, String(error))
        assert.equal(error.statusCode, 400)
        assert.equal(error.s3Code, 'InvalidArgument')
        return true
      })
      assert.deepEqual(summary(rec.sent), ['Create x-amz-storage-class=NOT_A_CLASS'])
      assert.ok(closed(), 'the source was closed')
      assert.deepEqual(await openUploads(bucket, 'set/refused'), [])
    } finally {
      await rec.close()
    }
  })

  for (const [what, sse] of [
    ['SSE-KMS with a key', { serverSideEncryption: 'aws:kms', sseKmsKeyId: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab' }],
    ['SSE-S3', { serverSideEncryption: 'AES256' }],
  ] as const) {
    test(`${what}: sent on Create and PutObject; RGW 16 refuses it over plain HTTP (400) and nothing is left`, async () => {
      const rec = recording()
      const expected = Object.entries({ 'x-amz-server-side-encryption': sse.serverSideEncryption, 'x-amz-server-side-encryption-aws-kms-key-id': 'sseKmsKeyId' in sse ? sse.sseKmsKeyId : undefined })
        .filter(([, v]) => v !== undefined)
        .map(([h, v]) => `${h}=${v}`)
        .join(' ')
      try {
        for (const [key, size] of [['set/sse-small', 1000], ['set/sse-large', 11 * MiB]] as const) {
          const { source, closed } = closable(randomData(size, 4))
          await assert.rejects(upload(source, target(bucket, key), { partSize: 5 * MiB, ...sse, transport: rec.transport }), (error: unknown) => {
            assert.ok(error instanceof S3ResponseError, String(error))
            assert.equal(error.statusCode, 400)
            return true
          })
          assert.ok(closed(), `${key}: the source was closed`)
          assert.deepEqual(await openUploads(bucket, key), [])
        }
        assert.deepEqual(summary(rec.sent), [`PutObject ${expected}`, `Create ${expected}`])
      } finally {
        await rec.close()
      }
    })
  }
})
