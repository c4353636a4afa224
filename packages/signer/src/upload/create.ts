import { AbortFailedError, certificateFailure, codeInCauses, ObjectExistsError, S3ResponseError } from '../errors.ts'
import type { S3Context } from '../http/context.ts'
import type { Grace } from '../http/send.ts'
import { untilAborted } from '../http/sleep.ts'
import { stateOf } from '../http/state.ts'
import { createWithin, type CreateMultipartUploadOptions } from '../operations/create-multipart-upload.ts'
import { headObject } from '../operations/head-object.ts'
import { listUploadsAt } from '../operations/list-multipart-uploads.ts'
import { ABORT_DEADLINE_MS, abortUpload } from './cleanup.ts'

/**
 * How long an aborted upload still waits for a CreateMultipartUpload already sent: the server may
 * create the upload whether or not we listen, so we wait for its id and abort it.
 */
export const CREATE_GRACE_MS = 5_000

/**
 * Slack on the window in which extra uploads for the key count as ours (clock granularity of
 * `Initiated`, which S3 and RGW give to the second, and client/server skew).
 */
const WINDOW_SLACK_MS = 2_000

/**
 * Starts the multipart upload for `key` and returns its id, leaving no other upload behind:
 * - aborted while Create is in flight: Create is still awaited (up to `CREATE_GRACE_MS`) and the
 *   upload it made is aborted before this rejects with `signal.reason`;
 * - Create retried (an answer lost after the server acted) or cut off, whether a later attempt
 *   succeeded or every one failed: the uploads for exactly this
 *   key that the server started in that window, other than the one returned, are found with
 *   ListMultipartUploads and aborted. A second writer that starts an upload of the same key
 *   within the same seconds could lose it: a key has one writer at a time (S3 keeps the last
 *   Complete anyway).
 */
export async function startUpload(
  ctx: S3Context,
  key: string,
  objectOptions: Omit<CreateMultipartUploadOptions, 'key' | 'signal' | 'onRetry'>,
  signal: AbortSignal,
): Promise<string> {
  signal.throwIfAborted()
  // Credentials first, under the caller's signal alone: until Create is sent there is nothing
  // to wait for on abort (a credential_process that hangs must not cost the grace below, nor
  // the search for leftovers it would then run). Signing Create then finds them cached.
  const { credentials } = stateOf(ctx)
  if (typeof credentials === 'function') await untilAborted(credentials(), signal)
  const startedAt = Date.now()
  const own = withGrace(ctx, signal)
  let retried = false
  let uploadId: string | undefined
  try {
    // Only an attempt that may have been carried out can leave an upload behind: one without an
    // answer, or a 5xx. A 4xx (a wrong region, a refused clock, 429 throttling) made nothing.
    const onRetry = (error: S3ResponseError): void => void (retried ||= mayHaveActed(error))
    uploadId = await createWithin(ctx, { ...objectOptions, key, signal, onRetry }, own.signal)
  } catch (error) {
    // Cut off, or an attempt (the last one included: no retry reports it) failed in a way the
    // server may have acted on: it may have made an upload that nobody holds the id of. Find it
    // by key and time.
    const original = signal.aborted ? signal.reason : error
    if (signal.aborted || retried || mayHaveActed(error)) {
      // Not found for sure (the listing, or an Abort, failed too): say an upload may remain,
      // rather than let the caller believe nothing is left (the CLI said "nothing is left").
      const sweep = await abortExtraUploads(ctx, key, undefined, startedAt, signal.aborted)
      if (sweep !== undefined) throw AbortFailedError.forUncertainCreate(original, sweep, ctx.bucket, key)
    }
    throw original
  } finally {
    own.dispose()
  }
  if (retried) await abortExtraUploads(ctx, key, uploadId, startedAt)
  if (signal.aborted) {
    await abortUpload(ctx, key, uploadId).catch(() => {})
    throw signal.reason
  }
  return uploadId
}

/**
 * A signal that follows `signal` only after a grace of `CREATE_GRACE_MS` (bounded by the idle
 * timeout: a request that made no progress for that long is dead anyway): for a request the
 * server may be carrying out already (Create, Complete, a single PutObject), whose answer says what it did.
 * `onCommit` is called when the request is handed over whole (see `S3Request.onCommit`).
 */
