import { InvalidArgumentError, describeValue } from '@partstream/core'
import type { Dispatcher } from 'undici'
import type { Transport } from './types.ts'

/**
 * A transport over an undici `Dispatcher` (an `Agent`, `Pool`, `ProxyAgent`, `MockAgent`…):
 * `dispatcher.request` with the chunk list as the body and the explicit `content-length`, which
 * undici streams with backpressure and checks. The dispatcher is never closed by us.
 * @example
 * const agent = new Agent({ connections: 8 })
 * await upload(source, target, { transport: undiciTransport(agent) })
 */
export function undiciTransport(dispatcher: Dispatcher): Transport {
  if (!canDispatch(dispatcher)) {
    throw new InvalidArgumentError(
      `Expected an undici Dispatcher with request(), got ${describeValue(dispatcher)}. ` +
        "On Bun, `import { Agent } from 'undici'` is Bun's built-in stub, which cannot send: use fetchTransport().",
    )
  }
  return async (req) => {
    const response = await dispatcher.request({
      origin: req.origin,
      path: req.path,
      method: req.method,
      headers: req.headers,
      // undici's types spell the body differently (Readable | FormData | …); it takes both shapes.
      body: req.body as never,
      signal: req.signal ?? null,
    })
    return { statusCode: response.statusCode, headers: response.headers, body: response.body }
  }
}

function canDispatch(value: unknown): value is Dispatcher {
  return typeof value === 'object' && value !== null && typeof (value as { request?: unknown }).request === 'function'
}
