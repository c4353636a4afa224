import type { Part } from '@partstream/core'
import { SourceChangedError } from '../errors.ts'
import type { S3Context } from '../http/context.ts'
import { md5Hex } from '../http/hash.ts'
import { listParts } from '../operations/list-parts.ts'
import type { UploadedPart } from '../operations/upload-part.ts'

/** The parts S3 holds for an upload being resumed, by part number; each is used at most once. */
export type StoredParts = Map<number, UploadedPart>

/** Lists what S3 holds for `uploadId` (all pages). */
export async function loadStoredParts(ctx: S3Context, key: string, uploadId: string, signal: AbortSignal): Promise<StoredParts> {
  const listed = await listParts(ctx, uploadId, { key, signal })
  return new Map(listed.map((p) => [p.partNumber, p]))
}

/**
 * The stored part to reuse for `part`, if it is provably these bytes: same size, and ETag = MD5 of
 * the part (S3's and RGW's part ETag). A stored part that differs is forgotten (sent again).
 */
export function takeStoredPart(stored: StoredParts | undefined, part: Part): UploadedPart | undefined {
  const kept = stored?.get(part.partNumber)
  if (kept === undefined) return undefined
  stored?.delete(part.partNumber)
  return kept.size === part.byteLength && kept.etag.toLowerCase() === md5Hex(part.chunks) ? kept : undefined
}

/** Parts left over once the source ended mean it is not the source the upload was started with. */
export function assertNoStoredPartsLeft(stored: StoredParts | undefined, uploadId: string, size: number): void {
  if (stored === undefined || stored.size === 0) return
  throw new SourceChangedError(
    `Upload ${uploadId} holds parts ${[...stored.keys()].join(', ')} beyond the end of the source (${size} bytes): this is not the source it was started with.`,
    uploadId,
  )
}
