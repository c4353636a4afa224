import { setMaxListeners } from 'node:events'
import { PartstreamError, type Part } from '@partstream/core'
import type { S3Context } from '../context.ts'
import { IntegrityError, SourceChangedError } from '../errors.ts'
import { abortMultipartUpload } from '../operations/abort-multipart-upload.ts'
import type { ObjectOptions } from '../operations/common.ts'
import { completeMultipartUpload, multipartEtag } from '../operations/complete-multipart-upload.ts'
import { createMultipartUpload } from '../operations/create-multipart-upload.ts'
import { headObject } from '../operations/head-object.ts'
import { listParts } from '../operations/list-parts.ts'
import { putObject } from '../operations/put-object.ts'
import { uploadPart, type UploadedPart } from '../operations/upload-part.ts'
import type { UploadProgress } from '../progress.ts'
import type { UploadResult } from '../upload.ts'
import { md5Hex } from './hash.ts'

/** How long cleanup may take to abort a failed multipart upload, retries included. */
const ABORT_DEADLINE_MS = 30_000

export interface RunOptions extends ObjectOptions {
  readonly concurrency: number
  /** Aborted on the first failure or when `signal` aborts: cancels the part source and every request. */
  readonly controller: AbortController
  readonly signal?: AbortSignal | undefined
  readonly onProgress?: ((event: UploadProgress) => void) | undefined
  readonly leavePartsOnError?: boolean | undefined
  /** Total bytes when known up front (buffers, files): reported in progress events. */
  readonly totalBytes?: number | undefined
  /** Called once a part is settled (acknowledged or failed): its bytes may be reused. */
  readonly release?: ((part: Part) => void) | undefined
  /**
   * Continue this multipart upload instead of starting one: parts S3 already holds are compared
   * with the source's (size and MD5 = ETag) and skipped when equal, sent again otherwise.
   */
  readonly resumeUploadId?: string | undefined
  /** Runs after the last part is acknowledged, before Complete (a file checks it did not change). */
  readonly beforeComplete?: (() => Promise<void>) | undefined
}

/**
 * The upload state machine shared by `upload` and `uploadFile`.
 *
 * One loop pulls `parts` (never concurrently), and only when fewer than `concurrency` parts are in
 * flight: a slow network never makes memory grow. Part 1 that is also the last becomes a single
 * PutObject. On failure or abort: stop pulling, cancel and settle in-flight parts, close the part
 * source (which closes the user's source), abort the multipart upload, reject with the first error.
 */
