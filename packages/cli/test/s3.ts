// The real S3 server for the CLI tests, through the public signer API only: a bucket per test
// file, every object the file wrote deleted with it (the server keeps them in RAM).
import { randomBytes } from 'node:crypto'
import { after } from 'node:test'
import {
  abortStaleUploads,
  createBucket as createBucketOp,
  createS3Context,
  deleteBucket,
  deleteObject,
  getObject as getObjectOp,
  listMultipartUploads,
  type Credentials,
  type S3Context,
} from '@partstream/signer'

export function s3Env(): { endpoint: string; region: string; credentials: Credentials } {
  const endpoint = process.env['S3_ENDPOINT']
  const accessKeyId = process.env['S3_ACCESS_KEY_ID']
  const secretAccessKey = process.env['S3_SECRET_ACCESS_KEY']
  if (!endpoint || !accessKeyId || !secretAccessKey) {
    throw new Error('The CLI suite needs a real S3 server: run it through `pnpm test` (which starts Ceph RGW), or set S3_ENDPOINT, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY.')
  }
  return { endpoint, region: process.env['S3_REGION'] ?? 'us-east-1', credentials: { accessKeyId, secretAccessKey } }
}

const context = (bucket: string): S3Context => createS3Context({ bucket, ...s3Env() }, { retry: false })
const written = new Map<string, Set<string>>()

after(async () => {
  for (const [bucket, keys] of written) {
    const ctx = context(bucket)
    try {
      await abortStaleUploads(ctx, { olderThanMs: 0 })
      for (const key of keys) await deleteObject(ctx, { key })
      await deleteBucket(ctx)
    } finally {
      await ctx.close()
    }
  }
})

/** A fresh bucket, deleted with the keys given to `track` when the file ends. */
export async function createBucket(prefix: string): Promise<string> {
  const bucket = `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
  const ctx = context(bucket)
  try {
    await createBucketOp(ctx)
  } finally {
    await ctx.close()
  }
  written.set(bucket, new Set())
  return bucket
}

/** GETs an object back whole (and remembers it for deletion). */
export async function getObject(bucket: string, key: string): Promise<Uint8Array> {
  written.get(bucket)?.add(key)
  const ctx = context(bucket)
  try {
    const { body } = await getObjectOp(ctx, { key })
    const chunks: Uint8Array[] = []
    for await (const chunk of body) chunks.push(chunk)
    return Buffer.concat(chunks)
  } finally {
    await ctx.close()
  }
}

/** Remembers a key for deletion without reading it. */
export function track(bucket: string, key: string): void {
  written.get(bucket)?.add(key)
}

export async function openUploads(bucket: string, prefix: string): Promise<string[]> {
  const ctx = context(bucket)
  try {
    return (await listMultipartUploads(ctx, { prefix })).map((u) => `${u.key} ${u.uploadId}`)
  } finally {
    await ctx.close()
  }
}

/** Deterministic pseudo-random bytes. */
export function randomData(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size)
  let x = seed >>> 0 || 1
  for (let i = 0; i < size; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}
