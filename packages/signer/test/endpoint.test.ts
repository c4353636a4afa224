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
  test('forcePathStyle: false is a preference: path style where virtual-hosted cannot work, as the AWS SDK does', () => {
    const origin = (bucket: string, endpoint: string | undefined, region = 'eu-west-1'): string => {
      const ctx = createS3Context({ bucket, key: 'k', region, endpoint, forcePathStyle: false, credentials })
      return `${stateOf(ctx).endpoint.origin}${objectPath(stateOf(ctx), undefined)}`
    }
    // An IP or localhost has no sub-domains: `bucket.127.0.0.1` is no host name. It was an error
    // blaming a `forcePathStyle: false` that a profile's addressing_style = virtual had set.
    for (const endpoint of ['http://127.0.0.1:7480', 'http://[::1]:7480', 'http://localhost:7480']) {
      assert.equal(origin('bkt', endpoint), `${endpoint}/bkt/k`)
    }
    // A dotted bucket over https: S3's wildcard certificate covers one label (TLS failed).
    assert.equal(origin('logs.example.com', undefined), 'https://s3.eu-west-1.amazonaws.com/logs.example.com/k')
    assert.equal(origin('logs.example.com', 'https://storage.example.net'), 'https://storage.example.net/logs.example.com/k')
    // Over plain http a dotted bucket is a host name like any other.
    assert.equal(origin('logs.example.com', 'http://storage.example.net:9000'), 'http://logs.example.com.storage.example.net:9000/k')
    // A legacy name (upper case, "_") is no DNS name.
    const legacy = createS3Context({ bucket: 'Logs_2024', key: 'k', endpoint: 'https://storage.example.net', forcePathStyle: false, legacyBucketName: true, credentials })
    assert.equal(stateOf(legacy).endpoint.origin + objectPath(stateOf(legacy), undefined), 'https://storage.example.net/Logs_2024/k')
    // Where it can work, virtual-hosted it is.
    assert.equal(origin('logs-example', undefined), 'https://logs-example.s3.eu-west-1.amazonaws.com/k')
    assert.equal(origin('logs-example', 'https://storage.example.net'), 'https://logs-example.storage.example.net/k')
  })
  test('the default (unset) is unchanged: path style for IPs, localhost and names that are not DNS labels', () => {
    const origin = (bucket: string, endpoint: string): string => stateOf(createS3Context({ bucket, key: 'k', endpoint, credentials })).endpoint.origin
    assert.deepEqual(
      [origin('bkt', 'http://localhost:7480'), origin('a.b.c', 'http://storage.example.net:9000'), origin('bkt', 'https://storage.example.net')],
      ['http://localhost:7480', 'http://storage.example.net:9000', 'https://bkt.storage.example.net'],
    )
  })
  test('S3 Transfer Acceleration (s3-accelerate.amazonaws.com) takes virtual-hosted requests only', () => {
    const endpoint = 'https://s3-accelerate.amazonaws.com'
    const ctx = createS3Context({ bucket: 'logs-example', key: 'k', region: 'eu-west-1', endpoint, credentials })
    assert.equal(stateOf(ctx).host, 'logs-example.s3-accelerate.amazonaws.com')
    assert.throws(
      () => createS3Context({ bucket: 'logs.example.com', key: 'k', endpoint, credentials }),
      (e: unknown) => e instanceof InvalidArgumentError && /"logs\.example\.com" cannot use S3 Transfer Acceleration .*dots/.test(e.message),
    )
    assert.throws(
      () => createS3Context({ bucket: 'logs-example', key: 'k', endpoint: 'https://s3-accelerate.dualstack.amazonaws.com', forcePathStyle: true, credentials }),
      (e: unknown) => e instanceof InvalidArgumentError && /Expected `forcePathStyle` to be left unset or false with S3 Transfer Acceleration/.test(e.message),
    )
  })
})

