import { describeValue, InvalidArgumentError, isUint8Array, PartstreamError } from '@partstream/core'
import { CredentialsError, NetworkError, S3ResponseError, type S3ErrorContext } from '../errors.ts'
import type { TransportBody, TransportHeaders } from '../transport/types.ts'
import { changedBodyError } from './body-check.ts'
import { gatherSmallChunks, joinAdjacentViews, worthGathering } from './coalesce.ts'
import type { ContextState } from './state.ts'
import { encodeQueryComponent } from './endpoint.ts'
import { BODY_SLICE_BYTES, startIdleWatchdog, watchedBody, type IdleWatchdog } from './idle-watchdog.ts'
import { redact } from './redact.ts'
import { backoffMs, isRetryableNetworkError, isRetryableStatus } from './retry.ts'
import { signRequest } from './sign.ts'
import { allowManyListeners, sleep, untilAborted } from './sleep.ts'
import { isCompleteXml, isErrorDocument, xmlRoot, xmlText } from './xml.ts'

export type ResponseHeaders = TransportHeaders

/** A request's grace (`S3Request.graceSignal` and `onCommit`), as the commit steps make it. */
export interface Grace {
  readonly signal: AbortSignal
  readonly onCommit?: (() => void) | undefined
}

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
  /**
   * A request the server may carry out whether or not anyone listens (Create, Complete, a single
   * PutObject): once handed to the transport whole (its body written), an abort of `signal`
   * reaches it only when this signal aborts too (a grace that follows `signal`), so its answer can
   * say what the server did. Everything before (credentials, a socket, a retry's backoff, the body
   * going out) and every new attempt follows `signal` at once.
   */
  readonly graceSignal?: AbortSignal | undefined
  /**
   * With `graceSignal`: called when the request is handed over whole (its body written to the
   * transport), the moment from which the server may carry it out. Until then `signal` is
   * followed at once: S3 writes nothing before it has the whole body. Once per attempt.
   */
  readonly onCommit?: (() => void) | undefined
  /**
   * What to do with a successful response's body: `'none'` dumps it (everything is in the
   * headers), `'text'` reads it whole, `'stream'` hands it over as it arrives (GetObject): the
   * idle watchdog keeps watching it, and the caller's abort cancels it with `signal.reason`.
   * @default 'none'
   */
  readonly response?: 'none' | 'text' | 'stream' | undefined
  /** A 200 whose body is `<Error>` is a failure (CompleteMultipartUpload, CopyObject). */
  readonly errorIn200?: boolean | undefined
  /**
   * With `response: 'text'`: the root element a successful answer is (`ListPartsResult`…). A 2xx
   * with an empty body or another document (a proxy's page, an answer cut after its headers) is
   * an answer lost, retried like a network failure: never read as an empty list or a result.
   */
  readonly root?: string | undefined
  /**
   * With `root`: an empty 2xx body is an answer too (Ceph RGW 16 answers GetObjectTagging of an
   * object without tags with an empty 200); another document still is not.
   */
  readonly emptyOk?: boolean | undefined
  /** Whether a failure may be retried (only idempotent requests). */
  readonly idempotent: boolean
  /** Called before each retry, with the error that caused it. */
  readonly onRetry?: ((error: S3ResponseError, attempt: number) => void) | undefined
}

