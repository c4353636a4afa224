import { describeValue, InvalidArgumentError } from '../errors.ts'
import type { HashFactory } from '../types.ts'
import { formatBytesExact } from './format-bytes.ts'

/** Bounds of an integer argument, and how to print them. */
export interface IntegerBounds {
  readonly min: number
  readonly max: number
  /** Print the bounds as byte sizes (`5 MiB (5242880)`) instead of plain numbers. */
  readonly bytes?: boolean
  /** A fix hint appended to the message, given the offending value. */
  readonly hint?: (value: unknown) => string | undefined
}

/**
 * Assert that `value` is an integer within `bounds`, with a p-map style message:
 * "Expected \`partSize\` to be an integer from 5 MiB (5242880) to 5 GiB (5368709120), got \`1024\` (number)".
 */
export function expectInteger(name: string, value: unknown, bounds: IntegerBounds): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= bounds.min && value <= bounds.max) {
    return value
  }
  const show = bounds.bytes === true ? formatBytesExact : String
  const range = bounds.max === Number.MAX_SAFE_INTEGER ? `${show(bounds.min)} and up` : `from ${show(bounds.min)} to ${show(bounds.max)}`
  const hint = bounds.hint?.(value)
  throw new InvalidArgumentError(
    `Expected \`${name}\` to be an integer ${range}, got ${describeValue(value)}${hint === undefined ? '' : `. ${hint}`}`,
  )
}

/**
 * Assert that `value` is a hash factory (`() => Hasher`) or `null` (hashing off), with the fix in
 * the message; `undefined` gives `fallback`.
 */
export function expectHashFactory(name: string, value: unknown, fallback: HashFactory | null): HashFactory | null {
  if (value === undefined) return fallback
  if (value === null || typeof value === 'function') return value as HashFactory | null
  throw new InvalidArgumentError(`Expected \`${name}\` to be a function returning a Hasher ({ update, digest }), or null to skip it, got ${describeValue(value)}`)
}
