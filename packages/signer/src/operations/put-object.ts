import type { S3Context } from '../http/context.ts'
import { objectPath, stateOf } from '../http/state.ts'
import { header, sendS3 } from '../http/send.ts'
import { objectHeaders, unquote, type ObjectOptions, type ObjectRequestOptions } from './object-options.ts'
import { payloadHashOf, type PartBody } from './upload-part.ts'

/** Options of {@link putObject}. */
export interface PutObjectOptions extends ObjectRequestOptions, ObjectOptions {}

/** What PutObject answered. */
export interface PutObjectResult {
  readonly etag: string
  readonly versionId: string | undefined
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
  const answer = await sendS3(
    state,
    {
      method: 'PUT',
      path: objectPath(state, options.key),
      headers: objectHeaders(options, true),
      body: body.chunks,
      contentLength: body.byteLength,
      payloadHash: payloadHashOf(body),
      signal: options.signal,
      onRetry: options.onRetry,
      idempotent: true,
    },
    { operation: 'PutObject' },
  )
  return { etag: unquote(header(answer.headers, 'etag')) ?? '', versionId: header(answer.headers, 'x-amz-version-id') }
}
