import { setMaxListeners } from 'node:events'
import type { Part } from '@partstream/core'
import type { ObjectChecksum } from '../http/checksum.ts'
import type { S3Context } from '../http/context.ts'
import { allowManyListeners } from '../http/sleep.ts'
import { stateOf } from '../http/state.ts'
import { objectUrl } from '../http/endpoint.ts'
import type { ObjectOptions } from '../operations/object-options.ts'
import { isUnverifiedPut, putWithin } from '../operations/put-object.ts'
import { uploadPart, type UploadedPart } from '../operations/upload-part.ts'
import { cleanUpAfter } from './cleanup.ts'
import { assertKeyFree, preconditionError, startUpload, withGrace } from './create.ts'
import { finishUpload } from './finish.ts'
import type { UploadOptions, UploadResult } from './options.ts'
import { progressReporter, type ProgressReporter } from './progress.ts'
import { assertNoStoredPartsLeft, assertResumableChecksum, assertSourceReachesStoredPart, assertResumablePartSize, isResumeMismatch, loadStoredParts, takeStoredPart, type StoredParts } from './resume.ts'
import { schedule } from './scheduler.ts'
import type { Slots } from '../http/slots.ts'

/** What `upload` and `uploadFile` hand to {@link runUpload}, validated. */
export interface RunOptions extends Pick<UploadOptions, 'signal' | 'onProgress' | 'leavePartsOnError' | 'resumeUploadId' | 'checksum'> {
  readonly key: string
  readonly concurrency: number
  readonly objectOptions: ObjectOptions
  /** Aborted on the first failure or when `signal` aborts: cancels the part source and every request. */
  readonly controller: AbortController
  /** Total bytes when known up front (buffers, files): reported in progress events. */
  readonly totalBytes?: number | undefined
  /** Called once a part is settled (acknowledged or failed): its bytes may be reused. */
  readonly release?: ((part: Part) => void) | undefined
  /**
   * Runs after the last part is acknowledged, before Complete, or before the PutObject of an
   * object that fits in one part (a file checks it did not change).
   */
  readonly beforeComplete?: (() => Promise<void>) | undefined
  /** Send slots shared with other uploads of one call (`uploadAll`); default: this upload's `concurrency` alone. */
  readonly slots?: Slots | undefined
}

/**
 * The upload shared by `upload` and `uploadFile`: part 1 that is also the last is one PutObject;
 * otherwise create (or resume) a multipart upload, send the parts through the scheduler, and
 * finish. Any failure goes through `cleanUpAfter` (source closed, upload aborted).
 */
export async function runUpload(ctx: S3Context, parts: AsyncIterator<Part>, options: RunOptions): Promise<UploadResult> {
  const { controller, key } = options
  const userSignal = options.signal
  const signal = controller.signal
  // Every request in flight listens on this signal (plus the part source and the user's signal):
  // more than Node's default of 10 at concurrency ≥ 9, which is expected, not a leak.
  setMaxListeners(options.concurrency + 8, signal)
  if (userSignal !== undefined) allowManyListeners(userSignal)
  const onUserAbort = (): void => controller.abort(userSignal?.reason)
  userSignal?.addEventListener('abort', onUserAbort, { once: true })
  // A listener's rejected promise fails the upload like a thrown error.
  const progress = progressReporter(options.onProgress, options.totalBytes, (error) => controller.abort(error))
  let uploadId: string | undefined
  try {
    userSignal?.throwIfAborted()
    const stored = options.resumeUploadId === undefined ? undefined : await loadStoredParts(ctx, key, options.resumeUploadId, signal)
    if (stored !== undefined) {
      assertResumableChecksum(stored, options.checksum, options.resumeUploadId as string)
      // The upload exists and takes this checksum: from here it is this call's, as a created one
      // is (a failure aborts it unless leavePartsOnError, and the error carries its id), also while
      // part 1 is read. Before, a source failing in part 1 left it open and came back bare.
      uploadId = options.resumeUploadId
    }
    let read: IteratorResult<Part> | undefined = await parts.next()
    if (read.done === true) throw new Error('the part source yielded nothing') // toParts always yields ≥ 1 part
    if (read.value.isLast && stored === undefined) return await putWhole(ctx, read.value, options, progress)
    if (stored !== undefined) assertResumablePartSize(stored, read.value, options.resumeUploadId as string)
    // Part 1 goes to the scheduler in a box it empties: held by a name here, it would stay in
    // memory until the last part is sent (beyond the (concurrency + 1) × partSize bound).
    const first: { value: Part | undefined } = { value: read.value }
    read = undefined
    if (options.resumeUploadId !== undefined) {
      uploadId = options.resumeUploadId
      progress.resumed(uploadId, stored?.size ?? 0)
    } else {
      if (options.objectOptions.ifNoneMatch === true) await assertKeyFree(ctx, key, signal)
      uploadId = await startUpload(ctx, key, { ...options.objectOptions, checksumAlgorithm: options.checksum }, signal)
      progress.created(uploadId)
    }
    const { acked, size } = await sendParts(ctx, uploadId, first, parts, stored, options, progress)
    await options.beforeComplete?.()
    const finished = await finishUpload(ctx, {
      key,
      uploadId,
      parts: acked,
      size,
      ifNoneMatch: options.objectOptions.ifNoneMatch === true,
      checksumAlgorithm: options.checksum,
      compositeEtag: options.objectOptions.serverSideEncryption?.startsWith('aws:kms') !== true,
      signal,
      onCommit: () => progress.committing(),
    })
    afterCommit(() => progress.done(acked.length))
    return result(ctx, key, size, acked.length, uploadId, finished)
  } catch (error) {
    controller.abort(error) // cancels whatever still runs (a no-op after the scheduler's own abort)
    throw await cleanUpAfter(ctx, { error, key, uploadId, parts, userSignal, leavePartsOnError: options.leavePartsOnError === true || isResumeMismatch(error) })
  } finally {
    userSignal?.removeEventListener('abort', onUserAbort)
  }
}

