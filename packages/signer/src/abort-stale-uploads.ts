import { InvalidArgumentError, describeValue } from '@partstream/core'
import type { S3Context } from './http/context.ts'
import { AbortFailedError } from './errors.ts'
import { abortMultipartUpload } from './operations/abort-multipart-upload.ts'
import { listMultipartUploads, type OpenUpload } from './operations/list-multipart-uploads.ts'

/** Options of {@link abortStaleUploads}. */
export interface AbortStaleUploadsOptions {
  /** Abort uploads started more than this many milliseconds ago. */
  readonly olderThanMs: number
  /**
   * Only keys starting with this prefix.
   * @default '' (the whole bucket)
   */
  readonly prefix?: string | undefined
  /** @default undefined */
  readonly signal?: AbortSignal | undefined
}

/**
 * Aborts the multipart uploads of the context's bucket that were started more than `olderThanMs`
 * ago (all pages), and returns them. Age is judged on the server's clock (the list's `Date`), so a
 * client clock that runs fast cannot make a running upload look stale. A crashed process can leave
 * an upload open: its parts are stored (and billed) until it is aborted. Run this periodically, or
 * use a bucket lifecycle rule (`AbortIncompleteMultipartUpload`) where the server supports one.
 *
 * An Abort that fails does not stop the others: every stale upload is tried, then the call
 * rejects with an `AbortFailedError` whose `errors` holds each failure (the message names each
 * upload id and key) and whose `aborted` lists the uploads that are gone.
 * @example
 * const ctx = createS3Context({ bucket: 'logs' })
 * const aborted = await abortStaleUploads(ctx, { olderThanMs: 24 * 3600_000 })
 */
export async function abortStaleUploads(ctx: S3Context, options: AbortStaleUploadsOptions): Promise<OpenUpload[]> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`Expected options { olderThanMs, prefix?, signal? }, got ${describeValue(options)}.`)
  }
  const { olderThanMs } = options
  // Required here (its value is checked by listMultipartUploads, before any request).
  if (olderThanMs === undefined) throw new InvalidArgumentError('Expected `olderThanMs` (milliseconds: uploads started longer ago are aborted), got undefined.')
  const stale = await listMultipartUploads(ctx, { prefix: options.prefix, olderThanMs, signal: options.signal })
  const aborted: OpenUpload[] = []
  const failed: { upload: OpenUpload; error: unknown }[] = []
  for (const upload of stale) {
    try {
      await abortMultipartUpload(ctx, upload.uploadId, { key: upload.key, signal: options.signal })
      aborted.push(upload)
    } catch (error) {
      // Cancelled by the caller: stop here (what is left stays for the next run).
      if (options.signal?.aborted === true) throw error
      failed.push({ upload, error })
    }
  }
  if (failed.length > 0) throw AbortFailedError.forStaleUploads(failed, aborted)
  return aborted
}
