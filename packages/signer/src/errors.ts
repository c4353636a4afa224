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
  | 'GetObject'
  | 'CreateBucket'

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
  readonly uploadId: string | undefined
  readonly partNumber: number | undefined
  /** 1-based attempt that produced this error (after retries, the last one). */
  readonly attempt: number

  constructor(
    init: {
      statusCode: number
      s3Code?: string | undefined
      s3Message?: string | undefined
      requestId?: string | undefined
    } & S3ErrorContext,
    options?: { cause?: unknown },
  ) {
    const where =
      init.operation +
      (init.partNumber !== undefined ? ` (part ${init.partNumber})` : '') +
      (init.attempt !== undefined && init.attempt > 1 ? ` after ${init.attempt} attempts` : '')
    const what =
      init.statusCode === 0
        ? `failed without a response${options?.cause instanceof Error ? `: ${options.cause.message}` : ''}`
        : `failed with HTTP ${init.statusCode}` +
          (init.s3Code !== undefined ? ` ${init.s3Code}` : '') +
          (init.s3Message !== undefined && init.s3Message !== '' ? `: ${init.s3Message}` : '')
    super('ERR_PARTSTREAM_S3', `${where} ${what}${hintFor(init.s3Code, init.statusCode)}`, options)
    this.statusCode = init.statusCode
    this.s3Code = init.s3Code
    this.requestId = init.requestId
    this.operation = init.operation
    this.uploadId = init.uploadId
    this.partNumber = init.partNumber
    this.attempt = init.attempt ?? 1
  }
}

function hintFor(code: string | undefined, status: number): string {
  switch (code) {
    case 'NoSuchBucket':
      return '. Check `bucket`, `endpoint` and `region`, or create the bucket first.'
    case 'InvalidAccessKeyId':
    case 'SignatureDoesNotMatch':
      return '. Check the credentials (and `region`: it is part of the signature).'
    case 'RequestTimeTooSkewed':
      return ". The machine's clock is off; sync it (or check the `now` option)."
    case 'AccessDenied':
      return '. The credentials lack permission (s3:PutObject, s3:AbortMultipartUpload) on this key.'
    case 'EntityTooSmall':
      return '. A non-last part was under 5 MiB: this is a bug in the part policy, please report it.'
    default:
      return status === 301 || status === 307 ? '. The bucket lives in another region: set `region`.' : ''
  }
}

/** The server's answer contradicts what was sent (size or ETag of the finished object). */
export class IntegrityError extends PartstreamError {
  readonly uploadId: string | undefined
  constructor(message: string, uploadId?: string | undefined) {
    super('ERR_PARTSTREAM_INTEGRITY', message)
    this.uploadId = uploadId
  }
}

/** The file changed (size or modification time) while `uploadFile` was reading it. */
export class SourceChangedError extends PartstreamError {
  readonly uploadId: string | undefined
  constructor(message: string, uploadId?: string | undefined) {
    super('ERR_PARTSTREAM_SOURCE_CHANGED', `${message} Upload a snapshot, or retry once the file is stable.`)
    this.uploadId = uploadId
  }
}
