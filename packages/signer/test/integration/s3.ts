// Test helpers for the real S3 server (Ceph RGW brought up by scripts/s3-server.sh, or any
// server named by S3_ENDPOINT). Missing configuration fails the suite: it is never skipped.
import { createHash, randomBytes } from 'node:crypto'
import { after } from 'node:test'
import {
  abortStaleUploads,
  createBucket as createBucketOp,
  createS3Context,
  getObject as getObjectOp,
  listMultipartUploads,
  S3ResponseError,
  type Credentials,
  type S3Context,
  type UploadTarget,
} from '../../src/index.ts'
import { stateOf } from '../../src/http/state.ts'
import { objectPathFor } from '../../src/http/endpoint.ts'
import { sendS3 } from '../../src/http/send.ts'
import { EMPTY_SHA256 } from '../../src/http/sign.ts'
import { xmlBlocks, xmlText } from '../../src/http/xml.ts'

export function s3Env(): { endpoint: string; region: string; credentials: Credentials } {
  const endpoint = process.env['S3_ENDPOINT']
  const accessKeyId = process.env['S3_ACCESS_KEY_ID']
  const secretAccessKey = process.env['S3_SECRET_ACCESS_KEY']
  if (!endpoint || !accessKeyId || !secretAccessKey) {
    throw new Error(
      'The integration suite needs a real S3 server: run it through `pnpm test` (which starts Ceph RGW), ' +
        'or set S3_ENDPOINT, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY.',
    )
  }
  return { endpoint, region: process.env['S3_REGION'] ?? 'us-east-1', credentials: { accessKeyId, secretAccessKey } }
}

export function target(bucket: string, key: string): UploadTarget {
  return { bucket, key, ...s3Env() }
}

function ctxFor(bucket: string, key?: string): S3Context {
  return createS3Context({ ...s3Env(), bucket, key }, { retry: false })
}

const created: string[] = []
// The test server keeps objects in RAM (Ceph memstore): every bucket a test file makes is emptied
// and removed when the file ends, so a long run (every runtime, the soak) never fills it.
after(async () => {
  for (const bucket of created.splice(0)) await deleteBucket(bucket)
})

/** Creates a fresh bucket for one test file; it is deleted with its objects when the file ends. */
export async function createBucket(prefix: string): Promise<string> {
  const bucket = `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
  const ctx = ctxFor(bucket)
  try {
    await createBucketOp(ctx)
  } finally {
    await ctx.close()
  }
  created.push(bucket)
  return bucket
}

/** Aborts open uploads, deletes every object, then the bucket. */
export async function deleteBucket(bucket: string): Promise<void> {
  const ctx = ctxFor(bucket)
  const state = stateOf(ctx)
  const base = state.endpoint.bucketPath
  const send = (operation: 'ListObjectsV2' | 'DeleteObject' | 'DeleteBucket', method: 'GET' | 'DELETE', path: string, query?: Record<string, string>) =>
    sendS3(state, { method, path, query, payloadHash: EMPTY_SHA256, response: method === 'GET' ? 'text' : 'none', idempotent: true }, { operation })
  try {
    // A request the client gave up on (aborted, timed out) can still land on the server after the
    // test ended: S3 documents that parts in progress during an Abort "might or might not succeed".
    // So a bucket that is not empty yet is emptied again, a few times, before that is an error.
    for (let attempt = 1; ; attempt++) {
      await abortStaleUploads(ctx, { olderThanMs: 0 })
      for (;;) {
        const page = await send('ListObjectsV2', 'GET', base, { 'list-type': '2', 'max-keys': '1000' })
        const keys = xmlBlocks(page.text, 'Contents').map((c: string) => xmlText(c, 'Key') ?? '')
        for (const key of keys) await send('DeleteObject', 'DELETE', objectPathFor(state.endpoint, key))
        if (keys.length === 0 || xmlText(page.text, 'IsTruncated') !== 'true') break
      }
      try {
        await send('DeleteBucket', 'DELETE', base)
        return
      } catch (error) {
        if (attempt >= 10 || !(error instanceof S3ResponseError) || error.s3Code !== 'BucketNotEmpty') throw error
        await new Promise((resolve) => setTimeout(resolve, 250 * attempt))
      }
    }
  } finally {
    await ctx.close()
  }
}

/** GETs an object back whole. */
export async function getObject(bucket: string, key: string): Promise<Buffer> {
  const ctx = ctxFor(bucket, key)
  try {
    const { body } = await getObjectOp(ctx)
    const chunks: Buffer[] = []
    for await (const chunk of body) chunks.push(Buffer.from(chunk))
    return Buffer.concat(chunks)
  } finally {
    await ctx.close()
  }
}

export function sha256(data: Uint8Array | readonly Uint8Array[]): string {
  const h = createHash('sha256')
  if (data instanceof Uint8Array) h.update(data)
  else for (const c of data) h.update(c)
  return h.digest('hex')
}

/** Open multipart uploads under `prefix` in `bucket`. */
export async function openUploads(bucket: string, prefix?: string): Promise<string[]> {
  const ctx = ctxFor(bucket)
  try {
    return (await listMultipartUploads(ctx, { prefix })).map((u) => `${u.key} ${u.uploadId}`)
  } finally {
    await ctx.close()
  }
}

/** Deterministic pseudo-random bytes (fast): a seeded xorshift fill. */
export function randomData(size: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(size)
  let x = seed >>> 0 || 1
  let i = 0
  for (; i + 4 <= size; i += 4) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out.writeUInt32LE(x >>> 0, i)
  }
  for (; i < size; i++) out[i] = i & 0xff
  return out
}

/** Splits `data` into chunks of random sizes (views, seeded). */
export function* randomChunks(data: Uint8Array, maxChunk: number, seed = 7): Generator<Uint8Array> {
  let x = seed >>> 0 || 1
  let offset = 0
  while (offset < data.byteLength) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    const n = 1 + ((x >>> 0) % maxChunk)
    yield data.subarray(offset, offset + n)
    offset += n
  }
}
