import { describeValue, InvalidArgumentError } from '@partstream/core'
import type { S3Context } from '../http/context.ts'
import { stateOf } from '../http/state.ts'
import { sendS3 } from '../http/send.ts'
import { EMPTY_SHA256 } from '../http/sign.ts'
import { xmlBlocks, xmlText } from '../http/xml.ts'
import { unquote, type RequestOptions } from './object-options.ts'

/** S3: at most 1,000 keys per ListObjectsV2 page (a larger `max-keys` is capped by the server). */
export const LIST_MAX_KEYS = 1000

/** Options of {@link listObjectsV2}. */
export interface ListObjectsV2Options extends RequestOptions {
  /**
   * Only keys that start with this.
   * @default '' (the whole bucket)
   */
  readonly prefix?: string | undefined
  /**
   * The previous page's `nextContinuationToken`: the page after it.
   * @default undefined (the first page)
   */
  readonly continuationToken?: string | undefined
  /**
   * Keys per page, 1 to 1,000 (S3 never answers more than 1,000).
   * @default 1000
   */
  readonly maxKeys?: number | undefined
  /**
   * Only keys after this one (UTF-8 binary order). Ignored by S3 once `continuationToken` is given.
   * @default undefined
   */
  readonly startAfter?: string | undefined
}

/** One object of a listing. */
export interface ListedObject {
  readonly key: string
  readonly size: number
  /** Without quotes; `<md5>` for a single-part upload, `<md5 of the part md5s>-N` for a multipart one (not for SSE-KMS/SSE-C). */
  readonly etag: string
  readonly lastModified: Date | undefined
}

/** One page of {@link listObjectsV2}. */
export interface ListObjectsV2Page {
  /** This page's objects, in UTF-8 binary order of their keys. */
  readonly objects: readonly ListedObject[]
  /** Pass it as `continuationToken` for the next page; `undefined` on the last page. */
  readonly nextContinuationToken: string | undefined
}

/**
 * Lists one page (up to 1,000 keys) of the objects whose key starts with `prefix`, in UTF-8
 * binary order of their keys. Keys are requested with `encoding-type=url` (XML 1.0 cannot carry
 * every character a key may hold, such as control characters) and decoded here, so `key` is
 * the key as written. Loop on `nextContinuationToken` for the next pages.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
 * @example
 * let token: string | undefined
 * do {
 *   const page = await listObjectsV2(ctx, { prefix: 'logs/', continuationToken: token })
 *   for (const object of page.objects) console.log(object.key, object.size)
 *   token = page.nextContinuationToken
 * } while (token !== undefined)
 */
export async function listObjectsV2(ctx: S3Context, options: ListObjectsV2Options = {}): Promise<ListObjectsV2Page> {
  const state = stateOf(ctx)
  const maxKeys = options.maxKeys ?? LIST_MAX_KEYS
  if (!Number.isInteger(maxKeys) || maxKeys < 1 || maxKeys > LIST_MAX_KEYS) {
    throw new InvalidArgumentError(`Expected \`maxKeys\` to be an integer from 1 to ${LIST_MAX_KEYS}, got ${describeValue(maxKeys)}.`)
  }
  const query: Record<string, string> = { 'list-type': '2', 'encoding-type': 'url', 'max-keys': String(maxKeys) }
  if (options.prefix !== undefined && options.prefix !== '') query['prefix'] = options.prefix
  if (options.continuationToken !== undefined) query['continuation-token'] = options.continuationToken
  if (options.startAfter !== undefined && options.startAfter !== '') query['start-after'] = options.startAfter
  const answer = await sendS3(
    state,
    { method: 'GET', path: state.endpoint.bucketPath, query, payloadHash: EMPTY_SHA256, signal: options.signal, onRetry: options.onRetry, response: 'text', idempotent: true },
    { operation: 'ListObjectsV2' },
  )
  const encoded = xmlText(answer.text, 'EncodingType') === 'url'
  const objects: ListedObject[] = []
  for (const block of xmlBlocks(answer.text, 'Contents')) {
    const key = xmlText(block, 'Key') ?? ''
    const lastModified = xmlText(block, 'LastModified')
    objects.push({
      key: encoded ? decodeUrlKey(key) : key,
      size: Number(xmlText(block, 'Size')),
      etag: unquote(xmlText(block, 'ETag')) ?? '',
      lastModified: lastModified === undefined ? undefined : new Date(lastModified),
    })
  }
  const truncated = xmlText(answer.text, 'IsTruncated') === 'true'
  const next = truncated ? xmlText(answer.text, 'NextContinuationToken') : undefined
  return { objects, nextContinuationToken: next === '' ? undefined : next }
}

/**
 * A key S3 sent with `encoding-type=url`: percent-encoded UTF-8, with a space as `+` (a `+` in a
 * key comes as `%2B`), as the AWS SDKs decode it (botocore's `unquote_plus`).
 */
export function decodeUrlKey(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, ' '))
}
