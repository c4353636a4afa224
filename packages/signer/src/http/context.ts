import { InvalidArgumentError, describeValue, isUint8Array } from '@partstream/core'
import { Sha256 } from '@aws-crypto/sha256-js'
import { SignatureV4 } from '@smithy/signature-v4'
import type { Dispatcher } from 'undici'
import { resolveTransport } from '../transport/resolve.ts'
import type { Transport } from '../transport/types.ts'
import { createSigningClock } from './clock.ts'
import { signingIdentity } from './credential-chain.ts'
import { MAX_TIMER_MS } from './sleep.ts'
import type { Credentials, CredentialsProvider } from './credentials.ts'
import { Slots } from './slots.ts'
import { resolveEndpoint, validateBucketName, validateKey, type ResolvedEndpoint } from './endpoint.ts'
import { resolveRetry, type RetryOptions } from './retry.ts'
import { awsS3Endpoint, resolveS3Config } from './s3-config.ts'
import { registerState, stateOf, type ContextState } from './state.ts'

/** Which bucket to talk to, and how. */
export interface BucketTarget {
  readonly bucket: string
  /**
   * Signing region.
   * @default AWS_REGION, else AWS_DEFAULT_REGION, else the profile's `region`, else 'us-east-1'
   */
  readonly region?: string | undefined
  /**
   * Any S3-compatible endpoint (`http://127.0.0.1:7480`, `https://<acct>.r2.cloudflarestorage.com`).
   * @default AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else the profile's `services` s3
   *   `endpoint_url` or its `endpoint_url`, else `https://s3.${region}.amazonaws.com`
   */
  readonly endpoint?: string | URL | undefined
  /**
   * `true`: `https://host/bucket/key`; `false`: `https://bucket.host/key` where the bucket can go
   * in the host name, as the AWS SDK and CLI take it (path style still for an IP or localhost
   * endpoint, a bucket with dots over https, a name that is no DNS name).
   * @default the profile's `s3` `addressing_style` (the AWS CLI's: path, virtual or auto), else
   *   path-style for IP addresses, localhost and non-DNS bucket names; virtual-hosted otherwise
   */
  readonly forcePathStyle?: boolean | undefined
  /**
   * Credentials, or an async function returning them (called once, and again before the
   * `expiration` it returns, if any; concurrent requests share each call).
   * @default the AWS chain (`resolveCredentials`): AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
   *   AWS_SESSION_TOKEN, the profile's keys or `credential_process` in ~/.aws/credentials and
   *   ~/.aws/config, then the AWS SDK's provider chain if installed; resolved at the first
   *   request, cached, refreshed before expiry
   */
  readonly credentials?: Credentials | CredentialsProvider | undefined
  /**
   * The shared-config profile for credentials, `region` and `endpoint_url`. Naming one skips
   * the AWS_* key variables, as in the AWS SDK.
   * @default process.env.AWS_PROFILE, else 'default'
   */
  readonly profile?: string | undefined
  /**
   * Accept legacy bucket names (upper case, `_`, up to 255 characters), which some S3-compatible
   * servers allow. Names with `/`, `?`, `#`, `%`, whitespace or control characters are refused
   * either way: they would change the request's path.
   * @default false: S3's rules (3–63 lower-case letters, digits, `.` and `-`)
   */
  readonly legacyBucketName?: boolean | undefined
}

/** Which object to write, and where. */
export interface UploadTarget extends BucketTarget {
  readonly key: string
}

