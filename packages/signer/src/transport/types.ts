/**
 * The transport layer: one signed HTTP request in, status + headers + body out. It knows nothing
 * about S3, signing or retries (the `http/` layer above it does).
 * @module
 */

/**
 * The HTTP seam: one signed request in, status + headers + a body to read out. Everything above
 * it (signing, retries, the idle watchdog, S3 XML) is the same whatever sends the bytes.
 *
 * Two are built in: {@link undiciTransport} (the default on Node and Deno) and `fetchTransport`
 * (the default on Bun, whose built-in `undici` module cannot dispatch; see `fetch.ts`).
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
