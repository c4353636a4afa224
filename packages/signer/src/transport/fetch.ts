import { InvalidArgumentError, PartstreamError, describeValue, isUint8Array } from '@partstream/core'
import { NetworkError } from '../errors.ts'
import type { Transport, TransportBody, TransportHeaders } from './types.ts'

/** Options of {@link fetchTransport}. */
export interface FetchTransportOptions {
  /**
   * The `fetch` to call (a wrapper that adds a proxy or logging fits).
   * @default globalThis.fetch
   */
  readonly fetch?: typeof globalThis.fetch | undefined
  /**
   * How a body of several chunks is handed to `fetch`:
   * - `'stream'`: a `ReadableStream` over the chunks with the explicit `content-length`, pulled one
   *   chunk at a time (no copy). Node's and Bun's fetch send it with that length.
   * - `'buffer'`: the chunks are concatenated into one `Uint8Array` (one copy of the part per
   *   attempt, so up to `concurrency` extra part-sized buffers). For runtimes whose fetch drops
   *   `Content-Length` on a streamed body and sends it chunked, which S3 refuses (411): Deno.
   *   The idle timeout then counts the whole body as one step.
   * A body that is already one `Uint8Array` is always sent as is.
   * @default 'buffer' on Deno, 'stream' elsewhere
   */
  readonly body?: 'stream' | 'buffer' | undefined
  /**
   * CA certificates (PEM) to trust instead of the runtime's, as Bun's fetch takes them
   * (`tls: { ca }`). Other runtimes' fetch ignores it: give Deno an `HttpClient` through a
   * `fetch` wrapper, and Node an undici `dispatcher` instead.
   * @default the runtime's CAs
   */
  readonly ca?: string | Uint8Array | ReadonlyArray<string | Uint8Array> | undefined
}

/** `ca` as tls.connect and Bun's fetch take it: PEM strings (bytes are read as PEM text). */
export function caList(ca: string | Uint8Array | ReadonlyArray<string | Uint8Array>): string[] {
  const decode = (c: string | Uint8Array): string => (typeof c === 'string' ? c : new TextDecoder().decode(c))
  return typeof ca === 'string' || isUint8Array(ca) ? [decode(ca)] : (ca as ReadonlyArray<string | Uint8Array>).map(decode)
}

/** Deno's fetch sends a `ReadableStream` body chunked, without our `content-length` (checked on Deno 2.9.6). */
const FETCH_DROPS_STREAM_LENGTH: boolean = typeof (globalThis as { Deno?: unknown }).Deno === 'object'

/** Bytes of a response body read by `dump()` to keep the connection; past that it is cancelled. */
const DUMP_LIMIT_BYTES = 128 * 1024

/**
 * A transport over the runtime's `fetch`: the default on Bun (whose `undici` import is a stub),
 * and a choice anywhere else (`{ transport: fetchTransport() }`). Connection reuse is the
 * runtime's own keep-alive pool. Redirects are not followed (`redirect: 'manual'`), as with
 * undici. `host` is left to fetch (it derives the same value from the URL).
 *
 * Differences from undici, besides the body mode above: fetch decodes a response whose
 * `Content-Encoding` is gzip/deflate/br, so `getObject` of an object stored with that encoding
 * yields the decoded bytes; and the runtime's fetch adds its own unsigned headers
 * (`accept`, `user-agent`, `accept-encoding`), which SigV4 allows.
 * @example
 * await upload(source, target, { transport: fetchTransport() })
 */
export function fetchTransport(options: FetchTransportOptions = {}): Transport {
  const doFetch = options.fetch ?? globalThis.fetch
  if (typeof doFetch !== 'function') {
    throw new InvalidArgumentError(`Expected \`fetch\` to be a function, got ${describeValue(doFetch)}.`)
  }
  const mode = options.body ?? (FETCH_DROPS_STREAM_LENGTH ? 'buffer' : 'stream')
  if (mode !== 'stream' && mode !== 'buffer') {
    throw new InvalidArgumentError(`Expected \`body\` to be 'stream' or 'buffer', got ${describeValue(mode)}.`)
  }
  const ca = options.ca === undefined ? undefined : caList(options.ca)
  return async (req) => {
    // fetch derives `host` from the URL (the value we signed), and `content-length` from a
    // buffer body itself; a second copy of it makes some fetch implementations refuse the request.
    const headers: Record<string, string> = { ...req.headers }
    const contentLength = headers['content-length']
    delete headers['host']
    delete headers['content-length']
    const init: RequestInit & { duplex?: 'half'; tls?: { ca: string[] } } = { method: req.method, headers, redirect: 'manual' }
    if (ca !== undefined) init.tls = { ca }
    if (req.signal !== undefined) init.signal = req.signal
    // isUint8Array, not instanceof: a Uint8Array from another realm (a vm context) is one buffer
    // too, not an iterable of chunks (iterating it would yield numbers, and send 0 bytes).
    if (isUint8Array(req.body)) init.body = req.body as Uint8Array<ArrayBuffer>
    else if (req.body !== null && mode === 'buffer') init.body = concat(req.body)
    else if (req.body !== null) {
      init.body = streamOf(req.body)
      init.duplex = 'half' // required by Node's fetch for a stream body; ignored elsewhere
      if (contentLength !== undefined) headers['content-length'] = contentLength
    }
    const url = req.origin + req.path
    assertPathKept(url, req.path)
    let response: Response
    try {
      response = await doFetch(url, init)
    } catch (error) {
      throw req.signal?.aborted ? req.signal.reason : networkError(error)
    }
    return { statusCode: response.status, headers: headersOf(response.headers), body: bodyOf(response.body, req.signal) }
  }
}

