import type { Part } from '@partstream/core'
import { InvalidArgumentError } from '@partstream/core'
import { SourceChangedError } from '../errors.ts'
import { CHECKSUM_ALGORITHMS, checksumTypeOf, partChecksum, toBase64, type ChecksumAlgorithm } from '../http/checksum.ts'
import type { S3Context } from '../http/context.ts'
import { md5Hex, toHex } from '../http/hash.ts'
import { listParts } from '../operations/list-parts.ts'
import type { UploadedPart } from '../operations/upload-part.ts'

/**
 * The parts S3 holds for an upload being resumed, by part number (each is used at most once),
 * and the checksum algorithm and type the upload was created with, where ListParts reports them.
 */
export type StoredParts = Map<number, UploadedPart> & {
  readonly checksumAlgorithm?: string | undefined
  readonly checksumType?: string | undefined
}

/** Lists what S3 holds for `uploadId` (all pages). */
export async function loadStoredParts(ctx: S3Context, key: string, uploadId: string, signal: AbortSignal): Promise<StoredParts> {
  const listed = await listParts(ctx, uploadId, { key, signal })
  return Object.assign(new Map(listed.map((p) => [p.partNumber, p])), { checksumAlgorithm: listed.checksumAlgorithm, checksumType: listed.checksumType })
}

const UNCHANGED = 'Nothing was sent; the upload is unchanged.'

/**
 * A resumed upload keeps the checksum it was created with. AWS names the upload's algorithm and
 * type in ListParts (also before any part is stored: the common case, a crash right after
 * Create) and the algorithm on each stored part. S3 refuses a part with another checksum, or
 * none ("Checksum Type mismatch"), and a Complete whose checksum type is not the upload's
 * (BadDigest), so a different `checksum` (or none) fails here, before anything is sent.
 *
 * A CRC32 or CRC32C upload created COMPOSITE (S3's default type for them when none is given, as
 * `aws s3api create-multipart-upload --checksum-algorithm CRC32` does) is refused too, rather
 * than completed as COMPOSITE: `checksum: 'CRC32'` promises the CRC of the whole object
 * (`result.checksum.type === 'FULL_OBJECT'`, comparable with a local file's), and an object whose
 * checksum silently means something else is worse than an error that says how to finish it.
 *
 * Where nothing is reported, nothing is checked: Ceph RGW 16 ignores checksums (and `checksum`
 * must keep resuming there), and AWS reports an upload created without one the same way. There,
 * a `checksum` given to an upload created without one is refused by S3 itself.
 */
export function assertResumableChecksum(stored: StoredParts, algorithm: ChecksumAlgorithm | undefined, uploadId: string): void {
  const given = `\`checksum: ${algorithm === undefined ? 'undefined' : `'${algorithm}'`}\``
  const created = stored.checksumAlgorithm
  if (created !== undefined && created !== algorithm) {
    const fix = (CHECKSUM_ALGORITHMS as readonly string[]).includes(created)
      ? `Resume it with \`checksum: '${created}'\`.`
      : `partstream cannot compute ${created}: finish it with a tool that can, or abort it and upload afresh.`
    throw new InvalidArgumentError(
      `Upload ${uploadId} was created with checksum ${created} (ListParts reports it), got ${given}: S3 refuses parts with another checksum, or none. ${fix} ${UNCHANGED}`,
    )
  }
  for (const part of stored.values()) {
    if (part.checksumAlgorithm === undefined || part.checksumAlgorithm === algorithm) continue
    throw new InvalidArgumentError(
      `Upload ${uploadId} was created with checksum ${part.checksumAlgorithm} (its parts carry it), got ${given}. ` +
        `Resume it with \`checksum: '${part.checksumAlgorithm}'\`. ${UNCHANGED}`,
    )
  }
  const type = stored.checksumType
  if (algorithm === undefined || type === undefined || type === checksumTypeOf(algorithm)) return
  const ours = checksumTypeOf(algorithm)
  throw new InvalidArgumentError(
    `Upload ${uploadId} was created with checksum ${algorithm} of type ${type} (ListParts reports it), but ${given} completes it as ${ours}, ` +
      `and S3 refuses a Complete of another type (BadDigest): upload() completes ${algorithm} uploads as ${ours} only. Abort it and upload afresh, ` +
      `or finish it with the low-level operations (uploadPart with \`checksumAlgorithm: '${algorithm}'\`, completeMultipartUpload with \`checksumType: '${type}'\`). ${UNCHANGED}`,
  )
}

