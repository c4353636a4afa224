import { InvalidArgumentError, describeValue } from '@partstream/core'

/** Where requests for one bucket go. Paths are URI-encoded exactly as they are signed. */
export interface ResolvedEndpoint {
  /** `https://host:port` (the TCP origin, bucket included for virtual-hosted style). */
  readonly origin: string
  readonly protocol: 'http:' | 'https:'
  readonly hostname: string
  readonly port: number | undefined
  /** Encoded path of the bucket (`/bucket` path-style, `` virtual-hosted). */
  readonly bucketPath: string
  readonly pathStyle: boolean
}

/**
 * S3 wants each key segment URI-encoded once (RFC 3986 unreserved set kept, `/` kept).
 * `encodeURIComponent` leaves `!'()*` alone, which SigV4 requires encoded.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 */
export function encodeKey(key: string): string {
  return key
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join('/')
}

/** Query strings use the same RFC 3986 encoding as smithy's canonical query. */
export function encodeQueryComponent(value: string): string {
  return encodeKey(value).replace(/\//g, '%2F')
}

const IP_V4 = /^\d{1,3}(\.\d{1,3}){3}$/
/** Buckets that can be a DNS label for virtual-hosted style (no dots: TLS wildcard certs). */
const DNS_BUCKET = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/
/**
 * S3's bucket naming rules (general purpose buckets):
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
 * 3–63 characters of lower-case letters, digits, `.` and `-`, starting and ending with a letter
 * or digit, no `..`, not an IPv4 address, and none of the reserved prefixes and suffixes.
 */
const STRICT_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/
const RESERVED_BUCKET = /^(xn--|sthree-|amzn-s3-demo-)|(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/
/**
 * The legacy names S3 accepted in us-east-1 before March 2018, which some S3-compatible servers
 * still accept: up to 255 of letters (either case), digits, `.`, `-` and `_`. Never `/`, `?`,
 * `#`, `%`, whitespace or control characters, which would change the request's path.
 */
const LEGACY_BUCKET = /^[A-Za-z0-9._-]{1,255}$/

/**
 * Checks a bucket name before it goes into a URL: a `/` in it would write to another bucket and
 * key than the caller named. `legacy` relaxes the rules to `LEGACY_BUCKET`.
 * @throws {InvalidArgumentError} naming the rule broken.
 */
export function validateBucketName(bucket: string, legacy: boolean): void {
  const hint = legacy
    ? 'Legacy names are 1–255 letters, digits, ".", "-" and "_".'
    : 'S3 bucket names are 3–63 lower-case letters, digits, "." and "-", starting and ending with a letter or digit; ' +
      'for a server that accepts other names (upper case, "_"), set `legacyBucketName: true` in the target.'
  const ok = legacy
    ? LEGACY_BUCKET.test(bucket) && bucket !== '.' && bucket !== '..'
    : STRICT_BUCKET.test(bucket) && !bucket.includes('..') && !IP_V4.test(bucket) && !RESERVED_BUCKET.test(bucket)
  if (!ok) throw new InvalidArgumentError(`Invalid \`bucket\` name ${JSON.stringify(bucket)}. ${hint}`)
}

/** A lone surrogate cannot be encoded as UTF-8 (encodeURIComponent throws a URIError on it). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * Checks an object key as every upload does before any request: 1 to 1024 bytes of well-formed
 * UTF-8. Returns the key; a dry run can tell what an upload would refuse.
 * @throws {InvalidArgumentError}
 * @example
 * validateKey('logs/day.gz') // 'logs/day.gz'
 * validateKey('x'.repeat(1025)) // throws InvalidArgumentError (over 1024 bytes)
 */
export function validateKey(key: unknown): string {
  if (typeof key !== 'string' || key === '') {
    throw new InvalidArgumentError(`Expected \`key\` to be a non-empty string, got ${describeValue(key)}. S3 object keys are 1 to 1024 bytes of UTF-8.`)
  }
  if (LONE_SURROGATE.test(key)) {
    throw new InvalidArgumentError(
      'Expected `key` to be well-formed Unicode, got a string with a lone surrogate (half of a UTF-16 pair), which has no UTF-8 encoding. Check how the key was sliced or decoded.',
    )
  }
  const bytes = new TextEncoder().encode(key).byteLength
  if (bytes > 1024) throw new InvalidArgumentError(`Expected \`key\` to be at most 1024 bytes of UTF-8, got ${bytes}.`)
  return key
}

/**
 * Where the requests for one bucket go. The bucket name must have passed `validateBucketName`.
 * @throws {InvalidArgumentError} for an endpoint that is not an absolute http(s) URL.
 */
export function resolveEndpoint(
  bucket: string,
  endpoint: string | URL,
  forcePathStyle: boolean | undefined,
): ResolvedEndpoint {
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    // No cause: the URL parser's TypeError holds the input, a password in it included.
    throw new InvalidArgumentError(`Expected \`endpoint\` to be an absolute http(s) URL such as "http://127.0.0.1:7480", got ${describeValue(String(endpoint))}.`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidArgumentError(`Expected \`endpoint\` to use http: or https:, got "${url.protocol}".`)
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new InvalidArgumentError(
      'Expected `endpoint` without query, fragment or credentials in the URL; pass credentials in `credentials`.',
    )
  }
  const host = url.hostname
  const isIpOrLocal = IP_V4.test(host) || host.startsWith('[') || host === 'localhost' || host.endsWith('.localhost')
  const isIp = IP_V4.test(host) || host.startsWith('[')
  if (forcePathStyle === false && isIp) {
    // `bucket.127.0.0.1` is no host name: every request would fail as an "Invalid URL" network error.
    throw new InvalidArgumentError(
      `Expected \`forcePathStyle\` to be left unset or true for an IP endpoint (${host}): virtual-hosted addressing puts the bucket in the host name, which needs a DNS name. Drop \`forcePathStyle: false\`.`,
    )
  }
  const pathStyle = forcePathStyle ?? (isIpOrLocal || !DNS_BUCKET.test(bucket))
  const basePath = url.pathname.replace(/\/+$/, '')
  const port = url.port === '' ? undefined : Number(url.port)
  const protocol = url.protocol
  if (pathStyle) {
    return { origin: url.origin, protocol, hostname: host, port, bucketPath: `${basePath}/${encodeKey(bucket)}`, pathStyle }
  }
  const hostname = `${bucket}.${host}`
  const origin = `${protocol}//${hostname}${url.port === '' ? '' : `:${url.port}`}`
  return { origin, protocol, hostname, port, bucketPath: basePath === '' ? '/' : basePath, pathStyle }
}

/** Encoded path of a key in the endpoint's bucket. */
export function objectPathFor(endpoint: ResolvedEndpoint, key: string): string {
  return `${endpoint.bucketPath === '/' ? '' : endpoint.bucketPath}/${encodeKey(key)}`
}

/** The object's URL: origin + encoded path, well-formed whatever the key holds. */
export function objectUrl(endpoint: ResolvedEndpoint, key: string): string {
  return endpoint.origin + objectPathFor(endpoint, key)
}