/**
 * Progress events once the object is written: a listener that throws cannot take the object
 * back, so its error is dropped (as a rejected promise's is then: the controller it would abort
 * has nothing left to stop), and the upload resolves.
 */
function afterCommit(emit: () => void): void {
  try {
    emit()
  } catch {
    // the object is written; see above
  }
}

/**
 * The object fits in one part: a single PutObject (the empty source too). Once it is sent, S3 may
 * write the object whether or not we listen (the commit point, as Complete's in finish.ts): an
 * abort from then on waits for its answer (a grace), so an object written is reported as written
 * and the upload resolves. Before it is sent (a slot, a socket, credentials) and for a new
 * attempt, the abort wins at once.
 */
async function putWhole(ctx: S3Context, part: Part, options: RunOptions, progress: ProgressReporter): Promise<UploadResult> {
  const { key } = options
  progress.knowTotal(part.byteLength)
  let put
  let slot = false
  try {
    await options.slots?.acquire(options.controller.signal)
    slot = options.slots !== undefined
    progress.started(1, part.byteLength)
    // The whole object is read and hashed: a file checks it did not change meanwhile, as a
    // multipart upload does before Complete (a PutObject cannot be taken back once sent).
    await options.beforeComplete?.()
    const commit = withGrace(ctx, options.controller.signal, () => progress.committing())
    try {
      put = await putWithin(
        ctx,
        part,
        { ...options.objectOptions, key, signal: options.controller.signal, checksumAlgorithm: options.checksum, onRetry: (error, attempt) => progress.retried(1, attempt, error) },
        commit,
      )
    } finally {
      commit.dispose()
    }
  } catch (error) {
    // A 412 is the key taken by another object, nothing written; except when a lost answer left
    // it unknown whether the object there is ours (putObject says so in its own 412 error).
    throw options.objectOptions.ifNoneMatch === true && !isUnverifiedPut(error) ? preconditionError(error, ctx, key) : error
  } finally {
    if (slot) options.slots?.release()
    options.release?.(part)
  }
  // Each on its own: a listener throwing at part-acked must not cost the upload its done.
  afterCommit(() => progress.acked(1, part.byteLength))
  afterCommit(() => progress.done(1))
  const algorithm = options.checksum
  const checksum: ObjectChecksum | undefined =
    algorithm === undefined || put.checksum === undefined ? undefined : { algorithm, type: 'FULL_OBJECT', value: put.checksum }
  return result(ctx, key, part.byteLength, 1, undefined, { ...put, checksum })
}

/** Sends every part (skipping the ones a resumed upload already holds), `concurrency` at once. */
async function sendParts(
  ctx: S3Context,
  uploadId: string,
  first: { value: Part | undefined },
  parts: AsyncIterator<Part>,
  stored: StoredParts | undefined,
  options: RunOptions,
  progress: ProgressReporter,
): Promise<{ acked: UploadedPart[]; size: number }> {
  const acked: UploadedPart[] = []
  let size = 0
  const send = async (part: Part, signal: AbortSignal): Promise<void> => {
    size += part.byteLength
    // Parts are sent in order: with the last one read, the total is known (a progress bar of a
    // stream can tell the commit is next once every byte is acknowledged).
    if (part.isLast) progress.knowTotal(size)
    try {
      assertSourceReachesStoredPart(stored, part, uploadId, size)
      const kept = takeStoredPart(stored, part, options.checksum)
      if (kept !== undefined) {
        acked.push(kept)
        progress.skipped(part.partNumber, kept.size)
        return
      }
      progress.started(part.partNumber, part.byteLength)
      const onRetry = (error: Parameters<ProgressReporter['retried']>[2], attempt: number): void => progress.retried(part.partNumber, attempt, error)
      const done = await uploadPart(ctx, uploadId, part, { key: options.key, signal, onRetry, checksumAlgorithm: options.checksum })
      acked.push(done)
      progress.acked(done.partNumber, done.size)
    } finally {
      options.release?.(part)
    }
  }
  await schedule(parts, send, { concurrency: options.concurrency, controller: options.controller, first, slots: options.slots })
  assertNoStoredPartsLeft(stored, uploadId, size)
  return { acked, size }
}

function result(
  ctx: S3Context,
  key: string,
  size: number,
  partCount: number,
  uploadId: string | undefined,
  written: { readonly etag: string; readonly versionId: string | undefined; readonly checksum: ObjectChecksum | undefined },
): UploadResult {
  const location = objectUrl(stateOf(ctx).endpoint, key)
  return { bucket: ctx.bucket, key, location, etag: written.etag, versionId: written.versionId, size, partCount, uploadId, checksum: written.checksum }
}
