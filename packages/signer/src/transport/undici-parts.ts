/**
 * The pieces of undici the context's own `Agent` needs, imported from undici's files instead
 * of its entry point. `import { Agent } from 'undici'` evaluates every dispatcher, the mocks, the
 * cache stores, fetch, WebSocket and EventSource, and its cookie helpers touch `Headers`, which
 * makes Node load its own bundled copy of undici as well. Measured on Node 20 here (load, then one
 * request): 157–162 ms and 62.6 MiB RSS through the entry, 62–64 ms and 55.5 MiB through these
 * two files. An upload uses neither the rest nor the global fetch.
 *
 * undici has no `exports` map, so these paths resolve on Node, Deno and Bun alike (undici 6 and 7
 * keep them). The entry's `index.js` mixes `api-request` into `Dispatcher.prototype`; we call it
 * on our `Agent` instead of patching the prototype. A user's own dispatcher keeps its own
 * `request()` (see `undiciTransport`).
 */
import type { Agent as AgentClass, Dispatcher, buildConnector as BuildConnector } from 'undici'
// @ts-expect-error undici ships types for its entry point only; this is its Agent class.
import AgentImpl from 'undici/lib/dispatcher/agent.js'
// @ts-expect-error undici ships types for its entry point only; this is `Dispatcher#request`.
import requestImpl from 'undici/lib/api/api-request.js'
// @ts-expect-error undici ships types for its entry point only; this is its `buildConnector`.
import buildConnectorImpl from 'undici/lib/core/connect.js'

export const Agent: typeof AgentClass = AgentImpl
export const request: (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData> = requestImpl

/** undici's connector factory (`buildConnector`): what a `Client` builds from its `connect` options. */
export const buildConnector: (options: BuildConnector.BuildOptions) => BuildConnector.connector = buildConnectorImpl
