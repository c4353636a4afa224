import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import {
  adaptivePartSize,
  DEFAULT_PART_SIZE_BYTES,
  fixedPartSize,
  InvalidArgumentError,
  MAX_OBJECT_SIZE_BYTES,
  MAX_PART_SIZE_BYTES,
  MAX_PARTS,
  MAX_SINGLE_PUT_BYTES,
  maxObjectSize,
  MIN_PART_SIZE_BYTES,
  ObjectTooLargeError,
  partSizeForTotal,
  resolvePartSize,
  type PartSizePolicy,
} from '../src/index.ts'

const MiB = 1024 * 1024
const GiB = 1024 * MiB
const TiB = 1024 * GiB

describe('limits', () => {
  test('the S3 numbers', () => {
    assert.equal(MIN_PART_SIZE_BYTES, 5 * MiB)
    assert.equal(MAX_PART_SIZE_BYTES, 5 * GiB)
    assert.equal(MAX_PARTS, 10_000)
    assert.equal(MAX_OBJECT_SIZE_BYTES, 5 * TiB)
    assert.equal(DEFAULT_PART_SIZE_BYTES, 6 * MiB)
    assert.equal(MAX_SINGLE_PUT_BYTES, 5 * GiB)
    assert.ok(Number.isSafeInteger(MAX_OBJECT_SIZE_BYTES))
  })
})

describe('fixedPartSize', () => {
  test('defaults to 6 MiB, ~58.6 GiB per object', () => {
    const policy = fixedPartSize()
    assert.equal(policy.sizeOf(1), 6 * MiB)
    assert.equal(policy.sizeOf(MAX_PARTS), 6 * MiB)
    assert.equal(policy.maxPartSize, 6 * MiB)
    assert.equal(policy.description, 'fixed 6 MiB parts')
    assert.equal(maxObjectSize(policy), MAX_PARTS * 6 * MiB)
    assert.ok(Object.isFrozen(policy))
  })

  test('accepts the bounds 5 MiB and 5 GiB', () => {
    assert.equal(fixedPartSize(5 * MiB).sizeOf(7), 5 * MiB)
    assert.equal(fixedPartSize(5 * GiB).sizeOf(7), 5 * GiB)
    assert.equal(maxObjectSize(fixedPartSize(5 * GiB)), MAX_OBJECT_SIZE_BYTES)
  })

  test('rejects the rest with a p-map style message and a hint', () => {
    assert.throws(() => fixedPartSize(1024), {
      name: 'InvalidArgumentError',
      code: 'ERR_PARTSTREAM_INVALID_ARGUMENT',
      message:
        'Expected `partSize` to be an integer from 5 MiB (5242880) to 5 GiB (5368709120), got `1024` (number). ' +
        'S3 rejects non-last parts under 5 MiB (EntityTooSmall on Complete); an object smaller than the part size is sent as one part anyway',
    })
    for (const bad of [5 * MiB - 1, 5 * GiB + 1, 6.5 * MiB + 0.5, Number.NaN, Number.POSITIVE_INFINITY, -1, '6291456', null]) {
      assert.throws(() => fixedPartSize(bad as number), InvalidArgumentError)
    }
  })
})

