// A bucket in another region, reached through AWS's own endpoint (no `endpoint` given): S3
// refuses the first request and says where the bucket is, either with a 301 PermanentRedirect
// and `x-amz-bucket-region`, or with a 400 AuthorizationHeaderMalformed whose `<Region>` names it.
// The context moves to that region (endpoint and signing region), sends the refused request
// again, and sends everything after there; the AWS CLI does the same.
//
// The "AWS" here is a transport: the wrong region's origin answers as S3 does, without sending
// anything. The bucket region's origin checks each request's SigV4 signature for its own host
// and region (recomputed apart, with smithy's signer), then signs it again for Ceph RGW's host
// (RGW routes by Host and answers NoSuchBucket for any other) and sends it there, headers and
// body unchanged: RGW checks that signature and each body's SHA-256, and stores what the
// redirected requests carried.
import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { Sha256 } from '@aws-crypto/sha256-js'
import { SignatureV4 } from '@smithy/signature-v4'
import { Agent } from 'undici'
import {
  createS3Context,
  fetchTransport,
  headObject,
  resolveS3Config,
  S3ResponseError,
  undiciTransport,
  upload,
  uploadAll,
  type Transport,
  type TransportRequest,
  type TransportResponse,
  type UploadTarget,
} from '../../src/index.ts'
import { fixedChunks, parseAmzDate, textBody } from '../fault/helpers.ts'
import { createBucket, getObject, openUploads, randomData, s3Env, sha256 } from './s3.ts'

const MiB = 1024 * 1024
const BUN = typeof (globalThis as { Bun?: unknown }).Bun === 'object'
const HOME = 'eu-west-1'
let bucket: string
before(async () => {
  // AWS's endpoint is what moves; a configured endpoint (AWS_ENDPOINT_URL, a profile's) never does.
  assert.equal(resolveS3Config({ region: 'us-east-1' }).endpointSource, 'AWS regional', 'this file needs no AWS_ENDPOINT_URL* or profile endpoint_url set')
  bucket = await createBucket('region')
})

interface Seen {
  readonly region: string
  readonly method: string
  readonly path: string
  /** The region in the request's credential scope. */
  readonly signedFor: string | undefined
  readonly status: number
}


/** S3's refusal of a request sent to `region` for a bucket in `HOME`. */
function refusal(kind: 'redirect' | 'malformed', method: string, region: string): TransportResponse {
  const xml = (inner: string): string => (method === 'HEAD' ? '' : `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${inner}<RequestId>R3D1R3CT</RequestId></Error>`)
  if (kind === 'redirect') {
    return {
      statusCode: 301,
      headers: { 'x-amz-bucket-region': HOME, 'x-amz-request-id': 'R3D1R3CT', 'content-type': 'application/xml' },
      body: textBody(
        xml(
          '<Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint. ' +
            `Please send all future requests to this endpoint.</Message><Endpoint>s3.${HOME}.amazonaws.com</Endpoint><Bucket>${bucket}</Bucket>`,
        ),
      ),
    }
  }
  return {
    statusCode: 400,
    headers: { 'x-amz-request-id': 'R3D1R3CT', 'content-type': 'application/xml' },
    body: textBody(
      xml(
        `<Code>AuthorizationHeaderMalformed</Code><Message>The authorization header is malformed; the region '${region}' is wrong; expecting '${HOME}'</Message><Region>${HOME}</Region>`,
      ),
    ),
  }
}

