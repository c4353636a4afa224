import { IntegrityError, S3ResponseError } from '../errors.ts'
import { assertChecksumEchoed, objectChecksumOf, type ChecksumAlgorithm, type ObjectChecksum } from '../http/checksum.ts'
import type { S3Context } from '../http/context.ts'
import { completeWithin, multipartEtag } from '../operations/complete-multipart-upload.ts'
import { headObject } from '../operations/head-object.ts'
import type { UploadedPart } from '../operations/upload-part.ts'
import { assertKeyFree, preconditionError, withGrace } from './create.ts'

/** A multipart upload whose parts are all acknowledged. */
export interface Finishing {
  readonly key: string
  readonly uploadId: string
  readonly parts: readonly UploadedPart[]
  /** Bytes of the object (the sum of the parts). */
  readonly size: number
  readonly ifNoneMatch: boolean
  /** The upload's checksum algorithm: each part carries its checksum. */
  readonly checksumAlgorithm: ChecksumAlgorithm | undefined
  /**
   * Whether the object's ETag is S3's composite of the part ETags. Not with SSE-KMS, where AWS
   * documents ETags as not MD5 digests and does not say what the composite is made of: the check
   * is then skipped rather than risk failing an upload S3 completed.
   */
  readonly compositeEtag: boolean
  readonly signal: AbortSignal
  /** Called when Complete is handed over (the `committing` progress event). */
  readonly onCommit?: (() => void) | undefined
}

/** What S3 reports for the completed object. */
export interface Finished {
  readonly etag: string
  readonly versionId: string | undefined
  readonly checksum: ObjectChecksum | undefined
}

/**
 * Completes the upload and checks the object against the acknowledged parts. With `ifNoneMatch`,
 * checks the key is still free (servers that ignore `If-None-Match` on Complete) and sends the
 * header (AWS enforces it there, atomically); a 412 becomes `ObjectExistsError`.
 *
 * With a checksum, the object's checksum is made from the part checksums first (FULL_OBJECT: the
 * part CRCs combined, sent with Complete so S3 refuses an object whose CRC differs; COMPOSITE:
 * the checksum of the part digests), and a different one in the server's answer is an
 * `IntegrityError`.
 */
export async function finishUpload(ctx: S3Context, f: Finishing): Promise<Finished> {
  if (f.ifNoneMatch) await assertKeyFree(ctx, f.key, f.signal, f.uploadId)
  const algorithm = f.checksumAlgorithm
  const checksum = algorithm === undefined ? undefined : await objectChecksumOf(algorithm, f.parts)
  // Once Complete is sent, S3 may write the object whether or not we listen: an abort from then on
  // waits for its answer (a grace), so an object written is reported as written, not as aborted.
  // Before it is sent (a socket to wait for), and for a new attempt, the abort wins at once.
  const commit = withGrace(ctx, f.signal, f.onCommit)
  let completed
  try {
    completed = await completeWithin(
      ctx,
      f.uploadId,
      f.parts,
      // The object's checksum goes with Complete for FULL_OBJECT only; a COMPOSITE one is compared with the answer's below.
      { key: f.key, signal: f.signal, ifNoneMatch: f.ifNoneMatch, checksumAlgorithm: algorithm, checksumType: checksum?.type, objectChecksum: checksum?.type === 'FULL_OBJECT' ? checksum.value : undefined },
      commit,
    )
  } catch (error) {
    throw f.ifNoneMatch ? preconditionError(error, ctx, f.key, f.uploadId) : error
  } finally {
    commit.dispose()
  }
  if (checksum !== undefined) assertChecksumEchoed(completed.checksum, checksum.value, checksum.algorithm, 'the completed object', f.uploadId)
  const etag = await verifyObject(ctx, f, completed.etag)
  return { etag, versionId: completed.versionId, checksum }
}

/**
 * S3's multipart ETag is md5 of the concatenated binary part MD5s, then `-N`. Ceph RGW's first
 * Complete answer has an empty ETag, so the object is read back with HeadObject; either way the
 * ETag (and size, when read back) is checked against the acknowledged parts, so a wrong object
 * never reports success. An MD5-shaped ETag without `-N` is another object (one PutObject), so
 * it fails too; ETags of other shapes (servers that make their own) are not compared.
 *
 * Credentials that may write but not read (a 403 to the HeadObject, s3:GetObject not granted)
 * cannot check the object: Complete succeeded, so the upload does, with the ETag computed from
 * the parts (as `ifNoneMatch`'s key check skips a HeadObject it may not send).
 */
async function verifyObject(ctx: S3Context, f: Finishing, completeEtag: string): Promise<string> {
  const expected = multipartEtag(f.parts)
  let etag = completeEtag
  if (etag === '') {
    let head
    try {
      // The object is written: its check is part of the answer, which an abort no longer cuts short.
      head = await headObject(ctx, { key: f.key })
    } catch (error) {
      if (error instanceof S3ResponseError && error.statusCode === 403) return expected ?? ''
      throw error
    }
    if (head.size !== f.size) {
      throw new IntegrityError(`The object has ${head.size} bytes after CompleteMultipartUpload, expected ${f.size}.`, f.uploadId)
    }
    etag = head.etag
  }
  if (f.compositeEtag && expected !== undefined && /^[0-9a-f]{32}(-\d+)?$/.test(etag) && etag !== expected) {
    throw new IntegrityError(`The object's ETag is ${etag}, expected ${expected} from the acknowledged parts.`, f.uploadId)
  }
  return etag
}
