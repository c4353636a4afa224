#!/usr/bin/env node
// Builds the WebAssembly module behind core's CRC32, CRC32C and CRC64NVME (table-driven,
// slicing-by-16) and writes it, as a byte array, to packages/core/src/internal/crc-wasm-module.ts.
//
// Why our own WebAssembly: measured with `pnpm --filter @partstream/bench bench:micro --filter Checksum`
// (bench/results/checksums-node/micro-latest.md, medians on a shared 2-core VM), slicing-by-16 in
// WebAssembly runs CRC32C and CRC64NVME at 1.5 and 1.3 GiB/s on Node 20 (2.3–2.7 GiB/s best of
// five in a scratch run), where the maintained packages run at 0.05 (@aws-crypto/crc32c), 1.1
// (@aws-sdk/crc64-nvme) and 1.0 / 0.5 GiB/s (hash-wasm); the faster native ones (@node-rs/crc32,
// aws-crt) would be runtime dependencies with a binary per platform. The WAT is generated here (a loop unrolled 16 times is easier to get right as a
// template than by hand) and assembled with wabt, a dev dependency only.
//
//   node scripts/build-crc-wasm.mjs           rewrite the module
//   node scripts/build-crc-wasm.mjs --check   exit 1 if the committed module differs (pnpm lint)
//
// Memory layout (64 KiB pages), shared with crc-wasm-module.ts's constants:
//   0      CRC32 tables: 16 × 256 little-endian u32 (16 KiB)    table k at 0 + k × 1024
//   16384  CRC32C tables, the same shape
//   32768  CRC64NVME tables: 16 × 256 little-endian u64 (32 KiB) table k at 32768 + k × 2048
//   65536  input window (128 KiB): the caller copies each slice of its bytes here
// The tables are filled by the TypeScript side when the module is instantiated. Table k maps a
// byte to the CRC contribution of that byte followed by k zero bytes, so 16 bytes are folded
// into the register with 16 independent lookups XORed together (slicing-by-16).
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import wabtInit from 'wabt'

const OUT = fileURLToPath(new URL('../packages/core/src/internal/crc-wasm-module.ts', import.meta.url))
const TABLES_64 = 32768
const INPUT = 65536
const INPUT_BYTES = 131072
const PAGES = (INPUT + INPUT_BYTES) / 65536

/** A balanced XOR of `terms`: short dependency chains for the CPU. */
const xorTree = (terms, op) => (terms.length === 1 ? terms[0] : `(${op} ${xorTree(terms.slice(0, terms.length >> 1), op)} ${xorTree(terms.slice(terms.length >> 1), op)})`)

/**
 * `crc32(crc, p, n, tables) → crc`: the (pre-inverted) register after `n` bytes at `p`, with the
 * 16 tables at `tables`. Byte b of a word indexes table (15 - position): `(w >> 8b) & 255`, × 4.
 */
function crc32Function() {
  const index = (word, b) => {
    let x = `(local.get $w${word})`
    if (b > 0) x = `(i32.shr_u ${x} (i32.const ${b * 8}))`
    if (b < 3) x = `(i32.and ${x} (i32.const 255))`
    return `(i32.shl ${x} (i32.const 2))`
  }
  const terms = []
  for (let j = 0; j < 16; j++) terms.push(`(i32.load offset=${(15 - j) * 1024} (i32.add (local.get $tables) ${index(j >> 2, j & 3)}))`)
  return `
  (func (export "crc32") (param $crc i32) (param $p i32) (param $n i32) (param $tables i32) (result i32)
    (local $end i32) (local $w0 i32) (local $w1 i32) (local $w2 i32) (local $w3 i32)
    (local.set $end (i32.add (local.get $p) (i32.and (local.get $n) (i32.const -16))))
    (block $blocks_done (loop $blocks
      (br_if $blocks_done (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $w0 (i32.xor (i32.load (local.get $p)) (local.get $crc)))
      (local.set $w1 (i32.load offset=4 (local.get $p)))
      (local.set $w2 (i32.load offset=8 (local.get $p)))
      (local.set $w3 (i32.load offset=12 (local.get $p)))
      (local.set $crc ${xorTree(terms, 'i32.xor')})
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br $blocks)))
    (local.set $end (i32.add (local.get $end) (i32.and (local.get $n) (i32.const 15))))
    (block $bytes_done (loop $bytes
      (br_if $bytes_done (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $crc (i32.xor (i32.shr_u (local.get $crc) (i32.const 8))
        (i32.load (i32.add (local.get $tables) (i32.shl (i32.and (i32.xor (local.get $crc) (i32.load8_u (local.get $p))) (i32.const 255)) (i32.const 2))))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $bytes)))
    (local.get $crc))`
}