/** `req`'s headers signed anew for `url`'s host and `region` at `date`, as smithy signs them. */
async function signAs(req: TransportRequest, region: string, url: URL, date: Date): Promise<Record<string, string>> {
  const [path = '', search = ''] = req.path.split('?')
  const query: Record<string, string> = {}
  for (const pair of search.split('&').filter((p) => p !== '')) {
    const [name = '', value = ''] = pair.split('=')
    query[decodeURIComponent(name)] = decodeURIComponent(value)
  }
  const headers: Record<string, string> = { ...req.headers }
  delete headers['authorization']
  delete headers['x-amz-date']
  const { accessKeyId, secretAccessKey } = s3Env().credentials
  const signer = new SignatureV4({ service: 's3', region, credentials: { accessKeyId, secretAccessKey }, sha256: Sha256, uriEscapePath: false, applyChecksum: false })
  const request = { method: req.method, protocol: url.protocol, hostname: url.hostname, ...(url.port === '' ? {} : { port: Number(url.port) }), path, query, headers: { ...headers, host: url.host } }
  return (await signer.sign(request, { signingDate: date })).headers as Record<string, string>
}


/** AWS as far as these tests need it: `home` checks each signature and hands the request to RGW; any other region refuses. */
function aws(kind: 'redirect' | 'malformed', home = HOME): { transport: Transport; seen: Seen[]; close(): Promise<void> } {
  const agent = BUN ? undefined : new Agent()
  const inner = agent === undefined ? fetchTransport() : undiciTransport(agent)
  const rgw = new URL(s3Env().endpoint).origin
  const seen: Seen[] = []
  return {
    seen,
    transport: async (req) => {
      const region = /^https:\/\/s3\.([a-z0-9-]+)\.amazonaws\.com$/.exec(req.origin)?.[1]
      assert.ok(region !== undefined, `a request to AWS's regional endpoint, got ${req.origin}`)
      assert.equal(req.headers['host'], `s3.${region}.amazonaws.com`)
      const signedFor = /Credential=[^/]+\/\d{8}\/([^/]+)\/s3\/aws4_request/.exec(req.headers['authorization'] ?? '')?.[1]
      let res: TransportResponse
      if (region === home) {
        const expected = await signAs(req, region, new URL(req.origin), parseAmzDate(req.headers['x-amz-date']))
        assert.equal(req.headers['authorization'], expected['authorization'], `${req.method} ${req.path}: a valid signature for ${req.origin} in ${region}`)
        res = await inner({ ...req, origin: rgw, headers: await signAs(req, s3Env().region, new URL(rgw), new Date()) })
      } else {
        res = refusal(kind, req.method, region)
      }
      seen.push({ region, method: req.method, path: req.path, signedFor, status: res.statusCode })
      return res
    },
    close: async () => agent?.close(),
  }
}

/** A target on AWS's endpoint (none given), path-style (RGW has no bucket host names), signing for us-east-1. */
const awsTarget = (key: string): UploadTarget => ({ bucket, key, region: 'us-east-1', credentials: s3Env().credentials, forcePathStyle: true })

