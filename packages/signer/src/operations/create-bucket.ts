import type { S3Context } from '../context.ts'
import { S3ResponseError } from '../errors.ts'
import { EMPTY_SHA256, sendS3 } from '../internal/send.ts'

/**
 * Creates the context's bucket; an existing bucket you own counts as success. For demos and
 * tests against a fresh S3-compatible server (outside us-east-1 on AWS, pass a
 * CreateBucketConfiguration yourself).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
 * @example
 * await createBucket(createS3Context({ bucket: 'demo', key: 'unused', endpoint }))
 */
export async function createBucket(ctx: S3Context, options: { readonly signal?: AbortSignal | undefined } = {}): Promise<void> {
  try {
    await sendS3(
      ctx,
      { method: 'PUT', path: ctx.endpoint.bucketPath, payloadHash: EMPTY_SHA256, contentLength: 0, signal: options.signal, idempotent: true },
      { operation: 'CreateBucket' },
    )
  } catch (error) {
    if (error instanceof S3ResponseError && error.s3Code === 'BucketAlreadyOwnedByYou') return
    throw error
  }
}
