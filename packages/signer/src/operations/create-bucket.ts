import { S3ResponseError } from '../errors.ts'
import type { S3Context } from '../http/context.ts'
import { stateOf } from '../http/state.ts'
import { sendS3 } from '../http/send.ts'
import { EMPTY_SHA256 } from '../http/sign.ts'
import type { RequestOptions } from './object-options.ts'

/** Options of {@link createBucket}. */
export type CreateBucketOptions = RequestOptions

/**
 * Creates the context's bucket; an existing bucket you own counts as success. For demos and
 * tests against a fresh S3-compatible server (outside us-east-1 on AWS, pass a
 * CreateBucketConfiguration yourself).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
 * @example
 * await createBucket(createS3Context({ bucket: 'demo', endpoint }))
 */
export async function createBucket(ctx: S3Context, options: CreateBucketOptions = {}): Promise<void> {
  const state = stateOf(ctx)
  try {
    await sendS3(
      state,
      { method: 'PUT', path: state.endpoint.bucketPath, payloadHash: EMPTY_SHA256, contentLength: 0, signal: options.signal, onRetry: options.onRetry, idempotent: true },
      { operation: 'CreateBucket' },
    )
  } catch (error) {
    if (error instanceof S3ResponseError && error.s3Code === 'BucketAlreadyOwnedByYou') return
    throw error
  }
}
