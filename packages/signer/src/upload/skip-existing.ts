/**
 * `skipExisting` of `uploadAll`: is the object at `key` already this file? One HeadObject per file.
 * - `'size'`: same size. Cheap (no read), blind to same-size edits.
 * - `'etag'`: same size and the ETag S3 would compute for this file: the MD5 of its bytes for a
 *   single-part object, or the MD5 of the part MD5s + `-N` for a multipart one, with the part plan
 *   this upload would use. An object written with another part size never matches (it is uploaded
 *   again: safe, not cheap). Reads the file once, 256 KiB at a time.
 * A HeadObject per file is one request each; the alternative, a paginated ListObjectsV2 of the
 * prefix done once, is one request per 1,000 keys and wins when the prefix holds about as many
 * objects as are uploaded, and loses when it holds many more (only HeadObject is built).
 * @module
 */
import { createHash } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import type { PlannedPart } from '@partstream/core'
import { S3ResponseError } from '../errors.ts'
import type { S3Context } from '../http/context.ts'
import { multipartEtag } from '../operations/complete-multipart-upload.ts'
import { headObject } from '../operations/head-object.ts'

/** Bytes read at a time while computing a file's ETag. */
const ETAG_READ_BYTES = 256 * 1024

export type SkipExisting = 'size' | 'etag'

/** Whether S3 already holds this file at `key` (per `mode`); a missing object is `false`. */
export async function alreadyUploaded(
  ctx: S3Context,
  key: string,
  mode: SkipExisting,
  file: FileHandle,
  plan: readonly PlannedPart[],
  signal: AbortSignal,
): Promise<boolean> {
  const size = plan.reduce((n, p) => n + p.byteLength, 0)
  let head
  try {
    head = await headObject(ctx, { key, signal })
  } catch (error) {
    if (error instanceof S3ResponseError && error.statusCode === 404) return false
    throw error
  }
  if (head.size !== size) return false
  if (mode === 'size') return true
  return (await localEtag(file, plan, signal)) === head.etag.toLowerCase()
}

async function localEtag(file: FileHandle, plan: readonly PlannedPart[], signal: AbortSignal): Promise<string | undefined> {
  const buffer = new Uint8Array(Math.min(ETAG_READ_BYTES, Math.max(1, ...plan.map((p) => p.byteLength))))
  const parts = []
  for (const part of plan) {
    const hash = createHash('md5')
    for (let at = 0; at < part.byteLength; ) {
      signal.throwIfAborted()
      const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.byteLength, part.byteLength - at), part.offset + at)
      if (bytesRead === 0) return undefined // shorter than planned: it changed, upload it
      hash.update(buffer.subarray(0, bytesRead))
      at += bytesRead
    }
    parts.push({ partNumber: part.partNumber, etag: hash.digest('hex'), size: part.byteLength })
  }
  if (parts.length === 1) return parts[0]?.etag
  return multipartEtag(parts)
}
