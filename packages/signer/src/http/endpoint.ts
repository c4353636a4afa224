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
/** One label of a host name as a bucket may fill it (lower case: S3 reads the bucket from the host). */
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/
/**
 * S3's bucket naming rules (general purpose buckets):
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
 * 3–63 characters of lower-case letters, digits, `.` and `-`, starting and ending with a letter
 * or digit, no `..`, not an IPv4 address, and none of the reserved prefixes and suffixes. Access
 * point aliases (`-s3alias`, Object Lambda's `--ol-s3`) end in reserved suffixes so that no bucket
 * can take their names, and S3 takes them wherever it takes a bucket name (PutObject, the
 * multipart calls), as the AWS SDK sends them: they pass.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-naming.html
 */
const STRICT_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/
const RESERVED_BUCKET = /^(xn--|sthree-|amzn-s3-demo-)|--table-s3$/
/**
 * The legacy names S3 accepted in us-east-1 before March 2018, which some S3-compatible servers
 * still accept: up to 255 of letters (either case), digits, `.`, `-` and `_`. Never `/`, `?`,
 * `#`, `%`, whitespace or control characters, which would change the request's path.
 */
const LEGACY_BUCKET = /^[A-Za-z0-9._-]{1,255}$/

/**
 * Checks a bucket name before it goes into a URL: a `/` in it would write to another bucket and
 * key than the caller named. `legacy` relaxes the rules to `LEGACY_BUCKET`.
 * @throws {InvalidArgumentError} naming the rule broken, or what S3 takes in place of a bucket
 *   name that partstream cannot send to (an ARN, a directory bucket) and what to use instead.
 */
export function validateBucketName(bucket: string, legacy: boolean, onAws = true): void {
  // With legacy names on another server, `--x-s3` and `.mrap` are just names: they mean something
  // only to AWS. An ARN is never a name (no server takes ":").
  const unsupported = legacy && !onAws && !bucket.startsWith('arn:') ? undefined : unsupportedBucket(bucket)
  if (unsupported !== undefined) throw new InvalidArgumentError(unsupported)
  const hint = legacy
    ? 'Legacy names are 1–255 letters, digits, ".", "-" and "_".'
    : 'S3 bucket names are 3–63 lower-case letters, digits, "." and "-", starting and ending with a letter or digit; ' +
      'for a server that accepts other names (upper case, "_"), set `legacyBucketName: true` in the target.'
  const ok = legacy
    ? LEGACY_BUCKET.test(bucket) && bucket !== '.' && bucket !== '..'
    : STRICT_BUCKET.test(bucket) && !bucket.includes('..') && !IP_V4.test(bucket) && !RESERVED_BUCKET.test(bucket)
  if (!ok) throw new InvalidArgumentError(`Invalid \`bucket\` name ${JSON.stringify(bucket)}. ${hint}`)
}

/**
 * What S3 (and the AWS SDK) take in place of a bucket name but partstream cannot send to, whatever
 * `legacyBucketName` says: each says what it is and what to use instead. `undefined` otherwise.
 * The AWS SDK routes these by name: an ARN to the access point's own host, `--x-s3` to a zonal
 * `s3express-…` host with session credentials (CreateSession), `.mrap` through SigV4A.
 */
function unsupportedBucket(bucket: string): string | undefined {
  const quoted = JSON.stringify(bucket)
  if (bucket.startsWith('arn:')) return `\`bucket\` ${quoted} is ${arnAdvice(bucket)}`
  if (bucket.endsWith('--x-s3')) {
    return (
      `\`bucket\` ${quoted} is a directory bucket (S3 Express One Zone), which partstream does not support: its requests go to a zonal endpoint ` +
      '(s3express-<zone>.<region>.amazonaws.com) with session credentials (CreateSession). Use a general purpose bucket.'
    )
  }
  if (bucket.endsWith('.mrap')) {
    return `\`bucket\` ${quoted} is a Multi-Region Access Point alias, which partstream does not support: its requests need SigV4A signing. Use a bucket, or a single-Region access point's alias ("…-s3alias").`
  }
  return undefined
}

/**
 * What an ARN given as the bucket names, and what to use instead: the parts of
 * `arn:partition:service:region:account:resource`
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-naming.html).
 */
function arnAdvice(arn: string): string {
  const [, , service, region = '', account = '', ...rest] = arn.split(':')
  const resource = rest.join(':')
  const accessPoint = /^accesspoint[/:](.+)$/.exec(resource)?.[1]
  if (service === 's3' && accessPoint !== undefined && region === '') {
    return "a Multi-Region Access Point ARN, which partstream does not support: its requests need SigV4A signing. Use a bucket, or a single-Region access point's alias."
  }
  if (service === 's3' && accessPoint !== undefined) {
    return (
      'an access point ARN, which partstream does not support as `bucket`: use its alias (a name ending in "-s3alias") as `bucket`, ' +
      `which S3 takes wherever it takes a bucket name (\`aws s3control get-access-point --account-id ${account} --region ${region} --name ${accessPoint}\` prints it as Alias).`
    )
  }
  if (service === 's3-object-lambda' && accessPoint !== undefined) {
    return 'an Object Lambda access point ARN, which partstream does not support as `bucket`: use its alias (a name ending in "--ol-s3") as `bucket`.'
  }
  if (service === 's3-outposts') return 'an S3 on Outposts ARN, which partstream does not support (Outposts take requests at their own endpoints).'
  if (service === 's3' && region === '' && account === '' && resource !== '' && !resource.includes('/')) {
    return `a bucket ARN: give the bucket's name, ${JSON.stringify(resource)}, as \`bucket\`.`
  }
  return 'an ARN, which partstream does not support as `bucket`: give a bucket name or an access point alias.'
}

