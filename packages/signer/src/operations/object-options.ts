import { InvalidArgumentError, describeValue } from '@partstream/core'
import type { S3ResponseError } from '../errors.ts'

/** Object settings sent with CreateMultipartUpload or PutObject. */
export interface ObjectOptions {
  /**
   * `Content-Type` of the object.
   * @default 'application/octet-stream' (S3's own default: the header is not sent)
   */
  readonly contentType?: string | undefined
  /** @default undefined */
  readonly cacheControl?: string | undefined
  /** @default undefined */
  readonly contentDisposition?: string | undefined
  /** @default undefined */
  readonly contentEncoding?: string | undefined
  /**
   * User metadata, sent as `x-amz-meta-<name>` headers. Names are lower-cased by S3; values must
   * be printable ASCII (encode anything else yourself).
   * @default undefined
   */
  readonly metadata?: Readonly<Record<string, string>> | undefined
  /**
   * Write only if no object exists at the key: `If-None-Match: *` on PutObject and on
   * CompleteMultipartUpload, where S3 honours it (412 PreconditionFailed otherwise). It means
   * nothing on CreateMultipartUpload, so it is not sent there.
   * @default false
   */
  readonly ifNoneMatch?: boolean | undefined
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const PRINTABLE = /^[\x20-\x7e]*$/

/**
 * The request headers for `ObjectOptions`, validated. `conditional`: whether the request is one
 * where S3 honours `If-None-Match` (PutObject; CompleteMultipartUpload sends it itself).
 */
export function objectHeaders(options: ObjectOptions, conditional: boolean): Record<string, string> {
  const headers: Record<string, string> = {}
  const put = (name: string, value: string | undefined, option: string): void => {
    if (value === undefined) return
    if (typeof value !== 'string' || !PRINTABLE.test(value)) {
      throw new InvalidArgumentError(`Expected \`${option}\` to be a string of printable ASCII, got ${describeValue(value)}.`)
    }
    headers[name] = value
  }
  put('content-type', options.contentType, 'contentType')
  put('cache-control', options.cacheControl, 'cacheControl')
  put('content-disposition', options.contentDisposition, 'contentDisposition')
  put('content-encoding', options.contentEncoding, 'contentEncoding')
  if (options.metadata !== undefined) {
    if (typeof options.metadata !== 'object' || options.metadata === null) {
      throw new InvalidArgumentError(`Expected \`metadata\` to be an object of strings, got ${describeValue(options.metadata)}.`)
    }
    for (const [name, value] of Object.entries(options.metadata)) {
      if (!TOKEN.test(name)) {
        throw new InvalidArgumentError(`Expected \`metadata\` names to be HTTP tokens (letters, digits, -), got "${name}".`)
      }
      put(`x-amz-meta-${name.toLowerCase()}`, value, `metadata.${name}`)
    }
  }
  if (conditional && options.ifNoneMatch === true) headers['if-none-match'] = '*'
  return headers
}

/** The `ObjectOptions` fields, in one place: a new object setting is added here and in `objectHeaders`. */
const OBJECT_OPTION_NAMES = [
  'contentType',
  'cacheControl',
  'contentDisposition',
  'contentEncoding',
  'metadata',
  'ifNoneMatch',
] as const satisfies readonly (keyof ObjectOptions)[]

/** Just the `ObjectOptions` of a larger options object (an upload's), to hand to an operation. */
export function pickObjectOptions(options: ObjectOptions): ObjectOptions {
  const out: Record<string, unknown> = {}
  for (const name of OBJECT_OPTION_NAMES) if (options[name] !== undefined) out[name] = options[name]
  return out as ObjectOptions
}

/** Options every operation takes. */
export interface RequestOptions {
  /**
   * Cancels the request (and its retries); the operation rejects with `signal.reason`.
   * @default undefined
   */
  readonly signal?: AbortSignal | undefined
  /**
   * Called before each retry of the request, with the error that caused it and the attempt
   * that failed (1-based).
   * @default undefined
   */
  readonly onRetry?: ((error: S3ResponseError, attempt: number) => void) | undefined
}

/** Options of the operations on one object. */
export interface ObjectRequestOptions extends RequestOptions {
  /**
   * The object's key.
   * @default the context's `key`
   */
  readonly key?: string | undefined
}

/** Drops the quotes S3 puts around ETags. */
export function unquote(etag: string | undefined): string | undefined {
  return etag === undefined ? undefined : etag.replace(/^"(.*)"$/, '$1')
}