export interface S3Answer {
  readonly statusCode: number
  readonly headers: ResponseHeaders
  /** The body with `response: 'text'`; `''` otherwise. */
  readonly text: string
  /** The body with `response: 'stream'`: iterate it once, to the end or `return()`. */
  readonly body: AsyncIterable<Uint8Array> | undefined
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
 * Signs (afresh, with the context's clock) and sends one S3 request, retrying idempotent ones on
 * 5xx, 429, SlowDown-style codes, network errors and idle timeouts with full-jitter backoff and an
 * abortable sleep. Resolves with the answer or rejects with an `S3ResponseError` (after the last
 * attempt; a network failure is its `cause`); an abort rejects with `signal.reason` itself and is
 * never retried, whatever undici made of it.
 *
 * Clock skew: a request refused with RequestTimeTooSkewed was not carried out, so once the answer
 * has corrected the clock (see `SigningClock.observe`) it is re-signed and sent again at once,
 * whatever the retry policy: once per request, not counted as an attempt (the AWS SDKs retry
 * clock-skew errors the same way).
 */
export function sendS3(ctx: ContextState, req: S3Request, where: S3ErrorContext): Promise<S3Answer> {
  const sending = sendWithRetries(ctx, req, where)
  // ctx.close() lets every request made before it settle (then closes the pool): see context.ts.
  ctx.requests.add(sending)
  const settled = (): void => void ctx.requests.delete(sending)
  sending.then(settled, settled)
  return sending
}

async function sendWithRetries(ctx: ContextState, req: S3Request, where: S3ErrorContext): Promise<S3Answer> {
  if (ctx.closed) {
    // Not a network failure: undici says "The client is destroyed", fetch nothing at all.
    throw new InvalidArgumentError(`${where.operation} on an S3 context that is closed (ctx.close() was called): make a new one with createS3Context().`)
  }
  // Every operation's `signal` passes here first: one that is not an AbortSignal (a string from a
  // config file) would fail as a TypeError at its first use, or never cancel anything.
  if (req.signal !== undefined && !(req.signal instanceof AbortSignal)) {
    throw new InvalidArgumentError(`Expected \`signal\` to be an AbortSignal, got ${describeValue(req.signal)}.`)
  }
  if (req.signal !== undefined) allowManyListeners(req.signal)
  const attempts = req.idempotent ? ctx.retry.attempts : 1
  const path = req.path + queryString(req.query)
  let skewRetried = false
  let regionFollowed = false
  for (let attempt = 1; ; attempt++) {
    req.signal?.throwIfAborted()
    // A chunk detached or resized since the last attempt: sending it again under the signed
    // content-length and hash could only fail, and as something else (see changedBodyError).
    const changed = bodyChange(req)
    if (changed !== undefined) throw changed
    const offsetBefore = ctx.clock.offsetMs
    // The region this attempt is signed for (sendOnce notes it as it signs): another request may
    // move the context while this one waits or is in flight.
    const sent = { region: ctx.region }
    let failure: S3ResponseError
    try {
      const answer = await sendOnce(ctx, req, path, where, attempt, sent)
      if (!(answer instanceof S3ResponseError)) return answer
      failure = answer
    } catch (error) {
      // The caller's abort wins over whatever error undici or the body raised meanwhile
      // (RequestAbortedError, a socket error from the torn-down connection, …).
      if (req.signal?.aborted) throw req.signal.reason
      // No credentials, so nothing was sent: a network code in its causes (a vault's own fetch
      // failing) is the credential source's, not S3's.
      if (error instanceof CredentialsError) throw error
      // The body changed under the request (a chunk detached while it was written): that, not
      // the socket error it caused (EPIPE, EFAULT, a content-length mismatch), is the failure.
      const changed = bodyChange(req)
      if (changed !== undefined) throw changed
      failure = new S3ResponseError({ statusCode: 0, ...where, attempt }, { cause: error })
      // Not worth another attempt (a certificate not trusted, a bad URL…): fail now, typed, with
      // the operation and the cause. Our own errors (an integrity check) pass as they are.
      if (!isRetryableNetworkError(error)) throw error instanceof PartstreamError && !(error instanceof NetworkError) ? error : failure
    }
    if (refusedForTime(req.method, failure) && !skewRetried && ctx.clock.offsetMs !== offsetBefore) {
      skewRetried = true
      req.onRetry?.(failure, attempt)
      attempt--
      continue
    }
    // S3 refused the request because the bucket lives in another region, and said which: on AWS's
    // own endpoint, move there (for every later request too) and send it again, once.
    const to = regionRedirect(ctx, failure, sent.region)
    if (to !== undefined && !regionFollowed) {
      regionFollowed = true
      // A request refused in flight after another one moved the context is only sent again.
      if (ctx.region !== to) ctx.relocate?.(to)
      req.onRetry?.(failure, attempt)
      attempt--
      continue
    }
    if (attempt >= attempts || !(failure.statusCode === 0 || isRetryableStatus(failure.statusCode, failure.s3Code))) {
      throw failure
    }
    req.onRetry?.(failure, attempt)
    // A server's Retry-After is a floor for the backoff (the AWS SDK's getRetryAfterHint), capped.
    await sleep(Math.max(backoffMs(ctx.retry, attempt), Math.min(retryAfterMs.get(failure) ?? 0, MAX_RETRY_AFTER_MS)), req.signal)
  }
}

/** {@link changedBodyError} of a request's body, when it has one and a content-length. */
function bodyChange(req: S3Request): InvalidArgumentError | undefined {
  if (req.body === undefined || req.contentLength === undefined) return undefined
  return changedBodyError(Array.isArray(req.body) ? req.body : [req.body as Uint8Array], req.contentLength)
}

/** The most a server's `Retry-After` makes a retry wait (the AWS SDK's MAXIMUM_RETRY_DELAY). */
const MAX_RETRY_AFTER_MS = 20_000

/** The `Retry-After` of failed answers, in ms from when they came (seconds, or an HTTP date). */
const retryAfterMs = new WeakMap<S3ResponseError, number>()

function retryAfterOf(headers: ResponseHeaders): number | undefined {
  const value = header(headers, 'retry-after')?.trim()
  if (value === undefined || value === '') return undefined
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - Date.now()
  return Number.isFinite(ms) && ms > 0 ? ms : undefined
}

async function sendOnce(
  ctx: ContextState,
  req: S3Request,
  path: string,
  where: S3ErrorContext,
  attempt: number,
  sent: { region: string },
): Promise<S3Answer | S3ResponseError> {
  const headers: Record<string, string> = { ...req.headers }
  if (req.contentLength !== undefined) headers['content-length'] = String(req.contentLength)
  // A socket of the context's own pool, waited for first: untimed (a queue is not a stall),
  // abortable. Signed once it is held: a request signed before a long wait in the queue went out
  // with an old X-Amz-Date (refused as RequestTimeTooSkewed past 15 minutes) and credentials that
  // may have expired meanwhile.
  await ctx.gate?.acquire(req.signal)
  let held = ctx.gate !== undefined
  const release = (): void => {
    if (held) ctx.gate?.release()
    held = false
  }
  let signed: Record<string, string>
  let origin: string
  try {
    if (req.signal?.aborted === true) throw req.signal.reason // not sent yet: an abort meanwhile wins, grace or not
    // Credentials first, waited for with the signal: a request that gives up stops counting as a
    // waiter, and the load's idleTimeoutMs timer runs only while one waits (credential-chain.ts),
    // so an abandoned load that never settles does not keep the process alive. The signer then
    // finds them cached.
    if (typeof ctx.credentials === 'function') await ctx.credentials(req.signal)
    // Read with the signer's host and region, with no await between: a region redirect of another
    // request may move the context, and the request must go where it was signed for.
    origin = ctx.endpoint.origin
    sent.region = ctx.region
    // Signing may still wait for credentials (refreshed since, a hung credential_process): the abort must still win.
    signed = await untilAborted(signRequest(ctx, { method: req.method, path: req.path, query: req.query, headers, payloadHash: req.payloadHash }), req.signal)
  } catch (error) {
    release()
    throw error
  }
  // Each attempt gets its own signal: the caller's abort (past its grace, if any) or this
  // attempt's idle timeout cancels it.
  const grace = req.graceSignal === undefined ? undefined : graceOnceSent(req.signal, req.graceSignal, req.onCommit)
  const watchdog = startIdleWatchdog(ctx.idleTimeoutMs, grace?.signal ?? req.signal)
  let streaming = false
  try {
    // Raced with the attempt's signal: a transport that ignores it (a caller's, or a request
    // undici holds until a socket frees) must not outlive the abort or the idle timeout.
    const response = await untilAborted(
      ctx.transport({
        origin,
        path,
        method: req.method,
        headers: signed,
        body: requestBody(req.body, watchdog, grace?.sent),
        signal: watchdog.signal,
      }),
      watchdog.signal,
    )
    watchdog.touch('reading the response body')
    const serverDate = header(response.headers, 'date')
    ctx.clock.observe(serverDate, false)
    const { statusCode } = response
    const ok = statusCode >= 200 && statusCode < 300
    const mode = req.response ?? 'none'
    if (ok && mode === 'stream') {
      streaming = true
      return { statusCode, headers: response.headers, text: '', body: watchedResponse(response.body, watchdog, req.signal, release), attempt }
    }
    if (ok && mode === 'none' && !req.errorIn200) {
      // Everything we need is in the headers: a body cut short here changes nothing, nor does an
      // abort that comes once they are here (a PutObject answered 200 wrote its object), nor a
      // body that never ends (raced with the attempt's signal: a transport may ignore it).
      await untilAborted(response.body.dump(), watchdog.signal).catch(() => {})
      return { statusCode, headers: response.headers, text: '', body: undefined, attempt }
    }
    let text = ''
    // Each read of the body is raced with the attempt's signal (its idle timeout, the caller's
    // abort): a transport of the caller's that ignores the signal cannot hold the attempt.
    if (req.method !== 'HEAD') {
      // An error body is read for its message only: bounded in size and in time (a server that
      // trickles it byte by byte would otherwise hold the failure for hours).
      text = await untilAborted(ok ? readText(response.body, watchdog) : readText(response.body, watchdog, MAX_ERROR_BODY_CHARS, Date.now() + ctx.idleTimeoutMs), watchdog.signal)
    } else {
      await untilAborted(response.body.dump(), watchdog.signal)
    }
    const errorIn200 = ok && req.errorIn200 === true && isErrorDocument(text)
    if (ok && mode === 'text' && !(text === '' && req.emptyOk === true)) assertAnswerWhole(text, errorIn200 ? 'Error' : req.root, where)
    if (ok && !errorIn200) return { statusCode, headers: response.headers, text, body: undefined, attempt }
    const failure = errorFromResponse(req.method, statusCode, response.headers, text, where, attempt)
    const after = retryAfterOf(response.headers)
    if (after !== undefined) retryAfterMs.set(failure, after)
    if (refusedForTime(req.method, failure)) ctx.clock.observe(serverDate, true)
    return failure
  } catch (error) {
    // undici rejects with the signal's reason, but a body iterator or socket may surface
    // another error first when the watchdog tore the request down: report the timeout.
    if (watchdog.fired !== undefined && !req.signal?.aborted) throw watchdog.fired
    throw error
  } finally {
    grace?.dispose()
    // A streamed body keeps its watchdog and its socket until it is read to the end or left.
    if (!streaming) {
      watchdog.stop()
      release()
    }
  }
}

/**
 * Whether S3 may have refused the request for its time: RequestTimeTooSkewed, or a HEAD's 403,
 * whose answer has no body to say why. Either is re-signed once if the answer's `Date` moved the
 * clock (a HEAD refused for its credentials then fails as it would have).
 */
function refusedForTime(method: S3Request['method'], failure: S3ResponseError): boolean {
  return failure.s3Code === 'RequestTimeTooSkewed' || (method === 'HEAD' && failure.statusCode === 403 && failure.s3Code === undefined)
}

/**
 * A 2xx text answer must be a whole XML document, of `root` when given. An answer cut short (a
 * proxy, a restarted server) whose length still matched, an empty one, or another document is a
 * lost answer: a retryable network failure, never an empty list or a result without its fields.
 */
function assertAnswerWhole(text: string, root: string | undefined, where: S3ErrorContext): void {
  if (text === '' && root === undefined) return
  if (text !== '' && !isCompleteXml(text)) {
    throw new NetworkError(new Error(`the ${where.operation} answer ended before its closing XML tag (${text.length} characters)`))
  }
  const found = xmlRoot(text)
  if (root !== undefined && found !== root) {
    const what = text === '' ? 'was empty' : `is a <${redact(found ?? '?').slice(0, 64)}> document`
    throw new NetworkError(new Error(`the ${where.operation} answer ${what}, not the <${root}> S3 sends`))
  }
}

/**
 * A response body handed to the caller: each chunk is progress for the idle watchdog, which stops
 * when the body ends or is left; a stall surfaces as the watchdog's `IdleTimeoutError`, the
 * caller's abort as `signal.reason`. Left before its first chunk (`return()` at once), the body is
 * dumped: a generator's `finally` does not run then, and the socket would stay taken until the
 * idle timeout.
 */
function watchedResponse(body: TransportBody, watchdog: IdleWatchdog, signal: AbortSignal | undefined, release: () => void): AsyncIterableIterator<Uint8Array> {
  const done = (): void => {
    watchdog.stop()
    release()
  }
  // Torn down (its idle timer fired, or the caller aborted): the socket slot is free now, even if
  // the caller dropped the body without reading or returning it.
  watchdog.signal.addEventListener('abort', release, { once: true })
  async function* chunks(): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of body) {
        watchdog.touch('reading the response body')
        // The time the caller holds the chunk counts too: a body dropped after its first chunk
        // must still time out, free its socket and let ctx.close() and the process end (undici's
        // own bodyTimeout counts it as well). A slow reader raises idleTimeoutMs.
        yield chunk
      }
    } catch (error) {
      if (signal?.aborted) throw signal.reason
      if (watchdog.fired !== undefined) throw watchdog.fired
      // The transport's own error (undici's SocketError "other side closed"…): typed, as fetch's is.
      throw error instanceof PartstreamError ? error : new NetworkError(error)
    } finally {
      done()
    }
  }
  const inner = chunks()
  let started = false
  return {
    [Symbol.asyncIterator]() {
      return this
    },
    next() {
      started = true
      return inner.next()
    },
    async return(value?: unknown) {
      if (!started) {
        started = true
        watchdog.stop()
        await body.dump().catch(() => {})
        release() // the socket is free once the body is dumped (or destroyed)
      }
      return inner.return(value as undefined)
    },
  }
}