/** What `createS3Context` takes: a bucket, and optionally the key object operations default to. */
export interface S3ContextTarget extends BucketTarget {
  /**
   * The key object operations use when their `key` option is absent.
   * @default undefined: object operations then need `key`
   */
  readonly key?: string | undefined
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
   * The certificates (PEM) of the CAs to trust for the endpoint, instead of the runtime's: what
   * the AWS CLI's `ca_bundle` / `AWS_CA_BUNDLE` does, for an S3 store behind a private CA or a
   * TLS-inspecting proxy (the AWS SDK for JavaScript has no such setting; `NODE_EXTRA_CA_CERTS`
   * adds to Node's CAs for the whole process instead). Given to the `Agent` the context owns (and
   * to Bun's fetch); with `dispatcher` or `transport`, set the trust there.
   * @default the runtime's CAs
   */
  readonly ca?: string | Uint8Array | ReadonlyArray<string | Uint8Array> | undefined
  /**
   * Retry policy for idempotent requests; `false` disables retries.
   * @default { attempts: 5, baseDelayMs: 100, maxDelayMs: 5000 }
   */
  readonly retry?: RetryOptions | false | undefined
  /**
   * The signing clock. When the server refuses a request's time (RequestTimeTooSkewed) or its
   * `Date` is 5 minutes or more away, the context adds the measured offset to this clock (and
   * retries the refused request at once).
   * @default () => new Date()
   */
  readonly now?: (() => Date) | undefined
  /**
   * A request attempt that makes no progress for this long (request body not draining, no
   * response headers, response body stopped) is cancelled and retried like a network error;
   * after the last attempt it surfaces as an `S3ResponseError` (`statusCode` 0) whose `cause`
   * has code `ERR_PARTSTREAM_TIMEOUT`. Applies to every dispatcher (our own per-attempt timer);
   * the dispatcher the context owns also gets it as undici's `headersTimeout`/`bodyTimeout`.
   * Progress is counted per 1 MiB of request body handed to the socket; but the last MiBs of a
   * body wait in the socket buffers (a few MiB on Linux) and must reach the server, and its
   * answer come, within one `idleTimeoutMs`: at the default, links slower than ~70 KiB/s need a
   * larger value (4 MiB of buffers / 60 s).
   * @default 60000
   */
  readonly idleTimeoutMs?: number | undefined
}

/**
 * A handle on one bucket (and optionally a default key) for the low-level operations: endpoint,
 * credentials, signer, retry policy and connection pool, resolved once. Opaque: what is inside
 * may change between versions. Make it with {@link createS3Context}; `close()` it when done.
 */
export interface S3Context {
  readonly bucket: string
  /** The default key of object operations, if the context was made with one. */
  readonly key: string | undefined
  /** The signing region: the one resolved at creation, or the bucket's once AWS said it is elsewhere. */
  readonly region: string
  /**
   * Closes the context: a request made after it is an `InvalidArgumentError`. Requests made
   * before it complete (retries included; abort them with their `signal` to end them sooner), and
   * the promise settles once they have, then closes the connection pool if the context created it
   * (nothing it was given). Idempotent: every call returns the same promise.
   */
  close(): Promise<void>
}

function requireString(value: unknown, name: string, hint: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new InvalidArgumentError(`Expected \`${name}\` to be a non-empty string, got ${describeValue(value)}. ${hint}`)
  }
  return value
}

/**
 * Validates `target` and makes the context. Throws `InvalidArgumentError` before any I/O.
 * @example
 * const ctx = createS3Context({ bucket: 'logs', endpoint: 'http://127.0.0.1:7480' })
 * try {
 *   await listMultipartUploads(ctx, { prefix: 'day/' })
 * } finally {
 *   await ctx.close()
 * }
 */
