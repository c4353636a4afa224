import type { S3Context } from '../context.ts'
import { S3ResponseError, type S3ErrorContext } from '../errors.ts'
import { backoffMs, isRetryableNetworkError, isRetryableStatus } from '../retry.ts'
import { encodeQueryComponent } from './endpoint.ts'
import { gatherSmallChunks, worthGathering } from './coalesce.ts'
import { BODY_SLICE_BYTES, startIdleWatchdog, watchedBody, type IdleWatchdog } from './idle-watchdog.ts'
import { sleep } from './sleep.ts'
import type { TransportHeaders } from './transport.ts'
import { isErrorDocument, xmlText } from './xml.ts'

/** SHA-256 of the empty string: the payload hash of body-less requests. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD'

export type ResponseHeaders = TransportHeaders

export interface S3Request {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD'
  /** Encoded path (from `ctx.endpoint`). */
  readonly path: string
  readonly query?: Readonly<Record<string, string>> | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Replayable body: the same chunks are sent again on retry, never re-read from the source. */
  readonly body?: readonly Uint8Array[] | Uint8Array | undefined
  readonly contentLength?: number | undefined
  /** Hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`. */
  readonly payloadHash: string
  readonly signal?: AbortSignal | undefined
  /** Read the response body as text (otherwise it is dumped). */
  readonly readBody?: boolean | undefined
  /** A 200 whose body is `<Error>` is a failure (CompleteMultipartUpload, CopyObject). */
  readonly errorIn200?: boolean | undefined
  /** Whether a failure may be retried (only idempotent requests). */
  readonly idempotent: boolean
  /** Called before each retry, with the error that caused it. */
  readonly onRetry?: ((error: S3ResponseError, attempt: number) => void) | undefined
}

export interface S3Answer {
  readonly statusCode: number
  readonly headers: ResponseHeaders
  readonly text: string
  /** 1-based attempt that succeeded. */
  readonly attempt: number
}

