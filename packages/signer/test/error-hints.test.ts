// What an S3ResponseError's message advises: the permission the operation needs, one sentence
// per hint, TLS spoken to a plain-HTTP port named as such.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createS3Context, S3ResponseError } from '../src/index.ts'

const denied = (operation: ConstructorParameters<typeof S3ResponseError>[0]['operation']): string =>
  new S3ResponseError({ statusCode: 403, s3Code: 'AccessDenied', s3Message: 'Access Denied', operation, attempt: 1 }).message

describe('S3ResponseError hints', () => {
  test('AccessDenied names the permission of the operation that was refused (it named s3:PutObject for every one)', () => {
    assert.match(denied('ListMultipartUploads'), /\(s3:ListBucketMultipartUploads\) on this bucket\.$/)
    assert.match(denied('ListObjectsV2'), /\(s3:ListBucket\) on this bucket\.$/)
    assert.match(denied('HeadObject'), /\(s3:GetObject; s3:ListBucket to tell a missing key from a forbidden one\) on this key\.$/)
    assert.match(denied('AbortMultipartUpload'), /\(s3:AbortMultipartUpload\) on this key\.$/)
    assert.match(denied('UploadPart'), /\(s3:PutObject\) on this key\.$/)
  })

  test("a server message ending with a period is not followed by a second one (it read 'endpoint.. The bucket')", () => {
    const error = new S3ResponseError({ statusCode: 403, s3Code: 'AccessDenied', s3Message: 'Access Denied.', operation: 'PutObject', attempt: 1 })
    assert.doesNotMatch(error.message, /\.\./)
    assert.match(error.message, /Access Denied\. The credentials lack permission/)
  })

  test('EntityTooSmall on a Complete says what S3 needs, not only "a bug in the part policy" (a low-level caller made the parts)', () => {
    const error = new S3ResponseError({ statusCode: 400, s3Code: 'EntityTooSmall', operation: 'CompleteMultipartUpload', attempt: 1 })
    assert.match(error.message, /S3 needs every part but the last to be at least 5 MiB/)
  })

  test('TLS spoken to a plain-HTTP port: the scheme and port named, and no trailing newline from OpenSSL', () => {
    const cause = Object.assign(new Error('80ACA1A41D7F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:\n'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' })
    const error = new S3ResponseError({ statusCode: 0, operation: 'PutObject', attempt: 1 }, { cause })
    assert.match(error.message, /did not answer in TLS \(a plain-HTTP port\?\): check `endpoint`'s scheme/)
    assert.doesNotMatch(error.message, /\n/)
  })

  test('an endpoint that is a number is shown as one (it said "a string of length 4")', () => {
    assert.throws(() => createS3Context({ bucket: 'bkt', endpoint: 7490 as never, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 's' } }), /got `7490` \(number\)/)
  })
})
