/**
 * Part-size policies: how big each part is. S3 caps an upload at 10,000 parts, so a fixed part
 * size also caps the object (6 MiB × 10,000 ≈ 58.6 GiB). Pick the policy by what is known up front:
 * - the size, or an upper bound of it → `partSizeForTotal(total)` (or `sizeHint` in `toParts`);
 * - nothing, and the stream may be huge → `adaptivePartSize()`;
 * - nothing, and it is surely below ~58 GiB, or the server needs equal parts → `fixedPartSize()`.
 * @module
 */

import { describeValue, InvalidArgumentError, ObjectTooLargeError } from './errors.ts'
import { expectInteger } from './internal/expect.ts'
import { formatBytes, formatBytesExact } from './internal/format-bytes.ts'
import {
  DEFAULT_PART_SIZE_BYTES,
  MAX_OBJECT_SIZE_BYTES,
  MAX_PART_SIZE_BYTES,
  MAX_PARTS,
  MIN_PART_SIZE_BYTES,
} from './limits.ts'
import type { PartSizePolicy } from './types.ts'

const MiB = 1024 * 1024

/**
 * Policies made here are valid by construction; custom policies are wrapped so every `sizeOf`
 * result is checked (see `resolvePartSize`). A WeakSet rather than a marker property so a user
 * object cannot claim to be built in.
 */
const trusted = new WeakSet<PartSizePolicy>()

function policy(description: string, maxPartSize: number, sizeOf: (partNumber: number) => number): PartSizePolicy {
  const made: PartSizePolicy = Object.freeze({ description, maxPartSize, sizeOf })
  trusted.add(made)
  return made
}

function partSizeHint(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value)) return undefined
  if (value < MIN_PART_SIZE_BYTES) {
    return 'S3 rejects non-last parts under 5 MiB (EntityTooSmall on Complete); an object smaller than the part size is sent as one part anyway'
  }
  if (value > MAX_PART_SIZE_BYTES) return 'S3 rejects larger parts (EntityTooLarge); for huge streams use `partSize: adaptivePartSize()`'
  return undefined
}

function expectPartSize(name: string, value: unknown): number {
  return expectInteger(name, value, { min: MIN_PART_SIZE_BYTES, max: MAX_PART_SIZE_BYTES, bytes: true, hint: partSizeHint })
}

/**
 * Validate a total size: a non-negative integer, at most the S3 object limit.
 * @internal shared with `planParts`; not part of the package's API.
 */
export function expectTotal(name: string, value: unknown): number {
  if (typeof value === 'number' && Number.isInteger(value) && value > MAX_OBJECT_SIZE_BYTES) {
    throw new ObjectTooLargeError(value)
  }
  return expectInteger(name, value, { min: 0, max: MAX_OBJECT_SIZE_BYTES, bytes: true })
}

/**
 * Equal parts of `bytes` each (the last part may be shorter). Equal parts are what R2 requires and
 * what every S3-compatible server accepts. The object can be at most `10,000 × bytes`: about
 * 58.6 GiB at the default 6 MiB. Each in-flight part retains `bytes`.
 * @param bytes Part size: an integer from 5 MiB to 5 GiB.
 * @default bytes 6 MiB (`DEFAULT_PART_SIZE_BYTES`)
 * @throws {InvalidArgumentError} when `bytes` is not an integer from 5 MiB to 5 GiB.
 * @example
 * toParts(source, { partSize: fixedPartSize(8 * 1024 * 1024) }) // same as { partSize: 8 MiB in bytes }
 */
export function fixedPartSize(bytes: number = DEFAULT_PART_SIZE_BYTES): PartSizePolicy {
  const size = expectPartSize('partSize', bytes)
  return policy(`fixed ${formatBytes(size)} parts`, size, () => size)
}

/** Options of {@link partSizeForTotal}. */
export interface PartSizeForTotalOptions {
  /**
   * Never pick parts smaller than this. Used as is when the total fits in 10,000 parts of it.
   * @default 6 MiB (`DEFAULT_PART_SIZE_BYTES`)
   */
  readonly minPartSize?: number | undefined
}

