import { describeValue, InvalidArgumentError } from '@partstream/core'
import { S3ResponseError } from '../errors.ts'
import { checksumHeader, checksumTag, type ChecksumAlgorithm, type ChecksumType } from '../http/checksum.ts'
import type { S3Context } from '../http/context.ts'
import { objectPath, stateOf } from '../http/state.ts'
import { md5, sha256Hex, toHex } from '../http/hash.ts'
import { header, sendS3, type Grace, type S3Answer } from '../http/send.ts'
import { encodeXml, xmlText } from '../http/xml.ts'
import { headObject, type ObjectHead } from './head-object.ts'
import { objectHeaders, unquote, type ObjectRequestOptions } from './object-options.ts'
import type { UploadedPart } from './upload-part.ts'
import { abortMultipartUpload } from './abort-multipart-upload.ts'
import { requireChecksumOptions, requireCompletedParts, requireUploadId } from './validate.ts'

/** Options of {@link completeMultipartUpload}. */
export interface CompleteMultipartUploadOptions extends ObjectRequestOptions {
  /**
   * Complete only if no object exists at the key (`If-None-Match: *`): AWS S3 then answers 412
   * PreconditionFailed and the upload stays open (abort it). Some servers ignore the header here
   * (Ceph RGW 16), see the README. A boolean: anything else (`'true'`) is an
   * `InvalidArgumentError`, as for `putObject`.
   * @default false
   */
  readonly ifNoneMatch?: boolean | undefined
  /**
   * The upload's checksum algorithm: each part's `checksum` is listed as `<Checksum<ALGORITHM>>`.
   * Checked as for `createMultipartUpload`.
   * @default undefined: parts are listed without checksums
   */
  readonly checksumAlgorithm?: ChecksumAlgorithm | undefined
  /**
   * With `checksumAlgorithm`, the upload's checksum type (as given to CreateMultipartUpload).
   * @default 'FULL_OBJECT' for the CRCs, 'COMPOSITE' for SHA1 and SHA256
   */
  readonly checksumType?: ChecksumType | undefined
  /**
   * For FULL_OBJECT: base64 of the whole object's CRC, sent as `x-amz-checksum-<algorithm>` with
   * `x-amz-checksum-type: FULL_OBJECT`, so S3 refuses to complete an object whose CRC differs
   * (`objectChecksumOf` combines it from the part CRCs). Only with `checksumAlgorithm` and a
   * FULL_OBJECT type: otherwise it could not be sent, and is an `InvalidArgumentError`.
   * @default undefined: not sent
   */
  readonly objectChecksum?: string | undefined
}

/** What CompleteMultipartUpload answered. `etag` is `''` where the server leaves it empty (Ceph RGW). */
export interface CompletedUpload {
  readonly etag: string
  readonly location: string | undefined
  readonly versionId: string | undefined
  /** The object checksum the server reports (`<Checksum<ALGORITHM>>`), if any. */
  readonly checksum: string | undefined
  /** The checksum type the server reports (`<ChecksumType>`), if any. */
  readonly checksumType: string | undefined
  /**
   * `true` when the answer to an earlier attempt was lost and a retry found the upload gone
   * (NoSuchUpload): the object was then confirmed with HeadObject (size and multipart ETag), and
   * `etag`/`versionId` come from there.
   */
  readonly reconciled: boolean
}

/**
 * The ETag S3 (and Ceph RGW) gives a multipart object: md5 of the concatenated binary part MD5s,
 * then `-` and the part count. Part ETags may be quoted or not. `undefined` when a part ETag is
 * not a plain MD5 (SSE-KMS, SSE-C) or the runtime has no node:crypto md5.
 * @throws {InvalidArgumentError} for a list Complete would refuse: empty (a multipart object has
 *   at least one part), a part number twice or outside 1–10,000, an entry without an ETag.
 * @example
 * multipartEtag([{ partNumber: 1, etag: 'b1946ac92492d2347c6235b4d2611184', size: 6 }]) // '…-1'
 */
export function multipartEtag(parts: readonly UploadedPart[]): string | undefined {
  requireCompletedParts(parts)
  const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber)
  const bytes = new Uint8Array(sorted.length * 16)
  for (let i = 0; i < sorted.length; i++) {
    const etag = unquote((sorted[i] as UploadedPart).etag) as string
    if (!/^[0-9a-f]{32}$/i.test(etag)) return undefined
    for (let j = 0; j < 16; j++) bytes[i * 16 + j] = Number.parseInt(etag.slice(j * 2, j * 2 + 2), 16)
  }
  const digest = md5(bytes)
  return digest === undefined ? undefined : `${toHex(digest)}-${sorted.length}`
}

