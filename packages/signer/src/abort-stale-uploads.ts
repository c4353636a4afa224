import { InvalidArgumentError, describeValue } from '@partstream/core'
import type { S3Context } from './http/context.ts'
import { stateOf } from './http/state.ts'
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
 * ago (all pages), and returns them. A crashed process can leave an upload open: its parts are
 * stored (and billed) until it is aborted. Run this periodically, or use a bucket lifecycle rule
 * (`AbortIncompleteMultipartUpload`) where the server supports one.
 * @example
 * const ctx = createS3Context({ bucket: 'logs' })
 * const aborted = await abortStaleUploads(ctx, { olderThanMs: 24 * 3600_000 })
 */
export async function abortStaleUploads(ctx: S3Context, options: AbortStaleUploadsOptions): Promise<OpenUpload[]> {
  const { olderThanMs } = options
  if (typeof olderThanMs !== 'number' || !(olderThanMs >= 0)) {
    throw new InvalidArgumentError(`Expected \`olderThanMs\` to be a number ≥ 0, got ${describeValue(olderThanMs)}.`)
  }
  const cutoff = stateOf(ctx).clock.now().getTime() - olderThanMs
  const open = await listMultipartUploads(ctx, { prefix: options.prefix, signal: options.signal })
  const stale = open.filter((u) => u.initiated !== undefined && u.initiated.getTime() <= cutoff)
  for (const upload of stale) await abortMultipartUpload(ctx, upload.uploadId, { key: upload.key, signal: options.signal })
  return stale
}