export async function runUpload(ctx: S3Context, parts: AsyncIterator<Part>, options: RunOptions): Promise<UploadResult> {
  const { controller, onProgress, concurrency, totalBytes, release } = options
  const userSignal = options.signal
  const signal = controller.signal
  // Every in-flight request listens on this signal (plus the part source and the user's signal):
  // more than Node's default of 10 at concurrency ≥ 9, which is expected, not a leak.
  setMaxListeners(concurrency + 8, signal)
  const onUserAbort = (): void => controller.abort(userSignal?.reason)
  userSignal?.addEventListener('abort', onUserAbort, { once: true })

  const objectOptions: ObjectOptions = {
    contentType: options.contentType,
    cacheControl: options.cacheControl,
    contentDisposition: options.contentDisposition,
    contentEncoding: options.contentEncoding,
    metadata: options.metadata,
    ifNoneMatch: options.ifNoneMatch,
  }
  const inFlight = new Set<Promise<void>>()
  const acked: UploadedPart[] = []
  let bytesAcked = 0
  let uploadId: string | undefined
  let failed = false
  let failure: unknown
  const fail = (error: unknown): void => {
    if (failed) return
    failed = true
    failure = error
    controller.abort(error)
  }

  try {
    userSignal?.throwIfAborted()
    let stored: Map<number, UploadedPart> | undefined
    if (options.resumeUploadId !== undefined) {
      uploadId = options.resumeUploadId
      const listed = await listParts(ctx, uploadId, { signal })
      stored = new Map(listed.map((p) => [p.partNumber, p]))
      onProgress?.({ type: 'upload-resumed', uploadId, storedParts: listed.length })
    }
    // Only `current` refers to a part not yet started: once started, its upload task holds it, so
    // an acknowledged part is garbage at once (a variable holding the first part for the whole
    // upload was measured retaining it beyond the memory bound).
    let current: Part | undefined = await firstPart(parts)
    if (current.isLast && stored === undefined) {
      const part = current
      const size = part.byteLength
      onProgress?.({ type: 'part-started', partNumber: 1, partBytes: size, bytesAcked: 0, totalBytes: size })
      const put = await putObject(ctx, part, { ...objectOptions, signal })
      release?.(part)
      onProgress?.({ type: 'part-acked', partNumber: 1, partBytes: size, bytesAcked: size, totalBytes: size })
      onProgress?.({ type: 'done', bytesAcked: size, totalBytes: size, partCount: 1 })
      return { bucket: ctx.bucket, key: ctx.key, location: ctx.endpoint.origin + ctx.endpoint.objectPath, etag: put.etag, versionId: put.versionId, size, partCount: 1, uploadId: undefined }
    }

    let id: string
    if (uploadId === undefined) {
      id = await createMultipartUpload(ctx, { ...objectOptions, signal })
      uploadId = id
      onProgress?.({ type: 'upload-created', uploadId: id })
    } else {
      id = uploadId
    }
    const start = (part: Part): void => {
      const kept = stored?.get(part.partNumber)
      if (kept !== undefined) {
        stored?.delete(part.partNumber)
        // A stored part is reused only if it is provably these bytes: same size, ETag = MD5.
        if (kept.size === part.byteLength && kept.etag.toLowerCase() === md5Hex(part.chunks)) {
          acked.push(kept)
          bytesAcked += kept.size
          release?.(part)
          onProgress?.({ type: 'part-skipped', partNumber: part.partNumber, partBytes: kept.size, bytesAcked, totalBytes })
          return
        }
      }
      onProgress?.({ type: 'part-started', partNumber: part.partNumber, partBytes: part.byteLength, bytesAcked, totalBytes })
      const task = uploadPart(ctx, id, part, {
        signal,
        onRetry: (error, attempt) => onProgress?.({ type: 'part-retried', partNumber: part.partNumber, attempt, error, bytesAcked, totalBytes }),
      })
        .then((done) => {
          acked.push(done)
          bytesAcked += done.size
          onProgress?.({ type: 'part-acked', partNumber: done.partNumber, partBytes: done.size, bytesAcked, totalBytes })
        })
        .catch(fail)
        .finally(() => {
          inFlight.delete(task)
          release?.(part)
        })
      inFlight.add(task)
    }

    let size = 0
    while (current !== undefined) {
      size += current.byteLength
      const isLast = current.isLast
      start(current)
      current = undefined
      if (isLast) break
      // Read one part ahead while the parts in flight are sent (it is the "+ 1" of the memory
      // bound), then wait for a slot; the source is read no further until one frees. A source
      // that fails meanwhile fails the upload at once, cancelling the parts in flight.
      const ahead = parts.next()
      ahead.catch(fail)
      while (inFlight.size >= concurrency && !failed) await Promise.race(inFlight)
      if (failed) break
      const result = await ahead
      if (result.done !== true) current = result.value
    }
    await Promise.all(inFlight)
    if (failed) throw failure
    if (stored !== undefined && stored.size > 0) {
      throw new SourceChangedError(
        `Upload ${id} holds parts ${[...stored.keys()].join(', ')} beyond the end of the source (${size} bytes): this is not the source it was started with.`,
        id,
      )
    }
    await options.beforeComplete?.()

    const completed = await completeMultipartUpload(ctx, id, acked, { signal })
    const etag = await verifyObject(ctx, id, acked, size, completed.etag, signal)
    onProgress?.({ type: 'done', bytesAcked, totalBytes: size, partCount: acked.length })
    return {
      bucket: ctx.bucket,
      key: ctx.key,
      location: completed.location ?? ctx.endpoint.origin + ctx.endpoint.objectPath,
      etag,
      versionId: completed.versionId,
      size,
      partCount: acked.length,
      uploadId: id,
    }
  } catch (error) {
    fail(error)
    await Promise.all(inFlight)
    // Closes the user's source. The first error is what the caller needs; a source whose
    // return() throws as well has nothing to add to it (toParts follows the same rule).
    await parts.return?.(undefined)?.catch(() => {})
    const reason = userSignal?.aborted ? userSignal.reason : failure
    if (uploadId !== undefined && options.leavePartsOnError !== true) {
      // Not the upload's signal (aborted by now: the Abort must still go out), but a deadline of
      // its own, so a server that stopped answering cannot hold the rejection for 5 × 60 s.
      const deadline = new AbortController()
      const timer = setTimeout(() => deadline.abort(new Error('AbortMultipartUpload took longer than 30 s')), ABORT_DEADLINE_MS)
      try {
        await abortMultipartUpload(ctx, uploadId, { signal: deadline.signal })
      } catch (abortError) {
        throw withUploadId(
          new AggregateError([reason, abortError], 'The upload failed and AbortMultipartUpload failed too: its parts may still be stored', { cause: reason }),
          uploadId,
        )
      } finally {
        clearTimeout(timer)
      }
    }
    throw withUploadId(reason, uploadId)
  } finally {
    userSignal?.removeEventListener('abort', onUserAbort)
  }
}

async function firstPart(parts: AsyncIterator<Part>): Promise<Part> {
  const first = await parts.next()
  if (first.done === true) throw new Error('the part source yielded nothing') // toParts always yields ≥ 1 part
  return first.value
}

/** Attaches the upload id to our own errors; the user's abort reason is rethrown untouched. */
function withUploadId(error: unknown, uploadId: string | undefined): unknown {
  const ours = error instanceof PartstreamError || error instanceof AggregateError
  if (uploadId !== undefined && ours && (error as { uploadId?: unknown }).uploadId === undefined) {
    Object.defineProperty(error, 'uploadId', { value: uploadId, enumerable: true, configurable: true })
  }
  return error
}

/**
 * S3's multipart ETag is md5 of the concatenated binary part MD5s, then `-N`. Ceph RGW's first
 * Complete answer has an empty ETag, so the object is read back with HeadObject; either way the
 * ETag (and size, when read back) is checked against the acknowledged parts, so a wrong object
 * never reports success.
 */
async function verifyObject(
  ctx: S3Context,
  uploadId: string,
  parts: readonly UploadedPart[],
  size: number,
  completeEtag: string,
  signal: AbortSignal,
): Promise<string> {
  const expected = multipartEtag(parts)
  let etag = completeEtag
  if (etag === '') {
    const head = await headObject(ctx, { signal })
    if (head.size !== size) {
      throw new IntegrityError(`The object has ${head.size} bytes after CompleteMultipartUpload, expected ${size}.`, uploadId)
    }
    etag = head.etag
  }
  if (expected !== undefined && /^[0-9a-f]{32}-\d+$/.test(etag) && etag !== expected) {
    throw new IntegrityError(`The object's ETag is ${etag}, expected ${expected} from the acknowledged parts.`, uploadId)
  }
  return etag
}
