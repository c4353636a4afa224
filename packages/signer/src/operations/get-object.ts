import type { S3Context } from '../http/context.ts'
import { objectPath, stateOf } from '../http/state.ts'
import { header, sendS3 } from '../http/send.ts'
import { EMPTY_SHA256 } from '../http/sign.ts'
import { unquote, type ObjectRequestOptions } from './object-options.ts'

/** Options of {@link getObject}. */
export type GetObjectOptions = ObjectRequestOptions

/** An object being read: its size, ETag and body as a stream of chunks. */
export interface ObjectDownload {
  readonly size: number
  readonly etag: string
  /** The bytes as they arrive; consume it (or `return()` from it) to free the connection. */
  readonly body: AsyncIterable<Uint8Array>
}

/**
 * Reads an object as a stream, through the same request path as every operation: retried until
 * the body starts (5xx, 429, network errors), watched for idleness while it flows (a stalled
 * body fails with the idle timeout), cancelled by `signal` with `signal.reason`. Not retried
 * once bytes flow. The uploader does not need it; it is here to verify uploads end to end (the
 * demo and the tests read every object back).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
 * @example
 * const { body } = await getObject(ctx, { key: 'logs/day.gz' })
 * for await (const chunk of body) hash.update(chunk)
 */
export async function getObject(ctx: S3Context, options: GetObjectOptions = {}): Promise<ObjectDownload> {
  const state = stateOf(ctx)
  const answer = await sendS3(
    state,
    { method: 'GET', path: objectPath(state, options.key), payloadHash: EMPTY_SHA256, signal: options.signal, onRetry: options.onRetry, response: 'stream', idempotent: true },
    { operation: 'GetObject' },
  )
  return {
    size: Number(header(answer.headers, 'content-length')),
    etag: unquote(header(answer.headers, 'etag')) ?? '',
    body: answer.body as AsyncIterable<Uint8Array>,
  }
}
