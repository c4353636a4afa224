import type { S3Context } from '../context.ts'
import { S3ResponseError } from '../errors.ts'
import { EMPTY_SHA256, sendS3 } from '../internal/send.ts'

/**
 * Aborts a multipart upload, freeing its stored parts. `NoSuchUpload` counts as success: the
 * upload is gone either way (a retried Abort after a lost response answers it).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortMultipartUpload.html
 * @example
 * await abortMultipartUpload(ctx, uploadId)
 */
export async function abortMultipartUpload(
  ctx: S3Context,
  uploadId: string,
  options: { readonly signal?: AbortSignal | undefined } = {},
): Promise<void> {
  try {
    await sendS3(
      ctx,
      { method: 'DELETE', path: ctx.endpoint.objectPath, query: { uploadId }, payloadHash: EMPTY_SHA256, signal: options.signal, idempotent: true },
      { operation: 'AbortMultipartUpload', uploadId },
    )
  } catch (error) {
    if (error instanceof S3ResponseError && error.s3Code === 'NoSuchUpload') return
    throw error
  }
}
