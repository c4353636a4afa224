import type { S3Context } from '../http/context.ts'
import { sendS3 } from '../http/send.ts'
import { EMPTY_SHA256 } from '../http/sign.ts'
import { objectPath, stateOf } from '../http/state.ts'
import type { ObjectRequestOptions } from './object-options.ts'

/** Options of {@link deleteObject}. */
export type DeleteObjectOptions = ObjectRequestOptions

/**
 * Deletes an object; a missing key counts as success (S3 answers 204 either way).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html
 * @example
 * await deleteObject(ctx, { key: 'logs/day.gz' })
 */
export async function deleteObject(ctx: S3Context, options: DeleteObjectOptions = {}): Promise<void> {
  const state = stateOf(ctx)
  await sendS3(
    state,
    { method: 'DELETE', path: objectPath(state, options.key), payloadHash: EMPTY_SHA256, signal: options.signal, onRetry: options.onRetry, idempotent: true },
    { operation: 'DeleteObject' },
  )
}