/**
 * The body as undici gets it. Small single buffers go as they are (one write with the headers);
 * anything larger goes as ≤ 1 MiB views through the watchdog, which sees each one drain.
 */
function requestBody(body: S3Request['body'], watchdog: IdleWatchdog, sent?: () => void): Uint8Array | Iterable<Uint8Array> | null {
  // No body: handed over with the request (a Create; S3 may act once its headers are in).
  if (body === undefined || (isUint8Array(body) ? body.byteLength === 0 : body.every((c) => c.byteLength === 0))) {
    sent?.()
    return isUint8Array(body) ? body : body === undefined ? null : new Uint8Array(0)
  }
  // A request with a grace is pulled, however small: `sent` once the transport has taken the
  // last byte, which it does only once connected (not when the request is handed to it).
  if (sent !== undefined) return watchedBody(isUint8Array(body) ? [body] : worthGathering(body) ? gatherSmallChunks(body) : joinAdjacentViews(body, BODY_SLICE_BYTES), watchdog, sent)
  if (isUint8Array(body)) {
    return body.byteLength <= BODY_SLICE_BYTES ? body : watchedBody([body], watchdog)
  }
  if (body.length === 1 && (body[0] as Uint8Array).byteLength <= BODY_SLICE_BYTES) return body[0] as Uint8Array
  // Runs of tiny chunks (a line per chunk) are gathered into 64 KiB writes; see coalesce.ts.
  return watchedBody(worthGathering(body) ? gatherSmallChunks(body) : joinAdjacentViews(body, BODY_SLICE_BYTES), watchdog, sent)
}