export function createS3Context(target: S3ContextTarget, options: S3ContextOptions = {}): S3Context {
  if (typeof target !== 'object' || target === null) {
    throw new InvalidArgumentError(`Expected \`target\` to be { bucket, key, … }, got ${describeValue(target)}.`)
  }
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`Expected \`options\` to be an object, got ${describeValue(options)}.`)
  }
  const bucket = requireString(target.bucket, 'bucket', 'Name an existing bucket.')
  const key = target.key === undefined ? undefined : validateKey(target.key)
  if (target.profile !== undefined) requireString(target.profile, 'profile', 'Name a profile of ~/.aws/config or ~/.aws/credentials.')
  // Region and endpoint now (the shared files are read synchronously, only if needed): the
  // context's `region` and its connection pool depend on them. Credentials wait for the first
  // request: they may take a process or a network call, and may expire.
  const config = resolveS3Config({ region: target.region, endpoint: target.endpoint, profile: target.profile })
  // After the endpoint is known: `--x-s3` and `.mrap` mean something only on AWS's own.
  validateBucketName(bucket, target.legacyBucketName === true, config.endpointSource === 'AWS regional')
  const { region } = config
  const forcePathStyle = target.forcePathStyle ?? config.forcePathStyle
  const endpoint = resolveEndpoint(bucket, config.endpoint, forcePathStyle)
  const retry = resolveRetry(options.retry)
  const now = options.now ?? (() => new Date())
  if (typeof now !== 'function') {
    throw new InvalidArgumentError(`Expected \`now\` to be a function returning a Date, got ${describeValue(now)}.`)
  }
  const clock = createSigningClock(now)
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000
  // setTimeout clamps delays above 2^31 - 1 ms to 1 ms: a huge value would time out at once.
  if (typeof idleTimeoutMs !== 'number' || !(idleTimeoutMs > 0) || idleTimeoutMs > MAX_TIMER_MS) {
    throw new InvalidArgumentError(
      `Expected \`idleTimeoutMs\` to be a number > 0 and ≤ ${MAX_TIMER_MS} (about 24.8 days), got ${describeValue(idleTimeoutMs)}.`,
    )
  }
  // Expiry is judged on the corrected signing clock: the best estimate of the issuer's time. A
  // source that does not answer within idleTimeoutMs (a container endpoint or STS that hangs) fails.
  const credentials = signingIdentity(target.credentials, target.profile, () => clock.now().getTime(), idleTimeoutMs)
  const connections = options.connections
  if (connections !== undefined && (!Number.isInteger(connections) || connections < 1)) {
    throw new InvalidArgumentError(`Expected \`connections\` to be an integer ≥ 1, got ${describeValue(connections)}.`)
  }
  const ca = options.ca
  if (ca !== undefined && !(typeof ca === 'string' || isUint8Array(ca) || (Array.isArray(ca) && ca.every((c) => typeof c === 'string' || isUint8Array(c))))) {
    throw new InvalidArgumentError(`Expected \`ca\` to be PEM text (a string or bytes) or a list of them, got ${describeValue(ca)}.`)
  }
  const { transport, dispatcher, close, destroy } = resolveTransport(options.transport, options.dispatcher, idleTimeoutMs, connections, ca)
  // Where requests go and how they are signed: the region's. AWS's own endpoint follows a
  // bucket that lives in another region (see sendS3); an endpoint of the caller's never moves.
  const regional = (r: string, e: ResolvedEndpoint): Pick<ContextState, 'region' | 'endpoint' | 'signer' | 'host'> => {
    const signer = new SignatureV4({
      service: 's3',
      region: r,
      credentials,
      sha256: Sha256,
      // S3 signs the path as sent: each segment encoded once, by us (see encodeKey).
      uriEscapePath: false,
      applyChecksum: false,
    })
    const defaultPort = e.protocol === 'https:' ? 443 : 80
    const host = e.port === undefined || e.port === defaultPort ? e.hostname : `${e.hostname}:${e.port}`
    return { region: r, endpoint: e, signer, host }
  }
  const relocate =
    config.endpointSource === 'AWS regional'
      ? (to: string): void => {
          Object.assign(state, regional(to, resolveEndpoint(bucket, awsS3Endpoint(to, config.variant), forcePathStyle)))
        }
      : undefined
  // Our own pool (undici, not fetch) of `connections` sockets: requests beyond it wait in the gate.
  const owned = options.transport === undefined && options.dispatcher === undefined && dispatcher !== undefined
  const gate = owned && connections !== undefined ? new Slots(connections) : undefined
  const requests = new Set<Promise<unknown>>()
  const state: ContextState = { bucket, key, ...regional(region, endpoint), credentials, transport, gate, closed: false, closeNow: () => Promise.resolve(), requests, dispatcher, retry, clock, idleTimeoutMs, relocate }
  let closing: Promise<void> | undefined
  // Graceful, as undici's Agent.close() is for the requests it holds: the requests made before
  // close() still wait in our own stages (a socket of the gate, credentials, a retry's backoff),
  // where undici has not seen them yet; closing the Agent under them made each a network failure
  // ("The client is closed"). So they settle first, every attempt included; no new one can start.
  const drainAndClose = async (): Promise<void> => {
    await Promise.allSettled(requests)
    await close()
  }
  const ctx: S3Context = Object.freeze({
    bucket,
    key,
    get region(): string {
      return state.region
    },
    close: () => {
      state.closed = true
      return (closing ??= drainAndClose())
    },
  })
  // What an upload that failed or was aborted does with the context it made: its own requests
  // have all settled, and a connect undici still has in progress (to a host that drops packets)
  // would hold a graceful close, and the rejection, until undici's connect timeout (10 s).
  state.closeNow = () => {
    state.closed = true
    return (closing ??= (destroy ?? close)().catch(() => {}))
  }
  registerState(ctx, state)
  return ctx
}

/**
 * How an entry point closes the context it made: gracefully once it resolved; at once (the pool
 * destroyed) once it failed or was aborted, when only undici's own connects can still be in
 * progress: Ctrl-C against a host that drops packets must not wait for the connect timeout.
 */
export function closeOwnContext(ctx: S3Context, resolved: boolean): Promise<void> {
  return resolved ? ctx.close() : stateOf(ctx).closeNow()
}