export function withGrace(ctx: S3Context, signal: AbortSignal, onCommit?: () => void): Grace & { dispose(): void } {
  const own = new AbortController()
  let timer: ReturnType<typeof setTimeout> | undefined
  const onAbort = (): void => {
    timer = setTimeout(() => own.abort(signal.reason), Math.min(CREATE_GRACE_MS, stateOf(ctx).idleTimeoutMs))
  }
  if (signal.aborted) own.abort(signal.reason)
  else signal.addEventListener('abort', onAbort, { once: true })
  return {
    signal: own.signal,
    onCommit,
    dispose() {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
    },
  }
}

/**
 * A failed Create the server may still have carried out: no answer, or a 5xx; not a request that
 * never reached it (refused, a name that does not resolve, a connect timeout, a certificate
 * refused, a proxy's 407 or refused tunnel), for which there is nothing to look for (looking,
 * through the same proxy, failed too and was reported as an upload that may remain).
 */
function mayHaveActed(error: unknown): boolean {
  if (!(error instanceof S3ResponseError)) return false
  if (error.statusCode >= 500) return true
  if (error.statusCode !== 0) return false
  if (codeInCauses(error.cause, NOT_DELIVERED_CODES) !== undefined || certificateFailure(error.cause) !== undefined) return false
  return !/Proxy Authentication Required|Proxy response \(\d+\) !== 200/.test(messagesOf(error.cause))
}

/** Network errors raised before a request reached the server (undici's InvalidArgumentError: a proxy's 407, a request it refused to send). */
const NOT_DELIVERED_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_INVALID_ARG'])

/** The messages of `error` and its causes, joined. */
function messagesOf(error: unknown): string {
  const out: string[] = []
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; depth++, e = e.cause) out.push(e.message)
  return out.join('\n')
}

/**
 * Aborts the open uploads of `key` started since `since` (but `keep`), on its own deadline
 * (shorter once the caller aborted: a process being stopped may be killed soon). Returns the
 * error when it could not make sure (the listing or an Abort failed), else `undefined`.
 */
async function abortExtraUploads(ctx: S3Context, key: string, keep: string | undefined, since: number, aborted = false): Promise<unknown> {
  const deadline = AbortSignal.timeout(aborted ? CREATE_GRACE_MS : ABORT_DEADLINE_MS)
  try {
    const { uploads: open, serverNowMs, localNowMs } = await listUploadsAt(ctx, { prefix: key, signal: deadline })
    // The window on the server's clock (`Initiated` is the server's): anchored on our own upload
    // where there is one (the others were made before it, while we retried), else on the
    // listing's answer (its Date) less the time since we started. It was set on this machine's
    // clock, which a skew of a few seconds put past the uploads to find.
    const elapsed = localNowMs - since
    const anchor = open.find((u) => u.uploadId === keep)?.initiated?.getTime()
    const from = (anchor ?? serverNowMs) - elapsed - WINDOW_SLACK_MS
    const to = (anchor ?? serverNowMs) + WINDOW_SLACK_MS
    for (const u of open) {
      const at = u.initiated?.getTime()
      if (u.key !== key || u.uploadId === keep || at === undefined || at < from || at > to) continue
      await abortUpload(ctx, key, u.uploadId)
    }
    return undefined
  } catch (error) {
    // The upload itself succeeded or failed for its own reason; the caller says what may remain.
    return error
  }
}

/**
 * `ifNoneMatch`: fails with `ObjectExistsError` when an object exists at `key`. Run before
 * CreateMultipartUpload (so nothing is sent for a key that is taken) and before Complete (for
 * servers that ignore `If-None-Match` on Complete). A HeadObject the credentials may not send
 * (403: s3:GetObject not granted) proves nothing either way: the check is skipped and the
 * server's own `If-None-Match` handling is relied on.
 */
export async function assertKeyFree(ctx: S3Context, key: string, signal: AbortSignal, uploadId?: string): Promise<void> {
  try {
    await headObject(ctx, { key, signal })
  } catch (error) {
    if (error instanceof S3ResponseError && (error.statusCode === 404 || error.statusCode === 403)) return
    throw error
  }
  throw new ObjectExistsError(ctx.bucket, key, { uploadId })
}

/** A 412 answer to a write with `If-None-Match: *`, as the coded error; anything else unchanged. */
export function preconditionError(error: unknown, ctx: S3Context, key: string, uploadId?: string): unknown {
  return error instanceof S3ResponseError && error.statusCode === 412 ? new ObjectExistsError(ctx.bucket, key, { cause: error, uploadId }) : error
}