/**
 * What a request with a grace follows: `signal` at once until its body is handed over (S3 cannot
 * have written anything before it has the whole body: an abort while a 5 GiB PutObject body is
 * going out, or while it waits for a socket, ends it at once), then `grace` (`signal` plus the
 * time S3 gets to answer). `sent` marks the moment and calls `onCommit`.
 */
function graceOnceSent(signal: AbortSignal | undefined, grace: AbortSignal, onCommit: (() => void) | undefined): { readonly signal: AbortSignal; sent(): void; dispose(): void } {
  const own = new AbortController()
  let handedOver = false
  const onSignal = (): void => {
    if (!handedOver) own.abort(signal?.reason)
  }
  const onGrace = (): void => own.abort(grace.reason)
  if (grace.aborted) own.abort(grace.reason)
  else if (signal?.aborted === true) own.abort(signal.reason)
  else {
    signal?.addEventListener('abort', onSignal, { once: true })
    grace.addEventListener('abort', onGrace, { once: true })
  }
  return {
    signal: own.signal,
    sent() {
      if (handedOver || own.signal.aborted) return
      handedOver = true
      onCommit?.()
    },
    dispose() {
      signal?.removeEventListener('abort', onSignal)
      grace.removeEventListener('abort', onGrace)
    },
  }
}

