import type { S3Context } from '../context.ts'
import { header, sendS3 } from '../internal/send.ts'
import { objectHeaders, unquote, type ObjectOptions } from './common.ts'
import { payloadHashOf, type PartBody } from './upload-part.ts'

/** Options of {@link putObject}. */
export interface PutObjectOptions extends ObjectOptions {
  readonly signal?: AbortSignal | undefined
}

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
 * const [part] = bufferParts(bytes)
 * await putObject(ctx, await part.load())
 */
export async function putObject(ctx: S3Context, body: PartBody, options: PutObjectOptions = {}): Promise<PutObjectResult> {
  const answer = await sendS3(
    ctx,
    {
      method: 'PUT',
      path: ctx.endpoint.objectPath,
      headers: objectHeaders(options),
      body: body.chunks,
      contentLength: body.byteLength,
      payloadHash: payloadHashOf(body),
      signal: options.signal,
      idempotent: true,
    },
    { operation: 'PutObject' },
  )
  return { etag: unquote(header(answer.headers, 'etag')) ?? '', versionId: header(answer.headers, 'x-amz-version-id') }
}