/** A lone surrogate cannot be encoded as UTF-8 (encodeURIComponent throws a URIError on it). */
export const LONE_SURROGATE: RegExp = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * A string sent in a query or a header: well-formed Unicode. A lone surrogate (half of a UTF-16
 * pair) has no UTF-8 encoding: it failed as a bare URIError while the request was encoded.
 */
export function requireWellFormed(value: string, name: string): void {
  if (LONE_SURROGATE.test(value)) {
    throw new InvalidArgumentError(
      `Expected ${name} to be well-formed Unicode, got a string with a lone surrogate (half of a UTF-16 pair), which has no UTF-8 encoding. Check how it was sliced or decoded.`,
    )
  }
}

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
 * `forcePathStyle`: `true` path style, `false` virtual-hosted where the bucket can go in the host
 * name, `undefined` virtual-hosted for DNS-label names on a DNS host.
 * @throws {InvalidArgumentError} for an endpoint that is not an absolute http(s) URL, and for
 *   what S3 Transfer Acceleration cannot take (path style, a bucket with dots).
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
    throw new InvalidArgumentError(`Expected \`endpoint\` to be an absolute http(s) URL such as "http://127.0.0.1:7480", got ${describeValue(endpoint)}.`)
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
  const basePath = url.pathname.replace(/\/+$/, '')
  const port = url.port === '' ? undefined : Number(url.port)
  const protocol = url.protocol
  if (ACCELERATE_HOST.test(host)) checkAccelerate(bucket, host, forcePathStyle)
  // `false` (the profile's addressing_style = virtual) is a preference, as in botocore and the AWS
  // SDK's S3 endpoint rules: path style where the bucket cannot go in the host name. An IP or
  // localhost has no sub-domains (`bucket.127.0.0.1` is no host name); a dotted bucket over https
  // fails TLS (S3's certificate is `*.s3.<region>.amazonaws.com`: one label); a name with upper
  // case or `_` is no DNS name. Unset keeps partstream's rule: virtual-hosted for DNS labels only.
  const virtualHostable = !isIpOrLocal && (DNS_BUCKET.test(bucket) || (forcePathStyle === false && protocol === 'http:' && bucket.split('.').every((label) => DNS_LABEL.test(label))))
  const pathStyle = forcePathStyle === true || !virtualHostable
  if (pathStyle) {
    return { origin: url.origin, protocol, hostname: host, port, bucketPath: `${basePath}/${encodeKey(bucket)}`, pathStyle }
  }
  const hostname = `${bucket}.${host}`
  const origin = `${protocol}//${hostname}${url.port === '' ? '' : `:${url.port}`}`
  return { origin, protocol, hostname, port, bucketPath: basePath === '' ? '/' : basePath, pathStyle }
}

/** S3 Transfer Acceleration's hosts (`s3-accelerate[.dualstack].<partition's suffix>`), as botocore's is_s3_accelerate_url tells them. */
const ACCELERATE_HOST = /^s3-accelerate\.(dualstack\.)?[a-z0-9.-]+$/

/**
 * S3 Transfer Acceleration takes virtual-hosted requests only, for bucket names without dots
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/transfer-acceleration.html); the S3
 * endpoint rules refuse path style there ("Path-style addressing cannot be used with S3 Accelerate").
 * @throws {InvalidArgumentError} for `forcePathStyle: true` or a bucket that cannot be a host label.
 */
function checkAccelerate(bucket: string, host: string, forcePathStyle: boolean | undefined): void {
  if (forcePathStyle === true) {
    throw new InvalidArgumentError(
      `Expected \`forcePathStyle\` to be left unset or false with S3 Transfer Acceleration (${host}): it takes virtual-hosted requests only, with the bucket in the host name.`,
    )
  }
  if (!DNS_BUCKET.test(bucket)) {
    throw new InvalidArgumentError(
      `Bucket ${JSON.stringify(bucket)} cannot use S3 Transfer Acceleration (${host}): its requests put the bucket in the host name, which takes 3–63 lower-case letters, digits and "-", no dots. ` +
        "Turn acceleration off (the profile's s3 use_accelerate_endpoint), or use the regional endpoint.",
    )
  }
}

/** Encoded path of a key in the endpoint's bucket. */
export function objectPathFor(endpoint: ResolvedEndpoint, key: string): string {
  return `${endpoint.bucketPath === '/' ? '' : endpoint.bucketPath}/${encodeKey(key)}`
}

/** The object's URL: origin + encoded path, well-formed whatever the key holds. */
export function objectUrl(endpoint: ResolvedEndpoint, key: string): string {
  return endpoint.origin + objectPathFor(endpoint, key)
}
