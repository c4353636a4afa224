import { defaultMaxListeners, getMaxListeners, setMaxListeners } from 'node:events'

/** The longest delay `setTimeout` waits (2^31 - 1 ms, about 24.8 days): a longer one fires after 1 ms. */
export const MAX_TIMER_MS: number = 2_147_483_647

/** Sleep that rejects with `signal.reason` as soon as the signal aborts, leaving no listener or timer. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason)
      return
    }
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * `promise`, or a rejection with `signal.reason` as soon as the signal aborts, whichever comes
 * first; no listener is left behind. For waits nothing else can cancel (a credentials provider:
 * a `credential_process` that never exits, a user function that never settles). Their later
 * outcome is observed here, so a rejection after the abort is not an unhandled one.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}

/**
 * Lets `signal` hold many abort listeners without Node's MaxListenersExceededWarning: one signal
 * may serve many requests at once (`Promise.all` of thirty `headObject` calls), each listening
 * while it waits (a socket of the pool, credentials, a backoff, the answer) and removing its
 * listeners when settled, which is expected, not a leak (Node 20 warns past 10). Raised as
 * undici's fetch and `upload` do: to 1,500, and only from the default, so a limit the caller set
 * stays as it is.
 */
export function allowManyListeners(signal: AbortSignal): void {
  try {
    if (getMaxListeners(signal) === defaultMaxListeners) setMaxListeners(1500, signal)
  } catch {
    // a runtime without these for AbortSignal: nothing to warn either
  }
}
