import { S3ResponseError } from '../errors.ts'
import type { S3Context } from '../http/context.ts'
import { objectPath, stateOf } from '../http/state.ts'
import { sendS3 } from '../http/send.ts'
import { EMPTY_SHA256 } from '../http/sign.ts'
import type { ObjectRequestOptions } from './object-options.ts'
import { requireUploadId } from './validate.ts'

/** Options of {@link abortMultipartUpload}. */
export type AbortMultipartUploadOptions = ObjectRequestOptions

/**
 * Aborts a multipart upload, freeing its stored parts. `NoSuchUpload` counts as success: the
 * upload is gone either way (a retried Abort after a lost response answers it).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortMultipartUpload.html
 * @example
 * await abortMultipartUpload(ctx, uploadId)
 */
export async function abortMultipartUpload(ctx: S3Context, uploadId: string, options: AbortMultipartUploadOptions = {}): Promise<void> {
  requireUploadId(uploadId)
  const state = stateOf(ctx)
  try {
    await sendS3(
      state,
      { method: 'DELETE', path: objectPath(state, options.key), query: { uploadId }, payloadHash: EMPTY_SHA256, signal: options.signal, onRetry: options.onRetry, idempotent: true },
      { operation: 'AbortMultipartUpload', uploadId },
    )
  } catch (error) {
    if (error instanceof S3ResponseError && error.s3Code === 'NoSuchUpload') return
    throw error
  }
}
