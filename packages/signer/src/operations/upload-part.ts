import type { Part } from '@partstream/core'
import { S3ResponseError } from '../errors.ts'
import type { S3Context } from '../http/context.ts'
import { objectPath, stateOf } from '../http/state.ts'
import { toHex } from '../http/hash.ts'
import { header, sendS3 } from '../http/send.ts'
import { UNSIGNED_PAYLOAD } from '../http/sign.ts'
import { unquote, type ObjectRequestOptions } from './object-options.ts'

/** The bytes of one request body and their hash: a `Part` from `toParts`/`bufferParts` fits. */
export type PartBody = Pick<Part, 'chunks' | 'byteLength' | 'sha256'>

/** What S3 acknowledged for one part; the list of these completes the upload. */
export interface UploadedPart {
  readonly partNumber: number
  readonly etag: string
  readonly size: number
}

/** Options of {@link uploadPart}. */
export type UploadPartOptions = ObjectRequestOptions

/** Hex payload hash for SigV4: the part's own SHA-256, or UNSIGNED-PAYLOAD when hashing is off. */
export function payloadHashOf(body: PartBody): string {
  return body.sha256 === undefined ? UNSIGNED_PAYLOAD : toHex(body.sha256)
}

/**
 * Uploads one part. The part's precomputed SHA-256 is signed as `x-amz-content-sha256`, so the
 * body is never hashed again; the chunk list is sent as is (no concatenation) with an explicit
 * `content-length`. Retries resend the same chunks.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html
 * @example
 * for await (const part of toParts(source, { hash: defaultHash })) {
 *   done.push(await uploadPart(ctx, uploadId, part))
 * }
 */
export async function uploadPart(
  ctx: S3Context,
  uploadId: string,
  part: PartBody & { readonly partNumber: number },
  options: UploadPartOptions = {},
): Promise<UploadedPart> {
  const state = stateOf(ctx)
  const where = { operation: 'UploadPart', uploadId, partNumber: part.partNumber } as const
  const answer = await sendS3(
    state,
    {
      method: 'PUT',
      path: objectPath(state, options.key),
      query: { partNumber: String(part.partNumber), uploadId },
      body: part.chunks,
      contentLength: part.byteLength,
      payloadHash: payloadHashOf(part),
      signal: options.signal,
      idempotent: true,
      onRetry: options.onRetry,
    },
    where,
  )
  const etag = unquote(header(answer.headers, 'etag'))
  if (etag === undefined || etag === '') {
    throw new S3ResponseError({ statusCode: answer.statusCode, s3Message: 'response has no ETag header', ...where, attempt: answer.attempt })
  }
  return { partNumber: part.partNumber, etag, size: part.byteLength }
}
