import type { S3Context } from '../context.ts'
import { S3ResponseError } from '../errors.ts'
import { EMPTY_SHA256, sendS3 } from '../internal/send.ts'
import { xmlText } from '../internal/xml.ts'
import { objectHeaders, type ObjectOptions } from './common.ts'

/** Options of {@link createMultipartUpload}. */
export interface CreateMultipartUploadOptions extends ObjectOptions {
  readonly signal?: AbortSignal | undefined
}

/**
 * Starts a multipart upload and returns its `uploadId`.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html
 *
 * Retried like the other calls: a retry after a lost response can leave one extra empty upload
 * open; `abortStaleUploads` style cleanup (or a bucket lifecycle rule) removes those.
 * @example
 * const uploadId = await createMultipartUpload(ctx, { contentType: 'text/plain' })
 */
export async function createMultipartUpload(ctx: S3Context, options: CreateMultipartUploadOptions = {}): Promise<string> {
  const where = { operation: 'CreateMultipartUpload' } as const
  const answer = await sendS3(
    ctx,
    {
      method: 'POST',
      path: ctx.endpoint.objectPath,
      query: { uploads: '' },
      headers: objectHeaders(options),
      payloadHash: EMPTY_SHA256,
      signal: options.signal,
      readBody: true,
      idempotent: true,
    },
    where,
  )
  const uploadId = xmlText(answer.text, 'UploadId')
  if (uploadId === undefined || uploadId === '') {
    throw new S3ResponseError({ statusCode: answer.statusCode, s3Message: 'response has no <UploadId>', ...where })
  }
  return uploadId
}
