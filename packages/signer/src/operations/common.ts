import { InvalidArgumentError, describeValue } from '@partstream/core'

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
   * Write only if no object exists at the key (`If-None-Match: *`); S3 answers 412 otherwise.
   * @default false
   */
  readonly ifNoneMatch?: boolean | undefined
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const PRINTABLE = /^[\x20-\x7e]*$/

/** The request headers for `ObjectOptions`, validated. */
export function objectHeaders(options: ObjectOptions): Record<string, string> {
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
  if (options.ifNoneMatch === true) headers['if-none-match'] = '*'
  return headers
}

/** Drops the quotes S3 puts around ETags. */
export function unquote(etag: string | undefined): string | undefined {
  return etag === undefined ? undefined : etag.replace(/^"(.*)"$/, '$1')
}
