import type { S3Context } from '../http/context.ts'
import { objectPath, stateOf } from '../http/state.ts'
import { header, sendS3 } from '../http/send.ts'
import { EMPTY_SHA256 } from '../http/sign.ts'
import { unquote, type ObjectRequestOptions } from './object-options.ts'

/** Options of {@link headObject}. */
export type HeadObjectOptions = ObjectRequestOptions

/** The object's size and ETag, as HeadObject reports them. */
export interface ObjectHead {
  readonly size: number
  readonly etag: string
  readonly versionId: string | undefined
  readonly contentType: string | undefined
}

/**
 * Reads an object's metadata. Used after Complete where the server leaves the ETag empty
 * (Ceph RGW), to reconcile a Complete whose answer was lost, and for `ifNoneMatch`.
 * A missing object rejects with an `S3ResponseError` whose `s3Code` is `NotFound` (404).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
 * @example
 * const { size, etag } = await headObject(ctx, { key: 'logs/day.gz' })
 */
export async function headObject(ctx: S3Context, options: HeadObjectOptions = {}): Promise<ObjectHead> {
  const state = stateOf(ctx)
  const answer = await sendS3(
    state,
    { method: 'HEAD', path: objectPath(state, options.key), payloadHash: EMPTY_SHA256, signal: options.signal, onRetry: options.onRetry, idempotent: true },
    { operation: 'HeadObject' },
  )
  return {
    size: Number(header(answer.headers, 'content-length') ?? Number.NaN),
    etag: unquote(header(answer.headers, 'etag')) ?? '',
    versionId: header(answer.headers, 'x-amz-version-id'),
    contentType: header(answer.headers, 'content-type'),
  }
}