function forTotal(totalName: string, totalBytes: unknown, options: PartSizeForTotalOptions | undefined): PartSizePolicy {
  const total = expectTotal(totalName, totalBytes)
  const min = expectPartSize('minPartSize', options?.minPartSize ?? DEFAULT_PART_SIZE_BYTES)
  // Smallest size that fits the total in MAX_PARTS parts, rounded up to a whole MiB so part sizes
  // read well in logs and consoles. Cannot pass 5 GiB: 5 TiB / 10,000 is about 525 MiB.
  const needed = Math.ceil(Math.ceil(total / MAX_PARTS) / MiB) * MiB
  const size = Math.max(min, needed)
  return policy(`fixed ${formatBytes(size)} parts (sized for ${total} bytes)`, size, () => size)
}

/**
 * Equal parts sized so `totalBytes` fits in 10,000 parts: the smallest whole number of MiB that
 * does, but never below `minPartSize`. Give it the exact size or an upper bound; a stream longer
 * than `10,000 × size` fails with `TooManyPartsError` before part 10,000 is produced.
 *
 * Each in-flight part retains the chosen size: at most about 525 MiB, for a 5 TiB object.
 * @param totalBytes The object size (or an upper bound): an integer from 0 to 5 TiB.
 * @throws {ObjectTooLargeError} when `totalBytes` is over 5 TiB (`MAX_OBJECT_SIZE_BYTES`).
 * @throws {InvalidArgumentError} when `totalBytes` is not a non-negative integer, or `minPartSize` is invalid.
 * @example
 * const { size } = await stat(path)
 * toParts(createReadStream(path), { partSize: partSizeForTotal(size) }) // same as { sizeHint: size }
 * partSizeForTotal(100 * 1024 ** 3).sizeOf(1) // 11 MiB: 100 GiB in 9,310 parts
 */
export function partSizeForTotal(totalBytes: number, options?: PartSizeForTotalOptions): PartSizePolicy {
  return forTotal('totalBytes', totalBytes, options)
}

/** Options of {@link adaptivePartSize}. */
export interface AdaptivePartSizeOptions {
  /**
   * Size of parts 1 to `growEvery`. An integer from 5 MiB to 5 GiB.
   * @default 6 MiB (`DEFAULT_PART_SIZE_BYTES`)
   */
  readonly initial?: number | undefined
  /**
   * Number of equal parts in each run before the size grows. A positive integer.
   * @default 1000
   */
  readonly growEvery?: number | undefined
  /**
   * Growth per run. A finite number ≥ 1; sizes are rounded down to whole bytes.
   * @default 2
   */
  readonly factor?: number | undefined
  /**
   * Cap on the part size. An integer from `initial` to 5 GiB.
   * @default 5 GiB (`MAX_PART_SIZE_BYTES`)
   */
  readonly max?: number | undefined
}

/**
 * Parts that grow in equal-size runs, for streams of unknown length: small parts (and little
 * memory) for small streams, yet enough room for a 5 TiB object within 10,000 parts. Part `n` is
 * `min(max, floor(initial × factor ^ floor((n - 1) / growEvery)))` bytes.
 *
 * With the defaults (6 MiB, ×2 every 1,000 parts, up to 5 GiB):
 *
 * | parts         | part size | object size after the run |
 * |---------------|-----------|---------------------------|
 * | 1–1,000       | 6 MiB     | 5.9 GiB                   |
 * | 1,001–2,000   | 12 MiB    | 17.6 GiB                  |
 * | 2,001–3,000   | 24 MiB    | 41 GiB                    |
 * | 3,001–4,000   | 48 MiB    | 87.9 GiB                  |
 * | 4,001–5,000   | 96 MiB    | 181.6 GiB                 |
 * | 5,001–6,000   | 192 MiB   | 369 GiB                   |
 * | 6,001–7,000   | 384 MiB   | 744 GiB                   |
 * | 7,001–8,000   | 768 MiB   | 1.46 TiB                  |
 * | 8,001–9,000   | 1.5 GiB   | 2.92 TiB                  |
 * | 9,001–10,000  | 3 GiB     | 5.85 TiB (5 TiB is reached at part 9,709) |
 *
 * Memory follows the part size: an upload retains about `(concurrency + 1) × sizeOf(n)` once it
 * reaches part `n` — 30 MiB at the start with concurrency 4, but 15 GiB in the last run. Give
 * `sizeHint` instead when the size is known, or lower `max` (the object limit drops with it).
 * Parts within a run are equal, but runs differ, which R2 rejects: use `fixedPartSize` there.
 * @throws {InvalidArgumentError} on an invalid option.
 * @example
 * for await (const part of toParts(process.stdin, { partSize: adaptivePartSize() })) await send(part)
 */
