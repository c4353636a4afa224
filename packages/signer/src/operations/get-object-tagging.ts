import type { S3Context } from '../http/context.ts'
import { sendS3 } from '../http/send.ts'
import { EMPTY_SHA256 } from '../http/sign.ts'
import { objectPath, stateOf } from '../http/state.ts'
import { xmlBlocks, xmlText } from '../http/xml.ts'
import type { ObjectRequestOptions } from './object-options.ts'

/** Options of {@link getObjectTagging}. */
export type GetObjectTaggingOptions = ObjectRequestOptions

/**
 * The object's tags (what `tagging` set at upload), as `{ key: value }`: empty for an object
 * without tags.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectTagging.html
 * @example
 * const tags = await getObjectTagging(ctx, { key: 'backups/db.sql.gz' }) // { retention: '30d' }
 */
export async function getObjectTagging(ctx: S3Context, options: GetObjectTaggingOptions = {}): Promise<Record<string, string>> {
  const state = stateOf(ctx)
  const answer = await sendS3(
    state,
    // `root`: a 200 that is another document (a proxy's page) is a failure, retried, as for every
    // other text answer; it read as "no tags". An empty one is RGW 16's answer for no tags.
    { method: 'GET', path: objectPath(state, options.key), query: { tagging: '' }, payloadHash: EMPTY_SHA256, signal: options.signal, onRetry: options.onRetry, response: 'text', root: 'Tagging', emptyOk: true, idempotent: true },
    { operation: 'GetObjectTagging' },
  )
  const tags: Record<string, string> = {}
  // defineProperty: `__proto__` is a tag key S3 stores, which an assignment would drop.
  for (const block of xmlBlocks(answer.text, 'Tag')) {
    Object.defineProperty(tags, xmlText(block, 'Key') ?? '', { value: xmlText(block, 'Value') ?? '', enumerable: true, writable: true, configurable: true })
  }
  return tags
}
