import { PartstreamError } from '@partstream/core'

/** The S3 operation an error or event belongs to. */
export type S3Operation =
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'PutObject'
  | 'HeadObject'
  | 'ListParts'
  | 'ListMultipartUploads'
  | 'ListObjectsV2'
  | 'GetObject'
  | 'GetObjectTagging'
  | 'CreateBucket'
  | 'DeleteObject'
  | 'DeleteBucket'

/** Where a failed request belongs; every field is optional because not every call has one. */
export interface S3ErrorContext {
  readonly operation: S3Operation
  readonly uploadId?: string | undefined
  readonly partNumber?: number | undefined
  readonly attempt?: number | undefined
}

/**
 * S3 answered with an error (non-2xx, or a 200 whose body is `<Error>`), or the request failed on
 * the network and retries ran out (`statusCode` 0, the network error in `cause`).
 */
export class S3ResponseError extends PartstreamError {
  /** HTTP status; `0` when no response arrived (network error, stall). */
  readonly statusCode: number
  /** S3's `<Code>`, e.g. `NoSuchBucket`, `SignatureDoesNotMatch`; `undefined` when absent. */
  readonly s3Code: string | undefined
  /** S3's `x-amz-request-id` (or `<RequestId>`), for support tickets. */
  readonly requestId: string | undefined
  readonly operation: S3Operation
  readonly partNumber: number | undefined
  /** 1-based attempt that produced this error (after retries, the last one). */
  readonly attempt: number
  /**
   * The region S3 says the bucket is in, when the answer says so: its `x-amz-bucket-region`
   * header (a 301 PermanentRedirect, a 400 IllegalLocationConstraintException) or the `<Region>`
   * of an AuthorizationHeaderMalformed. Requests to AWS's own endpoint follow it by themselves;
   * with an `endpoint` of yours this is the region to set.
   */
  readonly bucketRegion: string | undefined

  constructor(
    init: {
      statusCode: number
      s3Code?: string | undefined
      s3Message?: string | undefined
      requestId?: string | undefined
      bucketRegion?: string | undefined
    } & S3ErrorContext,
    options?: { cause?: unknown },
  ) {
    const where =
      init.operation +
      (init.partNumber !== undefined ? ` (part ${init.partNumber})` : '') +
      (init.attempt !== undefined && init.attempt > 1 ? ` after ${init.attempt} attempts` : '')
    const what =
      init.statusCode === 0
        ? `failed without a response${options?.cause instanceof Error ? `: ${options.cause.message.trimEnd()}` : ''}`
        : `failed with HTTP ${init.statusCode}` +
          (init.s3Code !== undefined ? ` ${init.s3Code}` : '') +
          // The hint that follows starts its own sentence: no ".." after a message that ends with one.
          (init.s3Message !== undefined && init.s3Message !== '' ? `: ${init.s3Message.trimEnd().replace(/\.$/, '')}` : '')
    const hint =
      init.bucketRegion !== undefined && (init.statusCode === 301 || init.statusCode === 307 || init.statusCode === 400)
        ? `. The bucket is in region ${init.bucketRegion}: set \`region: '${init.bucketRegion}'\` (the CLI's --region, or AWS_REGION), with an endpoint of that region.`
        : init.statusCode === 0
          ? connectionHint(options?.cause)
          : hintFor(init.operation, init.s3Code, init.statusCode)
    super('ERR_PARTSTREAM_S3', `${where} ${what}${hint}`, { ...options, ...(options?.cause === undefined ? {} : { cause: withoutServerBytes(options.cause) }), uploadId: init.uploadId })
    this.statusCode = init.statusCode
    this.s3Code = init.s3Code
    this.requestId = init.requestId
    this.operation = init.operation
    this.partNumber = init.partNumber
    this.attempt = init.attempt ?? 1
    this.bucketRegion = init.bucketRegion
  }
}

