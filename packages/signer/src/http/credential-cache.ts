import type { Credentials } from './credentials.ts'

/**
 * Credentials that expire are refreshed this long before `expiration` (the AWS SDK's
 * `credentialsTreatedAsExpired` window, @aws-sdk/credential-provider-node), so that a request
 * signed just before the refresh still reaches the server in time.
 */
export const REFRESH_BEFORE_EXPIRY_MS: number = 5 * 60_000

/**
 * When credentials fetched at `fetchedAtMs` should be fetched again: never without an
 * `expiration`; else 5 minutes before it, or at half their lifetime when they live less than 10
 * minutes (so short-lived credentials are still used more than once); at once when they arrived
 * expired.
 */
export function refreshAtMs(credentials: Credentials, fetchedAtMs: number): number {
  if (credentials.expiration === undefined) return Number.POSITIVE_INFINITY
  const expiresAtMs = credentials.expiration.getTime()
  const lifetimeMs = expiresAtMs - fetchedAtMs
  return expiresAtMs - Math.min(REFRESH_BEFORE_EXPIRY_MS, Math.max(0, lifetimeMs / 2))
}

/**
 * Wraps a credentials source in a cache: the first call loads; later calls get the cached
 * credentials until their refresh time (`refreshAtMs`, on the clock `nowMs`), then one load is
 * started and every call made while it runs shares it. A failed load is not cached: it rejects
 * the calls that waited for it, and the next call tries again.
 */
export function cacheCredentials(load: () => Promise<Credentials>, nowMs: () => number): () => Promise<Credentials> {
  let current: { readonly credentials: Credentials; readonly refreshAtMs: number } | undefined
  let pending: Promise<Credentials> | undefined
  const refresh = async (): Promise<Credentials> => {
    try {
      // A microtask first: `pending` is assigned before a synchronous throw could clear it.
      await Promise.resolve()
      const fetchedAtMs = nowMs()
      const credentials = await load()
      current = { credentials, refreshAtMs: refreshAtMs(credentials, fetchedAtMs) }
      return credentials
    } finally {
      pending = undefined
    }
  }
  return () => {
    if (current !== undefined && nowMs() < current.refreshAtMs) return Promise.resolve(current.credentials)
    return (pending ??= refresh())
  }
}
