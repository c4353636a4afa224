import type { S3Context } from '../context.ts'
import { EMPTY_SHA256, errorFromResponse, header, signS3Request } from '../internal/send.ts'
import { unquote } from './common.ts'

/** An object being read: its size, ETag and body as a stream of chunks. */
export interface ObjectDownload {
  readonly size: number
  readonly etag: string
  /** The bytes as they arrive; consume it (or `return()` from it) to free the connection. */
  readonly body: AsyncIterable<Uint8Array>
}

/**
 * Reads an object as a stream (no retry once bytes flow). The uploader does not need it; it is
 * here to verify uploads end to end (the demo and the tests read every object back).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
 * @example
 * const { body } = await getObject(ctx)
 * for await (const chunk of body) hash.update(chunk)
 */
export async function getObject(ctx: S3Context, options: { readonly signal?: AbortSignal | undefined } = {}): Promise<ObjectDownload> {
  const path = ctx.endpoint.objectPath
  const headers = await signS3Request(ctx, 'GET', path, undefined, {}, EMPTY_SHA256)
  const response = await ctx.transport({ origin: ctx.endpoint.origin, path, method: 'GET', headers, body: null, signal: options.signal })
  if (response.statusCode !== 200) {
    const decoder = new TextDecoder()
    let text = ''
    for await (const chunk of response.body) text += decoder.decode(chunk, { stream: true })
    throw errorFromResponse('GET', response.statusCode, response.headers, text, { operation: 'GetObject' }, 1)
  }
  return {
    size: Number(header(response.headers, 'content-length')),
    etag: unquote(header(response.headers, 'etag')) ?? '',
    body: response.body,
  }
}
