import { InvalidArgumentError, describeValue } from '@partstream/core'
import { Agent, type Dispatcher } from 'undici'
import { fetchTransport } from './fetch-transport.ts'

/**
 * The HTTP seam: one signed request in, status + headers + a body to read out. Everything above
 * it (signing, retries, the idle watchdog, S3 XML) is the same whatever sends the bytes.
 *
 * Two are built in: {@link undiciTransport} (the default on Node and Deno) and `fetchTransport`
 * (the default on Bun, whose built-in `undici` module cannot dispatch; see `fetch-transport.ts`).
 */
export type Transport = (request: TransportRequest) => Promise<TransportResponse>

/** One request, signed and ready to go. */
export interface TransportRequest {
  /** `http(s)://host[:port]`. */
  readonly origin: string
  /** Encoded path and query string, exactly as signed. */
  readonly path: string
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD'
  /**
   * Signed headers, lower-case names. `host` is the origin's host; `content-length` is present
   * whenever there is a body and must be sent as is (S3 answers 411 to a chunked body).
   */
  readonly headers: Readonly<Record<string, string>>
  /**
   * Exactly `content-length` bytes: one buffer, or chunks pulled one at a time as the previous
   * one is written (the idle watchdog counts each pull as progress). `null`: no body.
   */
  readonly body: Uint8Array | Iterable<Uint8Array> | null
  /**
   * Cancels the request and its response body. A transport rejects with `signal.reason`, or with
   * any error: the caller checks `signal.aborted` first and rethrows the reason itself.
   */
  readonly signal: AbortSignal | undefined
}

/** Response headers: lower-case names; a repeated header may be an array (undici's shape). */
export type TransportHeaders = Readonly<Record<string, string | string[] | undefined>>

/** A response body: read it (async iteration) or `dump()` it, exactly once. */
export interface TransportBody extends AsyncIterable<Uint8Array> {
  /** Discards the rest of the body (the connection is kept for reuse where the transport can). */
  dump(): Promise<void>
}

/** What a transport resolves with once the response headers arrived. */
export interface TransportResponse {
  readonly statusCode: number
  readonly headers: TransportHeaders
  readonly body: TransportBody
}

/**
 * A transport over an undici `Dispatcher` (an `Agent`, `Pool`, `ProxyAgent`, `MockAgent`…):
 * `dispatcher.request` with the chunk list as the body and the explicit `content-length`, which
 * undici streams with backpressure and checks. The dispatcher is never closed by us.
 * @example
 * const agent = new Agent({ connections: 8 })
 * await upload(source, target, { transport: undiciTransport(agent) })
 */
export function undiciTransport(dispatcher: Dispatcher): Transport {
  if (!canDispatch(dispatcher)) {
    throw new InvalidArgumentError(
      `Expected an undici Dispatcher with request(), got ${describeValue(dispatcher)}. ` +
        "On Bun, `import { Agent } from 'undici'` is Bun's built-in stub, which cannot send: use fetchTransport().",
    )
  }
  return async (req) => {
    const response = await dispatcher.request({
      origin: req.origin,
      path: req.path,
      method: req.method,
      headers: req.headers,
      // undici's types spell the body differently (Readable | FormData | …); it takes both shapes.
      body: req.body as never,
      signal: req.signal ?? null,
    })
    return { statusCode: response.statusCode, headers: response.headers, body: response.body }
  }
}

function canDispatch(value: unknown): value is Dispatcher {
  return typeof value === 'object' && value !== null && typeof (value as { request?: unknown }).request === 'function'
}

/**
 * Whether the `undici` we imported can send requests. On Node and Deno it is the real package;
 * Bun resolves the bare specifier `undici` to a built-in stub whose `Agent` has no `request`,
 * `dispatch` or `close` (checked on Bun 1.4.5), so there the default transport is fetch.
 */
const UNDICI_DISPATCHES: boolean = typeof (Agent.prototype as { request?: unknown }).request === 'function'

/** The transport of one S3 context, and how to release what the context itself created. */
export interface ResolvedTransport {
  readonly transport: Transport
  /** The dispatcher requests go through, when the transport is undici's. */
  readonly dispatcher: Dispatcher | undefined
  /** Closes the `Agent` the context created; a no-op for anything the caller passed. */
  close(): Promise<void>
}

/**
 * `transport` if given; else `dispatcher` through undici; else a keep-alive `Agent` owned by the
 * context (with undici's own header/body timeouts at `idleTimeoutMs`), or fetch where undici
 * cannot dispatch (Bun).
 */
export function resolveTransport(
  transport: Transport | undefined,
  dispatcher: Dispatcher | undefined,
  idleTimeoutMs: number,
  connections: number | undefined,
): ResolvedTransport {
  const none = (): Promise<void> => Promise.resolve()
  if (transport !== undefined) {
    if (typeof transport !== 'function') {
      throw new InvalidArgumentError(
        `Expected \`transport\` to be a function (request) => Promise<response>, e.g. fetchTransport(), got ${describeValue(transport)}.`,
      )
    }
    if (dispatcher !== undefined) {
      throw new InvalidArgumentError('Pass `transport` or `dispatcher`, not both: wrap the dispatcher with undiciTransport(dispatcher).')
    }
    return { transport, dispatcher: undefined, close: none }
  }
  if (dispatcher !== undefined) return { transport: undiciTransport(dispatcher), dispatcher, close: none }
  if (!UNDICI_DISPATCHES) return { transport: fetchTransport(), dispatcher: undefined, close: none }
  // Parts carry a precomputed content-length; never `Expect: 100-continue` (lib-storage pays a round trip per part).
  // `connections` caps sockets per origin: without it a request sent just as another's response
  // ends opens a new socket (measured: ~2 × concurrency connections; each a TLS handshake on S3).
  const owned = new Agent({
    keepAliveTimeout: 10_000,
    headersTimeout: idleTimeoutMs,
    bodyTimeout: idleTimeoutMs,
    ...(connections === undefined ? {} : { connections }),
  })
  return { transport: undiciTransport(owned), dispatcher: owned, close: () => owned.close() }
}