/**
 * Completes a multipart upload from its acknowledged parts (sorted by part number here). A part's
 * ETag may be quoted, as the AWS SDK and ListParts give it, or not, as `uploadPart` does: it is
 * sent quoted once (`<ETag>"<md5>"</ETag>`, S3's own example; a quoted one used to go
 * double-quoted and fail with InvalidPart). Its options are checked before any request.
 * S3 can answer 200 and still fail: the error is then in the body, which is parsed and treated
 * as a failure (and retried when its code is retryable).
 *
 * A retry can find the upload gone (NoSuchUpload), or the key taken (412 with `ifNoneMatch`),
 * because an earlier attempt did complete it and only its answer was lost (connection reset,
 * idle timeout, a 200-with-Error after the commit).
 * Then the object is read back with HeadObject: if its size is the sum of the part sizes and its
 * ETag is the multipart ETag of these parts, the upload succeeded (`reconciled: true`);
 * otherwise the NoSuchUpload error is thrown. Parts whose ETags are not plain MD5s (SSE-KMS)
 * cannot be reconciled this way and also end in that error.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
 * @example
 * const { etag } = await completeMultipartUpload(ctx, uploadId, parts)
 */
export async function completeMultipartUpload(
  ctx: S3Context,
  uploadId: string,
  parts: readonly UploadedPart[],
  options: CompleteMultipartUploadOptions = {},
): Promise<CompletedUpload> {
  return completeWithin(ctx, uploadId, parts, options, undefined)
}

/**
 * {@link completeMultipartUpload}, its request cancelled only by `grace.signal` once it is handed
 * over (`grace.onCommit` then; see `S3Request.graceSignal`).
 */
export async function completeWithin(
  ctx: S3Context,
  uploadId: string,
  parts: readonly UploadedPart[],
  options: CompleteMultipartUploadOptions,
  grace: Grace | undefined,
): Promise<CompletedUpload> {
  const state = stateOf(ctx)
  requireUploadId(uploadId)
  requireCompletedParts(parts)
  const headers = completeHeaders(options)
  // Unquoted here, so that reconcile's multipartEtag and the XML see one form.
  const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber).map((p) => ({ ...p, etag: unquote(p.etag) as string }))
  let xml = '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
  const algorithm = options.checksumAlgorithm
  const tag = algorithm === undefined ? undefined : checksumTag(algorithm)
  for (const p of sorted) {
    const checksum = tag === undefined || p.checksum === undefined ? '' : `<${tag}>${encodeXml(p.checksum)}</${tag}>`
    xml += `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>"${encodeXml(p.etag)}"</ETag>${checksum}</Part>`
  }
  xml += '</CompleteMultipartUpload>'
  const body = new TextEncoder().encode(xml)
  const payloadHash = await sha256Hex(body)
  let answer: S3Answer
  try {
    answer = await sendS3(
      state,
      {
        method: 'POST',
        path: objectPath(state, options.key),
        query: { uploadId },
        headers,
        body,
        contentLength: body.byteLength,
        payloadHash,
        signal: options.signal,
        graceSignal: grace?.signal,
        onCommit: grace?.onCommit,
        onRetry: options.onRetry,
        response: 'text',
        root: 'CompleteMultipartUploadResult',
        errorIn200: true,
        idempotent: true,
      },
      { operation: 'CompleteMultipartUpload', uploadId },
    )
  } catch (error) {
    // attempt > 1: an earlier attempt failed in a way that leaves its outcome unknown.
    const lostAnswer = error instanceof S3ResponseError && error.attempt > 1 && (error.s3Code === 'NoSuchUpload' || error.statusCode === 412)
    // Or no attempt was answered for sure (every one lost on the network, or a 5xx): one of them
    // may have written the object. It used to fail a written object (a rerun wrote it again, or
    // with ifNoneMatch failed against it).
    const unknown = error instanceof S3ResponseError && (error.statusCode === 0 || error.statusCode >= 500) && options.signal?.aborted !== true
    if (lostAnswer || unknown) {
      const reconciled = await reconcile(ctx, sorted, options)
      if (reconciled !== undefined) {
        // The object at the key is exactly these parts' (size and multipart ETag). If it was
        // another upload's of the same bytes and ours never completed, ours is aborted here
        // (NoSuchUpload, the usual answer, counts as done), so no upload is left behind.
        if (unknown) await abortMultipartUpload(ctx, uploadId, { key: options.key, signal: options.signal }).catch(() => undefined)
        return reconciled
      }
    }
    throw error
  }
  return {
    etag: unquote(xmlText(answer.text, 'ETag')) ?? '',
    location: xmlText(answer.text, 'Location'),
    versionId: header(answer.headers, 'x-amz-version-id'),
    checksum: tag === undefined ? undefined : xmlText(answer.text, tag),
    checksumType: xmlText(answer.text, 'ChecksumType'),
    reconciled: false,
  }
}

