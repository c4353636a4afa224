/**
 * The dispatcher behind {@link proxyAgent} (`proxy.ts`, which loads this module only when called,
 * so an upload without a proxy loads none of it): undici's `EnvHttpProxyAgent`, given the proxies
 * explicitly and the connection settings the context gives the `Agent` it creates.
 *
 * As `undici-parts.ts` does for the context's `Agent`, the classes come
 * from undici's own files rather than its entry point, which evaluates every dispatcher, fetch
 * and WebSocket (about 100 ms more on Node 20, measured there). undici's entry mixes `request()`
 * and `connect()` into `Dispatcher.prototype`; without it, the agent and the proxy's own pool get
 * them as their own properties (the signer's transport calls `dispatcher.request`, and a tunnel is
 * opened with the pool's `connect`).
 */
import type { Dispatcher, EnvHttpProxyAgent as EnvHttpProxyAgentClass, Pool as PoolClass } from 'undici'
// @ts-expect-error undici ships types for its entry point only; this is its EnvHttpProxyAgent class.
import EnvHttpProxyAgentImpl from 'undici/lib/dispatcher/env-http-proxy-agent.js'
// @ts-expect-error undici ships types for its entry point only; this is its Pool class.
import PoolImpl from 'undici/lib/dispatcher/pool.js'
// @ts-expect-error undici ships types for its entry point only; this is `Dispatcher#request`.
import requestImpl from 'undici/lib/api/api-request.js'
// @ts-expect-error undici ships types for its entry point only; this is `Dispatcher#connect` (HTTP CONNECT).
import connectImpl from 'undici/lib/api/api-connect.js'

const EnvHttpProxyAgent: typeof EnvHttpProxyAgentClass = EnvHttpProxyAgentImpl
const Pool: typeof PoolClass = PoolImpl
const request: Dispatcher['request'] = requestImpl
const connect: Dispatcher['connect'] = connectImpl

/** Options of `proxyAgent` (transport/proxy.ts). */
export interface ProxyAgentOptions {
  /**
   * The proxy for `http://` endpoints (`http://user:pass@proxy.corp:3128`), reached with
   * absolute-form requests, as the AWS CLI does (proxies commonly refuse CONNECT to ports other
   * than 443). @default none: http endpoints are reached directly
   */
  readonly httpProxy?: string | URL | undefined
  /** The proxy for `https://` endpoints, reached through a CONNECT tunnel (TLS end to end). @default none */
  readonly httpsProxy?: string | URL | undefined
  /** Hosts reached directly, as NO_PROXY lists them (`.corp,10.0.0.1,s3.local:9000`, `*`). @default '' */
  readonly noProxy?: string | undefined
  /** Sockets per origin (for the tunnels, per endpoint host): give `concurrency`, as the context's own `Agent` gets. @default unlimited */
  readonly connections?: number | undefined
  /** CAs to trust (PEM) for the endpoint inside a tunnel, for hosts reached directly, and for an `https://` proxy. @default the runtime's */
  readonly ca?: string | undefined
}

/** As the library's own `Agent`: idle sockets are kept this long between parts. */
const KEEP_ALIVE_TIMEOUT_MS = 10_000

/**
 * undici's `EnvHttpProxyAgent` for these proxies, with `request()` (see the module comment).
 *
 * - An http endpoint is reached with absolute-form requests to the proxy (`PUT http://host/key`),
 *   not a CONNECT tunnel, as the AWS CLI (urllib3) does: proxies commonly refuse CONNECT to
 *   ports other than 443 (Squid's default `http_access deny CONNECT !SSL_ports`), and an S3
 *   server on plain http usually listens elsewhere (7480, 9000).
 * - An https endpoint is reached through a CONNECT tunnel, TLS end to end; the CA bundle is
 *   trusted for the endpoint inside the tunnel (`requestTls`: a `connect` option is replaced by
 *   the tunnel), for hosts NO_PROXY sends directly (`connect`), and for an https:// proxy itself
 *   (`proxyTls`), as the AWS CLI's urllib3 uses its bundle for that TLS too.
 * @example
 * const dispatcher = createProxyAgent({ httpsProxy: 'http://proxy.corp:3128', connections: 4 })
 */
export function createProxyAgent(options: ProxyAgentOptions): Dispatcher {
  const tls = options.ca === undefined ? {} : { ca: options.ca }
  const pool = (origin: string | URL, opts: object): PoolClass =>
    Object.assign(new Pool(origin, { keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS, ...(options.connections === undefined ? {} : { connections: options.connections }), ...opts }), { connect })
  const agent = new EnvHttpProxyAgent({
    // Given explicitly ('' for none): the agent then reads no environment (it would send https
    // through HTTP_PROXY when HTTPS_PROXY is unset).
    httpProxy: String(options.httpProxy ?? ''),
    httpsProxy: String(options.httpsProxy ?? ''),
    noProxy: options.noProxy ?? '',
    // http targets as absolute-form requests (see above); https ones are always tunnelled.
    proxyTunnel: false,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    ...(options.connections === undefined ? {} : { connections: options.connections }),
    // Every pool: per endpoint host, and to the proxy itself (absolute-form requests, and the
    // CONNECTs of tunnels): the settings above, and `connect` for the tunnels.
    factory: pool,
    clientFactory: pool,
    ...(options.ca === undefined ? {} : { connect: tls, requestTls: tls, proxyTls: tls }),
  })
  return Object.assign(agent, { request })
}