/**
 * fetch parses the URL by the WHATWG rules, which drop `.` and `..` path segments (and their
 * `%2e` spellings, so encoding cannot save them): a key like `a/../b` would go out as `/b`, not
 * the path signed, and S3 would answer 403 SignatureDoesNotMatch (a bare `..` key, 405). Refused
 * before the request, naming the way out. undici sends the path as given.
 */
function assertPathKept(url: string, path: string): void {
  const parsed = new URL(url)
  if (parsed.pathname + parsed.search === path) return
  throw new InvalidArgumentError(
    `Expected a key without \`.\` or \`..\` segments for fetchTransport(), got a request path ${JSON.stringify(path)} that fetch would send as ${JSON.stringify(parsed.pathname + parsed.search)} (the URL standard removes such segments). ` +
      'Use the undici transport (the default on Node and Deno), or a key without them; Bun has only fetch.',
  )
}

/** Abort reasons and our own errors pass; anything else fetch threw is a network failure. */
function networkError(error: unknown): unknown {
  return error instanceof PartstreamError ? error : new NetworkError(error)
}

function headersOf(headers: Headers): TransportHeaders {
  const out: Record<string, string> = {}
  headers.forEach((value, name) => {
    out[name] = value
  })
  return out
}

/**
 * The chunks as one buffer, always a copy (the `'buffer'` mode's; also the pipe reader's). Not
 * `Uint8Array<ArrayBuffer>`, which fetch's `BodyInit` wants: that type exists only from TypeScript
 * 5.7, and this declaration ships, so an older TS would fail on it (TS2315).
 */
export function concat(chunks: Iterable<Uint8Array>): Uint8Array & { readonly buffer: ArrayBuffer } {
  const list = [...chunks]
  let length = 0
  for (const c of list) length += c.byteLength
  const out = new Uint8Array(length)
  let offset = 0
  for (const c of list) {
    out.set(c, offset)
    offset += c.byteLength
  }
  return out
}

/** A lazy stream over the chunks: nothing is pulled before fetch reads (highWaterMark 0). */
function streamOf(chunks: Iterable<Uint8Array>): ReadableStream<Uint8Array> {
  let iterator: Iterator<Uint8Array> | undefined
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        iterator ??= chunks[Symbol.iterator]()
        for (;;) {
          const next = iterator.next()
          if (next.done === true) {
            controller.close()
            return
          }
          if (next.value.byteLength > 0) {
            controller.enqueue(next.value)
            return
          }
        }
      },
      cancel() {
        iterator?.return?.()
      },
    },
    { highWaterMark: 0 },
  )
}

/** The response body as a `TransportBody`; read errors other than an abort are network errors. */
function bodyOf(stream: ReadableStream<Uint8Array> | null, signal: AbortSignal | undefined): TransportBody {
  const fail = (error: unknown): unknown => (signal?.aborted ? signal.reason : networkError(error))
  return {
    async *[Symbol.asyncIterator]() {
      if (stream === null) return
      const reader = stream.getReader()
      let done = false
      try {
        for (;;) {
          let chunk: Awaited<ReturnType<typeof reader.read>>
          try {
            chunk = await reader.read()
          } catch (error) {
            done = true
            throw fail(error)
          }
          if (chunk.done) {
            done = true
            return
          }
          yield chunk.value
        }
      } finally {
        // Left early (an error body cut at its cap): free the connection.
        if (!done) await reader.cancel().catch(() => {})
        reader.releaseLock()
      }
    },
    async dump() {
      if (stream === null) return
      const reader = stream.getReader()
      let read = 0
      try {
        while (read <= DUMP_LIMIT_BYTES) {
          const chunk = await reader.read()
          if (chunk.done) return
          read += chunk.value.byteLength
        }
        await reader.cancel()
      } catch {
        // Whatever is left of a body we do not want cannot fail the request.
      } finally {
        reader.releaseLock()
      }
    },
  }
}
