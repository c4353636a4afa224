import { stat } from 'node:fs/promises'
import { hostname } from 'node:os'
import { resolve } from 'node:path'
import { partSizeForTotal } from '@partstream/core'
import {
  abortMultipartUpload,
  createS3Context,
  resolveS3Config,
  S3ResponseError,
  uploadFile,
  type UploadOptions,
  type UploadProgress,
  type UploadResult,
  type UploadTarget,
} from '@partstream/signer'
import { HintedError } from './hinted-error.ts'
import { checkpointFile, lockCheckpoint, readCheckpoint, removeCheckpoint, sameFile, writeCheckpoint, type Checkpoint } from './checkpoint.ts'

/** How `cp FILE` keeps and finds its checkpoint. */
export interface ResumeOptions {
  /** Where checkpoints live (see `cacheDir`). */
  readonly cacheDir: string
  /** `--no-resume`: abort and forget an interrupted upload of this file instead of resuming it. */
  readonly noResume: boolean
  /** The object options that shape CreateMultipartUpload (content type, metadata, checksum), as one string. */
  readonly settings: string
  /** One line for the user (stderr), e.g. "starting over". */
  readonly notice: (text: string) => void
}

/** `uploadFile`'s result, and what a resumed upload did not have to send again. */
export interface ResumableResult {
  readonly result: UploadResult
  readonly resumed: { readonly uploadId: string; readonly partsReused: number; readonly bytesReused: number } | undefined
}

/**
 * `uploadFile` that survives the process: a checkpoint is written as soon as the multipart upload
 * exists, so a rerun after a crash, `kill -9` or a network loss (the Abort could not be sent
 * either) resumes it with `resumeUploadId` and the same part size. The library checks every part
 * S3 holds (size, MD5) before skipping it. A file whose size or mtime changed, or other object
 * options, start over (the stale upload is aborted, best-effort); so does an upload S3 no longer
 * knows (`NoSuchUpload`). The checkpoint is removed once the upload completed or was aborted.
 *
 * One run at a time uploads a file to a key: the checkpoint's lock is held for the whole upload
 * (see `lockCheckpoint`), and a second run while it is held (a cron job overlapping the last one)
 * fails before sending anything, instead of resuming, overwriting or aborting the first one's.
 */
export async function uploadFileResumable(path: string, target: UploadTarget, options: UploadOptions, r: ResumeOptions): Promise<ResumableResult> {
  const absolute = resolve(path)
  const stats = await stat(absolute)
  const endpoint = endpointId(resolveS3Config({ endpoint: target.endpoint, region: target.region, profile: target.profile }).endpoint)
  const file = checkpointFile(r.cacheDir, { endpoint, bucket: target.bucket, key: target.key, path: absolute })
  const lock = await lockCheckpoint(file)
  if ('heldBy' in lock) {
    const { pid, host } = lock.heldBy
    throw new Error(
      `another partstream (pid ${pid}${host === hostname() ? '' : ` on ${host}`}) is uploading ${path} to s3://${target.bucket}/${target.key}: ` +
        `wait for it to end, or stop it (a rerun then resumes its upload). If no such run is left, remove ${file}.lock`,
    )
  }
  try {
    return await uploadLocked(path, absolute, stats, endpoint, file, target, options, r)
  } finally {
    await lock.release()
  }
}