describe('a bucket in another region, on AWS: the first request is refused, the rest go to the bucket region', () => {
  for (const kind of ['redirect', 'malformed'] as const) {
    const answer = kind === 'redirect' ? '301 PermanentRedirect + x-amz-bucket-region' : '400 AuthorizationHeaderMalformed + <Region>'
    test(`multipart, after a ${answer}: one refused request, every other one signed for ${HOME} and stored by RGW`, async () => {
      const net = aws(kind)
      try {
        const data = randomData(13 * MiB, 31)
        const result = await upload(fixedChunks(data, MiB), awsTarget(`multipart-${kind}`), {
          partSize: 5 * MiB,
          concurrency: 2,
          retry: false,
          transport: net.transport,
        })
        assert.equal(result.partCount, 3)
        assert.equal(sha256(await getObject(bucket, `multipart-${kind}`)), sha256(data))
        const [refused, ...rest] = net.seen
        assert.deepEqual(
          { region: refused?.region, method: refused?.method, signedFor: refused?.signedFor, status: refused?.status },
          { region: 'us-east-1', method: 'POST', signedFor: 'us-east-1', status: kind === 'redirect' ? 301 : 400 },
          'CreateMultipartUpload went to us-east-1 first',
        )
        // Create again, 3 parts, Complete (and RGW's read-back HEAD, see finish.ts); no search for
        // an orphaned upload: S3 made none for a refused request.
        const ops = rest.filter((r) => r.method !== 'HEAD').map((r) => `${r.method} ${r.path.replace(/^[^?]*/, '').replace(/uploadId=[^&]+/, 'uploadId=…')}`)
        assert.deepEqual(ops.sort(), ['POST ?uploadId=…', 'POST ?uploads', 'PUT ?partNumber=1&uploadId=…', 'PUT ?partNumber=2&uploadId=…', 'PUT ?partNumber=3&uploadId=…'])
        for (const r of rest) assert.deepEqual([r.region, r.signedFor, r.status], [HOME, HOME, 200], `${r.method} ${r.path}`)
        assert.equal(result.location, `https://s3.${HOME}.amazonaws.com/${bucket}/multipart-${kind}`)
      } finally {
        await net.close()
      }
    })
  }

  test('a small object (one PutObject): its body is sent again, to the bucket region', async () => {
    const net = aws('redirect')
    try {
      const data = randomData(1000, 32)
      const result = await upload([data], awsTarget('small'), { transport: net.transport, retry: false })
      assert.equal(result.partCount, 1)
      assert.equal(sha256(await getObject(bucket, 'small')), sha256(data))
      assert.deepEqual(
        net.seen.map((r) => `${r.method} ${r.region} ${r.status}`),
        ['PUT us-east-1 301', `PUT ${HOME} 200`],
        'redirected once even with retries off: S3 carried nothing out',
      )
    } finally {
      await net.close()
    }
  })

  test('many files at once (uploadAll): every first request refused in flight is sent again, whoever moved the context', async () => {
    const net = aws('redirect')
    try {
      const files = Array.from({ length: 6 }, (_, i) => ({ key: `many/${i}`, data: randomData(1000 + i, 40 + i) }))
      const result = await uploadAll(
        files.map((f) => ({ key: f.key, source: [f.data] })),
        { bucket, region: 'us-east-1', credentials: s3Env().credentials, forcePathStyle: true },
        { concurrency: 6, transport: net.transport, retry: false },
      )
      assert.deepEqual([result.succeeded, result.failed], [6, 0], String(result.files.find((f) => f.error !== undefined)?.error))
      for (const f of files) assert.equal(sha256(await getObject(bucket, f.key)), sha256(f.data))
      const refused = net.seen.filter((r) => r.status === 301).length
      assert.ok(refused >= 2, `several requests were in flight to us-east-1 when the first refusal came back (${refused})`)
      assert.equal(net.seen.filter((r) => r.region === HOME && r.status === 200).length, 6)
    } finally {
      await net.close()
    }
  })

  test("a context moves once: later calls go straight to the bucket region, and ctx.region says so", async () => {
    const net = aws('redirect')
    const ctx = createS3Context({ ...awsTarget('small') }, { transport: net.transport })
    try {
      assert.equal(ctx.region, 'us-east-1')
      await headObject(ctx, { key: 'small' })
      await headObject(ctx, { key: 'small' })
      assert.equal(ctx.region, HOME)
      assert.deepEqual(
        net.seen.map((r) => `${r.method} ${r.region} ${r.status}`),
        ['HEAD us-east-1 301', `HEAD ${HOME} 200`, `HEAD ${HOME} 200`],
      )
    } finally {
      await ctx.close()
      await net.close()
    }
  })

  test('a region that refuses in turn is not followed again: a typed error naming the region, no upload left open', async () => {
    // Both regions refuse (the bucket "moved" again): one redirect per request, never a loop.
    const net = aws('redirect', 'nowhere-1')
    try {
      let returned = false
      async function* source(): AsyncGenerator<Uint8Array> {
        try {
          yield randomData(6 * MiB, 33)
          yield randomData(1 * MiB, 34)
        } finally {
          returned = true
        }
      }
      const error = await upload(source(), awsTarget('loop'), { partSize: 5 * MiB, transport: net.transport }).then(
        () => assert.fail('resolved'),
        (e: unknown) => e,
      )
      assert.ok(error instanceof S3ResponseError, String(error))
      assert.equal(error.code, 'ERR_PARTSTREAM_S3')
      assert.equal(error.statusCode, 301)
      assert.equal(error.bucketRegion, HOME)
      assert.match(error.message, /CreateMultipartUpload failed with HTTP 301 PermanentRedirect.*The bucket is in region eu-west-1: set `region: 'eu-west-1'`/)
      // Create refused twice; the upload's check for an orphaned upload (ListMultipartUploads) too.
      assert.deepEqual(net.seen.map((r) => `${r.method} ${r.region} ${r.status}`).slice(0, 2), ['POST us-east-1 301', `POST ${HOME} 301`])
      assert.ok(net.seen.slice(2).every((r) => r.region === HOME && r.status === 301), 'nothing went back to us-east-1')
      assert.ok(returned, 'the source was closed')
      assert.deepEqual(await openUploads(bucket, 'loop'), [])
    } finally {
      await net.close()
    }
  })
})

