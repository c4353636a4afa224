import { UsageError } from './args.ts'

/**
 * The proxy a command's requests go through, from the variables the AWS CLI reads: for an
 * https endpoint `https_proxy`, else `HTTPS_PROXY`; for an http one `http_proxy`, else
 * `HTTP_PROXY` (a lower-case variable wins, even empty, as in Python's `getproxies()` and
 * curl). An https endpoint never falls back to HTTP_PROXY: the AWS CLI looks its proxy up by the
 * URL's scheme alone (undici's `EnvHttpProxyAgent` would fall back; we decide first, see
 * {@link proxyFor}). `no_proxy` / `NO_PROXY` lists the hosts reached directly.
 */
export interface ProxyRoute {
  /** The proxy's URL, credentials included: never printed (see {@link ProxyRoute.shown}). */
  readonly url: URL
  /** The endpoint's scheme, which picked the variable. */
  readonly scheme: 'http:' | 'https:'
  /** The variable it came from, e.g. `HTTPS_PROXY`, for messages. */
  readonly variable: string
  /** The proxy without user and password (`http://proxy.corp:3128`), the only form ever printed. */
  readonly shown: string
  /** The endpoint's host (no port), which NO_PROXY would need to name to skip the proxy. */
  readonly host: string
  /** NO_PROXY's value ('' when unset): checked again per request host (virtual-hosted buckets). */
  readonly noProxy: string
}

/** The variables, in the order they are looked at: the lower-case one first. */
const VARIABLES = {
  'http:': ['http_proxy', 'HTTP_PROXY'],
  'https:': ['https_proxy', 'HTTPS_PROXY'],
} as const

/**
 * The proxy for requests to `endpoint`, or `undefined` to connect directly: no variable for its
 * scheme, or NO_PROXY names its host (then every request host is direct: a virtual-hosted
 * bucket's host is a subdomain of the endpoint's). A variable that is not an http(s) URL is a
 * usage error naming the variable (not its value, which may hold a password). A value without a
 * scheme (`proxy.corp:3128`) is taken as `http://` (botocore and curl do).
 * @example
 * proxyFor('https://s3.us-east-1.amazonaws.com', { HTTPS_PROXY: 'http://u:p@proxy.corp:3128' })?.shown // 'http://proxy.corp:3128'
 * proxyFor('http://10.0.0.5:7480', { HTTP_PROXY: 'proxy.corp:3128', NO_PROXY: '10.0.0.5' }) // undefined: direct
 */
export function proxyFor(endpoint: string | URL | undefined, env: Readonly<Record<string, string | undefined>>): ProxyRoute | undefined {
  if (endpoint === undefined) return undefined
  let target: URL
  try {
    target = new URL(String(endpoint))
  } catch {
    return undefined // the library reports the endpoint
  }
  const scheme = target.protocol
  if (scheme !== 'http:' && scheme !== 'https:') return undefined
  const names = VARIABLES[scheme]
  const variable = names.find((name) => env[name] !== undefined)
  const value = variable === undefined ? '' : (env[variable] ?? '').trim()
  if (variable === undefined || value === '') return undefined
  const noProxy = env['no_proxy'] ?? env['NO_PROXY'] ?? ''
  if (bypasses(target, noProxy)) return undefined
  let url: URL
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`)
  } catch {
    throw new UsageError(`${variable} is not a proxy URL: expected http://host:port (or http://user:password@host:port)`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${variable}: expected an http:// or https:// proxy, not ${url.protocol}//`)
  return { url, scheme, variable, shown: withoutCredentials(url), host: target.hostname, noProxy }
}

/** `http://host:port`: the proxy's origin, never its user or password (nor a path). */
function withoutCredentials(url: URL): string {
  return `${url.protocol}//${url.host}`
}

/**
 * Whether NO_PROXY sends requests to `target` directly. The rules are undici's
 * `EnvHttpProxyAgent`'s (which checks each request again), and Python's
 * `proxy_bypass_environment` that the AWS CLI uses: entries split on commas or spaces, `*` alone
 * matches every host, a leading `.` or `*.` is dropped, an entry matches its host and the host's
 * subdomains, case-insensitively, and `host:port` only that port. (No CIDR ranges: neither reads
 * them.)
 * @example
 * bypasses(new URL('https://bkt.s3.amazonaws.com'), 'localhost,.amazonaws.com') // true
 */
export function bypasses(target: URL, noProxy: string): boolean {
  if (noProxy.trim() === '*') return true
  const host = target.host.replace(/:\d*$/, '').toLowerCase()
  const port = Number.parseInt(target.port, 10) || (target.protocol === 'https:' ? 443 : 80)
  for (const entry of noProxy.split(/[,\s]/)) {
    if (entry === '') continue
    const parsed = /^(.+):(\d+)$/.exec(entry)
    const name = (parsed?.[1] ?? entry).replace(/^\*?\./, '').toLowerCase()
    if (parsed !== null && Number.parseInt(parsed[2] ?? '', 10) !== port) continue
    if (host === name || host.endsWith(`.${name}`)) return true
  }
  return false
}