export function header(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

function queryString(query: Readonly<Record<string, string>> | undefined): string {
  if (query === undefined) return ''
  let out = ''
  for (const name of Object.keys(query)) {
    const value = query[name] as string
    out += (out === '' ? '?' : '&') + encodeQueryComponent(name) + (value === '' ? '' : `=${encodeQueryComponent(value)}`)
  }
  return out
}

/** Cap on error bodies we read: S3 errors are small; a proxy's HTML page need not be read whole. */
const MAX_ERROR_BODY_CHARS = 64 * 1024

/**
 * Signs (afresh, with `ctx.now()`) and sends one S3 request, retrying idempotent ones on 5xx,
 * 429, SlowDown-style codes, network errors and idle timeouts with full-jitter backoff and an
 * abortable sleep. Resolves with the answer or rejects with an `S3ResponseError` (after the last
 * attempt; a network failure is its `cause`); an abort rejects with `signal.reason` itself and is
 * never retried, whatever undici made of it.
 */
export async function sendS3(ctx: S3Context, req: S3Request, where: S3ErrorContext): Promise<S3Answer> {
  const attempts = req.idempotent ? ctx.retry.attempts : 1
  const path = req.path + queryString(req.query)
  for (let attempt = 1; ; attempt++) {
    req.signal?.throwIfAborted()
    let failure: S3ResponseError
    try {
      const answer = await sendOnce(ctx, req, path, where, attempt)
      if (!(answer instanceof S3ResponseError)) return answer
      failure = answer
    } catch (error) {
      // The caller's abort wins over whatever error undici or the body raised meanwhile
      // (RequestAbortedError, a socket error from the torn-down connection, …).
      if (req.signal?.aborted) throw req.signal.reason
      if (!isRetryableNetworkError(error)) throw error
      failure = new S3ResponseError({ statusCode: 0, ...where, attempt }, { cause: error })
    }
    if (attempt >= attempts || !(failure.statusCode === 0 || isRetryableStatus(failure.statusCode, failure.s3Code))) {
      throw failure
    }
    req.onRetry?.(failure, attempt)
    await sleep(backoffMs(ctx.retry, attempt), req.signal)
  }
}

/**
 * SigV4 headers for one request, signed at `ctx.now()`. `path` must already be encoded (S3 signs
 * the path as sent); the payload hash is given, so no body is ever read here.
 */
export async function signS3Request(
  ctx: S3Context,
  method: string,
  path: string,
  query: Readonly<Record<string, string>> | undefined,
  headers: Readonly<Record<string, string>>,
  payloadHash: string,
): Promise<Record<string, string>> {
  const signed = await ctx.signer.sign(
    {
      method,
      protocol: ctx.endpoint.protocol,
      hostname: ctx.endpoint.hostname,
      ...(ctx.endpoint.port === undefined ? {} : { port: ctx.endpoint.port }),
      path,
      query: query === undefined ? {} : { ...query },
      headers: { host: ctx.host, 'x-amz-content-sha256': payloadHash, ...headers },
    },
    { signingDate: ctx.now() },
  )
  return signed.headers as Record<string, string>
}

async function sendOnce(
  ctx: S3Context,
  req: S3Request,
  path: string,
  where: S3ErrorContext,
  attempt: number,
): Promise<S3Answer | S3ResponseError> {
  const headers: Record<string, string> = { ...req.headers }
  if (req.contentLength !== undefined) headers['content-length'] = String(req.contentLength)
  const signed = await signS3Request(ctx, req.method, req.path, req.query, headers, req.payloadHash)
  // Each attempt gets its own signal: the caller's abort or this attempt's idle timeout cancels it.
  const watchdog = startIdleWatchdog(ctx.idleTimeoutMs, req.signal)
  try {
    const response = await ctx.transport({
      origin: ctx.endpoint.origin,
      path,
      method: req.method,
      headers: signed,
      body: requestBody(req.body, watchdog),
      signal: watchdog.signal,
    })
    watchdog.touch('reading the response body')
    const { statusCode } = response
    const ok = statusCode >= 200 && statusCode < 300
    if (ok && !req.readBody && !req.errorIn200) {
      // Everything we need is in the headers: a body cut short here changes nothing.
      await response.body.dump()
      return { statusCode, headers: response.headers, text: '', attempt }
    }
    let text = ''
    if (req.method !== 'HEAD') {
      text = await readText(response.body, watchdog, ok ? Number.POSITIVE_INFINITY : MAX_ERROR_BODY_CHARS)
    } else {
      await response.body.dump()
    }
    if (ok && !(req.errorIn200 && isErrorDocument(text))) {
      return { statusCode, headers: response.headers, text, attempt }
    }
    return errorFromResponse(req.method, statusCode, response.headers, text, where, attempt)
  } catch (error) {
    // undici rejects with the signal's reason, but a body iterator or socket may surface
    // another error first when the watchdog tore the request down: report the timeout.
    if (watchdog.fired !== undefined && !req.signal?.aborted) throw watchdog.fired
    throw error
  } finally {
    watchdog.stop()
  }
}

/**
 * The body as undici gets it. Small single buffers go as they are (one write with the headers);
 * anything larger goes as ≤ 1 MiB views through the watchdog, which sees each one drain.
 */
function requestBody(body: S3Request['body'], watchdog: IdleWatchdog): Uint8Array | Iterable<Uint8Array> | null {
  if (body === undefined) return null
  if (body instanceof Uint8Array) {
    return body.byteLength <= BODY_SLICE_BYTES ? body : watchedBody([body], watchdog)
  }
  if (body.length === 1 && (body[0] as Uint8Array).byteLength <= BODY_SLICE_BYTES) return body[0] as Uint8Array
  // Runs of tiny chunks (a line per chunk) are gathered into 64 KiB writes; see coalesce.ts.
  return watchedBody(worthGathering(body) ? gatherSmallChunks(body) : body, watchdog)
}

/** Reads a response body as UTF-8, touching the watchdog per chunk; stops after `maxChars`. */
async function readText(body: AsyncIterable<Uint8Array>, watchdog: IdleWatchdog, maxChars: number): Promise<string> {
  const decoder = new TextDecoder()
  let text = ''
  for await (const chunk of body) {
    watchdog.touch('reading the response body')
    text += decoder.decode(chunk, { stream: true })
    // Leaving the loop destroys the rest of the body (and that connection): fine for an error.
    if (text.length > maxChars) return text.slice(0, maxChars)
  }
  return text + decoder.decode()
}

/** The `S3ResponseError` for a failed answer, from S3's XML error body where there is one. */
export function errorFromResponse(
  method: string,
  statusCode: number,
  headers: ResponseHeaders,
  text: string,
  where: S3ErrorContext,
  attempt: number,
): S3ResponseError {
  const isXml = text.includes('<Error>')
  return new S3ResponseError({
    statusCode,
    s3Code: isXml ? xmlText(text, 'Code') : method === 'HEAD' && statusCode === 404 ? 'NotFound' : undefined,
    s3Message: isXml ? xmlText(text, 'Message') : undefined,
    requestId: header(headers, 'x-amz-request-id') ?? (isXml ? xmlText(text, 'RequestId') : undefined),
    ...where,
    attempt,
  })
}
