import { InvalidArgumentError, describeValue } from '@partstream/core'

/**
 * A skew this large between the server's `Date` and ours is corrected even on a successful
 * answer, before the server starts refusing (S3 allows 15 minutes). The AWS SDK's threshold
 * (`isClockSkewed`, @aws-sdk/core: 300000 ms).
 */
export const CORRECT_SKEW_ABOVE_MS: number = 5 * 60_000

/**
 * The signing clock: the caller's `now` plus an offset measured against the server, as the AWS
 * SDKs keep a `systemClockOffset`. One per context, shared by its requests.
 */
export interface SigningClock {
  /** The corrected time. @throws {InvalidArgumentError} when `now` returns something that is not a valid Date. */
  now(): Date
  /** Milliseconds added to `now()`; changes only in `observe`. */
  readonly offsetMs: number
  /**
   * Takes a server's `Date` header into account: the offset becomes the measured one when the
   * server refused the request's time (`skewRejected`, RequestTimeTooSkewed) and they differ by a
   * second or more, or when they differ by {@link CORRECT_SKEW_ABOVE_MS} or more anyway. The
   * offset is absolute (server − caller's clock), so answers racing each other agree.
   * @returns whether the offset changed.
   */
  observe(serverDate: string | undefined, skewRejected: boolean): boolean
}

function valid(now: () => Date): Date {
  const date = now()
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError(`Expected \`now\` to return a valid Date, got ${describeValue(date)}.`)
  }
  return date
}

export function createSigningClock(now: () => Date): SigningClock {
  let offsetMs = 0
  return {
    now: () => (offsetMs === 0 ? valid(now) : new Date(valid(now).getTime() + offsetMs)),
    get offsetMs() {
      return offsetMs
    },
    observe(serverDate, skewRejected) {
      if (serverDate === undefined) return false
      const serverMs = Date.parse(serverDate)
      if (Number.isNaN(serverMs)) return false
      const oursMs = valid(now).getTime()
      const skewMs = serverMs - (oursMs + offsetMs)
      // `Date` has a resolution of one second: a smaller difference is no news.
      if (Math.abs(skewMs) < (skewRejected ? 1000 : CORRECT_SKEW_ABOVE_MS)) return false
      offsetMs = serverMs - oursMs
      return true
    },
  }
}