/** Node's (OpenSSL's) codes for a server certificate the client does not trust. */
const UNTRUSTED_CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
])
const WRONG_TLS_VERSION: ReadonlySet<string> = new Set(['ERR_SSL_WRONG_VERSION_NUMBER'])
const CERTIFICATE_CODES = new Set([...UNTRUSTED_CERTIFICATE_CODES, 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID'])

/** The first `code` among `codes` in `error` or its `cause`s (5 deep): wrappers keep the system error as a cause. */
export function codeInCauses(error: unknown, codes: ReadonlySet<string>): string | undefined {
  for (let e: unknown = error, depth = 0; e !== null && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && codes.has(code)) return code
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

/**
 * The code of a TLS certificate check that failed, found in `error` or its causes (undici passes
 * Node's error through; `fetchTransport` wraps the runtime's): a resend cannot fix it.
 */
export function certificateFailure(error: unknown): string | undefined {
  return codeInCauses(error, CERTIFICATE_CODES)
}

/** What to do about a request that got no answer, when its cause says (a certificate not trusted, expired, for another name). */
function connectionHint(cause: unknown): string {
  const code = certificateFailure(cause)
  if (code === undefined) {
    // TLS spoken to a plain-HTTP port: OpenSSL's "wrong version number" (ERR_SSL_WRONG_VERSION_NUMBER).
    const wrongVersion = codeInCauses(cause, WRONG_TLS_VERSION) !== undefined || /wrong version number/i.test(cause instanceof Error ? cause.message : '')
    if (wrongVersion) return ". The server did not answer in TLS (a plain-HTTP port?): check `endpoint`'s scheme (http:// or https://) and port."
    if (isUnreadableInterimAnswer(cause)) {
      return '. The server (or a proxy before it) sent a 1xx answer nobody asked for (an unsolicited 100 Continue), which undici cannot read: nothing was retried. Check the proxy, or use another transport (`fetchTransport()` on Bun reads it).'
    }
    const network = codeInCauses(cause, NO_SERVER_CODES)
    if (network === 'ECONNREFUSED') return '. Nothing listens there: check `endpoint` (its host and port) and that the server is up.'
    if (network !== undefined) return ". The endpoint's host name does not resolve: check `endpoint` (and, on AWS, `region` and the bucket name)."
    return ''
  }
  if (UNTRUSTED_CERTIFICATE_CODES.has(code)) {
    return (
      ` (${code}). The server's TLS certificate is not signed by a CA this runtime trusts: give your CA's certificate as \`ca\` ` +
      "(the CLI's --ca-bundle, AWS_CA_BUNDLE or the profile's ca_bundle), or start Node with NODE_EXTRA_CA_CERTS=<its PEM file>."
    )
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return ` (${code}). The server's TLS certificate is outside its validity dates: check the server, and this machine's clock.`
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return ` (${code}). The server's TLS certificate is for another name: check \`endpoint\` (and \`forcePathStyle\`: a bucket name with dots breaks virtual-hosted TLS).`
  return ''
}

/** Network errors that say no server is there: refused, or a name that does not resolve. */
const NO_SERVER_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME'])

/**
 * undici's answer to a response that starts with a 1xx it did not ask for (it sends no `Expect:
 * 100-continue`): it destroys the socket with a SocketError "bad response". RFC 9110 has a client
 * accept them; undici 7 does not, so every attempt fails alike: not worth retrying.
 */
export function isUnreadableInterimAnswer(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== null && typeof e === 'object' && depth < 5; depth++) {
    if ((e as { code?: unknown }).code === 'UND_ERR_SOCKET' && (e as { message?: unknown }).message === 'bad response') return true
    e = (e as { cause?: unknown }).cause
  }
  return false
}

/** The IAM action each operation needs (what an AccessDenied asks for). */
const PERMISSION_OF: Readonly<Record<S3Operation, string>> = {
  CreateMultipartUpload: 's3:PutObject',
  UploadPart: 's3:PutObject',
  CompleteMultipartUpload: 's3:PutObject',
  AbortMultipartUpload: 's3:AbortMultipartUpload',
  PutObject: 's3:PutObject',
  HeadObject: 's3:GetObject; s3:ListBucket to tell a missing key from a forbidden one',
  ListParts: 's3:ListMultipartUploadParts',
  ListMultipartUploads: 's3:ListBucketMultipartUploads',
  ListObjectsV2: 's3:ListBucket',
  GetObject: 's3:GetObject',
  GetObjectTagging: 's3:GetObjectTagging',
  CreateBucket: 's3:CreateBucket',
  DeleteObject: 's3:DeleteObject',
  DeleteBucket: 's3:DeleteBucket',
}
const BUCKET_WIDE: ReadonlySet<S3Operation> = new Set(['ListMultipartUploads', 'ListObjectsV2', 'CreateBucket', 'DeleteBucket'])

function hintFor(operation: S3Operation, code: string | undefined, status: number): string {
  switch (code) {
    case 'PreconditionFailed':
      return '. An object exists at the key and `ifNoneMatch` is set (If-None-Match: *).'
    case 'NoSuchUpload':
      return operation === 'ListParts' || operation === 'UploadPart'
        ? '. The upload id is unknown or was aborted or completed: check `resumeUploadId`, or start a new upload.'
        : ''
    case 'NoSuchKey':
      // Ceph RGW answers ListParts for an unknown upload id with NoSuchKey.
      return operation === 'ListParts' ? '. The upload id is unknown or was aborted or completed: check `resumeUploadId`, or start a new upload.' : ''
    case 'NoSuchBucket':
      return '. Check `bucket`, `endpoint` and `region`, or create the bucket first.'
    case 'InvalidAccessKeyId':
    case 'SignatureDoesNotMatch':
      return '. Check the credentials (and `region`: it is part of the signature).'
    case 'RequestTimeTooSkewed':
      return ". The machine's clock is off, and correcting it by the server's `Date` did not help; sync it (or check the `now` option)."
    case 'AccessDenied':
      return `. The credentials lack permission (${PERMISSION_OF[operation]}) on this ${BUCKET_WIDE.has(operation) ? 'bucket' : 'key'}.`
    case 'EntityTooSmall':
      return operation === 'CompleteMultipartUpload'
        ? '. A part other than the last was under 5 MiB (S3 needs every part but the last to be at least 5 MiB; some servers say the same of a listed part never uploaded). From upload() or uploadFile() this is a bug in the part policy: please report it.'
        : '. The body is under the size S3 needs here.'
    case undefined:
      if (status === 412) return '. A precondition failed: an object exists at the key and `ifNoneMatch` is set.'
      if (status === 400) return '. The server refused the request without saying why: check `endpoint` (is it an S3 server?) and `forcePathStyle`.'
      if (status === 502 || status === 504) return '. A proxy or load balancer in front of the server failed: retry later, or check `endpoint`.'
      // A HEAD answer has no body to name the error: wrong keys and a missing permission look alike.
      if (status === 403 && operation === 'HeadObject') return `. A HEAD answer says no more: check the credentials (and \`region\`), and that they may read this key (${PERMISSION_OF.HeadObject}).`
      return status === 301 || status === 307 ? '. The bucket lives in another region: set `region`.' : ''
    default:
      return status === 301 || status === 307 ? '. The bucket lives in another region: set `region`.' : ''
  }
}

/** The server's answer contradicts what was sent (size or ETag of the finished object). */
export class IntegrityError extends PartstreamError {
  constructor(message: string, uploadId?: string | undefined) {
    super('ERR_PARTSTREAM_INTEGRITY', message, { uploadId })
  }
}

/**
 * The file changed (size or modification time) while `uploadFile` was reading it (the upload is
 * aborted), or a resumed upload holds parts past the end of the source it was given (the upload is
 * left open for the right source: `uploadId` names it).
 */
export class SourceChangedError extends PartstreamError {
  /** @param advice what to do, after the message (a file's by default). */
  constructor(message: string, uploadId?: string | undefined, advice = 'Upload a snapshot, or retry once the file is stable.') {
    super('ERR_PARTSTREAM_SOURCE_CHANGED', `${message} ${advice}`, { uploadId })
  }
}

/**
 * Reading the source's file descriptor failed (`uploadFd`): the system error (`EIO`, `EBADF`,
 * `ECONNRESET`…) is the `cause` and its code is in the message. The upload is aborted. A producer
 * that closes its end of a pipe early is not an error: that is the end of the data.
 */
export class SourceReadError extends PartstreamError {
  /** The system error code (`EIO`, `EBADF`…), when there was one. */
  readonly syscallCode: string | undefined
  constructor(fd: number, cause: unknown) {
    const code = (cause as { code?: unknown } | null)?.code
    const syscallCode = typeof code === 'string' ? code : undefined
    super(
      'ERR_PARTSTREAM_SOURCE_READ',
      `Reading file descriptor ${fd} failed${syscallCode === undefined ? '' : ` (${syscallCode})`}: ` +
        `${messageOf(cause)}. Check that the descriptor is open for reading and its producer is healthy.`,
      { cause },
    )
    this.syscallCode = syscallCode
  }
}

/**
 * A hash worker (`hashThreads`) failed: it could not start, crashed or exited while hashing a
 * part. The upload is aborted; `cause` is what the worker reported.
 * @example
 * if (err.code === 'ERR_PARTSTREAM_HASH_WORKER') await uploadFile(path, target, { hashThreads: 0 })
 */
export class HashWorkerError extends PartstreamError {
  constructor(message: string, options?: { cause?: unknown; uploadId?: string | undefined }) {
    super('ERR_PARTSTREAM_HASH_WORKER', `${message} Retry, or pass \`hashThreads: 0\` to hash on the main thread.`, options)
  }
}

/**
 * `ifNoneMatch: true` and an object already exists at the key: nothing was written (a multipart
 * upload is aborted). `cause` is the server's 412 answer when it came from the server, absent
 * when partstream's own HeadObject check found the object first.
 */
export class ObjectExistsError extends PartstreamError {
  readonly bucket: string
  readonly key: string
  constructor(bucket: string, key: string, options?: { cause?: unknown; uploadId?: string | undefined }) {
    super(
      'ERR_PARTSTREAM_OBJECT_EXISTS',
      `An object already exists at ${JSON.stringify(key)} in bucket ${JSON.stringify(bucket)} and \`ifNoneMatch\` is set: nothing was written. ` +
        'Delete it first, choose another key, or drop `ifNoneMatch` to overwrite.',
      options,
    )
    this.bucket = bucket
    this.key = key
  }
}

/**
 * The upload failed after its multipart upload was created, with an error that is not
 * partstream's own (the source threw, a hasher failed, `onProgress` threw): the original is
 * `cause`, and `uploadId` names the upload. Aborts are never wrapped: they reject with
 * `signal.reason` itself.
 */
export class UploadFailedError extends PartstreamError {
  constructor(cause: unknown, uploadId: string) {
    super('ERR_PARTSTREAM_UPLOAD_FAILED', `Upload ${uploadId} failed: ${messageOf(cause)}`, { cause, uploadId })
  }
}

/** One open multipart upload, as `listMultipartUploads` returns it. */
export interface OpenUpload {
  readonly key: string
  readonly uploadId: string
  /** When it was started, as the server reports it. */
  readonly initiated: Date | undefined
}

/**
 * An AbortMultipartUpload failed, so parts may still be stored (and billed). Abort `uploadId`
 * later (`abortMultipartUpload`, `abortStaleUploads`) or let a bucket lifecycle rule do it.
 * - From an upload: the upload failed, and so did the Abort sent to clean it up. `errors` holds
 *   both, like an `AggregateError`: `[original, abortError]`; `cause` is the original.
 * - From `abortStaleUploads`: `errors` holds each Abort that failed (`cause` is the first), the
 *   message names their upload ids, `aborted` lists the uploads it did abort, and `uploadId` is
 *   unset (there may be several).
 */
export class AbortFailedError extends PartstreamError {
  readonly errors: readonly unknown[]
  /** `abortStaleUploads` only: the uploads it aborted; empty for an upload's own cleanup. */
  readonly aborted: readonly OpenUpload[]
  constructor(original: unknown, abortError: unknown, uploadId: string | undefined, stale?: { readonly failed: readonly { readonly upload: OpenUpload; readonly error: unknown }[]; readonly aborted: readonly OpenUpload[] }) {
    super(
      'ERR_PARTSTREAM_ABORT_FAILED',
      stale === undefined
        ? `The upload failed and AbortMultipartUpload failed too: upload ${uploadId} may still hold parts. First error: ${messageOf(original)}`
        : `${stale.failed.length} of ${stale.failed.length + stale.aborted.length} stale multipart uploads could not be aborted and may still hold parts ` +
            `(${stale.failed.map((f) => `upload ${f.upload.uploadId} of ${JSON.stringify(f.upload.key)}`).join(', ')}); the other ${stale.aborted.length} were aborted. First error: ${messageOf(original)}`,
      { cause: original, uploadId: stale === undefined ? uploadId : undefined },
    )
    this.errors = stale === undefined ? [original, abortError] : stale.failed.map((f) => f.error)
    this.aborted = stale?.aborted ?? []
  }

  /**
   * The upload failed while CreateMultipartUpload had no sure answer (lost, a 5xx, or cut off by
   * an abort), so the server may have made an upload nobody holds the id of, and looking for it
   * failed too (`listError`): an empty upload of `key` may remain. `uploadId` is unset.
   */
  static forUncertainCreate(original: unknown, listError: unknown, bucket: string, key: string): AbortFailedError {
    const error = new AbortFailedError(original, listError, undefined, { failed: [], aborted: [] })
    Object.defineProperty(error, 'message', {
      value:
        `The upload failed before CreateMultipartUpload answered, and looking for the upload it may have made failed too (${messageOf(listError)}): ` +
        `an empty upload of ${JSON.stringify(key)} in bucket ${JSON.stringify(bucket)} may remain; listMultipartUploads or abortStaleUploads with that prefix finds it. First error: ${messageOf(original)}`,
      configurable: true,
      writable: true,
    })
    Object.defineProperty(error, 'errors', { value: [original, listError] })
    return error
  }

  /** What `abortStaleUploads` (and the CLI's `uploads abort`) reject with when some Aborts failed. */
  static forStaleUploads(failed: readonly { readonly upload: OpenUpload; readonly error: unknown }[], aborted: readonly OpenUpload[]): AbortFailedError {
    const first = failed[0]!
    return new AbortFailedError(first.error, undefined, undefined, { failed, aborted })
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * No credentials could be resolved: nothing configured anywhere, a named profile that does not
 * exist, a `credential_process` that failed or printed something unusable, or a profile that
 * needs the AWS SDK's provider package when it is not installed. Raised before the request it
 * was needed for is sent. The message names the profile and every source tried, in order; it
 * never holds a secret, a token, a command line or a process's output (any of them may hold a
 * secret), and neither does `cause`.
 * @example
 * if (err.code === 'ERR_PARTSTREAM_CREDENTIALS') console.error(err.message) // says what was tried
 */
export class CredentialsError extends PartstreamError {
  /** The shared-config profile the resolution used (`AWS_PROFILE`, the `profile` option or `default`). */
  readonly profile: string
  /** The sources tried, in order, each with what it yielded: `environment: AWS_ACCESS_KEY_ID is not set`, … */
  readonly tried: readonly string[]
  constructor(message: string, init: { profile: string; tried: readonly string[]; cause?: unknown }) {
    const list = init.tried.length === 0 ? '' : ` Tried: ${init.tried.map((t, i) => `(${i + 1}) ${t}`).join('; ')}.`
    super('ERR_PARTSTREAM_CREDENTIALS', `${message}${list}`, init.cause === undefined ? undefined : { cause: init.cause })
    this.profile = init.profile
    this.tried = Object.freeze([...init.tried])
  }
}

/** What a request was doing when it stopped making progress. */
export type IdlePhase = 'sending the request body' | 'waiting for the response' | 'reading the response body'

/**
 * A request made no progress for `idleTimeoutMs`: no request bytes drained, no response headers,
 * no response bytes. Retryable; after the last attempt it is the `cause` of an `S3ResponseError`
 * with `statusCode` 0.
 */
export class IdleTimeoutError extends PartstreamError {
  readonly idleTimeoutMs: number
  readonly phase: IdlePhase
  constructor(idleTimeoutMs: number, phase: IdlePhase) {
    super('ERR_PARTSTREAM_TIMEOUT', `No progress for ${idleTimeoutMs} ms while ${phase}.`)
    this.idleTimeoutMs = idleTimeoutMs
    this.phase = phase
  }
}

/**
 * The runtime's fetch failed without a response (connection refused or reset, DNS, TLS): fetch
 * reports these as a bare `TypeError`, with the runtime's own details in `message` or `cause`.
 * Retried like undici's socket errors.
 */
export class NetworkError extends PartstreamError {
  constructor(cause: unknown) {
    super('ERR_PARTSTREAM_NETWORK', `Network error: ${describeCause(cause)}`, { cause: withoutServerBytes(cause) })
  }
}

/**
 * `error` with the raw bytes transports keep from the server removed, in it and its causes:
 * undici's `HTTPParserError` holds what it could not parse in `data`, and a server that is not
 * HTTP and echoes what it got (an echo service, a wrong port) gave back our signed request, so
 * `console.error(error)` printed its Authorization and session token. Done in place (the errors
 * are the transport's, made for this request).
 */
export function withoutServerBytes<T>(error: T): T {
  for (let e: unknown = error, depth = 0; e !== null && typeof e === 'object' && depth < 6; depth++, e = (e as { cause?: unknown }).cause) {
    const data = (e as { data?: unknown }).data
    if (typeof data === 'string' || ArrayBuffer.isView(data)) {
      try {
        Object.defineProperty(e, 'data', { value: '[the server bytes, not kept: they may echo the request]', enumerable: true, configurable: true, writable: true })
      } catch {
        // a frozen error: leave it
      }
    }
  }
  return error
}

function describeCause(error: unknown): string {
  const messages: string[] = []
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; depth++, e = e.cause) {
    if (e.message !== '' && !messages.includes(e.message)) messages.push(e.message)
  }
  return messages.length > 0 ? messages.join(': ') : String(error)
}