export function adaptivePartSize(options?: AdaptivePartSizeOptions): PartSizePolicy {
  const initial = expectPartSize('initial', options?.initial ?? DEFAULT_PART_SIZE_BYTES)
  const growEvery = expectInteger('growEvery', options?.growEvery ?? 1000, { min: 1, max: MAX_PARTS })
  const factor = options?.factor ?? 2
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1) {
    throw new InvalidArgumentError(`Expected \`factor\` to be a finite number ≥ 1, got ${describeValue(factor)}`)
  }
  const max = expectInteger('max', options?.max ?? MAX_PART_SIZE_BYTES, { min: initial, max: MAX_PART_SIZE_BYTES, bytes: true })
  const sizeOf = (partNumber: number): number =>
    Math.min(max, Math.floor(initial * factor ** Math.floor((partNumber - 1) / growEvery)))
  // Sizes never shrink (factor ≥ 1), so the largest is the one of the last allowed part.
  const maxPartSize = sizeOf(MAX_PARTS)
  const description = `adaptive parts (${formatBytes(initial)}, ×${factor} every ${growEvery} parts, up to ${formatBytes(max)})`
  return policy(description, maxPartSize, sizeOf)
}

/**
 * Wrap a user policy so each size is checked where it is used, before a part is produced. The
 * wrapper counts as built here: wrapping it again would check every size twice.
 */
