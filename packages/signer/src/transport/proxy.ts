import { describeValue, InvalidArgumentError } from '@partstream/core'
import type { Dispatcher } from 'undici'
import type { ProxyAgentOptions } from './proxy-agent.ts'

export type { ProxyAgentOptions } from './proxy-agent.ts'

/**
 * A dispatcher that sends requests through an HTTP(S) proxy: undici's `EnvHttpProxyAgent`, given
 * the proxies explicitly (the library reads no environment variable: the caller passes
 * `process.env.HTTPS_PROXY` and the like if it wants them), with the keep-alive settings of the
 * context's own `Agent`. Loaded on first use: an upload without a proxy loads none of it. Not on
 * Bun, whose `fetch` (its transport) reads `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` itself. Close it
 * when done: the library never closes a dispatcher it was given.
 * @example
 * const dispatcher = await proxyAgent({ httpsProxy: process.env.HTTPS_PROXY, noProxy: process.env.NO_PROXY, connections: 4 })
 * try { await upload(source, target, { dispatcher }) } finally { await dispatcher.close() }
 */
export async function proxyAgent(options: ProxyAgentOptions): Promise<Dispatcher> {
  for (const name of ['httpProxy', 'httpsProxy'] as const) {
    const value = options[name]
    if (value === undefined || value === '') continue
    // Checked here: undici's own TypeError holds the URL, its password included.
    const url = URL.canParse(String(value)) ? new URL(String(value)) : undefined
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new InvalidArgumentError(
        `Expected \`${name}\` to be an http:// or https:// proxy URL such as "http://proxy.corp:3128" (a user or password with "/", "@", ":" or "#" percent-encoded), got ${typeof value === 'string' ? `a string of ${value.length} characters (not shown: it may hold a password)` : describeValue(value)}.`,
      )
    }
  }
  const { createProxyAgent } = await import('./proxy-agent.ts')
  return createProxyAgent(options)
}
