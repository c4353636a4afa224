import { InvalidArgumentError, describeValue } from '@partstream/core'
import { certificateFailure, codeInCauses, isUnreadableInterimAnswer } from '../errors.ts'
import { MAX_TIMER_MS } from './sleep.ts'

/** How failed idempotent requests are retried. */
export interface RetryOptions {
  /**
   * Total attempts per request, the first included. `1` turns retries off.
   * @default 5
   */
  readonly attempts?: number | undefined
  /**
   * Cap of the first backoff; attempt n waits a uniformly random time in
   * [0, min(maxDelayMs, baseDelayMs × 2^(n-1))] ("full jitter").
   * @default 100
   */
  readonly baseDelayMs?: number | undefined
  /** @default 5000 */
  readonly maxDelayMs?: number | undefined
}

export interface ResolvedRetry {
  readonly attempts: number
  readonly baseDelayMs: number
  readonly maxDelayMs: number
  /** Random source in [0, 1), injectable for deterministic tests. */
  readonly random: () => number
}

export const DEFAULT_RETRY: ResolvedRetry = { attempts: 5, baseDelayMs: 100, maxDelayMs: 5000, random: Math.random }

/** The keys of {@link RetryOptions}: `retry` is a small closed object, so any other key is a mistake. */
const RETRY_KEYS: readonly string[] = ['attempts', 'baseDelayMs', 'maxDelayMs']


export function resolveRetry(retry: RetryOptions | false | undefined): ResolvedRetry {
  if (retry === false) return { ...DEFAULT_RETRY, attempts: 1 }
  if (retry === undefined) return DEFAULT_RETRY
  if (typeof retry !== 'object' || retry === null || Array.isArray(retry) || ![Object.prototype, null].includes(Object.getPrototypeOf(retry))) {
    throw new InvalidArgumentError(`Expected \`retry\` to be an object or false, got ${describeValue(retry)}.`)
  }
  // `{ maxAttempts: 1 }` (the AWS SDK's name) made 5 attempts without a word.
  const unknown = Object.keys(retry).find((key) => !RETRY_KEYS.includes(key))
  if (unknown !== undefined) {
    const hint = /attempt|retries/i.test(unknown) ? ` (the AWS SDK's ${unknown} is \`attempts\` here, the first attempt included)` : ''
    throw new InvalidArgumentError(`Expected \`retry\` to be { attempts?, baseDelayMs?, maxDelayMs? }, but \`retry\` has no \`${unknown}\`: its keys are ${RETRY_KEYS.join(', ')}${hint}.`)
  }
  const attempts = retry.attempts ?? DEFAULT_RETRY.attempts
  const baseDelayMs = retry.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs
  const maxDelayMs = retry.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 100) {
    throw new InvalidArgumentError(`Expected \`retry.attempts\` to be an integer from 1 to 100, got ${describeValue(attempts)}.`)
  }
  for (const [name, v] of [['baseDelayMs', baseDelayMs], ['maxDelayMs', maxDelayMs]] as const) {
    // Past 2^31 - 1 ms setTimeout waits 1 ms (with a TimeoutOverflowWarning): no backoff at all.
    if (typeof v !== 'number' || !(v >= 0) || v > MAX_TIMER_MS) {
      throw new InvalidArgumentError(`Expected \`retry.${name}\` to be a number from 0 to ${MAX_TIMER_MS} (ms, about 24.8 days), got ${describeValue(v)}.`)
    }
  }
  return { attempts, baseDelayMs, maxDelayMs, random: Math.random }
}

/** Full-jitter backoff before attempt `attempt + 1` (aws4fetch, AWS architecture blog). */
export function backoffMs(retry: ResolvedRetry, attempt: number): number {
  const cap = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1))
  return Math.floor(retry.random() * cap)
}

/** S3 error codes that a later attempt can cure. */
const RETRYABLE_S3_CODES = new Set([
  'SlowDown',
  'RequestTimeout',
  'InternalError',
  'ServiceUnavailable',
  'RequestTimeTooSkewed', // first re-sent at once on the corrected clock (sendS3); then like the others
  'OperationAborted',
  // The body arrived other than it was sent (a byte flipped in transit, a body cut short): the
  // server refused it against the signed SHA-256 / Content-MD5 / Content-Length, and the part's
  // bytes are still held intact, so sending them again is the cure. A hash that was wrong at the
  // source fails the same way on every attempt and ends as this error after the last one.
  'XAmzContentSHA256Mismatch',
  'BadDigest',
  'IncompleteBody',
])

/**
 * Failures without a usable answer that a later attempt can cure. Every request we retry is
 * idempotent and its body is held in memory, so a request that may or may not have reached the
 * server is safe to send again (Complete after a lost answer is reconciled separately).
 *
 * - Node socket codes: undici's own `RetryHandler` default `errorCodes` (ECONNRESET,
 *   ECONNREFUSED, ENOTFOUND, ENETDOWN, ENETUNREACH, EHOSTDOWN, EHOSTUNREACH, EPIPE,
 *   UND_ERR_SOCKET; undici docs/api/RetryHandler.md and lib/handler/retry-handler.js), plus
 *   ETIMEDOUT (TCP timeout) and EAI_AGAIN (temporary DNS failure).
 * - undici codes (docs/api/Errors.md): UND_ERR_SOCKET (the server closed or reset the
 *   connection, also a reused keep-alive socket the server had just closed),
 *   UND_ERR_CONNECT_TIMEOUT, UND_ERR_HEADERS_TIMEOUT and UND_ERR_BODY_TIMEOUT (an owned
 *   dispatcher's idle timeouts), and UND_ERR_RES_CONTENT_LENGTH_MISMATCH (answer cut short).
 * - ERR_PARTSTREAM_TIMEOUT: our own per-attempt idle watchdog.
 * - ERR_PARTSTREAM_NETWORK: `fetchTransport`'s wrapper for fetch's bare `TypeError` (fetch
 *   rejects with one for every network failure; Deno's carries no code at all).
 *
 * Deliberately absent: UND_ERR_ABORTED / UND_ERR_ABORT (an abort is never retried; `sendS3`
 * rethrows `signal.reason` before classifying), UND_ERR_CLOSED / UND_ERR_DESTROYED (the
 * dispatcher was closed: every later attempt fails the same way), UND_ERR_INFO and HPE_*
 * (protocol errors that a resend does not fix), UND_ERR_REQ_CONTENT_LENGTH_MISMATCH (the
 * chunks do not add up to the part's `byteLength`: a caller bug that fails the same way again).
 */
const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ENOTFOUND',
  'EPIPE',
  'ETIMEDOUT',
  'ENETDOWN',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EHOSTUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'ERR_PARTSTREAM_TIMEOUT',
  'ERR_PARTSTREAM_NETWORK',
])

/**
 * 5xx (except 501 Not Implemented, which is permanent), 429, and the S3 codes above
 * (RequestTimeout comes as a 400, SlowDown as a 503, and a Complete's error as a 200).
 */
export function isRetryableStatus(statusCode: number, s3Code: string | undefined): boolean {
  if (s3Code !== undefined && RETRYABLE_S3_CODES.has(s3Code)) return true
  return (statusCode >= 500 && statusCode !== 501) || statusCode === 429
}

export function isRetryableNetworkError(error: unknown): boolean {
  // A certificate the client refuses stays refused (fetch reports it as a bare network error).
  return certificateFailure(error) === undefined && !isUnreadableInterimAnswer(error) && codeInCauses(error, RETRYABLE_NETWORK_CODES) !== undefined
}
