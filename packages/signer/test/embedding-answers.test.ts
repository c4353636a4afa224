// What the low-level operations make of odd answers and inputs, with a stub transport (no server):
// a GetObjectTagging 200 that is not a <Tagging>, a tag named __proto__, a listing key that is not
// URL-encoded though the answer says so, a `hash` that is not SHA-256, a HEAD 403, and a
// `credentials` function whose error quotes the keys.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createS3Context, CredentialsError, getObjectTagging, headObject, InvalidArgumentError, listObjectsV2, S3ResponseError, upload, type Transport } from '../src/index.ts'

const enc = new TextEncoder()
type Answer = Awaited<ReturnType<Transport>>
const answer = (statusCode: number, text: string, headers: Record<string, string> = {}): Answer =>
  ({
    statusCode,
    headers: { 'content-type': 'application/xml', ...headers },
    body: {
      async *[Symbol.asyncIterator]() {
        if (text !== '') yield enc.encode(text)
      },
      async dump() {},
    },
  }) as unknown as Answer

function context(next: () => Answer, options: { credentials?: unknown } = {}) {
  let calls = 0
  const transport: Transport = async () => {
    calls++
    return next()
  }
  const ctx = createS3Context(
    { bucket: 'bucket', key: 'k', endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials: (options.credentials ?? { accessKeyId: 'AK', secretAccessKey: 'SK' }) as never },
    { transport, retry: { attempts: 2, baseDelayMs: 1 } },
  )
  return { ctx, calls: () => calls }
}

describe('answers the operations must not take as good', () => {
  test('GetObjectTagging: a 200 that is another document (a proxy page, a listing) is retried and fails (it read as "no tags"); an empty one is no tags (RGW 16)', async () => {
    const empty = context(() => answer(200, ''))
    assert.deepEqual(await getObjectTagging(empty.ctx), {})
    await empty.ctx.close()
    for (const [name, body] of [
      ['a proxy page', '<html><body>log in</body></html>'],
      ['another document', '<ListBucketResult><Name>b</Name></ListBucketResult>'],
    ] as const) {
      const { ctx, calls } = context(() => answer(200, body))
      await assert.rejects(getObjectTagging(ctx), (e: unknown) => e instanceof S3ResponseError && e.operation === 'GetObjectTagging', name)
      assert.equal(calls(), 2, `${name}: retried`)
      await ctx.close()
    }
  })

  test('GetObjectTagging: a tag named __proto__ is returned (an assignment dropped it)', async () => {
    const { ctx } = context(() => answer(200, '<Tagging><TagSet><Tag><Key>__proto__</Key><Value>x</Value></Tag><Tag><Key>team</Key><Value>ops</Value></Tag></TagSet></Tagging>'))
    const tags = await getObjectTagging(ctx)
    assert.deepEqual(Object.entries(tags), [
      ['__proto__', 'x'],
      ['team', 'ops'],
    ])
    await ctx.close()
  })

  test('ListObjectsV2: a key that is not URL-encoded though the answer says <EncodingType>url: a typed S3ResponseError, not a bare URIError', async () => {
    const { ctx } = context(() => answer(200, '<ListBucketResult><Name>bucket</Name><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated><Contents><Key>100%</Key><Size>1</Size><ETag>"e"</ETag></Contents></ListBucketResult>'))
    await assert.rejects(listObjectsV2(ctx), (e: unknown) => e instanceof S3ResponseError && /names a key "100%" that is not URL-encoded/.test(e.message))
    await ctx.close()
  })

  test('HeadObject refused 403 (a HEAD has no body to say why): the hint names credentials and permission (it said nothing)', async () => {
    const { ctx } = context(() => answer(403, ''))
    await assert.rejects(headObject(ctx), (e: unknown) => e instanceof S3ResponseError && /A HEAD answer says no more: check the credentials/.test(e.message))
    await ctx.close()
  })
})

describe('inputs the operations must refuse or clean', () => {
  test('a `hash` that is not SHA-256 (16 bytes, a string): InvalidArgumentError before any request (it was sent five times, XAmzContentSHA256Mismatch)', async () => {
    for (const digest of [new Uint8Array(16), 'abc']) {
      let calls = 0
      const transport: Transport = async () => {
        calls++
        return answer(200, '', { etag: '"e"' })
      }
      const hash = () => ({ update() {}, digest: () => digest as Uint8Array })
      await assert.rejects(
        upload([new Uint8Array(10)], { bucket: 'bucket', key: 'k', endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' } }, { hash, transport }),
        (e: unknown) => e instanceof InvalidArgumentError && /`hash` must make SHA-256 digests/.test(e.message),
      )
      assert.equal(calls, 0, 'nothing sent')
    }
  })

  test("a `credentials` function whose error quotes the vault's answer: keys and token redacted in the message (it quoted them)", async () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
    const token = 'IQoJb3JpZ2luX2VjEXAMPLETOKENzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz'
    const credentials = async () => {
      throw new Error(`vault answer missing Expiration: {"AccessKeyId":"AKIAIOSFODNN7EXAMPLE","SecretAccessKey":"${secret}","SessionToken":"${token}"}`)
    }
    const { ctx } = context(() => answer(200, ''), { credentials })
    await assert.rejects(headObject(ctx), (e: unknown) => {
      assert.ok(e instanceof CredentialsError)
      assert.ok(!e.message.includes(secret) && !e.message.includes(token) && !e.message.includes('AKIAIOSFODNN7EXAMPLE'), e.message)
      assert.match(e.message, /vault answer missing Expiration/)
      return true
    })
    await ctx.close()
  })
})