function checked(custom: PartSizePolicy, name: string): PartSizePolicy {
  // Checked once per policy object: `uploadAll` resolves the caller's policy for every file.
  const known = wrappers.get(custom)?.get(name)
  if (known !== undefined) return known
  const { description } = custom
  const maxPartSize = expectPartSize(`${name}.maxPartSize`, custom.maxPartSize)
  const sizeOf = (partNumber: number): number => {
    let size: unknown
    try {
      size = custom.sizeOf(partNumber)
    } catch (cause) {
      throw new InvalidArgumentError(`\`${name}.sizeOf(${partNumber})\` of the policy "${description}" threw: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
    }
    if (typeof size === 'number' && Number.isInteger(size) && size >= MIN_PART_SIZE_BYTES && size <= maxPartSize) return size
    throw new InvalidArgumentError(
      `Expected \`${name}.sizeOf(${partNumber})\` of the policy "${description}" to return an integer from ` +
        `${formatBytesExact(MIN_PART_SIZE_BYTES)} to its \`maxPartSize\` ${formatBytesExact(maxPartSize)}, got ${describeValue(size)}`,
    )
  }
  // Every part number S3 allows, now: a size out of range for part 2 (or 9,000) is refused
  // before any request, not once that part is planned, after the multipart upload was created.
  // 10,000 calls of a size function: microseconds. Each call is still checked below.
  for (let partNumber = 1; partNumber <= MAX_PARTS; partNumber++) sizeOf(partNumber)
  const wrapper: PartSizePolicy = Object.freeze({ description, maxPartSize, sizeOf })
  trusted.add(wrapper)
  wrappers.set(custom, (wrappers.get(custom) ?? new Map<string, PartSizePolicy>()).set(name, wrapper))
  return wrapper
}

/** The checked wrappers of each custom policy, by the name its messages give it (see {@link checked}). */
const wrappers = new WeakMap<PartSizePolicy, Map<string, PartSizePolicy>>()

function isPolicyShaped(value: object): value is PartSizePolicy {
  const candidate = value as Partial<Record<keyof PartSizePolicy, unknown>>
  return typeof candidate.description === 'string' && typeof candidate.sizeOf === 'function'
}

/**
 * A policy argument (`planParts`'): a policy built here as is, a custom one wrapped so its sizes
 * are held to the S3 limits (as `resolvePartSize` does), anything else refused by name.
 * @internal shared with `planParts`; not part of the package's API.
 */
export function expectPolicy(name: string, value: unknown): PartSizePolicy {
  if (typeof value === 'object' && value !== null && isPolicyShaped(value)) return trusted.has(value) ? value : checked(value, name)
  throw new InvalidArgumentError(
    `Expected \`${name}\` to be a PartSizePolicy ({ description, sizeOf, maxPartSize }), got ${describeValue(value)}. ` +
      'Build one with fixedPartSize(), partSizeForTotal() or adaptivePartSize(), or resolvePartSize(partSize) for a number',
  )
}

let defaultPolicy: PartSizePolicy | undefined

/**
 * Turn `toParts`' `partSize` and `sizeHint` options into the policy it uses:
 * - a number → `fixedPartSize(number)`;
 * - a policy → itself if built here, else a wrapper that checks every `sizeOf` result (an integer
 *   from 5 MiB to the policy's `maxPartSize`, which must be from 5 MiB to 5 GiB). Custom policies
 *   are held to the S3 limits like the built-in ones, so a bad size fails before a part is sent,
 *   not at CompleteMultipartUpload;
 * - nothing → `partSizeForTotal(sizeHint)` when `sizeHint` is given, else `fixedPartSize()`.
 *
 * `sizeHint` is validated either way. With both given, a hint that cannot fit in 10,000 parts of
 * `partSize` is rejected now instead of failing after most of the data was sent.
 * @throws {InvalidArgumentError} on an invalid `partSize` or `sizeHint`, or when they contradict.
 * @throws {ObjectTooLargeError} when `sizeHint` is over 5 TiB.
 * @example
 * resolvePartSize(undefined, 100 * 1024 ** 3).sizeOf(1) // 11 MiB
 * resolvePartSize(8 * 1024 * 1024).description // 'fixed 8 MiB parts'
 */
export function resolvePartSize(partSize?: number | PartSizePolicy, sizeHint?: number): PartSizePolicy {
  if (partSize === undefined) {
    if (sizeHint !== undefined) return forTotal('sizeHint', sizeHint, undefined)
    defaultPolicy ??= fixedPartSize()
    return defaultPolicy
  }
  let resolved: PartSizePolicy
  if (typeof partSize === 'number') {
    resolved = fixedPartSize(partSize)
  } else if (typeof partSize === 'object' && partSize !== null && isPolicyShaped(partSize)) {
    resolved = trusted.has(partSize) ? partSize : checked(partSize, 'partSize')
  } else {
    throw new InvalidArgumentError(
      `Expected \`partSize\` to be an integer from ${formatBytesExact(MIN_PART_SIZE_BYTES)} to ${formatBytesExact(MAX_PART_SIZE_BYTES)} ` +
        `or a PartSizePolicy ({ description, sizeOf, maxPartSize }), got ${describeValue(partSize)}. ` +
        'Build policies with fixedPartSize(), partSizeForTotal() or adaptivePartSize()',
    )
  }
  if (sizeHint !== undefined) {
    const total = expectTotal('sizeHint', sizeHint)
    const capacity = maxObjectSize(resolved)
    if (total > capacity) {
      throw new InvalidArgumentError(
        `Expected \`sizeHint\` (${total} bytes) to fit in ${MAX_PARTS} parts of ${resolved.description}, which hold at most ` +
          `${capacity} bytes. Raise \`partSize\`, or leave it out so parts are sized from \`sizeHint\``,
      )
    }
  }
  return resolved
}

/**
 * Largest object a policy can carry: the sum of its 10,000 part sizes, capped at the 5 TiB object
 * limit. Useful to document a policy or to check a size before starting.
 * @example
 * maxObjectSize(fixedPartSize()) // 62914560000 (≈ 58.6 GiB)
 * maxObjectSize(adaptivePartSize()) // 5497558138880 (5 TiB)
 */
export function maxObjectSize(policy: PartSizePolicy): number {
  let total = 0
  for (let partNumber = 1; partNumber <= MAX_PARTS; partNumber++) {
    total += policy.sizeOf(partNumber)
    if (total >= MAX_OBJECT_SIZE_BYTES) return MAX_OBJECT_SIZE_BYTES
  }
  return total
}
