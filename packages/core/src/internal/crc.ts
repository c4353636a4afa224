/**
 * The CRC engines behind core's CRC32, CRC32C and CRC64NVME hashers: table-driven, slicing-by-16,
 * in WebAssembly (`crc-wasm-module.ts`, built by scripts/build-crc-wasm.mjs), with a pure-JS
 * slicing-by-8 engine where WebAssembly is missing or refused (`node --jitless`, a locked-down
 * embedding). Both share the same tables and give the same results (tested against the AWS SDK's
 * implementations).
 *
 * Registers are kept pre-inverted (init all ones, not yet XORed out), as the loops want them:
 * 32-bit ones as int32 numbers, 64-bit ones as BigInts (one conversion per update call, not per
 * byte).
 * @module
 */

import { CRC32_TABLES_BYTES, CRC64_TABLES_OFFSET, CRC_WASM, INPUT_BYTES, INPUT_OFFSET } from './crc-wasm-module.ts'
import { viewOf } from './views.ts'
import { webAssembly } from './web.ts'

/** The CRCs S3 accepts as checksums. All three are reflected, with init and xorout all ones. */
export type CrcAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME'

/** Width and reflected polynomial of each CRC (reveng's catalogue: CRC-32/ISO-HDLC, CRC-32/ISCSI, CRC-64/NVME). */
export const CRC_SPECS: Readonly<Record<CrcAlgorithm, { readonly width: 32 | 64; readonly poly: bigint }>> = {
  CRC32: { width: 32, poly: 0xedb88320n },
  CRC32C: { width: 32, poly: 0x82f63b78n },
  CRC64NVME: { width: 64, poly: 0x9a6c9329ac4bc9b5n },
}

/** A CRC engine: advances a pre-inverted register over `data`. */
export interface CrcEngine {
  readonly kind: 'wasm' | 'js'
  update32(algorithm: 'CRC32' | 'CRC32C', register: number, data: Uint8Array): number
  update64(register: bigint, data: Uint8Array): bigint
}

const SLICES = 16

/**
 * Slicing tables of a 32-bit reflected CRC: table k (at k × 256) maps a byte to the register
 * contribution of that byte followed by k zero bytes.
 */
function makeTables32(poly: number): Int32Array {
  const t = new Int32Array(SLICES * 256)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1
    t[i] = c
  }
  for (let k = 1; k < SLICES; k++) {
    for (let i = 0; i < 256; i++) {
      const prev = t[(k - 1) * 256 + i] as number
      t[k * 256 + i] = (prev >>> 8) ^ (t[prev & 255] as number)
    }
  }
  return t
}

/** The same for a 64-bit CRC, as (low, high) int32 pairs: entry i of table k at 2 × (k × 256 + i). */
function makeTables64(poly: bigint): Int32Array {
  const polyLo = Number(poly & 0xffffffffn) | 0
  const polyHi = Number(poly >> 32n) | 0
  const t = new Int32Array(SLICES * 256 * 2)
  for (let i = 0; i < 256; i++) {
    let lo = i
    let hi = 0
    for (let bit = 0; bit < 8; bit++) {
      const odd = lo & 1
      lo = (lo >>> 1) | (hi << 31)
      hi >>>= 1
      if (odd !== 0) {
        lo ^= polyLo
        hi ^= polyHi
      }
    }
    t[2 * i] = lo
    t[2 * i + 1] = hi
  }
  for (let k = 1; k < SLICES; k++) {
    for (let i = 0; i < 256; i++) {
      const at = 2 * ((k - 1) * 256 + i)
      const lo = t[at] as number
      const hi = t[at + 1] as number
      const j = 2 * (lo & 255)
      t[2 * (k * 256 + i)] = ((lo >>> 8) | (hi << 24)) ^ (t[j] as number)
      t[2 * (k * 256 + i) + 1] = (hi >>> 8) ^ (t[j + 1] as number)
    }
  }
  return t
}

let tables: { readonly crc32: Int32Array; readonly crc32c: Int32Array; readonly crc64: Int32Array } | undefined

/** The tables, made on first use (a few milliseconds, once per process). */
function allTables(): NonNullable<typeof tables> {
  tables ??= {
    crc32: makeTables32(Number(CRC_SPECS.CRC32.poly)),
    crc32c: makeTables32(Number(CRC_SPECS.CRC32C.poly)),
    crc64: makeTables64(CRC_SPECS.CRC64NVME.poly),
  }
  return tables
}

/** Pure-JS slicing-by-8 over a 32-bit table set. */
function jsUpdate32(t: Int32Array, register: number, data: Uint8Array): number {
  let crc = register
  const n = data.length
  const end = n - (n & 7)
  let i = 0
  while (i < end) {
    const a = ((data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24)) ^ crc
    crc =
      (t[1792 + (a & 255)] as number) ^
      (t[1536 + ((a >>> 8) & 255)] as number) ^
      (t[1280 + ((a >>> 16) & 255)] as number) ^
      (t[1024 + (a >>> 24)] as number) ^
      (t[768 + (data[i + 4] as number)] as number) ^
      (t[512 + (data[i + 5] as number)] as number) ^
      (t[256 + (data[i + 6] as number)] as number) ^
      (t[data[i + 7] as number] as number)
    i += 8
  }
  while (i < n) crc = (crc >>> 8) ^ (t[(crc ^ (data[i++] as number)) & 255] as number)
  return crc
}

