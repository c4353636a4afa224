import type { S3Context } from '../context.ts'
import { EMPTY_SHA256, sendS3 } from '../internal/send.ts'
import { xmlBlocks, xmlText } from '../internal/xml.ts'
import { unquote } from './common.ts'
import type { UploadedPart } from './upload-part.ts'

/**
 * Lists the parts S3 holds for an upload (all pages), sorted by part number.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html
 * @example
 * const parts = await listParts(ctx, uploadId)
 */
export async function listParts(
  ctx: S3Context,
  uploadId: string,
  options: { readonly signal?: AbortSignal | undefined } = {},
): Promise<UploadedPart[]> {
  const out: UploadedPart[] = []
  let marker: string | undefined
  for (;;) {
    const query: Record<string, string> = { uploadId }
    if (marker !== undefined) query['part-number-marker'] = marker
    const answer = await sendS3(
      ctx,
      { method: 'GET', path: ctx.endpoint.objectPath, query, payloadHash: EMPTY_SHA256, signal: options.signal, readBody: true, idempotent: true },
      { operation: 'ListParts', uploadId },
    )
    for (const block of xmlBlocks(answer.text, 'Part')) {
      out.push({
        partNumber: Number(xmlText(block, 'PartNumber')),
        etag: unquote(xmlText(block, 'ETag')) ?? '',
        size: Number(xmlText(block, 'Size')),
      })
    }
    if (xmlText(answer.text, 'IsTruncated') !== 'true') break
    marker = xmlText(answer.text, 'NextPartNumberMarker')
    if (marker === undefined) break
  }
  return out.sort((a, b) => a.partNumber - b.partNumber)
}
