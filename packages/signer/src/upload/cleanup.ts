import { PartstreamError } from '@partstream/core'
import { AbortFailedError, UploadFailedError } from '../errors.ts'
import type { S3Context } from '../http/context.ts'
import { sleep } from '../http/sleep.ts'
import { abortMultipartUpload } from '../operations/abort-multipart-upload.ts'

/** How long AbortMultipartUpload may take, retries included, when cleaning up a failed upload. */
export const ABORT_DEADLINE_MS = 30_000

/**
 * How long a failed upload waits for the source's `return()` (a generator's `finally`) before it
 * rejects anyway. The multipart upload is aborted meanwhile, never after: user code cannot hold
 * the cleanup, and a `return()` that never settles cannot hang `upload()`. `upload` gives the same
 * grace to `toParts` (`closeGraceMs`), which closes the source itself on the errors it raises.
 */
export const SOURCE_CLOSE_GRACE_MS = 1_000

/**
 * Aborts a multipart upload on a deadline of its own: not the upload's signal (aborted by now: the
 * Abort must still go out), and a server that stopped answering cannot hold the rejection for
 * attempts × idleTimeoutMs.
 */
export async function abortUpload(ctx: S3Context, key: string, uploadId: string): Promise<void> {
  await abortMultipartUpload(ctx, uploadId, { key, signal: AbortSignal.timeout(ABORT_DEADLINE_MS) })
}

/**
 * Closes the part source (and so the user's source): `return()`, waited for at most
 * `SOURCE_CLOSE_GRACE_MS`. Never rejects: the first error is what the caller needs. (Core's
 * `settleWithin` does the same wait for `toParts`; it stays internal there, a promise helper being
 * no part of core's API, and its rejection is the caller's, where this one drops it.)
 */
export async function closeSource(parts: AsyncIterator<unknown>): Promise<void> {
  const closing = Promise.resolve()
    .then(() => parts.return?.())
    .then(
      () => {},
      () => {},
    )
  const graceOver = new AbortController()
  try {
    await Promise.race([closing, sleep(SOURCE_CLOSE_GRACE_MS, graceOver.signal)])
  } finally {
    graceOver.abort() // clears the grace timer; the sleep's rejection is observed by race()
  }
}

/** What failed, and what to clean up. */
export interface Failure {
  readonly error: unknown
  readonly key: string
  /** The multipart upload, once created. */
  readonly uploadId: string | undefined
  readonly parts: AsyncIterator<unknown>
  readonly userSignal: AbortSignal | undefined
  readonly leavePartsOnError: boolean
}

/**
 * After a failure, with nothing left in flight: closes the source and aborts the multipart upload
 * (unless `leavePartsOnError`) side by side, and returns the error to reject with:
 * - the user's abort: `signal.reason`, unchanged;
 * - after CreateMultipartUpload: our errors get `uploadId`; anything else (the source threw,
 *   `onProgress` threw) is wrapped in `UploadFailedError` with the original as `cause`;
 * - the Abort failed too: `AbortFailedError` holding both.
 */
export async function cleanUpAfter(ctx: S3Context, failure: Failure): Promise<unknown> {
  const { uploadId, userSignal } = failure
  const closing = closeSource(failure.parts)
  const reason = userSignal?.aborted === true ? userSignal.reason : failure.error
  let result = reason
  if (uploadId !== undefined && !failure.leavePartsOnError) {
    try {
      await abortUpload(ctx, failure.key, uploadId)
    } catch (abortError) {
      result = new AbortFailedError(reason, abortError, uploadId)
    }
  }
  await closing
  if (uploadId === undefined || (userSignal?.aborted === true && result === reason)) return result
  if (result instanceof PartstreamError) {
    result.uploadId ??= uploadId
    return result
  }
  return new UploadFailedError(result, uploadId)
}
