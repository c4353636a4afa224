import { InvalidArgumentError, describeValue } from '@partstream/core'
import type { S3ResponseError } from '../errors.ts'
import { requireWellFormed } from '../http/endpoint.ts'

/** Object settings sent with CreateMultipartUpload or PutObject. */
export interface ObjectOptions {
  /**
   * `Content-Type` of the object.
   * @default none: the header is not sent, and S3 stores `binary/octet-stream`
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
  /**
   * `x-amz-storage-class`: `STANDARD`, `STANDARD_IA`, `ONEZONE_IA`, `INTELLIGENT_TIERING`,
   * `GLACIER_IR`, `GLACIER`, `DEEP_ARCHIVE`, `REDUCED_REDUNDANCY`, `EXPRESS_ONEZONE`, or a class
   * of another S3-compatible store (upper-case letters, digits and `_`; the store checks it).
   * @default undefined: the bucket's default (S3: `STANDARD`)
   */
  readonly storageClass?: string | undefined
  /**
   * `x-amz-server-side-encryption`: `AES256` (SSE-S3), `aws:kms` (SSE-KMS) or `aws:kms:dsse`.
   * Needed where a bucket policy denies writes without it. Sent on CreateMultipartUpload and
   * PutObject (parts need nothing more). SSE-C (your own key on every request) is not supported.
   * @default undefined: the bucket's default encryption
   */
  readonly serverSideEncryption?: 'AES256' | 'aws:kms' | 'aws:kms:dsse' | undefined
  /**
   * `x-amz-server-side-encryption-aws-kms-key-id`: the KMS key (id, ARN or alias ARN) for
   * `serverSideEncryption: 'aws:kms'` or `'aws:kms:dsse'` (only with one of them).
   * @default undefined: the AWS managed key `aws/s3`
   */
  readonly sseKmsKeyId?: string | undefined
  /**
   * `x-amz-acl`, a canned ACL: `private`, `public-read`, `public-read-write`,
   * `authenticated-read`, `aws-exec-read`, `bucket-owner-read` or `bucket-owner-full-control`.
   * Buckets with ACLs disabled (S3's default since 2023, "bucket owner enforced") accept only
   * `bucket-owner-full-control` and refuse the others (400 AccessControlListNotSupported).
   * @default undefined: the bucket's default (`private`)
   */
  readonly acl?: CannedAcl | undefined
  /**
   * Object tags, `{ key: value }`, sent as `x-amz-tagging` (URL-encoded): up to 10; keys of 1–128
   * and values of 0–256 characters (S3 allows letters, digits, spaces and `+ - = . _ : / @`;
   * other characters are sent encoded, for the store to judge). What lib-storage's `tags` do,
   * without its extra PutObjectTagging request after the upload. Read back with `getObjectTagging`.
   * @default undefined: no tags
   */
  readonly tagging?: Readonly<Record<string, string>> | undefined
}

/** S3's canned ACLs. */
export type CannedAcl = 'private' | 'public-read' | 'public-read-write' | 'authenticated-read' | 'aws-exec-read' | 'bucket-owner-read' | 'bucket-owner-full-control'

const CANNED_ACLS: readonly string[] = ['private', 'public-read', 'public-read-write', 'authenticated-read', 'aws-exec-read', 'bucket-owner-read', 'bucket-owner-full-control'] satisfies readonly CannedAcl[]

const SSE_VALUES: readonly string[] = ['AES256', 'aws:kms', 'aws:kms:dsse']

