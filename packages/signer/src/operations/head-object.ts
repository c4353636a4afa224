import type { S3Context } from '../context.ts'
import { EMPTY_SHA256, header, sendS3 } from '../internal/send.ts'
import { unquote } from './common.ts'

/** The object's size and ETag, as HeadObject reports them. */
export interface ObjectHead {
  readonly size: number
  readonly etag: string
  readonly versionId: string | undefined
  readonly contentType: string | undefined
}

/**
 * Reads an object's metadata. Used after Complete where the server leaves the ETag empty
 * (Ceph RGW) and to reconcile a Complete whose answer was lost.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
 * @example
 * const { size, etag } = await headObject(ctx)
 */
export async function headObject(ctx: S3Context, options: { readonly signal?: AbortSignal | undefined } = {}): Promise<ObjectHead> {
  const answer = await sendS3(
    ctx,
    { method: 'HEAD', path: ctx.endpoint.objectPath, payloadHash: EMPTY_SHA256, signal: options.signal, idempotent: true },
    { operation: 'HeadObject' },
  )
  return {
    size: Number(header(answer.headers, 'content-length') ?? Number.NaN),
    etag: unquote(header(answer.headers, 'etag')) ?? '',
    versionId: header(answer.headers, 'x-amz-version-id'),
    contentType: header(answer.headers, 'content-type'),
  }
}
