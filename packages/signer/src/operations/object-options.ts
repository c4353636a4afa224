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

type PutHeader = (name: string, value: string | undefined, option: string) => void

/**
 * How each `ObjectOptions` field becomes request headers, in one place. The type is keyed by every
 * field, so a new object setting is its interface field plus one entry here (leaving the entry
 * out does not compile). `conditional`: see `objectHeaders`.
 */
const OBJECT_OPTIONS: {
  readonly [K in keyof ObjectOptions]-?: (value: Exclude<ObjectOptions[K], undefined>, put: PutHeader, conditional: boolean) => void
} = {
  contentType: (value, put) => put('content-type', value, 'contentType'),
  cacheControl: (value, put) => put('cache-control', value, 'cacheControl'),
  contentDisposition: (value, put) => put('content-disposition', value, 'contentDisposition'),
  contentEncoding: (value, put) => put('content-encoding', value, 'contentEncoding'),
  metadata: (metadata, put) => {
    if (typeof metadata !== 'object' || metadata === null) {
      throw new InvalidArgumentError(`Expected \`metadata\` to be an object of strings, got ${describeValue(metadata)}.`)
    }
    for (const [name, value] of Object.entries(metadata)) {
      if (!TOKEN.test(name)) {
        throw new InvalidArgumentError(`Expected \`metadata\` names to be HTTP tokens (letters, digits, -), got "${name}".`)
      }
      put(`x-amz-meta-${name.toLowerCase()}`, value, `metadata.${name}`)
    }
  },
  ifNoneMatch: (value, put, conditional) => {
    if (conditional && value === true) put('if-none-match', '*', 'ifNoneMatch')
  },
}

const OBJECT_OPTION_NAMES = Object.keys(OBJECT_OPTIONS) as (keyof ObjectOptions)[]

/**
 * The request headers for `ObjectOptions`, validated. `conditional`: whether the request is one
 * where S3 honours `If-None-Match` (PutObject; CompleteMultipartUpload sends it itself).
 */
export function objectHeaders(options: ObjectOptions, conditional: boolean): Record<string, string> {
  const headers: Record<string, string> = {}
  const put: PutHeader = (name, value, option) => {
    if (value === undefined) return
    if (typeof value !== 'string' || !PRINTABLE.test(value)) {
      throw new InvalidArgumentError(`Expected \`${option}\` to be a string of printable ASCII, got ${describeValue(value)}.`)
    }
    headers[name] = value
  }
  for (const name of OBJECT_OPTION_NAMES) {
    const value = options[name]
    if (value !== undefined) (OBJECT_OPTIONS[name] as (value: unknown, put: PutHeader, conditional: boolean) => void)(value, put, conditional)
  }
  return headers
}

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
