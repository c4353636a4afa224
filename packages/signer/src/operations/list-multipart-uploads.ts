import type { S3Context } from '../http/context.ts'
import { describeValue, InvalidArgumentError } from '@partstream/core'
import type { OpenUpload } from '../errors.ts'
import { stateOf } from '../http/state.ts'
import { header, sendS3, type S3Answer } from '../http/send.ts'
import { EMPTY_SHA256 } from '../http/sign.ts'
import { xmlBlocks, xmlText } from '../http/xml.ts'
import { requireNextPage } from './list-objects-v2.ts'
import type { RequestOptions } from './object-options.ts'
import { requireKeyText } from './validate.ts'

/** Options of {@link listMultipartUploads}. */
export interface ListMultipartUploadsOptions extends RequestOptions {
  /**
   * Only uploads whose key starts with this.
   * @default '' (the whole bucket)
   */
  readonly prefix?: string | undefined
  /**
   * Only uploads started at least this many milliseconds ago, judged on the server's clock (each
   * page's `Date` header, else the context's corrected clock): a client clock that runs hours
   * fast must not make a running upload look stale. An upload the server gives no start time for
   * is never old enough.
   * @default undefined (every upload)
   */
  readonly olderThanMs?: number | undefined
}

export type { OpenUpload } from '../errors.ts'

/**
 * Lists the open multipart uploads of the context's bucket whose key starts with `prefix`
 * (all pages). Finds orphans; the tests use it to prove none are left.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html
 * @example
 * const open = await listMultipartUploads(ctx, { prefix: 'logs/' })
 */
export async function listMultipartUploads(ctx: S3Context, options: ListMultipartUploadsOptions = {}): Promise<OpenUpload[]> {
  return (await listUploadsAt(ctx, options)).uploads
}

/**
 * {@link listMultipartUploads}, with the server's time when the first page was answered (its
 * `Date`, kept within that second by the context's clock) and this machine's `Date.now()` then:
 * a window of `Initiated` times can be set on the server's clock, whatever the skew.
 */
export async function listUploadsAt(ctx: S3Context, options: ListMultipartUploadsOptions): Promise<{ uploads: OpenUpload[]; serverNowMs: number; localNowMs: number }> {
  const state = stateOf(ctx)
  requireKeyText(options.prefix, 'prefix')
  const { olderThanMs } = options
  if (olderThanMs !== undefined && (typeof olderThanMs !== 'number' || !(olderThanMs >= 0))) {
    throw new InvalidArgumentError(`Expected \`olderThanMs\` to be a number ≥ 0 (milliseconds), got ${describeValue(olderThanMs)}.`)
  }
  const out: OpenUpload[] = []
  let at: { serverNowMs: number; localNowMs: number } | undefined
  let keyMarker: string | undefined
  let uploadIdMarker: string | undefined
  for (;;) {
    const query: Record<string, string> = { uploads: '' }
    if (options.prefix !== undefined && options.prefix !== '') query['prefix'] = options.prefix
    if (keyMarker !== undefined) query['key-marker'] = keyMarker
    if (uploadIdMarker !== undefined) query['upload-id-marker'] = uploadIdMarker
    const answer = await sendS3(
      state,
      { method: 'GET', path: state.endpoint.bucketPath, query, payloadHash: EMPTY_SHA256, signal: options.signal, onRetry: options.onRetry, response: 'text', root: 'ListMultipartUploadsResult', idempotent: true },
      { operation: 'ListMultipartUploads' },
    )
    at ??= { serverNowMs: serverNow(answer.headers, state.clock.now()), localNowMs: Date.now() }
    const cutoff = olderThanMs === undefined ? undefined : serverNow(answer.headers, state.clock.now()) - olderThanMs
    for (const block of xmlBlocks(answer.text, 'Upload')) {
      const text = xmlText(block, 'Initiated')
      const initiated = text === undefined ? undefined : new Date(text)
      if (cutoff !== undefined && !(initiated !== undefined && initiated.getTime() <= cutoff)) continue
      out.push({ key: xmlText(block, 'Key') ?? '', uploadId: xmlText(block, 'UploadId') ?? '', initiated })
    }
    if (xmlText(answer.text, 'IsTruncated') !== 'true') return { uploads: out, ...at }
    const nextKey = xmlText(answer.text, 'NextKeyMarker')
    const nextUploadId = xmlText(answer.text, 'NextUploadIdMarker')
    requireNextPage(answer, { operation: 'ListMultipartUploads' }, [
      { name: 'NextKeyMarker', sent: keyMarker, next: nextKey },
      { name: 'NextUploadIdMarker', sent: uploadIdMarker, next: nextUploadId },
    ])
    keyMarker = nextKey
    uploadIdMarker = nextUploadId
  }
}

/**
 * The server's time: `Date` has a resolution of one second, so the context's corrected clock,
 * kept within the second `Date` names (a clock hours fast is brought back to it). No `Date`: the
 * corrected clock.
 */
function serverNow(headers: S3Answer['headers'], clock: Date): number {
  const ms = Date.parse(header(headers, 'date') ?? '')
  return Number.isNaN(ms) ? clock.getTime() : Math.min(Math.max(clock.getTime(), ms), ms + 999)
}