/**
 * `crc64(crc, p, n) → crc`, the same for CRC64NVME. The table offset of byte b is computed as
 * `(q >> (8b - 3)) & 0x7f8` (shift and mask, already × 8): one instruction fewer per byte than
 * extracting the byte and scaling it, measured ~20% faster on V8.
 */
function crc64Function() {
  const index = (word, b) =>
    b === 0
      ? `(i32.and (i32.shl (i32.wrap_i64 (local.get $q${word})) (i32.const 3)) (i32.const 2040))`
      : `(i32.and (i32.wrap_i64 (i64.shr_u (local.get $q${word}) (i64.const ${b * 8 - 3}))) (i32.const 2040))`
  const terms = []
  for (let j = 0; j < 16; j++) terms.push(`(i64.load offset=${TABLES_64 + (15 - j) * 2048} ${index(j >> 3, j & 7)})`)
  return `
  (func (export "crc64") (param $crc i64) (param $p i32) (param $n i32) (result i64)
    (local $end i32) (local $q0 i64) (local $q1 i64)
    (local.set $end (i32.add (local.get $p) (i32.and (local.get $n) (i32.const -16))))
    (block $blocks_done (loop $blocks
      (br_if $blocks_done (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $q0 (i64.xor (i64.load (local.get $p)) (local.get $crc)))
      (local.set $q1 (i64.load offset=8 (local.get $p)))
      (local.set $crc ${xorTree(terms, 'i64.xor')})
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br $blocks)))
    (local.set $end (i32.add (local.get $end) (i32.and (local.get $n) (i32.const 15))))
    (block $bytes_done (loop $bytes
      (br_if $bytes_done (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $crc (i64.xor (i64.shr_u (local.get $crc) (i64.const 8))
        (i64.load offset=${TABLES_64} (i32.shl (i32.and (i32.xor (i32.wrap_i64 (local.get $crc)) (i32.load8_u (local.get $p))) (i32.const 255)) (i32.const 3)))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $bytes)))
    (local.get $crc))`
}

const wat = `(module\n  (memory (export "memory") ${PAGES})${crc32Function()}${crc64Function()})\n`

const wabt = await wabtInit()
const parsed = wabt.parseWat('crc.wat', wat)
parsed.validate()
const bytes = parsed.toBinary({}).buffer
parsed.destroy()

const lines = []
for (let i = 0; i < bytes.length; i += 32) lines.push(`  ${Array.from(bytes.subarray(i, i + 32)).join(', ')},`)
const source = `// Generated by scripts/build-crc-wasm.mjs (which explains the module and its layout): do not edit.
// Rebuild with \`node scripts/build-crc-wasm.mjs\`; \`pnpm lint\` checks this file is up to date.

/** Bytes of CRC32 tables (16 × 256 × 4); the CRC32 tables start at 0, the CRC32C ones right after. */
export const CRC32_TABLES_BYTES = 16384
/** Where the CRC64NVME tables (16 × 256 × 8) start. */
export const CRC64_TABLES_OFFSET = ${TABLES_64}
/** Where the input window starts, and its size: bytes are copied in and hashed one window at a time. */
export const INPUT_OFFSET = ${INPUT}
export const INPUT_BYTES = ${INPUT_BYTES}

/** The module: exports \`memory\`, \`crc32(crc, p, n, tables)\` and \`crc64(crc, p, n)\` (slicing-by-16). */
export const CRC_WASM: Uint8Array = new Uint8Array([
${lines.join('\n')}
])
`

if (process.argv.includes('--check')) {
  let current = ''
  try {
    current = readFileSync(OUT, 'utf8')
  } catch {
    // missing: reported below
  }
  if (current !== source) {
    console.error(`crc wasm check: ${OUT} is not what scripts/build-crc-wasm.mjs builds; run it`)
    process.exit(1)
  }
  console.log(`crc wasm check: module up to date (${bytes.length} bytes)`)
} else {
  writeFileSync(OUT, source)
  console.log(`wrote ${OUT} (${bytes.length} bytes of WebAssembly)`)
}
