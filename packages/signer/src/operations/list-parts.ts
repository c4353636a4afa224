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
 * What {@link listParts} resolves with: the array of parts, carrying also the checksum the upload
 * itself was created with, where the server reports it. AWS names it at the top of every
 * ListParts answer, also before any part is stored; Ceph RGW 16 (which ignores checksums) and an
 * upload created without one report none, and the array then has neither property.
 */
export type ListedParts = UploadedPart[] & {
  /**
   * The upload's `<ChecksumAlgorithm>`, as S3 spells it: one of the `ChecksumAlgorithm` names for
   * the five partstream computes, or another name S3 has added since (kept, not dropped, so a
   * resume can say which).
   */
  readonly checksumAlgorithm?: string | undefined
  /** The upload's `<ChecksumType>`: `'FULL_OBJECT'` or `'COMPOSITE'` (a `ChecksumType`). */
  readonly checksumType?: string | undefined
}

/**
 * Lists the parts S3 holds for an upload (all pages), sorted by part number, each with its
 * checksum where the server reports one (an upload created with a checksum algorithm, on AWS).
 * The result also carries the upload's own `checksumAlgorithm` and `checksumType` when the server
 * reports them ({@link ListedParts}): with no part stored yet, only they say what the upload's
 * parts must carry (S3 refuses a part with another checksum, or none).
 * An unknown upload id is `NoSuchUpload` on AWS and `NoSuchKey` on Ceph RGW.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html
 * @example
 * const parts = await listParts(ctx, uploadId)
 * parts.checksumAlgorithm // 'CRC64NVME' on AWS for an upload created with it; undefined on Ceph RGW 16
 */
export async function listParts(ctx: S3Context, uploadId: string, options: ListPartsOptions = {}): Promise<ListedParts> {
  const state = stateOf(ctx)
  requireUploadId(uploadId)
  const path = objectPath(state, options.key)
  const out: UploadedPart[] = []
  let upload: { checksumAlgorithm?: string; checksumType?: string } = {}
  let marker: string | undefined
  for (;;) {
    const query: Record<string, string> = { uploadId }
    if (marker !== undefined) query['part-number-marker'] = marker
    const answer = await sendS3(
      state,
      { method: 'GET', path, query, payloadHash: EMPTY_SHA256, signal: options.signal, onRetry: options.onRetry, response: 'text', root: 'ListPartsResult', idempotent: true },
      { operation: 'ListParts', uploadId },
    )
    upload = { ...uploadChecksum(answer.text), ...upload } // every page names it; the first is kept
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
  // Set only when reported: where nothing is (RGW), the result stays a plain array.
  return Object.assign(out.sort((a, b) => a.partNumber - b.partNumber), upload)
}

/**
 * The upload's `<ChecksumAlgorithm>` and `<ChecksumType>`, read outside the `<Part>` blocks (a
 * part's own elements are not the upload's). Empty or `null` (how some S3 emulations spell
 * "none") is none; names are upper-cased, as S3 spells them.
 */
function uploadChecksum(xml: string): { checksumAlgorithm?: string; checksumType?: string } {
  const top = xml.replace(/<Part>[\s\S]*?<\/Part>/g, '')
  const read = (tag: string): string | undefined => {
    const text = xmlText(top, tag)?.trim().toUpperCase()
    return text === undefined || text === '' || text === 'NULL' ? undefined : text
  }
  const checksumAlgorithm = read('ChecksumAlgorithm')
  const checksumType = read('ChecksumType')
  return { ...(checksumAlgorithm === undefined ? {} : { checksumAlgorithm }), ...(checksumType === undefined ? {} : { checksumType }) }
}