describe('partSizeForTotal', () => {
  test('small totals get the 6 MiB minimum', () => {
    assert.equal(partSizeForTotal(0).sizeOf(1), 6 * MiB)
    assert.equal(partSizeForTotal(1).sizeOf(1), 6 * MiB)
    assert.equal(partSizeForTotal(58 * GiB).sizeOf(1), 6 * MiB)
  })

  test('the 10,000-part boundary', () => {
    assert.equal(partSizeForTotal(MAX_PARTS * 6 * MiB).sizeOf(1), 6 * MiB)
    assert.equal(partSizeForTotal(MAX_PARTS * 6 * MiB + 1).sizeOf(1), 7 * MiB)
  })

  test('5 TiB → 525 MiB parts, 9,987 of them', () => {
    const size = partSizeForTotal(MAX_OBJECT_SIZE_BYTES).sizeOf(1)
    assert.equal(size, 525 * MiB)
    assert.equal(Math.ceil(MAX_OBJECT_SIZE_BYTES / size), 9987)
  })

  test('over 5 TiB → ObjectTooLargeError', () => {
    assert.throws(() => partSizeForTotal(MAX_OBJECT_SIZE_BYTES + 1), (error: unknown) => {
      assert.ok(error instanceof ObjectTooLargeError)
      assert.equal(error.code, 'ERR_PARTSTREAM_OBJECT_TOO_LARGE')
      assert.equal(error.byteLength, MAX_OBJECT_SIZE_BYTES + 1)
      assert.equal(error.limit, MAX_OBJECT_SIZE_BYTES)
      return true
    })
    assert.throws(() => partSizeForTotal(1e20), ObjectTooLargeError)
  })

  test('minPartSize is a floor, used as is', () => {
    assert.equal(partSizeForTotal(0, { minPartSize: 5 * MiB }).sizeOf(1), 5 * MiB)
    assert.equal(partSizeForTotal(0, { minPartSize: 5 * MiB + 1 }).sizeOf(1), 5 * MiB + 1)
    assert.equal(partSizeForTotal(100 * GiB, { minPartSize: 5 * MiB }).sizeOf(1), 11 * MiB)
    assert.throws(() => partSizeForTotal(0, { minPartSize: MiB }), /`minPartSize`/)
  })

  test('invalid totals', () => {
    for (const bad of [-1, 1.5, Number.NaN, '100', undefined]) {
      assert.throws(() => partSizeForTotal(bad as number), /Expected `totalBytes` to be an integer from 0 bytes to 5 TiB/)
    }
  })

  test('property: any total up to 5 TiB fits in 10,000 parts of the smallest whole-MiB size ≥ 6 MiB', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.bigInt({ min: 0n, max: BigInt(MAX_OBJECT_SIZE_BYTES) }).map(Number),
          fc.integer({ min: -3, max: 3 }).map((d) => MAX_PARTS * 6 * MiB + d),
          fc.integer({ min: 0, max: 3 }).map((d) => MAX_OBJECT_SIZE_BYTES - d),
        ),
        (total) => {
          const policy = partSizeForTotal(total)
          const size = policy.sizeOf(1)
          assert.equal(policy.sizeOf(MAX_PARTS), size)
          assert.equal(policy.maxPartSize, size)
          assert.ok(size >= 6 * MiB && size <= MAX_PART_SIZE_BYTES)
          assert.equal(size % MiB, 0)
          assert.ok(Math.ceil(total / size) <= MAX_PARTS)
          assert.ok(maxObjectSize(policy) >= total)
          if (size > 6 * MiB) assert.ok(Math.ceil(total / (size - MiB)) > MAX_PARTS, 'one MiB less would not fit')
        },
      ),
      { numRuns: 500 },
    )
  })
})