/**
 * Reads a response body as UTF-8, touching the watchdog per chunk; stops after `maxChars`, or
 * with the first chunk past `until` (a time, in ms).
 */
async function readText(body: AsyncIterable<Uint8Array>, watchdog: IdleWatchdog, maxChars = Number.POSITIVE_INFINITY, until = Number.POSITIVE_INFINITY): Promise<string> {
  const decoder = new TextDecoder()
  let text = ''
  for await (const chunk of body) {
    watchdog.touch('reading the response body')
    text += decoder.decode(chunk, { stream: true })
    // Leaving the loop destroys the rest of the body (and that connection): fine for an error.
    if (text.length > maxChars) return text.slice(0, maxChars)
    if (Date.now() > until) return text
  }
  return text + decoder.decode()
}

/** An AWS region name: safe in a host name and a message. */
const REGION = /^[a-z0-9]+(-[a-z0-9]+){1,5}$/

/**
 * The region S3 says the bucket is in: the `x-amz-bucket-region` header, else the `<Region>` of
 * an AuthorizationHeaderMalformed ("the region 'us-east-1' is wrong; expecting 'eu-west-1'").
 */
function bucketRegionOf(headers: ResponseHeaders, text: string, code: string | undefined): string | undefined {
  const region = header(headers, 'x-amz-bucket-region') ?? (code === 'AuthorizationHeaderMalformed' ? xmlText(text, 'Region') : undefined)
  return region !== undefined && region.length <= 64 && REGION.test(region) ? region : undefined
}

