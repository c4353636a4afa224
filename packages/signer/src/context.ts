import { InvalidArgumentError, describeValue } from '@partstream/core'
import { SignatureV4 } from '@smithy/signature-v4'
import { Sha256 } from '@aws-crypto/sha256-js'
import type { Dispatcher } from 'undici'
import { resolveEndpoint, type ResolvedEndpoint } from './internal/endpoint.ts'
import { resolveTransport, type Transport } from './internal/transport.ts'
import { resolveRetry, type ResolvedRetry, type RetryOptions } from './retry.ts'

/** AWS-style static credentials. */
export interface Credentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string | undefined
}

/** A function returning credentials, called before each signature (cache inside it if needed). */
export type CredentialsProvider = () => Promise<Credentials>

/** Which object to write, and where. */
export interface UploadTarget {
  readonly bucket: string
  readonly key: string
  /**
   * Signing region.
   * @default process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1'
   */
  readonly region?: string | undefined
  /**
   * Any S3-compatible endpoint (`http://127.0.0.1:7480`, `https://<acct>.r2.cloudflarestorage.com`).
   * @default `https://s3.${region}.amazonaws.com`
   */
  readonly endpoint?: string | URL | undefined
  /**
   * `true`: `https://host/bucket/key`; `false`: `https://bucket.host/key`.
   * @default path-style for IP addresses, localhost and non-DNS bucket names; virtual-hosted otherwise
   */
  readonly forcePathStyle?: boolean | undefined
  /**
   * @default from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN
   */
  readonly credentials?: Credentials | CredentialsProvider | undefined
}

/** Options every S3 call accepts. */
export interface S3ContextOptions {
  /**
   * undici dispatcher (an `Agent`, `Pool`, `MockAgent`, a proxy agent…). Never closed by us.
   * Shorthand for `transport: undiciTransport(dispatcher)`; not with `transport`.
   * @default a keep-alive `Agent` owned by the context and closed by `close()` (Node, Deno)
   */
  readonly dispatcher?: Dispatcher | undefined
  /**
   * What sends the signed requests: `undiciTransport(dispatcher)`, `fetchTransport()`, or your
   * own `(request) => Promise<{ statusCode, headers, body }>`. Never closed by us.
   * @default undici through a keep-alive `Agent` the context owns; `fetchTransport()` on Bun,
   *   whose built-in `undici` module cannot send requests
   */
  readonly transport?: Transport | undefined
  /**
   * Most sockets per origin the owned `Agent` opens (ignored with `dispatcher` or `transport`).
   * @default unlimited; `upload` and `uploadFile` pass their `concurrency`
   */
  readonly connections?: number | undefined
  /**
   * Retry policy for idempotent requests; `false` disables retries.
   * @default { attempts: 5, baseDelayMs: 100, maxDelayMs: 5000 }
   */
  readonly retry?: RetryOptions | false | undefined
  /**
   * The signing clock.
   * @default () => new Date()
   */
  readonly now?: (() => Date) | undefined
  /**
   * A request attempt that makes no progress for this long (request body not draining, no
   * response headers, response body stopped) is cancelled and retried like a network error;
   * after the last attempt it surfaces as an `S3ResponseError` (`statusCode` 0) whose `cause`
   * has code `ERR_PARTSTREAM_TIMEOUT`. Applies to every dispatcher (our own per-attempt timer);
   * the dispatcher the context owns also gets it as undici's `headersTimeout`/`bodyTimeout`.
   * Progress is counted per 1 MiB of request body drained, so the slowest link that never times
   * out at the default is about 17 KiB/s.
   * @default 60000
   */
  readonly idleTimeoutMs?: number | undefined
}

/**
 * Everything needed to sign and send requests for one object. Made once per upload; the
 * low-level operations (`uploadPart`, …) take it as their first argument.
 */
export interface S3Context {
  readonly bucket: string
  readonly key: string
  readonly region: string
  readonly endpoint: ResolvedEndpoint
  /** Sends every request of this context (see `S3ContextOptions.transport`). */
  readonly transport: Transport
  /** The undici dispatcher behind `transport`; `undefined` when the transport is not undici's (fetch). */
  readonly dispatcher: Dispatcher | undefined
  readonly signer: SignatureV4
  readonly retry: ResolvedRetry
  readonly now: () => Date
  /** Per-attempt idle timeout (see `S3ContextOptions.idleTimeoutMs`). */
  readonly idleTimeoutMs: number
  /** `host` header value, the same on the wire and in the signature. */
  readonly host: string
  /** Closes the dispatcher if the context created it (nothing it was given). Idempotent. */
  close(): Promise<void>
}