test('a FIPS endpoint moves to the FIPS endpoint of the bucket region', async () => {
  const origins: string[] = []
  const transport: Transport = async (req) => {
    origins.push(req.origin)
    return req.origin.includes('.us-east-1.') ? refusal('redirect', req.method, 'us-east-1') : { statusCode: 200, headers: { 'content-length': '3', etag: '"x"' }, body: textBody('') }
  }
  // resolveS3Config reads the variable while the context is made, synchronously: set and restore around it.
  const before = process.env['AWS_USE_FIPS_ENDPOINT']
  process.env['AWS_USE_FIPS_ENDPOINT'] = 'true'
  let ctx: ReturnType<typeof createS3Context>
  try {
    ctx = createS3Context({ ...awsTarget('fips') }, { transport, retry: false })
  } finally {
    if (before === undefined) delete process.env['AWS_USE_FIPS_ENDPOINT']
    else process.env['AWS_USE_FIPS_ENDPOINT'] = before
  }
  try {
    await headObject(ctx, { key: 'fips' })
    assert.deepEqual(origins, ['https://s3-fips.us-east-1.amazonaws.com', `https://s3-fips.${HOME}.amazonaws.com`])
  } finally {
    await ctx.close()
  }
})

describe('an endpoint of your own never moves', () => {
  test('a 301 with x-amz-bucket-region is an S3ResponseError that names the region to set', async () => {
    let requests = 0
    const transport: Transport = async (req) => {
      requests++
      return refusal('redirect', req.method, 'us-east-1')
    }
    const error = await upload([randomData(100, 35)], { bucket, key: 'own', region: 'us-east-1', endpoint: 'https://storage.example.com', credentials: s3Env().credentials }, { transport, retry: false }).then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    )
    assert.ok(error instanceof S3ResponseError, String(error))
    assert.equal(error.bucketRegion, HOME)
    assert.equal(error.statusCode, 301)
    assert.match(error.message, /PutObject failed with HTTP 301 PermanentRedirect: .* The bucket is in region eu-west-1: set `region: 'eu-west-1'` \(the CLI's --region, or AWS_REGION\)/)
    assert.equal(requests, 1, 'not followed, not retried')
  })

  test('a region name that is not one (a header a proxy made up) is ignored', async () => {
    const transport: Transport = async () => ({ statusCode: 301, headers: { 'x-amz-bucket-region': 'evil.example.com/x' }, body: textBody('') })
    const error = await upload([randomData(100, 36)], awsTarget('bad-region'), { transport, retry: false }).then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    )
    assert.ok(error instanceof S3ResponseError, String(error))
    assert.equal(error.bucketRegion, undefined)
    assert.equal(error.statusCode, 301)
    assert.match(error.message, /The bucket lives in another region: set `region`/)
  })
})