/**
 * Where to send `failure`'s request instead: the bucket's region, when the answer is one of S3's
 * wrong-region refusals (a 301, a 400 IllegalLocationConstraintException or
 * AuthorizationHeaderMalformed; a HEAD's 400 has no body), it names a region other than the
 * one the request was signed for, and the context may move (AWS's own endpoint). The AWS SDK v3 (`followRegionRedirects`)
 * and the AWS CLI redirect on the same answers; S3 carried none of these requests out.
 */
function regionRedirect(ctx: ContextState, failure: S3ResponseError, sentRegion: string): string | undefined {
  const to = failure.bucketRegion
  if (to === undefined || to === sentRegion || ctx.relocate === undefined) return undefined
  const { statusCode: status, s3Code: code } = failure
  const refused = status === 301 || (status === 400 && (code === 'IllegalLocationConstraintException' || code === 'AuthorizationHeaderMalformed' || code === undefined))
  return refused ? to : undefined
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
  // Ceph RGW answers some refusals (a key with a NUL) in JSON: {"Code": …, "Message": …}.
  const json = isXml ? undefined : jsonError(text)
  const field = (name: 'Code' | 'Message' | 'RequestId'): string | undefined => (isXml ? xmlText(text, name) : json?.[name])
  const code = field('Code')
  const message = field('Message')
  const known = isXml || json !== undefined
  return new S3ResponseError({
    statusCode,
    // Server text is redacted: a server may echo the request's Authorization or token back.
    s3Code: code !== undefined ? redact(code) : method === 'HEAD' && statusCode === 404 ? 'NotFound' : method === 'HEAD' && statusCode === 412 ? 'PreconditionFailed' : undefined,
    s3Message: message === undefined || message === '' ? (known || text === '' ? undefined : describeNonXml(headers, text)) : redact(message),
    requestId: redactOptional(header(headers, 'x-amz-request-id') ?? field('RequestId')),
    bucketRegion: bucketRegionOf(headers, text, code),
    ...where,
    attempt,
  })
}

/** The string fields of an S3-style error in JSON (an object with a string `Code`), else `undefined`. */
function jsonError(text: string): Record<'Code' | 'Message' | 'RequestId', string | undefined> | undefined {
  if (!text.trimStart().startsWith('{')) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return undefined
  }
  const doc = parsed as Record<string, unknown> | null
  if (doc === null || typeof doc !== 'object' || typeof doc['Code'] !== 'string') return undefined
  const str = (name: string): string | undefined => (typeof doc[name] === 'string' ? (doc[name] as string) : undefined)
  return { Code: doc['Code'] as string, Message: str('Message'), RequestId: str('RequestId') }
}

/** A non-S3 answer (a proxy's or load balancer's HTML page): its title or first line, redacted and short. */
function describeNonXml(headers: ResponseHeaders, text: string): string {
  const type = header(headers, 'content-type') ?? ''
  const title = /<title>([^<]{1,200})<\/title>/i.exec(text)?.[1]
  const first = title ?? text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200)
  return `not an S3 answer${type === '' ? '' : ` (${redact(type.split(';')[0] ?? '')})`}: ${redact(first)}`
}

const redactOptional = (text: string | undefined): string | undefined => (text === undefined ? undefined : redact(text))