/** Largest delay `setTimeout` honours (2^31 - 1 ms); larger ones fire after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647

function env(name: string): string | undefined {
  const value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name]
  return value === '' ? undefined : value
}

function resolveCredentials(credentials: UploadTarget['credentials']): Credentials | CredentialsProvider {
  if (typeof credentials === 'function') return credentials
  if (credentials !== undefined) {
    if (
      typeof credentials !== 'object' ||
      credentials === null ||
      typeof credentials.accessKeyId !== 'string' ||
      typeof credentials.secretAccessKey !== 'string' ||
      credentials.accessKeyId === '' ||
      credentials.secretAccessKey === ''
    ) {
      // Never echo the value: it may hold a secret.
      throw new InvalidArgumentError(
        'Expected `credentials` to be { accessKeyId: string, secretAccessKey: string, sessionToken?: string } or an async function returning one.',
      )
    }
    return credentials
  }
  const accessKeyId = env('AWS_ACCESS_KEY_ID')
  const secretAccessKey = env('AWS_SECRET_ACCESS_KEY')
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    throw new InvalidArgumentError(
      'No credentials: pass `credentials` in the target or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.',
    )
  }
  return { accessKeyId, secretAccessKey, sessionToken: env('AWS_SESSION_TOKEN') }
}

/** smithy's shape: `sessionToken` absent rather than `undefined` (exactOptionalPropertyTypes). */
function toIdentity(c: Credentials): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } {
  return c.sessionToken === undefined
    ? { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey }
    : { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken }
}

function requireString(value: unknown, name: string, hint: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new InvalidArgumentError(`Expected \`${name}\` to be a non-empty string, got ${describeValue(value)}. ${hint}`)
  }
  return value
}

/** Validates `target` and makes the context. Throws `InvalidArgumentError` before any I/O. */
export function createS3Context(target: UploadTarget, options: S3ContextOptions = {}): S3Context {
  if (typeof target !== 'object' || target === null) {
    throw new InvalidArgumentError(`Expected \`target\` to be { bucket, key, … }, got ${describeValue(target)}.`)
  }
  const bucket = requireString(target.bucket, 'bucket', 'Name an existing bucket.')
  const key = requireString(target.key, 'key', 'S3 object keys are 1 to 1024 bytes of UTF-8.')
  if (new TextEncoder().encode(key).byteLength > 1024) {
    throw new InvalidArgumentError(`Expected \`key\` to be at most 1024 bytes of UTF-8, got ${new TextEncoder().encode(key).byteLength}.`)
  }
  const region = requireString(
    target.region ?? env('AWS_REGION') ?? env('AWS_DEFAULT_REGION') ?? 'us-east-1',
    'region',
    'For S3-compatible servers any value works, e.g. "us-east-1".',
  )
  const endpoint = resolveEndpoint(bucket, key, region, target.endpoint, target.forcePathStyle)
  const credentials = resolveCredentials(target.credentials)
  const retry = resolveRetry(options.retry)
  const now = options.now ?? (() => new Date())
  if (typeof now !== 'function') {
    throw new InvalidArgumentError(`Expected \`now\` to be a function returning a Date, got ${describeValue(now)}.`)
  }
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000
  // setTimeout clamps delays above 2^31 - 1 ms to 1 ms: a huge value would time out at once.
  if (typeof idleTimeoutMs !== 'number' || !(idleTimeoutMs > 0) || idleTimeoutMs > MAX_TIMER_MS) {
    throw new InvalidArgumentError(
      `Expected \`idleTimeoutMs\` to be a number > 0 and ≤ ${MAX_TIMER_MS} (about 24.8 days), got ${describeValue(idleTimeoutMs)}.`,
    )
  }
  const connections = options.connections
  if (connections !== undefined && (!Number.isInteger(connections) || connections < 1)) {
    throw new InvalidArgumentError(`Expected \`connections\` to be an integer ≥ 1, got ${describeValue(connections)}.`)
  }
  const { transport, dispatcher, close } = resolveTransport(options.transport, options.dispatcher, idleTimeoutMs, connections)
  const signer = new SignatureV4({
    service: 's3',
    region,
    credentials: typeof credentials === 'function' ? async () => toIdentity(await credentials()) : toIdentity(credentials),
    sha256: Sha256,
    // S3 signs the path as sent: each segment encoded once, by us (see encodeKey).
    uriEscapePath: false,
    applyChecksum: false,
  })
  const defaultPort = endpoint.protocol === 'https:' ? 443 : 80
  const host = endpoint.port === undefined || endpoint.port === defaultPort ? endpoint.hostname : `${endpoint.hostname}:${endpoint.port}`
  let closing: Promise<void> | undefined
  return {
    bucket,
    key,
    region,
    endpoint,
    transport,
    dispatcher,
    signer,
    retry,
    now,
    idleTimeoutMs,
    host,
    close: () => (closing ??= close()),
  }
}
