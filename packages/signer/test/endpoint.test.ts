import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createS3Context, encodeKey, InvalidArgumentError } from '../src/index.ts'
import { objectPath, stateOf } from '../src/http/state.ts'

const credentials = { accessKeyId: 'AK', secretAccessKey: 'SK' }

describe('encodeKey', () => {
  test('encodes each segment once and keeps slashes', () => {
    assert.equal(encodeKey('a b/c+d/%/#?/ü/😀'), 'a%20b/c%2Bd/%25/%23%3F/%C3%BC/%F0%9F%98%80')
    assert.equal(encodeKey("it's(1)*!~-_."), 'it%27s%281%29%2A%21~-_.')
    assert.equal(encodeKey('a//b/'), 'a//b/')
  })
})

describe('addressing', () => {
  test('AWS endpoint: virtual-hosted by default', () => {
    const c = createS3Context({ bucket: 'my-bucket', key: 'a b', region: 'eu-west-1', credentials })
    assert.equal(stateOf(c).endpoint.origin, 'https://my-bucket.s3.eu-west-1.amazonaws.com')
    assert.equal(objectPath(stateOf(c), undefined), '/a%20b')
    assert.equal(stateOf(c).host, 'my-bucket.s3.eu-west-1.amazonaws.com')
  })
  test('IP endpoint and dotted buckets: path-style', () => {
    const c = createS3Context({ bucket: 'bkt', key: 'k', endpoint: 'http://127.0.0.1:7480', credentials })
    assert.equal(stateOf(c).endpoint.origin, 'http://127.0.0.1:7480')
    assert.equal(objectPath(stateOf(c), undefined), '/bkt/k')
    assert.equal(stateOf(c).host, '127.0.0.1:7480')
    const d = createS3Context({ bucket: 'dotted.bucket', key: 'k', region: 'us-east-1', credentials })
    assert.equal(stateOf(d).endpoint.origin, 'https://s3.us-east-1.amazonaws.com')
    assert.equal(objectPath(stateOf(d), undefined), '/dotted.bucket/k')
  })
  test('forcePathStyle and an endpoint with a base path', () => {
    const c = createS3Context({ bucket: 'bkt', key: 'k', endpoint: 'https://example.com:8443/s3/', forcePathStyle: true, credentials })
    assert.equal(objectPath(stateOf(c), undefined), '/s3/bkt/k')
    assert.equal(stateOf(c).host, 'example.com:8443')
    const v = createS3Context({ bucket: 'bucket', key: 'k', endpoint: 'https://example.com', forcePathStyle: false, credentials })
    assert.equal(stateOf(v).endpoint.origin, 'https://bucket.example.com')
    assert.equal(stateOf(v).endpoint.bucketPath, '/')
  })
  test('forcePathStyle: false with an IP endpoint is refused (bucket.127.0.0.1 is no host name); unset, an IP gets path style', () => {
    for (const endpoint of ['http://127.0.0.1:7480', 'http://[::1]:7480']) {
      assert.throws(
        () => createS3Context({ bucket: 'bkt', key: 'k', endpoint, forcePathStyle: false, credentials }),
        (e: unknown) => e instanceof InvalidArgumentError && /forcePathStyle.*IP endpoint.*needs a DNS name/.test(e.message),
      )
      assert.equal(objectPath(stateOf(createS3Context({ bucket: 'bkt', key: 'k', endpoint, credentials })), undefined), '/bkt/k')
    }
  })
})

describe('target validation', () => {
  const bad: Array<[string, unknown, RegExp]> = [
    ['no bucket', { key: 'k', credentials }, /`bucket`/],
    ['empty key', { bucket: 'bkt', key: '', credentials }, /`key`/],
    ['key over 1024 bytes', { bucket: 'bkt', key: 'é'.repeat(513), credentials }, /1024 bytes/],
    ['bad endpoint', { bucket: 'bkt', key: 'k', endpoint: 'not a url', credentials }, /absolute http\(s\) URL/],
    ['ftp endpoint', { bucket: 'bkt', key: 'k', endpoint: 'ftp://x', credentials }, /http: or https:/],
    ['endpoint with credentials', { bucket: 'bkt', key: 'k', endpoint: 'http://u:p@x', credentials }, /without query/],
    ['bad credentials shape', { bucket: 'bkt', key: 'k', credentials: { accessKeyId: 'AK' } }, /accessKeyId: string, secretAccessKey/],
  ]
  for (const [name, t, message] of bad) {
    test(name, () => {
      assert.throws(() => createS3Context(t as never), (e: unknown) => {
        assert.ok(e instanceof InvalidArgumentError)
        assert.equal(e.code, 'ERR_PARTSTREAM_INVALID_ARGUMENT')
        assert.match(e.message, message)
        return true
      })
    })
  }
  test('a secret never appears in a validation message', () => {
    assert.throws(
      () => createS3Context({ bucket: 'bkt', key: 'k', credentials: { accessKeyId: '', secretAccessKey: 'TOPSECRET' } }),
      (e: Error) => !e.message.includes('TOPSECRET'),
    )
  })
})
