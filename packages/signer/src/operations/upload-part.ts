import { describeValue, InvalidArgumentError, isUint8Array, type Part } from '@partstream/core'
import { S3ResponseError, type S3ErrorContext } from '../errors.ts'
import { assertChecksumEchoed, checksumHeader, partChecksum, toBase64, validateChecksumAlgorithm, type ChecksumAlgorithm } from '../http/checksum.ts'
import type { S3Context } from '../http/context.ts'
import { objectPath, stateOf } from '../http/state.ts'
import { toHex } from '../http/hash.ts'
import { header, sendS3, type S3Answer } from '../http/send.ts'
import { UNSIGNED_PAYLOAD } from '../http/sign.ts'
import { unquote, type ObjectRequestOptions } from './object-options.ts'
import { requireBody, requirePartNumber, requireUploadId } from './validate.ts'

/** The bytes of one request body and their digests: a `Part` from `toParts`/`bufferParts` fits. */
export type PartBody = Pick<Part, 'chunks' | 'byteLength' | 'sha256' | 'checksum' | 'md5'>

/** What S3 acknowledged for one part; the list of these completes the upload. */
export interface UploadedPart {
  readonly partNumber: number
  readonly etag: string
  readonly size: number
  /** Base64 of the part's checksum, when the upload has one (`checksumAlgorithm`). */
  readonly checksum?: string | undefined
  /** Which algorithm `checksum` is (ListParts reports it per part). */
  readonly checksumAlgorithm?: ChecksumAlgorithm | undefined
}

/** Options of {@link uploadPart}. */
export interface UploadPartOptions extends ObjectRequestOptions {
  /**
   * The upload's checksum algorithm (as given to CreateMultipartUpload): the part's checksum
   * (`part.checksum`, or `part.sha256` for SHA256) is sent as `x-amz-checksum-<algorithm>`, and a
   * different one echoed by the server is an `IntegrityError`.
   * @default undefined: no checksum header
   */
  readonly checksumAlgorithm?: ChecksumAlgorithm | undefined
}

/**
 * The digest headers of a body: `x-amz-checksum-<algorithm>` (base64 of the big-endian digest)
 * and `Content-MD5` when the body carries an `md5`. Returns the checksum too, to compare with the answer.
 * @throws {InvalidArgumentError} for an `algorithm` that is not one of S3's five (`'MD5'` is
 *   `Content-MD5`, from the body's `md5`), before any request.
 */
export function digestHeaders(body: PartBody, algorithm: ChecksumAlgorithm | undefined): { headers: Record<string, string>; checksum: string | undefined } {
  validateChecksumAlgorithm(algorithm, 'checksumAlgorithm')
  const headers: Record<string, string> = {}
  const checksum = algorithm === undefined ? undefined : toBase64(partChecksum(body, algorithm))
  if (algorithm !== undefined && checksum !== undefined) headers[checksumHeader(algorithm)] = checksum
  if (body.md5 !== undefined) headers['content-md5'] = toBase64(body.md5)
  return { headers, checksum }
}

/**
 * The ETag of a successful UploadPart or PutObject answer, unquoted. S3 always sends one; a 2xx
 * without it (a proxy's or a captive portal's 200 page) stored nothing we can name, so it is an
 * `S3ResponseError`, never a success with an empty ETag.
 */
export function requireEtag(answer: S3Answer, where: S3ErrorContext): string {
  const etag = unquote(header(answer.headers, 'etag'))
  if (etag === undefined || etag === '') {
    throw new S3ResponseError({ statusCode: answer.statusCode, s3Message: 'response has no ETag header', ...where, attempt: answer.attempt })
  }
  return etag
}

/** Hex payload hash for SigV4: the part's own SHA-256, or UNSIGNED-PAYLOAD when hashing is off. */
export function payloadHashOf(body: PartBody): string {
  if (body.sha256 === undefined) return UNSIGNED_PAYLOAD
  // Signed as x-amz-content-sha256: anything but 32 bytes (a `hash` that is MD5, or gives a
  // string) was sent five times and refused each time (XAmzContentSHA256Mismatch), with no hint.
  const digest: unknown = body.sha256
  if (!isUint8Array(digest) || digest.byteLength !== 32) {
    throw new InvalidArgumentError(
      `Expected the part's \`sha256\` (the \`hash\` option's digest) to be the 32-byte SHA-256 of its bytes, got ${isUint8Array(digest) ? `${digest.byteLength} bytes` : describeValue(digest)}: \`hash\` must make SHA-256 digests (it is signed as x-amz-content-sha256), or be left out.`,
    )
  }
  return toHex(digest)
}

/**
 * Uploads one part. The part's precomputed SHA-256 is signed as `x-amz-content-sha256`, so the
 * body is never hashed again; the chunk list is sent as is (no concatenation) with an explicit
 * `content-length`. Retries resend the same chunks. With `checksumAlgorithm` the part's checksum
 * goes as `x-amz-checksum-<algorithm>`, and a part carrying `md5` sends `Content-MD5`.
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
  requireUploadId(uploadId)
  requirePartNumber(part?.partNumber)
  requireBody(part)
  const where = { operation: 'UploadPart', uploadId, partNumber: part.partNumber } as const
  const { headers, checksum } = digestHeaders(part, options.checksumAlgorithm)
  const answer = await sendS3(
    state,
    {
      method: 'PUT',
      path: objectPath(state, options.key),
      query: { partNumber: String(part.partNumber), uploadId },
      headers,
      body: part.chunks,
      contentLength: part.byteLength,
      payloadHash: payloadHashOf(part),
      signal: options.signal,
      idempotent: true,
      onRetry: options.onRetry,
    },
    where,
  )
  const etag = requireEtag(answer, where)
  const algorithm = options.checksumAlgorithm
  if (algorithm === undefined || checksum === undefined) return { partNumber: part.partNumber, etag, size: part.byteLength }
  assertChecksumEchoed(header(answer.headers, checksumHeader(algorithm)), checksum, algorithm, `part ${part.partNumber}`, uploadId)
  return { partNumber: part.partNumber, etag, size: part.byteLength, checksum, checksumAlgorithm: algorithm }
}