describe('adaptivePartSize', () => {
  test('the default schedule: ×2 every 1,000 parts from 6 MiB', () => {
    const policy = adaptivePartSize()
    const sizes = [1, 1000, 1001, 2000, 2001, 9000, 9001, 10_000].map((n) => policy.sizeOf(n) / MiB)
    assert.deepEqual(sizes, [6, 6, 12, 12, 24, 1536, 3072, 3072])
    assert.equal(policy.maxPartSize, 3 * GiB)
    assert.match(policy.description, /adaptive parts \(6 MiB, ×2 every 1000 parts, up to 5 GiB\)/)
  })

  test('the default schedule reaches 5 TiB within 10,000 parts, at part 9,709', () => {
    const policy = adaptivePartSize()
    let total = 0
    let reachedAt = 0
    for (let n = 1; n <= MAX_PARTS; n++) {
      total += policy.sizeOf(n)
      if (reachedAt === 0 && total >= MAX_OBJECT_SIZE_BYTES) reachedAt = n
    }
    assert.equal(total, 6138000 * MiB)
    assert.ok(total >= MAX_OBJECT_SIZE_BYTES)
    assert.equal(reachedAt, 9709)
    assert.equal(maxObjectSize(policy), MAX_OBJECT_SIZE_BYTES)
  })

  test('max caps the size', () => {
    const policy = adaptivePartSize({ initial: 8 * MiB, growEvery: 1, factor: 4, max: 100 * MiB })
    assert.deepEqual([1, 2, 3, 4, 5000].map((n) => policy.sizeOf(n) / MiB), [8, 32, 100, 100, 100])
    assert.equal(policy.maxPartSize, 100 * MiB)
  })

  test('invalid options', () => {
    assert.throws(() => adaptivePartSize({ initial: MiB }), /`initial`/)
    assert.throws(() => adaptivePartSize({ growEvery: 0 }), /`growEvery` to be an integer from 1 to 10000/)
    assert.throws(() => adaptivePartSize({ factor: 0.5 }), /`factor` to be a finite number ≥ 1, got `0.5`/)
    assert.throws(() => adaptivePartSize({ factor: Number.NaN }), /`factor`/)
    assert.throws(() => adaptivePartSize({ initial: 8 * MiB, max: 6 * MiB }), /`max` to be an integer from 8 MiB \(8388608\)/)
  })

  test('property: equal runs, never shrinking, within [initial, max], all valid S3 sizes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 5, max: 64 }),
        fc.integer({ min: 1, max: MAX_PARTS }),
        fc.double({ min: 1, max: 4, noNaN: true }),
        fc.integer({ min: 0, max: 5 * 1024 }),
        fc.integer({ min: 1, max: MAX_PARTS }),
        (initialMiB, growEvery, factor, extraMiB, n) => {
          const initial = initialMiB * MiB
          const max = Math.min(MAX_PART_SIZE_BYTES, initial + extraMiB * MiB)
          const policy = adaptivePartSize({ initial, growEvery, factor, max })
          const size = policy.sizeOf(n)
          assert.ok(Number.isInteger(size) && size >= initial && size <= max && size <= policy.maxPartSize)
          assert.equal(policy.sizeOf(Math.floor((n - 1) / growEvery) * growEvery + 1), size, 'equal within a run')
          if (n > 1) assert.ok(policy.sizeOf(n - 1) <= size)
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('resolvePartSize', () => {
  test('nothing → fixed 6 MiB; a number → fixed; a hint → sized for it', () => {
    assert.equal(resolvePartSize().sizeOf(1), 6 * MiB)
    assert.equal(resolvePartSize(8 * MiB).description, 'fixed 8 MiB parts')
    assert.equal(resolvePartSize(undefined, 100 * GiB).sizeOf(1), 11 * MiB)
    assert.equal(resolvePartSize(16 * MiB, 100 * GiB).sizeOf(1), 16 * MiB, 'partSize wins over the hint')
  })

  test('built-in policies are returned as they are', () => {
    const policy = adaptivePartSize()
    assert.equal(resolvePartSize(policy), policy)
  })

  test('custom policies are wrapped, and every size they return is checked', () => {
    let size: unknown = 7 * MiB
    const custom: PartSizePolicy = { description: 'custom', maxPartSize: 8 * MiB, sizeOf: () => size as number }
    const resolved = resolvePartSize(custom)
    assert.notEqual(resolved, custom)
    assert.equal(resolved.description, 'custom')
    assert.equal(resolved.maxPartSize, 8 * MiB)
    assert.equal(resolved.sizeOf(3), 7 * MiB)
    for (const bad of [1024, 5 * MiB - 1, 8 * MiB + 1, 6.5 * MiB + 0.5, '6291456', undefined]) {
      size = bad
      assert.throws(() => resolved.sizeOf(3), /Expected `partSize.sizeOf\(3\)` of the policy "custom" to return an integer from 5 MiB \(5242880\) to its `maxPartSize` 8 MiB \(8388608\)/)
    }
  })

  test('a custom policy method keeps its this', () => {
    const custom = {
      description: 'class-like',
      maxPartSize: 6 * MiB,
      size: 6 * MiB,
      sizeOf(this: { size: number }): number {
        return this.size
      },
    }
    assert.equal(resolvePartSize(custom).sizeOf(1), 6 * MiB)
  })

  test('invalid policies and contradictions', () => {
    assert.throws(() => resolvePartSize({ description: 'x', sizeOf: () => 6 * MiB, maxPartSize: 6 * GiB }), /`partSize.maxPartSize`/)
    assert.throws(() => resolvePartSize({ sizeOf: () => 1 } as never), /PartSizePolicy/)
    assert.throws(() => resolvePartSize(5 * MiB, 49 * GiB + 1), /`sizeHint` \(52613349377 bytes\) to fit in 10000 parts of fixed 5 MiB parts, which hold at most 52428800000 bytes/)
    assert.throws(() => resolvePartSize(undefined, -1), /`sizeHint`/)
    assert.throws(() => resolvePartSize(5 * GiB, MAX_OBJECT_SIZE_BYTES + 1), ObjectTooLargeError)
  })
})

describe('maxObjectSize', () => {
  test('sums the 10,000 sizes, capped at 5 TiB', () => {
    assert.equal(maxObjectSize(fixedPartSize(5 * MiB)), 50_000 * MiB)
    assert.equal(maxObjectSize(adaptivePartSize({ max: 6 * MiB })), MAX_PARTS * 6 * MiB)
    assert.equal(maxObjectSize(fixedPartSize(MAX_PART_SIZE_BYTES)), MAX_OBJECT_SIZE_BYTES)
  })
})
