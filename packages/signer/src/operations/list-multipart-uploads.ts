import type { S3Context } from '../http/context.ts'
import { stateOf } from '../http/state.ts'
import { sendS3 } from '../http/send.ts'
import { EMPTY_SHA256 } from '../http/sign.ts'
import { xmlBlocks, xmlText } from '../http/xml.ts'
import { requireNextPage } from './list-objects-v2.ts'
import type { RequestOptions } from './object-options.ts'

/** Options of {@link listMultipartUploads}. */
export interface ListMultipartUploadsOptions extends RequestOptions {
  /**
   * Only uploads whose key starts with this.
   * @default '' (the whole bucket)
   */
  readonly prefix?: string | undefined
}

/** One open multipart upload. */
export interface OpenUpload {
  readonly key: string
  readonly uploadId: string
  /** When it was started, as the server reports it. */
  readonly initiated: Date | undefined
}

/**
 * Lists the open multipart uploads of the context's bucket whose key starts with `prefix`
 * (all pages). Finds orphans; the tests use it to prove none are left.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html
 * @example
 * const open = await listMultipartUploads(ctx, { prefix: 'logs/' })
 */
export async function listMultipartUploads(ctx: S3Context, options: ListMultipartUploadsOptions = {}): Promise<OpenUpload[]> {
  const state = stateOf(ctx)
  const out: OpenUpload[] = []
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
    for (const block of xmlBlocks(answer.text, 'Upload')) {
      const initiated = xmlText(block, 'Initiated')
      out.push({ key: xmlText(block, 'Key') ?? '', uploadId: xmlText(block, 'UploadId') ?? '', initiated: initiated === undefined ? undefined : new Date(initiated) })
    }
    if (xmlText(answer.text, 'IsTruncated') !== 'true') return out
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