async function uploadLocked(
  path: string,
  absolute: string,
  stats: { readonly size: number; readonly mtimeMs: number },
  endpoint: string,
  file: string,
  target: UploadTarget,
  options: UploadOptions,
  r: ResumeOptions,
): Promise<ResumableResult> {
  // Always an explicit part size, so the checkpoint can record it (uploadFile's own default for a known size).
  const asked = typeof options.partSize === 'number' ? options.partSize : undefined
  let partSize = asked ?? partSizeForTotal(stats.size).sizeOf(1)
  const fresh: Omit<Checkpoint, 'uploadId' | 'partSize' | 'created'> = {
    version: 1,
    endpoint,
    bucket: target.bucket,
    key: target.key,
    path: absolute,
    size: stats.size,
    mtimeMs: stats.mtimeMs,
    settings: r.settings,
  }

  let resumeId: string | undefined
  const existing = await readCheckpoint(file)
  if (existing !== undefined) {
    const why = r.noResume
      ? '--no-resume'
      : !sameFile(existing, stats)
        ? `${path} changed since it was interrupted`
        : existing.settings !== r.settings || (asked !== undefined && asked !== existing.partSize)
          ? 'other options than the interrupted upload'
          : undefined
    if (why === undefined) {
      resumeId = existing.uploadId
      partSize = existing.partSize
    } else {
      r.notice(`${why}: starting over (aborting upload ${existing.uploadId})`)
      await abortQuietly(target, existing.uploadId, options)
      await removeCheckpoint(file)
    }
  }

  for (;;) {
    // The library owns the upload (and aborts it on failure) once it says it created or resumed it.
    let owned = false
    let writing: Promise<void> | undefined
    let partsReused = 0
    let bytesReused = 0
    const onProgress = (e: UploadProgress): unknown => {
      if (e.type === 'upload-created') {
        owned = true
        writing = writeCheckpoint(file, { ...fresh, uploadId: e.uploadId, partSize, created: new Date().toISOString() }).catch((error: unknown) =>
          r.notice(`cannot write the checkpoint ${file} (${(error as Error).message}): a rerun will start over`),
        )
      }
      if (e.type === 'upload-resumed') owned = true
      if (e.type === 'part-skipped') {
        partsReused++
        bytesReused += e.partBytes
      }
      return options.onProgress?.(e)
    }
    try {
      const result = await uploadFile(absolute, target, { ...options, partSize, resumeUploadId: resumeId, onProgress })
      await writing
      await removeCheckpoint(file)
      return { result, resumed: resumeId === undefined ? undefined : { uploadId: resumeId, partsReused, bytesReused } }
    } catch (error) {
      await writing
      if (resumeId !== undefined && !owned) {
        if (isUnknownUpload(error)) {
          // Aborted, completed or expired since (a bucket lifecycle rule): nothing to resume.
          r.notice(`the interrupted upload ${resumeId} no longer exists: starting over`)
          await removeCheckpoint(file)
          resumeId = undefined
          continue
        }
        // Interrupted before the library took the upload over (while listing its parts): abort it here.
        if (options.signal?.aborted === true) {
          await abortQuietly(target, resumeId, options)
          await removeCheckpoint(file)
        }
        throw error
      }
      // The library leaves a resumed upload open when the file is not what it holds (stored parts
      // past its end: not this file, whatever its size and time say); the CLI starts afresh then.
      if (owned && resumeId !== undefined && (error as { code?: unknown }).code === 'ERR_PARTSTREAM_SOURCE_CHANGED') {
        r.notice(`aborting upload ${resumeId}: ${path} is not the file it holds parts of; the same command again uploads it afresh`)
        await abortQuietly(target, resumeId, options)
      }
      // The library aborted the upload, unless the Abort failed too (AbortFailedError): then the
      // upload remains and the checkpoint lets a rerun resume it.
      if (owned && (error as { code?: unknown }).code !== 'ERR_PARTSTREAM_ABORT_FAILED') await removeCheckpoint(file)
      // After the error, as its hint (it was a line of its own, printed before the error).
      else if (owned || resumeId !== undefined) throw new HintedError(error, 'run the same command again to resume the upload')
      throw error
    }
  }
}

/**
 * The endpoint as the checkpoint names it: one spelling per endpoint, so that `--endpoint-url
 * http://h:7480/` finds what `http://h:7480` left (and `HTTP://H:80` what `http://h` left): the
 * URL's origin (lower-case scheme and host, no default port) and its path without a trailing `/`.
 */
function endpointId(endpoint: string | URL): string {
  let url: URL
  try {
    url = new URL(String(endpoint))
  } catch {
    return String(endpoint) // the library reports it
  }
  return url.origin + url.pathname.replace(/\/+$/, '')
}

/** ListParts says the upload id is unknown: S3 answers NoSuchUpload, Ceph RGW NoSuchKey (both 404). */
function isUnknownUpload(error: unknown): boolean {
  return error instanceof S3ResponseError && error.operation === 'ListParts' && (error.s3Code === 'NoSuchUpload' || error.s3Code === 'NoSuchKey')
}

/**
 * Best-effort AbortMultipartUpload of an upload we give up on: a failure leaves it to `uploads
 * abort`. Sent the way the upload is (its CAs, or its dispatcher through a proxy).
 */
async function abortQuietly(target: UploadTarget, uploadId: string, { ca, dispatcher }: Pick<UploadOptions, 'ca' | 'dispatcher'>): Promise<void> {
  const ctx = createS3Context(target, { retry: false, ...(ca === undefined ? {} : { ca }), ...(dispatcher === undefined ? {} : { dispatcher }) })
  try {
    await abortMultipartUpload(ctx, uploadId, { key: target.key, signal: AbortSignal.timeout(10_000) })
  } catch {
    // Left for `partstream uploads abort` (or the bucket's lifecycle rule).
  } finally {
    await ctx.close()
  }
}
