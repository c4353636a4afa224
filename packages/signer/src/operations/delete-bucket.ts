import type { S3Context } from '../http/context.ts'
import { sendS3 } from '../http/send.ts'
import { EMPTY_SHA256 } from '../http/sign.ts'
import { stateOf } from '../http/state.ts'
import type { RequestOptions } from './object-options.ts'

/** Options of {@link deleteBucket}. */
export type DeleteBucketOptions = RequestOptions

/**
 * Deletes the context's bucket, which must be empty (no objects, no open multipart uploads).
 * For demos and tests, like `createBucket`.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucket.html
 * @example
 * await deleteBucket(createS3Context({ bucket: 'demo', endpoint }))
 */
export async function deleteBucket(ctx: S3Context, options: DeleteBucketOptions = {}): Promise<void> {
  const state = stateOf(ctx)
  await sendS3(
    state,
    { method: 'DELETE', path: state.endpoint.bucketPath, payloadHash: EMPTY_SHA256, signal: options.signal, onRetry: options.onRetry, idempotent: true },
    { operation: 'DeleteBucket' },
  )
}
