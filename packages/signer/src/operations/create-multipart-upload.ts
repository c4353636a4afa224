import { S3ResponseError } from '../errors.ts'
import type { S3Context } from '../http/context.ts'
import { objectPath, stateOf } from '../http/state.ts'
import { sendS3 } from '../http/send.ts'
import type { ChecksumAlgorithm, ChecksumType } from '../http/checksum.ts'
import { EMPTY_SHA256 } from '../http/sign.ts'
import { xmlText } from '../http/xml.ts'
import { objectHeaders, type ObjectOptions, type ObjectRequestOptions } from './object-options.ts'
import { requireChecksumOptions } from './validate.ts'

/** Options of {@link createMultipartUpload}. */
export interface CreateMultipartUploadOptions extends ObjectRequestOptions, ObjectOptions {
  /**
   * The upload's checksum algorithm (`x-amz-checksum-algorithm`): every part must then send its
   * checksum (`uploadPart` with the same `checksumAlgorithm`) and Complete lists them. One of
   * S3's names, in upper case (anything else is an `InvalidArgumentError`).
   * @default undefined: no checksum
   */
  readonly checksumAlgorithm?: ChecksumAlgorithm | undefined
  /**
   * How the object's checksum is made from the parts (`x-amz-checksum-type`), with
   * `checksumAlgorithm` only. S3 allows FULL_OBJECT only for CRC64NVME, COMPOSITE only for SHA1 and
   * SHA256, either for CRC32 and CRC32C: another pairing is an `InvalidArgumentError`.
   * @default 'FULL_OBJECT' for the CRCs, 'COMPOSITE' for SHA1 and SHA256
   */
  readonly checksumType?: ChecksumType | undefined
}

/** The checksum headers of CreateMultipartUpload, validated. */
function checksumHeaders(options: CreateMultipartUploadOptions): Record<string, string> {
  const { algorithm, type } = requireChecksumOptions(options)
  if (algorithm === undefined || type === undefined) return {}
  return { 'x-amz-checksum-algorithm': algorithm, 'x-amz-checksum-type': type }
}

/**
 * Starts a multipart upload and returns its `uploadId`.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html
 *
 * Retried like the other calls: a retry after a lost response can leave one extra empty upload
 * open on the server. `upload` finds and aborts it; callers of this function can do the same
 * with `listMultipartUploads` (or a bucket lifecycle rule).
 * @example
 * const uploadId = await createMultipartUpload(ctx, { contentType: 'text/plain' })
 */
export async function createMultipartUpload(ctx: S3Context, options: CreateMultipartUploadOptions = {}): Promise<string> {
  return createWithin(ctx, options, undefined)
}

/** {@link createMultipartUpload}, its request in flight cancelled only by `graceSignal` (see `S3Request.graceSignal`). */
export async function createWithin(ctx: S3Context, options: CreateMultipartUploadOptions, graceSignal: AbortSignal | undefined): Promise<string> {
  const state = stateOf(ctx)
  const where = { operation: 'CreateMultipartUpload' } as const
  const answer = await sendS3(
    state,
    {
      method: 'POST',
      path: objectPath(state, options.key),
      query: { uploads: '' },
      headers: { ...objectHeaders(options, false), ...checksumHeaders(options) },
      payloadHash: EMPTY_SHA256,
      signal: options.signal,
      graceSignal,
      onRetry: options.onRetry,
      response: 'text',
      root: 'InitiateMultipartUploadResult',
      idempotent: true,
    },
    where,
  )
  const uploadId = xmlText(answer.text, 'UploadId')
  if (uploadId === undefined || uploadId === '') {
    throw new S3ResponseError({ statusCode: answer.statusCode, s3Message: 'response has no <UploadId>', ...where, attempt: answer.attempt })
  }
  return uploadId
}
