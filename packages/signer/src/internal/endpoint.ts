import { InvalidArgumentError, describeValue } from '@partstream/core'

/** Where requests for one object go. `path` is already URI-encoded exactly as it is signed. */
export interface ResolvedEndpoint {
  /** `https://host:port` (the TCP origin, bucket included for virtual-hosted style). */
  readonly origin: string
  readonly protocol: 'http:' | 'https:'
  readonly hostname: string
  readonly port: number | undefined
  /** Encoded path of the bucket (`/bucket` path-style, `` virtual-hosted). */
  readonly bucketPath: string
  /** Encoded path of the object. */
  readonly objectPath: string
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

export function resolveEndpoint(
  bucket: string,
  key: string,
  region: string,
  endpoint: string | URL | undefined,
  forcePathStyle: boolean | undefined,
): ResolvedEndpoint {
  let url: URL
  try {
    url = new URL(endpoint ?? `https://s3.${region}.amazonaws.com`)
  } catch (cause) {
    throw new InvalidArgumentError(
      `Expected \`endpoint\` to be an absolute http(s) URL such as "http://127.0.0.1:7480", got ${describeValue(String(endpoint))}.`,
      { cause },
    )
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
  const pathStyle = forcePathStyle ?? (isIpOrLocal || !DNS_BUCKET.test(bucket))
  const basePath = url.pathname.replace(/\/+$/, '')
  const encodedKey = encodeKey(key)
  const port = url.port === '' ? undefined : Number(url.port)
  const protocol = url.protocol
  if (pathStyle) {
    const bucketPath = `${basePath}/${encodeKey(bucket)}`
    return { origin: url.origin, protocol, hostname: host, port, bucketPath, objectPath: `${bucketPath}/${encodedKey}`, pathStyle }
  }
  const hostname = `${bucket}.${host}`
  const origin = `${protocol}//${hostname}${url.port === '' ? '' : `:${url.port}`}`
  return { origin, protocol, hostname, port, bucketPath: basePath === '' ? '/' : basePath, objectPath: `${basePath}/${encodedKey}`, pathStyle }
}

/** Encoded path of another key in the same bucket. */
export function objectPathFor(endpoint: ResolvedEndpoint, key: string): string {
  return `${endpoint.bucketPath === '/' ? '' : endpoint.bucketPath}/${encodeKey(key)}`
}
