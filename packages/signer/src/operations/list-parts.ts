import type { S3Context } from '../http/context.ts'
import { objectPath, stateOf } from '../http/state.ts'
import { sendS3 } from '../http/send.ts'
import { CHECKSUM_ALGORITHMS, checksumTag } from '../http/checksum.ts'
import { EMPTY_SHA256 } from '../http/sign.ts'
import { xmlBlocks, xmlText } from '../http/xml.ts'
import { requireNextPage } from './list-objects-v2.ts'
import { unquote, type ObjectRequestOptions } from './object-options.ts'
import type { UploadedPart } from './upload-part.ts'
import { requireUploadId } from './validate.ts'

/** Options of {@link listParts}. */
export type ListPartsOptions = ObjectRequestOptions

/**
 * Lists the parts S3 holds for an upload (all pages), sorted by part number, each with its
 * checksum where the server reports one (an upload created with a checksum algorithm, on AWS).
 * An unknown upload id is `NoSuchUpload` on AWS and `NoSuchKey` on Ceph RGW.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html
 * @example
 * const parts = await listParts(ctx, uploadId)
 */
export async function listParts(ctx: S3Context, uploadId: string, options: ListPartsOptions = {}): Promise<UploadedPart[]> {
  const state = stateOf(ctx)
  requireUploadId(uploadId)
  const path = objectPath(state, options.key)
  const out: UploadedPart[] = []
  let marker: string | undefined
  for (;;) {
    const query: Record<string, string> = { uploadId }
    if (marker !== undefined) query['part-number-marker'] = marker
    const answer = await sendS3(
      state,
      { method: 'GET', path, query, payloadHash: EMPTY_SHA256, signal: options.signal, onRetry: options.onRetry, response: 'text', root: 'ListPartsResult', idempotent: true },
      { operation: 'ListParts', uploadId },
    )
    for (const block of xmlBlocks(answer.text, 'Part')) {
      const checksumAlgorithm = CHECKSUM_ALGORITHMS.find((a) => xmlText(block, checksumTag(a)) !== undefined)
      out.push({
        partNumber: Number(xmlText(block, 'PartNumber')),
        etag: unquote(xmlText(block, 'ETag')) ?? '',
        size: Number(xmlText(block, 'Size')),
        ...(checksumAlgorithm === undefined ? {} : { checksum: xmlText(block, checksumTag(checksumAlgorithm)), checksumAlgorithm }),
      })
    }
    if (xmlText(answer.text, 'IsTruncated') !== 'true') break
    const next = xmlText(answer.text, 'NextPartNumberMarker')
    requireNextPage(answer, { operation: 'ListParts', uploadId }, [{ name: 'NextPartNumberMarker', sent: marker, next }])
    marker = next
  }
  return out.sort((a, b) => a.partNumber - b.partNumber)
}
