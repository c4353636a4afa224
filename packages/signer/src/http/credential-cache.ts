import type { Credentials } from './credentials.ts'

/**
 * Credentials that expire are refreshed this long before `expiration` (the AWS SDK's
 * `credentialsTreatedAsExpired` window, @aws-sdk/credential-provider-node), so that a request
 * signed just before the refresh still reaches the server in time.
 */
export const REFRESH_BEFORE_EXPIRY_MS: number = 5 * 60_000

/**
 * Credentials are not signed with in the last minute before their `expiration` (or the last
 * quarter of their life when they live under 4 minutes): a request signed then may arrive after
 * it. A failed refresh before that point keeps the credentials; from it on, it fails the callers.
 */
export const MUST_REFRESH_BEFORE_EXPIRY_MS: number = 60_000

/** After a refresh failed while the credentials were still good, the next attempt waits this long. */
export const REFRESH_RETRY_MS: number = 10_000

/**
 * When credentials fetched at `fetchedAtMs` should be fetched again: never without an
 * `expiration`; else 5 minutes before it, or at half their lifetime when they live less than 10
 * minutes (so short-lived credentials are still used more than once); at once when they arrived
 * expired.
 */
export function refreshAtMs(credentials: Credentials, fetchedAtMs: number): number {
  return beforeExpiry(credentials, fetchedAtMs, REFRESH_BEFORE_EXPIRY_MS, 2)
}

/** Until when credentials fetched at `fetchedAtMs` may sign, should a refresh fail (see {@link MUST_REFRESH_BEFORE_EXPIRY_MS}). */
export function usableUntilMs(credentials: Credentials, fetchedAtMs: number): number {
  return beforeExpiry(credentials, fetchedAtMs, MUST_REFRESH_BEFORE_EXPIRY_MS, 4)
}

/** `marginMs` before the expiration, or `1 / fraction` of the lifetime when that is shorter. */
function beforeExpiry(credentials: Credentials, fetchedAtMs: number, marginMs: number, fraction: number): number {
  if (credentials.expiration === undefined) return Number.POSITIVE_INFINITY
  const expiresAtMs = credentials.expiration.getTime()
  const lifetimeMs = expiresAtMs - fetchedAtMs
  return expiresAtMs - Math.min(marginMs, Math.max(0, lifetimeMs / fraction))
}

interface Cached {
  readonly credentials: Credentials
  readonly refreshAtMs: number
  readonly usableUntilMs: number
}

/**
 * Wraps a credentials source in a cache: the first call loads; later calls get the cached
 * credentials until their refresh time (`refreshAtMs`, on the clock `nowMs`), then one load is
 * started and every call made while it runs shares it. A failed load is not cached: it rejects
 * the calls that waited for it, and the next call tries again; except that a refresh failing
 * while the cached credentials are still usable (`usableUntilMs`) answers with them, and the next
 * attempt waits {@link REFRESH_RETRY_MS} (botocore's advisory refresh does the same), so that a
 * blip of the credential source does not fail a long upload.
 */
export function cacheCredentials(load: () => Promise<Credentials>, nowMs: () => number): () => Promise<Credentials> {
  let current: Cached | undefined
  let pending: Promise<Credentials> | undefined
  const refresh = async (): Promise<Credentials> => {
    try {
      // A microtask first: `pending` is assigned before a synchronous throw could clear it.
      await Promise.resolve()
      const fetchedAtMs = nowMs()
      let credentials: Credentials
      try {
        credentials = await load()
      } catch (error) {
        const kept = current
        const failedAtMs = nowMs()
        if (kept === undefined || failedAtMs >= kept.usableUntilMs) throw error
        current = { ...kept, refreshAtMs: Math.min(kept.usableUntilMs, failedAtMs + REFRESH_RETRY_MS) }
        return kept.credentials
      }
      current = { credentials, refreshAtMs: refreshAtMs(credentials, fetchedAtMs), usableUntilMs: usableUntilMs(credentials, fetchedAtMs) }
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
