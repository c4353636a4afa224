import type { S3Context } from '../http/context.ts'
import { objectPath, stateOf } from '../http/state.ts'
import { header, sendS3 } from '../http/send.ts'
import { assertChecksumEchoed, checksumHeader, type ChecksumAlgorithm } from '../http/checksum.ts'
import { objectHeaders, type ObjectOptions, type ObjectRequestOptions } from './object-options.ts'
import { digestHeaders, payloadHashOf, requireEtag, type PartBody } from './upload-part.ts'
import { requireBody } from './validate.ts'

/** Options of {@link putObject}. */
export interface PutObjectOptions extends ObjectRequestOptions, ObjectOptions {
  /**
   * Send the body's checksum (`body.checksum`, or `body.sha256` for SHA256) as
   * `x-amz-checksum-<algorithm>`; a different one echoed by the server is an `IntegrityError`.
   * A body carrying `md5` sends `Content-MD5` either way.
   * @default undefined: no checksum header
   */
  readonly checksumAlgorithm?: ChecksumAlgorithm | undefined
}

/** What PutObject answered. */
export interface PutObjectResult {
  /** Without quotes. An answer without an ETag header is an `S3ResponseError` (as for UploadPart). */
  readonly etag: string
  readonly versionId: string | undefined
  /** Base64 of the body's checksum, when `checksumAlgorithm` was given. */
  readonly checksum: string | undefined
}

/**
 * Writes a whole object in one request: used when the source fits in one part (the empty
 * source included). Retried from the held bytes.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
 * @example
 * const [part] = bufferParts(bytes) // bytes that fit in one part
 * if (part) await putObject(ctx, await part.toPart(), { contentType: 'text/plain' })
 */
export async function putObject(ctx: S3Context, body: PartBody, options: PutObjectOptions = {}): Promise<PutObjectResult> {
  const state = stateOf(ctx)
  requireBody(body)
  const algorithm = options.checksumAlgorithm
  const digests = digestHeaders(body, algorithm)
  const answer = await sendS3(
    state,
    {
      method: 'PUT',
      path: objectPath(state, options.key),
      headers: { ...objectHeaders(options, true), ...digests.headers },
      body: body.chunks,
      contentLength: body.byteLength,
      payloadHash: payloadHashOf(body),
      signal: options.signal,
      onRetry: options.onRetry,
      idempotent: true,
    },
    { operation: 'PutObject' },
  )
  const etag = requireEtag(answer, { operation: 'PutObject' })
  const { checksum } = digests
  if (algorithm !== undefined && checksum !== undefined) {
    assertChecksumEchoed(header(answer.headers, checksumHeader(algorithm)), checksum, algorithm, 'the object')
  }
  return { etag, versionId: header(answer.headers, 'x-amz-version-id'), checksum }
}
