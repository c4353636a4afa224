/**
 * CRC32, CRC32C and CRC64NVME as incremental {@link Hasher}s, and `combineCrc`: the CRC of two
 * byte runs put end to end, from their CRCs and the second one's length (no second pass over the
 * bytes). S3 accepts these three as `x-amz-checksum-*` and combines part CRCs into a whole-object
 * ("FULL_OBJECT") checksum the same way.
 * @module
 */

import { describeValue, InvalidArgumentError } from './errors.ts'
import { CRC_SPECS, crcEngine, type CrcAlgorithm, type CrcEngine } from './internal/crc.ts'
import type { Hasher } from './types.ts'

export type { CrcAlgorithm } from './internal/crc.ts'

/** Big-endian bytes of the low `width` bits of `value`: how S3 (and every CRC tool) writes a CRC. */
function toBytes(value: bigint, width: 32 | 64): Uint8Array {
  const out = new Uint8Array(width / 8)
  for (let i = out.length - 1, v = value; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn)
  return out
}

function fromBytes(bytes: Uint8Array, width: 32 | 64, name: string): bigint {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength !== width / 8) {
    throw new InvalidArgumentError(`Expected \`${name}\` to be a ${width / 8}-byte CRC digest, got ${describeValue(bytes)}.`)
  }
  let v = 0n
  for (const byte of bytes) v = (v << 8n) | BigInt(byte)
  return v
}

class Crc32Hasher implements Hasher {
  private register = -1
  private readonly algorithm: 'CRC32' | 'CRC32C'
  private readonly engine: CrcEngine
  constructor(algorithm: 'CRC32' | 'CRC32C', engine: CrcEngine) {
    this.algorithm = algorithm
    this.engine = engine
  }
  update(data: Uint8Array): void {
    this.register = this.engine.update32(this.algorithm, this.register, data)
  }
  digest(): Uint8Array {
    return toBytes(BigInt(~this.register >>> 0), 32)
  }
}

class Crc64Hasher implements Hasher {
  private register = -1n
  private readonly engine: CrcEngine
  constructor(engine: CrcEngine) {
    this.engine = engine
  }
  update(data: Uint8Array): void {
    this.register = this.engine.update64(this.register, data)
  }
  digest(): Uint8Array {
    return toBytes(BigInt.asUintN(64, ~this.register), 64)
  }
}

/**
 * Make an incremental CRC32 (the zlib/gzip/Ethernet CRC, reflected 0xEDB88320) {@link Hasher}.
 * `digest()` gives the 4 bytes big-endian and leaves the hasher usable: later `update` calls go on
 * from there. Pure WebAssembly (pure JS where WebAssembly is unavailable), no dependencies; on
 * Node, Deno and Bun `zlib.crc32` is faster still (signer uses it there).
 * @example
 * const crc = createCrc32()
 * crc.update(new TextEncoder().encode('123456789'))
 * crc.digest() // cb f4 39 26
 */
export function createCrc32(): Hasher {
  return new Crc32Hasher('CRC32', crcEngine())
}

/**
 * Make an incremental CRC32C (Castagnoli, reflected 0x82F63B78) {@link Hasher}; see {@link createCrc32}.
 * @example
 * createCrc32c() // "123456789" → e3 06 92 83
 */
export function createCrc32c(): Hasher {
  return new Crc32Hasher('CRC32C', crcEngine())
}

/**
 * Make an incremental CRC64NVME (reflected 0x9A6C9329AC4BC9B5, S3's default checksum since 2025)
 * {@link Hasher}; `digest()` gives 8 bytes big-endian. See {@link createCrc32}.
 * @example
 * createCrc64Nvme() // "123456789" → ae 8b 14 86 0a 79 98 88
 */
export function createCrc64Nvme(): Hasher {
  return new Crc64Hasher(crcEngine())
}

/**
 * `x^(8·length) mod P` per algorithm and length: most parts of an upload have the same length, so
 * combining 10,000 part CRCs computes this a handful of times.
 */
const shiftCache = new Map<string, bigint>()
const SHIFT_CACHE_MAX = 64

/** a·b mod P over GF(2), in the reflected representation (bit width-1 is x^0); zlib's multmodp. */
function multiplyModP(a: bigint, b: bigint, width: number, poly: bigint): bigint {
  let product = 0n
  for (let m = 1n << BigInt(width - 1); m !== 0n; m >>= 1n) {
    if ((a & m) !== 0n) product ^= b
    b = (b & 1n) !== 0n ? (b >> 1n) ^ poly : b >> 1n
  }
  return product
}

/** x^(8·length) mod P, by square-and-multiply over the bits of `length`. */
function shiftOperator(algorithm: CrcAlgorithm, length: number): bigint {
  const key = `${algorithm}:${length}`
  const cached = shiftCache.get(key)
  if (cached !== undefined) return cached
  const { width, poly } = CRC_SPECS[algorithm]
  let result = 1n << BigInt(width - 1) // x^0
  let power = 1n << BigInt(width - 9) // x^8: one byte
  for (let n = length; n > 0; n = Math.floor(n / 2)) {
    if (n % 2 === 1) result = multiplyModP(result, power, width, poly)
    power = multiplyModP(power, power, width, poly)
  }
  if (shiftCache.size >= SHIFT_CACHE_MAX) shiftCache.clear()
  shiftCache.set(key, result)
  return result
}

/**
 * The CRC of `a‖b` from `crc(a)`, `crc(b)` and the length of `b` in bytes, without the bytes:
 * `crc(a) · x^(8·|b|) mod P  ⊕  crc(b)` (zlib's `crc32_combine`, which holds for any reflected CRC
 * whose init and xorout are both all ones, as these three are). This is how a multipart upload's
 * whole-object CRC is made from its part CRCs. Digests are the big-endian bytes `digest()` gives.
 * @throws {InvalidArgumentError} on an unknown algorithm, a digest of the wrong size, or a bad length.
 * @example
 * const whole = combineCrc('CRC64NVME', crcOfPart1, crcOfPart2, part2.byteLength)
 */
export function combineCrc(algorithm: CrcAlgorithm, first: Uint8Array, second: Uint8Array, secondLength: number): Uint8Array {
  const spec = CRC_SPECS[algorithm] as (typeof CRC_SPECS)[CrcAlgorithm] | undefined
  if (spec === undefined) {
    throw new InvalidArgumentError(`Expected \`algorithm\` to be 'CRC32', 'CRC32C' or 'CRC64NVME', got ${describeValue(algorithm)}.`)
  }
  if (!Number.isSafeInteger(secondLength) || secondLength < 0) {
    throw new InvalidArgumentError(`Expected \`secondLength\` to be a byte count (an integer ≥ 0), got ${describeValue(secondLength)}.`)
  }
  const a = fromBytes(first, spec.width, 'first')
  const b = fromBytes(second, spec.width, 'second')
  if (secondLength === 0) return toBytes(a, spec.width)
  return toBytes(multiplyModP(shiftOperator(algorithm, secondLength), a, spec.width, spec.poly) ^ b, spec.width)
}
