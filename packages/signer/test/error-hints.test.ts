// What an S3ResponseError's message advises: the permission the operation needs, one sentence
// per hint, TLS spoken to a plain-HTTP port named as such.
import assert from 'node:assert/strict'
import { createServer, type AddressInfo } from 'node:net'
import { describe, test } from 'node:test'
import { createS3Context, S3ResponseError, upload, type UploadProgress } from '../src/index.ts'

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

  test('a refused connection and a host name that does not resolve say what to check (they gave the system error alone)', () => {
    const refused = new S3ResponseError({ statusCode: 0, operation: 'PutObject', attempt: 5 }, { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) })
    assert.match(refused.message, /ECONNREFUSED 127\.0\.0\.1:1\. Nothing listens there: check `endpoint` \(its host and port\) and that the server is up\.$/)
    const unknown = new S3ResponseError({ statusCode: 0, operation: 'PutObject', attempt: 5 }, { cause: Object.assign(new Error('getaddrinfo ENOTFOUND s3.nowhere.invalid'), { code: 'ENOTFOUND' }) })
    assert.match(unknown.message, /ENOTFOUND s3\.nowhere\.invalid\. The endpoint's host name does not resolve: check `endpoint`/)
  })

  test('a server that sends an unsolicited 100 Continue: one attempt (every one would fail alike) and a hint (5 attempts, "bad response")', async () => {
    // What a proxy did before every answer; the AWS CLI reads it, undici 7 destroys the socket.
    const server = createServer((socket) => {
      socket.once('data', () => socket.end('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nETag: "5d41402abc4b2a76b9719d911017c592"\r\nContent-Length: 0\r\n\r\n'))
      socket.on('error', () => {})
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const retried: UploadProgress[] = []
    try {
      const outcome = await upload([new TextEncoder().encode('hello')], { bucket: 'bkt', key: 'k', endpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 's' } }, {
        retry: { attempts: 5, baseDelayMs: 1 },
        onProgress: (e) => void (e.type === 'part-retried' && retried.push(e)),
      }).then(
        (result) => result,
        (error: unknown) => error,
      )
      if (typeof (globalThis as { Bun?: unknown }).Bun === 'object') {
        // Bun's fetch, the transport there, reads the 100 and the answer after it.
        assert.ok(!(outcome instanceof Error), String(outcome))
        return
      }
      assert.ok(outcome instanceof S3ResponseError, String(outcome))
      assert.equal(outcome.attempt, 1)
      assert.deepEqual(retried, [])
      assert.match(outcome.message, /sent a 1xx answer nobody asked for \(an unsolicited 100 Continue\), which undici cannot read: nothing was retried/)
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  test('an endpoint that is a number is shown as one (it said "a string of length 4")', () => {
    assert.throws(() => createS3Context({ bucket: 'bkt', endpoint: 7490 as never, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 's' } }), /got `7490` \(number\)/)
  })
})
