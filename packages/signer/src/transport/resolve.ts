import { InvalidArgumentError, describeValue } from '@partstream/core'
import type { Dispatcher } from 'undici'
import { caList, fetchTransport } from './fetch.ts'
import type { Transport } from './types.ts'
import { baselineParserConnector } from './parser-tiering.ts'
import { Agent, buildConnector, request } from './undici-parts.ts'
import { requestTransport, undiciTransport } from './undici.ts'

/**
 * Bun's default transport is its fetch. Bun resolves the bare specifier `undici` to a built-in
 * stub that cannot send (no `request`, `dispatch` or `close`; Bun 1.4.5), so users there cannot
 * pass an undici dispatcher of their own either; fetch is Bun's native client.
 */
const ON_BUN: boolean = typeof (globalThis as { Bun?: unknown }).Bun === 'object'

/** The transport of one S3 context, and how to release what the context itself created. */
export interface ResolvedTransport {
  readonly transport: Transport
  /** The dispatcher requests go through, when the transport is undici's. */
  readonly dispatcher: Dispatcher | undefined
  /** Closes the `Agent` the context created; a no-op for anything the caller passed. */
  close(): Promise<void>
  /** Destroys that `Agent` (a connect still in progress included); absent: `close`. */
  destroy?(): Promise<void>
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
  ca?: string | Uint8Array | ReadonlyArray<string | Uint8Array>,
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
  if (ON_BUN) return { transport: fetchTransport(ca === undefined ? {} : { ca }), dispatcher: undefined, close: none }
  // Parts carry a precomputed content-length; never `Expect: 100-continue` (lib-storage pays a round trip per part).
  // `connections` caps sockets per origin: without it a request sent just as another's response
  // ends opens a new socket (measured: ~2 × concurrency connections; each a TLS handshake on S3).
  const owned = new Agent({
    keepAliveTimeout: 10_000,
    headersTimeout: idleTimeoutMs,
    bodyTimeout: idleTimeoutMs,
    ...(connections === undefined ? {} : { connections }),
    // The connector a Client builds from `connect` options (undici's defaults otherwise), wrapped so
    // that undici's HTTP parser stays on V8's baseline code (parser-tiering.ts). undici hands
    // `ca` to tls.connect: it replaces the runtime's CAs, as ca_bundle does.
    connect: baselineParserConnector(buildConnector(ca === undefined ? {} : { ca: caList(ca) })),
  })
  return { transport: requestTransport((options) => request.call(owned, options)), dispatcher: owned, close: () => owned.close(), destroy: () => owned.destroy() }
}
