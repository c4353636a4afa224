/**
 * `skipExisting` of `uploadAll`: is the object at `key` already this file?
 * - `by: 'size'`: same size. Cheap (no read), blind to same-size edits.
 * - `by: 'etag'`: same size and the ETag S3 would compute for this file: the MD5 of its bytes for a
 *   single-part object, or the MD5 of the part MD5s + `-N` for a multipart one, with the part plan
 *   this upload would use. An object written with another part size never matches (it is uploaded
 *   again: safe, not cheap), nor does one whose ETag is not an MD5 (SSE-KMS, SSE-C). Reads the
 *   file once, 256 KiB at a time.
 * What S3 holds comes from one HeadObject per file (`using: 'head'`) or from a paginated
 * ListObjectsV2 of the prefix shared by the whole call (`using: 'list'`, upload/listed-objects.ts);
 * both report the same size and ETag, so the comparison is the same.
 * @module
 */
import { createHash } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import { describeValue, InvalidArgumentError, type PlannedPart } from '@partstream/core'
import { multipartEtag } from '../operations/complete-multipart-upload.ts'

/** Bytes read at a time while computing a file's ETag. */
const ETAG_READ_BYTES = 256 * 1024

/** What decides that S3 already holds a file. */
export type SkipBy = 'size' | 'etag'
/** How what S3 holds is found: a HeadObject per file, or one listing of the prefix. */
export type SkipUsing = 'head' | 'list'
/** `skipExisting`: `'size'` / `'etag'` (listing the prefix), or `{ by, using }`. */
export type SkipExisting = SkipBy | { readonly by: SkipBy; readonly using?: SkipUsing | undefined }

/** The default `using`: one request per 1,000 objects of the prefix instead of one per file. */
export const DEFAULT_SKIP_USING: SkipUsing = 'list'

/** `skipExisting` validated, with its default filled in; `undefined` when off. */
export function resolveSkipExisting(value: unknown): { readonly by: SkipBy; readonly using: SkipUsing } | undefined {
  if (value === undefined) return undefined
  if (value === 'size' || value === 'etag') return { by: value, using: DEFAULT_SKIP_USING }
  const v = value as { by?: unknown; using?: unknown } | null
  if (typeof v === 'object' && v !== null && (v.by === 'size' || v.by === 'etag') && (v.using === undefined || v.using === 'head' || v.using === 'list')) {
    return { by: v.by, using: v.using ?? DEFAULT_SKIP_USING }
  }
  throw new InvalidArgumentError(
    `Expected \`skipExisting\` to be 'size', 'etag' or { by: 'size' | 'etag', using?: 'head' | 'list' }, got ${describeValue(value)}.`,
  )
}

/** An object as S3 reports it (HeadObject or ListObjectsV2). */
export interface RemoteObject {
  readonly size: number
  readonly etag: string
}

/** Whether `remote` (S3's object at the key, or `undefined`: none) is already this file, per `by`. */
export async function alreadyUploaded(
  remote: RemoteObject | undefined,
  by: SkipBy,
  file: FileHandle,
  plan: readonly PlannedPart[],
  signal: AbortSignal,
): Promise<boolean> {
  if (remote === undefined) return false
  const size = plan.reduce((n, p) => n + p.byteLength, 0)
  if (remote.size !== size) return false
  if (by === 'size') return true
  return (await localEtag(file, plan, signal)) === remote.etag.toLowerCase()
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