/** Pure-JS slicing-by-8 over the 64-bit (low, high) table set. */
function jsUpdate64(t: Int32Array, register: bigint, data: Uint8Array): bigint {
  let lo = Number(register & 0xffffffffn) | 0
  let hi = Number((register >> 32n) & 0xffffffffn) | 0
  const n = data.length
  const end = n - (n & 7)
  let i = 0
  while (i < end) {
    const a = ((data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24)) ^ lo
    const b = ((data[i + 4] as number) | ((data[i + 5] as number) << 8) | ((data[i + 6] as number) << 16) | ((data[i + 7] as number) << 24)) ^ hi
    // Byte j of the 8 indexes table 7 - j; entries are (low, high) pairs.
    const k0 = 2 * (1792 + (a & 255))
    const k1 = 2 * (1536 + ((a >>> 8) & 255))
    const k2 = 2 * (1280 + ((a >>> 16) & 255))
    const k3 = 2 * (1024 + (a >>> 24))
    const k4 = 2 * (768 + (b & 255))
    const k5 = 2 * (512 + ((b >>> 8) & 255))
    const k6 = 2 * (256 + ((b >>> 16) & 255))
    const k7 = 2 * (b >>> 24)
    lo = (t[k0] as number) ^ (t[k1] as number) ^ (t[k2] as number) ^ (t[k3] as number) ^ (t[k4] as number) ^ (t[k5] as number) ^ (t[k6] as number) ^ (t[k7] as number)
    hi =
      (t[k0 + 1] as number) ^ (t[k1 + 1] as number) ^ (t[k2 + 1] as number) ^ (t[k3 + 1] as number) ^
      (t[k4 + 1] as number) ^ (t[k5 + 1] as number) ^ (t[k6 + 1] as number) ^ (t[k7 + 1] as number)
    i += 8
  }
  while (i < n) {
    const k = 2 * ((lo ^ (data[i++] as number)) & 255)
    lo = ((lo >>> 8) | (hi << 24)) ^ (t[k] as number)
    hi = (hi >>> 8) ^ (t[k + 1] as number)
  }
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)
}

/** The pure-JS engine (slicing-by-8): the fallback, and a cross-check in the tests. */
export function jsCrcEngine(): CrcEngine {
  const t = allTables()
  return {
    kind: 'js',
    update32: (algorithm, register, data) => jsUpdate32(algorithm === 'CRC32' ? t.crc32 : t.crc32c, register, data),
    update64: (register, data) => jsUpdate64(t.crc64, register, data),
  }
}

type Crc32Export = (crc: number, p: number, n: number, tables: number) => number
type Crc64Export = (crc: bigint, p: number, n: number) => bigint

/**
 * The WebAssembly engine, or `undefined` where WebAssembly is missing or refuses the module.
 * The module's memory never grows, so the views made here stay valid. Input is copied into the
 * module's window one slice at a time (a memcpy: ~3% of the CRC's own cost).
 */
export function wasmCrcEngine(): CrcEngine | undefined {
  if (webAssembly === undefined) return undefined
  let exports: Record<string, unknown>
  try {
    exports = new webAssembly.Instance(new webAssembly.Module(CRC_WASM), {}).exports
  } catch {
    return undefined
  }
  const memory = exports['memory'] as { readonly buffer: ArrayBuffer }
  const crc32 = exports['crc32'] as Crc32Export
  const crc64 = exports['crc64'] as Crc64Export
  const t = allTables()
  // WebAssembly memory is little-endian whatever the host: write the tables through a DataView.
  const view = new DataView(memory.buffer)
  for (let i = 0; i < t.crc32.length; i++) {
    view.setInt32(i * 4, t.crc32[i] as number, true)
    view.setInt32(CRC32_TABLES_BYTES + i * 4, t.crc32c[i] as number, true)
  }
  for (let i = 0; i < t.crc64.length; i++) view.setInt32(CRC64_TABLES_OFFSET + i * 4, t.crc64[i] as number, true)
  const bytes = new Uint8Array(memory.buffer)
  return {
    kind: 'wasm',
    update32(algorithm, register, data) {
      const at = algorithm === 'CRC32' ? 0 : CRC32_TABLES_BYTES
      let crc = register
      for (let offset = 0; offset < data.length; offset += INPUT_BYTES) {
        const slice = viewOf(data, offset, Math.min(INPUT_BYTES, data.length - offset))
        bytes.set(slice, INPUT_OFFSET)
        crc = crc32(crc, INPUT_OFFSET, slice.length, at)
      }
      return crc
    },
    update64(register, data) {
      let crc = register
      for (let offset = 0; offset < data.length; offset += INPUT_BYTES) {
        const slice = viewOf(data, offset, Math.min(INPUT_BYTES, data.length - offset))
        bytes.set(slice, INPUT_OFFSET)
        crc = crc64(crc, INPUT_OFFSET, slice.length)
      }
      return crc
    },
  }
}

let engine: CrcEngine | undefined

/** The engine core's hashers use: WebAssembly where it loads, else pure JS. Chosen once. */
export function crcEngine(): CrcEngine {
  engine ??= wasmCrcEngine() ?? jsCrcEngine()
  return engine
}