describe('bucket kinds S3 takes in place of a bucket name', () => {
  const refusal = (bucket: string, legacyBucketName = false): string => {
    try {
      createS3Context({ bucket, key: 'k', region: 'us-west-2', legacyBucketName, credentials })
    } catch (e) {
      assert.ok(e instanceof InvalidArgumentError)
      assert.doesNotMatch(e.message, /legacyBucketName/, 'the hint for names of other servers does not apply')
      return e.message
    }
    assert.fail(`${bucket} was accepted`)
  }
  test('access point aliases (-s3alias, Object Lambda --ol-s3) are accepted and sent as a bucket, as the AWS SDK does', () => {
    for (const bucket of ['myap-abcdefghijklmnopqrstuvwxyz0123-s3alias', 'myolap-abcdefghijklmnopqrstuvwxyz0123--ol-s3']) {
      const ctx = createS3Context({ bucket, key: 'k', region: 'us-west-2', credentials })
      assert.equal(`${stateOf(ctx).endpoint.origin}${objectPath(stateOf(ctx), undefined)}`, `https://${bucket}.s3.us-west-2.amazonaws.com/k`)
    }
  })
  test('a directory bucket (--x-s3): not supported, whatever legacyBucketName says', () => {
    for (const legacy of [false, true]) {
      assert.match(refusal('mybucket--usw2-az1--x-s3', legacy), /"mybucket--usw2-az1--x-s3" is a directory bucket \(S3 Express One Zone\), which partstream does not support: .*zonal endpoint.*session/)
    }
  })
  test('a Multi-Region Access Point alias (.mrap): not supported', () => {
    assert.match(refusal('mfzwi23gnjvgw.mrap'), /Multi-Region Access Point alias.*not support.*SigV4A/)
  })
  test('ARNs: each kind says what to use instead', () => {
    const ap = 'arn:aws:s3:us-west-2:123456789012:accesspoint/myap'
    for (const legacy of [false, true]) {
      const text = refusal(ap, legacy)
      assert.match(text, /access point ARN/)
      assert.ok(text.includes(ap), text)
      assert.match(text, /use its alias.*-s3alias.*as `bucket`/)
      assert.match(text, /aws s3control get-access-point --account-id 123456789012 --region us-west-2 --name myap/)
    }
    assert.match(refusal('arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap'), /Multi-Region Access Point ARN.*not support.*SigV4A/)
    assert.match(refusal('arn:aws:s3-outposts:us-west-2:123456789012:outpost/op-01234567890123456/accesspoint/myap'), /S3 on Outposts.*not support/)
    assert.match(refusal('arn:aws:s3-object-lambda:us-west-2:123456789012:accesspoint/myolap'), /Object Lambda access point ARN.*alias.*--ol-s3/)
    assert.match(refusal('arn:aws:s3:::my-bucket'), /bucket ARN: give the bucket's name, "my-bucket"/)
  })
  test('reserved names keep the naming-rules message', () => {
    for (const bucket of ['xn--bucket', 'mybucket--table-s3']) {
      assert.throws(() => createS3Context({ bucket, key: 'k', region: 'us-west-2', credentials }), (e: unknown) => e instanceof InvalidArgumentError && /^Invalid `bucket` name/.test(e.message))
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

describe('legacy bucket names (another server)', () => {
  test('names ending --x-s3 or .mrap are names there: they mean a directory bucket or a Multi-Region Access Point only on AWS', () => {
    for (const bucket of ['logs--x-s3', 'Backups.mrap']) {
      assert.doesNotThrow(() => createS3Context({ bucket, key: 'k', endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', legacyBucketName: true, credentials }), bucket)
      assert.throws(() => createS3Context({ bucket, key: 'k', region: 'us-east-1', legacyBucketName: true, credentials }), /does not support/, `${bucket} on AWS`)
    }
    assert.throws(() => createS3Context({ bucket: 'arn:aws:s3:us-east-1:123456789012:accesspoint/ap', key: 'k', endpoint: 'http://127.0.0.1:9000', legacyBucketName: true, credentials }), /ARN/)
  })
})