/**
 * The stored part to reuse for `part`, if it is provably these bytes: same size, ETag = MD5 of
 * the part (S3's and RGW's part ETag; the part's own `md5` when `contentMd5` computed it), and,
 * when the server reports a checksum for it, the same checksum. A stored part that differs is
 * forgotten (sent again). The part returned carries our checksum, for Complete.
 */
export function takeStoredPart(stored: StoredParts | undefined, part: Part, algorithm: ChecksumAlgorithm | undefined): UploadedPart | undefined {
  const kept = stored?.get(part.partNumber)
  if (kept === undefined) return undefined
  stored?.delete(part.partNumber)
  const md5 = part.md5 === undefined ? md5Hex(part.chunks) : toHex(part.md5)
  if (kept.size !== part.byteLength || kept.etag.toLowerCase() !== md5) return undefined
  if (algorithm === undefined) return kept
  const checksum = toBase64(partChecksum(part, algorithm))
  if (kept.checksum !== undefined && kept.checksum !== checksum) return undefined
  return { ...kept, checksum, checksumAlgorithm: algorithm }
}

const RESUME_ADVICE = 'The upload is left open, not aborted: resume it with that source, or abort it and upload afresh.'

/**
 * The errors of a resume given another source than the upload's: they leave the upload open
 * whatever `leavePartsOnError` says, as another `partSize` or `checksum` does. The caller named
 * that upload to keep its parts; aborting it for a wrong argument would destroy what the right
 * source can still resume.
 */
const mismatches = new WeakSet<object>()

/** Whether `error` is one of a resume given another source (see {@link mismatches}). */
export function isResumeMismatch(error: unknown): boolean {
  return typeof error === 'object' && error !== null && mismatches.has(error)
}

function mismatch<E extends Error>(error: E): E {
  mismatches.add(error)
  return error
}

/**
 * The source's last part shorter than the stored part of the same number: the source ends inside
 * what S3 holds, so it is shorter than the source the upload was started with (as with whole
 * stored parts past its end, below). Checked before the part is sent.
 */
export function assertSourceReachesStoredPart(stored: StoredParts | undefined, part: Part, uploadId: string, size: number): void {
  const kept = stored?.get(part.partNumber)
  if (kept === undefined || !part.isLast || part.byteLength >= kept.size) return
  throw mismatch(
    new SourceChangedError(
      `Upload ${uploadId} holds part ${part.partNumber} of ${kept.size} bytes, but the source ends ${part.byteLength} bytes into it (${size} bytes in all): this is not the source it was started with.`,
      uploadId,
      RESUME_ADVICE,
    ),
  )
}

/** Parts left over once the source ended mean it is not the source the upload was started with. */
export function assertNoStoredPartsLeft(stored: StoredParts | undefined, uploadId: string, size: number): void {
  if (stored === undefined || stored.size === 0) return
  const numbers = [...stored.keys()].sort((a, b) => a - b)
  const shown = numbers.length <= 10 ? numbers.join(', ') : `${numbers.slice(0, 10).join(', ')} and ${numbers.length - 10} more`
  throw mismatch(
    new SourceChangedError(`Upload ${uploadId} holds parts ${shown} beyond the end of the source (${size} bytes): this is not the source it was started with.`, uploadId, RESUME_ADVICE),
  )
}

/**
 * A resumed upload's parts have the size it was started with: a stored part followed by others
 * (so a full one, not the last) whose size differs from the same part's now means another
 * `partSize`, and every part would be sent again, over the stored ones, for nothing. Checked on
 * the first part, before anything is sent; the upload is left as it is.
 */
export function assertResumablePartSize(stored: StoredParts, first: Part, uploadId: string): void {
  const kept = stored.get(first.partNumber)
  if (kept === undefined || kept.size === first.byteLength) return
  if (first.isLast && first.byteLength < kept.size) return // a shorter source: assertSourceReachesStoredPart says so
  let later = false
  for (const n of stored.keys()) later ||= n > first.partNumber
  if (!later) return // the stored part may be the object's last: a source of another length, found later
  throw mismatch(new InvalidArgumentError(
    `Upload ${uploadId} was started with parts of ${kept.size} bytes (part ${first.partNumber}, and more follow it), got a part ${first.partNumber} of ${first.byteLength} bytes: ` +
      `another \`partSize\`. Resume it with the part size it was started with (\`partSize: ${kept.size}\`, or the same policy). Nothing was sent; the upload is unchanged.`,
  ))
}
