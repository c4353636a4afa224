import { describeValue, InvalidArgumentError } from '@partstream/core'
import { S3ResponseError, type S3ErrorContext } from '../errors.ts'
import type { S3Context } from '../http/context.ts'
import { redact } from '../http/redact.ts'
import { stateOf } from '../http/state.ts'
import { header, sendS3, type S3Answer } from '../http/send.ts'
import { EMPTY_SHA256 } from '../http/sign.ts'
import { xmlBlocks, xmlText } from '../http/xml.ts'
import { unquote, type RequestOptions } from './object-options.ts'
import { requireWellFormed } from '../http/endpoint.ts'
import { requireKeyText } from './validate.ts'

/** S3: at most 1,000 keys per ListObjectsV2 page (a larger `max-keys` is capped by the server). */
export const LIST_MAX_KEYS = 1000

/** Options of {@link listObjectsV2}. */
export interface ListObjectsV2Options extends RequestOptions {
  /**
   * Only keys that start with this. A string of well-formed Unicode, as keys are (`validateKey`).
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
   * Only keys after this one (UTF-8 binary order); well-formed Unicode, as `prefix`. Ignored by S3
   * once `continuationToken` is given.
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
 * the key as written. Loop on `nextContinuationToken` for the next pages. A truncated page that
 * names no token, or names the `continuationToken` it was asked with (a loop that would never
 * end), is an `S3ResponseError`.
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
  requireKeyText(options.prefix, 'prefix')
  requireKeyText(options.startAfter, 'startAfter')
  if (options.continuationToken !== undefined && typeof options.continuationToken !== 'string') {
    throw new InvalidArgumentError(`Expected \`continuationToken\` to be the previous page's \`nextContinuationToken\` (a string), got ${describeValue(options.continuationToken)}.`)
  }
  const query: Record<string, string> = { 'list-type': '2', 'encoding-type': 'url', 'max-keys': String(maxKeys) }
  if (options.prefix !== undefined && options.prefix !== '') query['prefix'] = options.prefix
  if (options.continuationToken !== undefined) requireWellFormed(options.continuationToken, '`continuationToken`')
  if (options.continuationToken !== undefined) query['continuation-token'] = options.continuationToken
  if (options.startAfter !== undefined && options.startAfter !== '') query['start-after'] = options.startAfter
  const answer = await sendS3(
    state,
    { method: 'GET', path: state.endpoint.bucketPath, query, payloadHash: EMPTY_SHA256, signal: options.signal, onRetry: options.onRetry, response: 'text', root: 'ListBucketResult', idempotent: true },
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
  if (xmlText(answer.text, 'IsTruncated') !== 'true') return { objects, nextContinuationToken: undefined }
  const next = xmlText(answer.text, 'NextContinuationToken')
  requireNextPage(answer, { operation: 'ListObjectsV2' }, [{ name: 'NextContinuationToken', sent: options.continuationToken, next }])
  return { objects, nextContinuationToken: next }
}

/** One marker of a paginated listing: the answer's element that names it, the value this page was asked with, the value the answer names. */
export interface PageMarker {
  /** The answer's element, for the message (`NextPartNumberMarker`). */
  readonly name: string
  /** What this page was asked with; `undefined` on the first page. */
  readonly sent: string | undefined
  /** What the answer names for the next page; `undefined` when absent. */
  readonly next: string | undefined
}

/**
 * Checks the markers of a truncated listing page (`IsTruncated` true) before the next page is
 * asked for, for every paginated listing (ListParts, ListMultipartUploads, ListObjectsV2). A
 * server that names the same markers it was just asked with (or none, where the first one is
 * required) would be asked for the same page forever: thousands of requests a second and a
 * result that grows without end, never an error. That is refused with an `S3ResponseError`
 * carrying the answer's status, like an answer without the ETag it must have. (It lives here,
 * with the one listing that is a single page, for the looping ones to share.)
 * @param markers the first one is required; the page is repeated when every one is as sent.
 */
export function requireNextPage(answer: S3Answer, where: S3ErrorContext, markers: readonly [PageMarker, ...PageMarker[]]): void {
  const [first] = markers
  const requestId = header(answer.headers, 'x-amz-request-id')
  const fail = (s3Message: string): never => {
    throw new S3ResponseError({ statusCode: answer.statusCode, s3Message, requestId: requestId === undefined ? undefined : redact(requestId), ...where, attempt: answer.attempt })
  }
  if (first.next === undefined || first.next === '') {
    fail(`the server says the listing is truncated (IsTruncated) but names no ${first.name} to continue from; a server bug, the listing cannot go on`)
  }
  if (markers.every((m) => m.next === m.sent)) {
    const named = markers.map((m) => `${m.name} ${m.next === undefined ? '(none)' : JSON.stringify(redact(m.next).slice(0, 100))}`).join(', ')
    fail(`the server repeated its pagination marker (${named}: what this page was asked with), so asking for the next page would return this one again, forever; a server bug`)
  }
}

/**
 * A key S3 sent with `encoding-type=url`: percent-encoded UTF-8, with a space as `+` (a `+` in a
 * key comes as `%2B`), as the AWS SDKs decode it (botocore's `unquote_plus`).
 */
export function decodeUrlKey(encoded: string): string {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '))
  } catch {
    // A server that says <EncodingType>url</EncodingType> and sends `100%` as is: a raw URIError
    // escaped. The answer is the server's fault, and another page would not fix it.
    throw new S3ResponseError(
      { statusCode: 200, operation: 'ListObjectsV2', s3Message: `the listing names a key ${JSON.stringify(encoded.slice(0, 200))} that is not URL-encoded, though the answer says <EncodingType>url` },
      {},
    )
  }
}
