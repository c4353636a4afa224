/**
 * What an `S3Context` holds, kept apart from the public handle (a WeakMap keyed by it), so the
 * handle's type carries no smithy or undici types and cannot be forged or mutated.
 * @module
 */
import { InvalidArgumentError, describeValue } from '@partstream/core'
import type { SignatureV4 } from '@smithy/signature-v4'
import type { Dispatcher } from 'undici'
import type { Transport } from '../transport/types.ts'
import { objectPathFor, validateKey, type ResolvedEndpoint } from './endpoint.ts'
import type { SigningClock } from './clock.ts'
import type { Slots } from './slots.ts'
import type { SigningIdentity } from './credentials.ts'
import type { ResolvedRetry } from './retry.ts'

/** What a context holds, for the `http/` and `operations/` layers only. */
export interface ContextState {
  readonly bucket: string
  readonly key: string | undefined
  /** The signing region. Not readonly: `relocate` moves it, with `endpoint`, `signer` and `host`. */
  region: string
  endpoint: ResolvedEndpoint
  readonly transport: Transport
  /**
   * Requests in flight, when the context owns its pool of `connections` sockets: a request waits
   * here for a socket (abortable, not timed) instead of in undici's queue, where the idle watchdog
   * would count the wait as a stall. `undefined` for a transport or dispatcher of the caller's.
   */
  readonly gate: Slots | undefined
  /** `ctx.close()` was called: a request now is a mistake of the caller's, said as such. */
  closed: boolean
  /** Closes at once: the pool destroyed, connects in progress included (see context.ts). */
  closeNow: () => Promise<void>
  /**
   * The requests made and not settled yet (`sendS3` calls, wherever they wait: the gate,
   * credentials, a retry's backoff, the answer): `ctx.close()` waits for them before it closes
   * the pool they need.
   */
  readonly requests: Set<Promise<unknown>>
  /** The undici dispatcher behind `transport`; `undefined` when the transport is not undici's (fetch). */
  readonly dispatcher: Dispatcher | undefined
  signer: SignatureV4
  /**
   * What `signer` signs with: static, or the cached provider (see `signingIdentity`), which takes
   * the signal of the request waiting for it.
   */
  readonly credentials: SigningIdentity | ((signal?: AbortSignal) => Promise<SigningIdentity>)
  readonly retry: ResolvedRetry
  /** The signing clock: `now` corrected by the offset measured against the server. */
  readonly clock: SigningClock
  readonly idleTimeoutMs: number
  /** `host` header value, the same on the wire and in the signature. */
  host: string
  /**
   * Moves the context to another region (its AWS endpoint and signing region), when S3 said the
   * bucket lives there; `undefined` when the endpoint is the caller's, which never moves.
   */
  readonly relocate: ((region: string) => void) | undefined
}

const states = new WeakMap<object, ContextState>()

/**
 * The state behind a context.
 * @throws {InvalidArgumentError} for anything `createS3Context` did not make.
 */
export function stateOf(ctx: object): ContextState {
  const state = typeof ctx === 'object' && ctx !== null ? states.get(ctx) : undefined
  if (state === undefined) {
    throw new InvalidArgumentError(`Expected an S3Context made by createS3Context(), got ${describeValue(ctx)}.`)
  }
  return state
}

/**
 * Encoded path of `key`, or of the context's default key.
 * @throws {InvalidArgumentError} when neither is given, or the key is invalid.
 */
export function objectPath(state: ContextState, key: string | undefined): string {
  if (key === undefined && state.key === undefined) {
    throw new InvalidArgumentError('This object operation needs a key: pass `key` in its options, or make the context with one.')
  }
  return objectPathFor(state.endpoint, key === undefined ? (state.key as string) : validateKey(key))
}

/** Ties a new context handle to its state (`createS3Context` only). */
export function registerState(ctx: object, state: ContextState): void {
  states.set(ctx, state)
}