/**
 * Complete's headers from its options, validated before any request: `ifNoneMatch` as
 * `putObject` checks it, the checksum options as `createMultipartUpload` checks them, and an
 * `objectChecksum` only where it is sent (silently dropping it would skip the check it asked for).
 */
function completeHeaders(options: CompleteMultipartUploadOptions): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/xml', ...objectHeaders({ ifNoneMatch: options.ifNoneMatch }, true) }
  const { algorithm, type } = requireChecksumOptions(options)
  const objectChecksum = options.objectChecksum
  if (objectChecksum === undefined) return headers
  if (typeof objectChecksum !== 'string' || objectChecksum === '') {
    throw new InvalidArgumentError(`Expected \`objectChecksum\` to be a base64 string (objectChecksumOf's \`value\`), got ${describeValue(objectChecksum)}.`)
  }
  if (algorithm === undefined) {
    throw new InvalidArgumentError('`objectChecksum` needs `checksumAlgorithm` (the upload\'s, which names the x-amz-checksum-<algorithm> header it goes in): set it, or leave `objectChecksum` out.')
  }
  if (type !== 'FULL_OBJECT') {
    throw new InvalidArgumentError(
      `\`objectChecksum\` is the whole object's CRC, sent for a FULL_OBJECT checksum only; this upload's checksum type is ${String(type)} (${algorithm}), ` +
        "whose object checksum S3 computes from the parts' and reports in the answer (`checksum`): leave `objectChecksum` out and compare that.",
    )
  }
  // The header goes out as given: anything but the base64 of the algorithm's digest came back as
  // a network error (CR/LF: undici refuses the header) or a SignatureDoesNotMatch (non-ASCII).
  const digestBytes = algorithm === 'CRC64NVME' ? 8 : 4
  if (!isBase64Of(objectChecksum, digestBytes)) {
    throw new InvalidArgumentError(
      `Expected \`objectChecksum\` to be the base64 of a ${algorithm} (${digestBytes} bytes: ${Math.ceil(digestBytes / 3) * 4} characters, objectChecksumOf's \`value\`), got ${JSON.stringify(objectChecksum.slice(0, 64))}.`,
    )
  }
  headers[checksumHeader(algorithm)] = objectChecksum
  headers['x-amz-checksum-type'] = type
  return headers
}

/** The completed upload if the object at the key is exactly the one these parts make, else `undefined`. */
async function reconcile(
  ctx: S3Context,
  parts: readonly UploadedPart[],
  options: ObjectRequestOptions,
): Promise<CompletedUpload | undefined> {
  const { signal } = options
  const expectedEtag = multipartEtag(parts)
  if (expectedEtag === undefined) return undefined
  let size = 0
  for (const p of parts) size += p.size
  let head: ObjectHead
  try {
    head = await headObject(ctx, { key: options.key, signal })
  } catch (error) {
    // No object (404), or HeadObject failed for good: nothing proves the upload completed.
    if (signal?.aborted) throw signal.reason
    if (error instanceof S3ResponseError) return undefined
    throw error
  }
  if (head.size !== size || head.etag !== expectedEtag) return undefined
  return { etag: head.etag, location: undefined, versionId: head.versionId, checksum: undefined, checksumType: undefined, reconciled: true }
}

/** Whether `text` is padded base64 of exactly `bytes` bytes. */
function isBase64Of(text: string, bytes: number): boolean {
  const padding = (3 - (bytes % 3)) % 3
  return text.length === Math.ceil(bytes / 3) * 4 && new RegExp(`^[A-Za-z0-9+/]+={${padding}}$`).test(text)
}