/** A setting's value in a message: these are names, never secrets, so a string is shown as is. */
const shown = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value) : describeValue(value))

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
    const seen = new Map<string, string>()
    for (const [name, value] of Object.entries(metadata)) {
      if (!TOKEN.test(name)) {
        throw new InvalidArgumentError(`Expected \`metadata\` names to be HTTP tokens (letters, digits, -), got "${name}".`)
      }
      // Header names are case-insensitive and S3 lower-cases them: the second would silently win.
      const other = seen.get(name.toLowerCase())
      if (other !== undefined) {
        throw new InvalidArgumentError(`Expected \`metadata\` names to differ in more than case, got "${other}" and "${name}" (the same header, x-amz-meta-${name.toLowerCase()}). Keep one.`)
      }
      seen.set(name.toLowerCase(), name)
      put(`x-amz-meta-${name.toLowerCase()}`, value, `metadata.${name}`)
    }
  },
  ifNoneMatch: (value, put, conditional) => {
    // Not `false` for anything else: `'yes'` would silently overwrite the object it was to protect.
    if (typeof value !== 'boolean') throw new InvalidArgumentError(`Expected \`ifNoneMatch\` to be a boolean, got ${shown(value)}.`)
    if (conditional && value) put('if-none-match', '*', 'ifNoneMatch')
  },
  storageClass: (value, put) => {
    if (typeof value !== 'string' || !/^[A-Z0-9_]+$/.test(value)) {
      throw new InvalidArgumentError(`Expected \`storageClass\` to be an S3 storage class such as STANDARD_IA or GLACIER_IR (upper case), got ${shown(value)}.`)
    }
    put('x-amz-storage-class', value, 'storageClass')
  },
  serverSideEncryption: (value, put) => {
    if (!SSE_VALUES.includes(value)) {
      throw new InvalidArgumentError(`Expected \`serverSideEncryption\` to be one of ${SSE_VALUES.join(', ')}, got ${shown(value)}.`)
    }
    put('x-amz-server-side-encryption', value, 'serverSideEncryption')
  },
  sseKmsKeyId: (value, put) => put('x-amz-server-side-encryption-aws-kms-key-id', value, 'sseKmsKeyId'),
  tagging: (tags, put) => {
    if (typeof tags !== 'object' || tags === null) throw new InvalidArgumentError(`Expected \`tagging\` to be an object of strings, got ${describeValue(tags)}.`)
    const entries = Object.entries(tags)
    if (entries.length > 10) throw new InvalidArgumentError(`Expected \`tagging\` to hold at most 10 tags (S3's limit), got ${entries.length}.`)
    for (const [key, value] of entries) {
      if (key.length === 0 || key.length > 128 || typeof value !== 'string' || value.length > 256) {
        throw new InvalidArgumentError(`Expected each \`tagging\` key to be 1–128 characters and each value a string of at most 256, got ${JSON.stringify(key)}: ${shown(value)}.`)
      }
      requireWellFormed(key, `each \`tagging\` key`)
      requireWellFormed(value, `the \`tagging\` value of ${JSON.stringify(key)}`)
    }
    if (entries.length > 0) put('x-amz-tagging', entries.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'), 'tagging')
  },
  acl: (value, put) => {
    if (!CANNED_ACLS.includes(value)) throw new InvalidArgumentError(`Expected \`acl\` to be one of ${CANNED_ACLS.join(', ')}, got ${shown(value)}.`)
    put('x-amz-acl', value, 'acl')
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
    // HTTP takes a header value's outer spaces off (RFC 9110 5.5): S3 would store another value.
    if (value !== value.trim()) {
      throw new InvalidArgumentError(`Expected \`${option}\` without spaces at its start or end (HTTP drops them, so S3 would store ${JSON.stringify(value.trim())}), got ${JSON.stringify(value)}.`)
    }
    headers[name] = value
  }
  for (const name of OBJECT_OPTION_NAMES) {
    const value = options[name]
    if (value !== undefined) (OBJECT_OPTIONS[name] as (value: unknown, put: PutHeader, conditional: boolean) => void)(value, put, conditional)
  }
  if (options.sseKmsKeyId !== undefined && !String(options.serverSideEncryption).startsWith('aws:kms')) {
    throw new InvalidArgumentError(
      `\`sseKmsKeyId\` names a KMS key, which only SSE-KMS uses: set \`serverSideEncryption\` to 'aws:kms' (or 'aws:kms:dsse'); ` +
        `\`serverSideEncryption\` is ${options.serverSideEncryption === undefined ? 'not set' : shown(options.serverSideEncryption)}.`,
    )
  }
  return headers
}

/**
 * Checks object settings as an upload does before any request, for callers that must refuse bad
 * ones early (a CLI's usage error): throws `InvalidArgumentError`, naming the option.
 */
export function validateObjectOptions(options: ObjectOptions): void {
  objectHeaders(options, true)
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
   * Cancels the request (and its retries); the operation rejects with `signal.reason`. Anything
   * but an `AbortSignal` is an `InvalidArgumentError`, before any request.
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
