/**
 * Micro benchmarks (mitata's `measure`), old and new variants side by side:
 * - the split loop: `toParts` over 1 GiB of 64 KiB views with `hash: null`, next to the
 *   concat-per-part loop lib-storage uses;
 * - SHA-256 of one 6 MiB part: node:crypto, WebCrypto, @aws-crypto/sha256-js, core's portable one;
 * - checksums (CRC32, CRC32C, CRC64NVME, SHA-1, SHA-256) of 64 KiB chunks: every candidate package
 *   next to core's WebAssembly and pure-JS engines and node:zlib / node:crypto;
 * - signing one UploadPart request with a precomputed payload hash (`SignatureV4.sign`), with the
 *   HMAC engine the signer uses (sha256-js) and with node:crypto.
 *
 *   node --expose-gc dist/src/micro.js            full (a few minutes)
 *   node dist/src/micro.js --quick                tiny sizes, few samples (CI)
 *   node dist/src/micro.js --filter sha           only groups/cases matching a regexp
 */
import { createHash, createHmac, webcrypto } from 'node:crypto'
import { parseArgs } from 'node:util'
import { Sha256 as Sha256Js } from '@aws-crypto/sha256-js'
import { bufferParts, createCrc32, createCrc32c, createCrc64Nvme, createSha256, toParts, type Hasher } from '@partstream/core'
import { SignatureV4 } from '@smithy/signature-v4'
import { measure } from 'mitata'
import { resultsDestination, writeResults } from './internal/cli.ts'
import { markdownTable } from './internal/markdown.ts'
import { BENCH_CREDENTIALS } from './internal/protocol.ts'
import { fillPattern } from './internal/sources.ts'
import { describeSystem, systemLine } from './internal/system.ts'
import { KiB, MiB, fmt, formatSize } from './internal/units.ts'

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    filter: { type: 'string' },
    out: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
  },
})
const quick = args.quick
const filter = args.filter === undefined ? undefined : new RegExp(args.filter, 'i')
const { write, outDir } = resultsDestination(args)

interface MeasureOptions {
  readonly min_samples?: number
  readonly max_samples?: number
  readonly min_cpu_time?: number
  readonly batch_samples?: number
}
interface Case {
  readonly name: string
  /** Bytes processed per call, for MiB/s; undefined: report calls/s. */
  readonly bytes: number | undefined
  readonly fn: () => unknown
}
interface Group {
  readonly title: string
  readonly cases: readonly Case[]
  /** mitata `measure` options: sample counts and time budget. */
  readonly options: MeasureOptions
}

const CHUNK = 64 * KiB
const PART = 6 * MiB
const SPLIT_BYTES = quick ? 64 * MiB : 1024 * MiB

// ---- split loop ----
const big = fillPattern(new Uint8Array(SPLIT_BYTES))
const ring = Array.from({ length: 16 }, () => fillPattern(new Uint8Array(CHUNK)))
function* views(): Generator<Uint8Array> {
  for (let o = 0; o < SPLIT_BYTES; o += CHUNK) yield big.subarray(o, o + CHUNK)
}
async function* asyncViews(): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < SPLIT_BYTES; o += CHUNK) yield big.subarray(o, o + CHUNK)
}
/** Whole 64 KiB buffers (a ring of 16, reused): what a socket or file stream yields; never copied. */
function* ownBuffers(): Generator<Uint8Array> {
  for (let i = 0; i < SPLIT_BYTES / CHUNK; i++) yield ring[i % ring.length] as Uint8Array
}
async function drainParts(parts: AsyncIterable<{ byteLength: number }>): Promise<number> {
  let n = 0
  for await (const p of parts) n += p.byteLength
  if (n !== SPLIT_BYTES) throw new Error(`split ${n} bytes, expected ${SPLIT_BYTES}`)
  return n
}
/** lib-storage's getChunkStream (dist-cjs/index.js): concatenate the buffered chunks once per part. */
async function* concatPerPart(source: AsyncIterable<Uint8Array>, partSize: number): AsyncGenerator<{ byteLength: number; data: Buffer }> {
  let chunks: Uint8Array[] = []
  let length = 0
  for await (const datum of source) {
    chunks.push(datum)
    length += datum.byteLength
    while (length > partSize) {
      const data = chunks.length > 1 ? Buffer.concat(chunks) : Buffer.from(chunks[0] as Uint8Array)
      yield { byteLength: partSize, data: data.subarray(0, partSize) }
      chunks = [data.subarray(partSize)]
      length = (chunks[0] as Uint8Array).byteLength
    }
  }
  const data = Buffer.concat(chunks)
  yield { byteLength: data.byteLength, data }
}

const splitGroup: Group = {
  title: `Split loop: ${formatSize(SPLIT_BYTES)} of ${formatSize(CHUNK)} chunks into ${formatSize(PART)} parts, no hashing`,
  options: quick ? { min_samples: 2, max_samples: 3, min_cpu_time: 0 } : { min_samples: 8, max_samples: 30, min_cpu_time: 2e9 },
  cases: [
    { name: 'toParts, sync generator of views (maxViewOverhead: Infinity)', bytes: SPLIT_BYTES, fn: () => drainParts(toParts(views(), { hash: null, partSize: PART, maxViewOverhead: Infinity })) },
    { name: 'toParts, async generator of views (maxViewOverhead: Infinity)', bytes: SPLIT_BYTES, fn: () => drainParts(toParts(asyncViews(), { hash: null, partSize: PART, maxViewOverhead: Infinity })) },
    { name: 'toParts, sync generator of chunk-sized buffers (default options)', bytes: SPLIT_BYTES, fn: () => drainParts(toParts(ownBuffers(), { hash: null, partSize: PART })) },
    { name: 'toParts, views of the big buffer, default maxViewOverhead (copies each view)', bytes: SPLIT_BYTES, fn: () => drainParts(toParts(views(), { hash: null, partSize: PART })) },
    { name: 'bufferParts(1 buffer) (Uint8Array path, views only)', bytes: SPLIT_BYTES, fn: () => bufferParts(big, { partSize: PART, hash: null }).length },
    { name: 'lib-storage getChunkStream algorithm (Buffer.concat per part)', bytes: SPLIT_BYTES, fn: () => drainParts(concatPerPart(asyncViews(), PART)) },
  ],
}

// ---- SHA-256 of one part ----
const part = fillPattern(new Uint8Array(PART))
const partChunks = Array.from({ length: PART / CHUNK }, (_, i) => part.subarray(i * CHUNK, (i + 1) * CHUNK))
async function hashChunks(make: () => Hasher): Promise<Uint8Array> {
  const h = make()
  for (const c of partChunks) h.update(c)
  return await h.digest()
}
const hashGroup: Group = {
  title: `SHA-256 of one ${formatSize(PART)} part`,
  options: quick ? { min_samples: 2, max_samples: 3, min_cpu_time: 0 } : { min_samples: 12, max_samples: 200, min_cpu_time: 1e9 },
  cases: [
    { name: `node:crypto createHash, ${PART / CHUNK} × ${formatSize(CHUNK)} updates (signer default)`, bytes: PART, fn: () => hashChunks(() => createHash('sha256')) },
    { name: 'node:crypto createHash, one update', bytes: PART, fn: () => createHash('sha256').update(part).digest() },
    { name: 'WebCrypto crypto.subtle.digest (one contiguous buffer)', bytes: PART, fn: () => webcrypto.subtle.digest('SHA-256', part) },
    { name: `@aws-crypto/sha256-js, ${PART / CHUNK} updates`, bytes: PART, fn: () => hashChunks(() => new Sha256Js()) },
    { name: `@partstream/core createSha256 (portable default), ${PART / CHUNK} updates`, bytes: PART, fn: () => hashChunks(createSha256) },
  ],
}

// ---- checksums of 64 KiB chunks ----
/**
 * Every checksum candidate (issue 12), each fed one 16 MiB buffer as 64 KiB chunks (the chunk size
 * of the e2e stream source) then digested. A candidate that cannot load on this runtime (a native
 * binding, `Bun.hash`) is listed under the table instead of measured. signer's choice per
 * algorithm is marked: packages/signer/src/http/checksum.ts cites these figures.
 */
const SUM_BYTES = quick ? 1 * MiB : 16 * MiB
const sumData = fillPattern(new Uint8Array(SUM_BYTES))
const sumChunks = Array.from({ length: SUM_BYTES / CHUNK }, (_, i) => sumData.subarray(i * CHUNK, (i + 1) * CHUNK))
interface Summer {
  update(data: Uint8Array): unknown
  digest(): unknown
}
const skipped: string[] = []
async function sumCase(name: string, make: () => Summer | Promise<Summer>): Promise<Case | undefined> {
  try {
    await make()
  } catch (error) {
    skipped.push(`${name}: ${String(error instanceof Error ? error.message : error).split('\n')[0]}`)
    return undefined
  }
  return {
    name,
    bytes: SUM_BYTES,
    fn: async () => {
      const h = await make()
      for (const chunk of sumChunks) h.update(chunk)
      return h.digest()
    },
  }
}
/** A `(data, previous) => number` CRC function as an update/digest pair. */
const stateful = (f: (data: Uint8Array, previous: number) => number): Summer => {
  let value = 0
  return { update: (d) => (value = f(d, value)), digest: () => value }
}
type Engine = { update32(a: 'CRC32' | 'CRC32C', r: number, d: Uint8Array): number; update64(r: bigint, d: Uint8Array): bigint }
// core's pure-JS engine (the fallback where WebAssembly is missing): internal, so by file path.
const coreCrcInternals = (await import(new URL('../../../packages/core/dist/src/internal/crc.js', import.meta.url).href)) as { jsCrcEngine(): Engine }
const jsEngine = coreCrcInternals.jsCrcEngine()
const jsCrc = (algorithm: 'CRC32' | 'CRC32C'): Summer => {
  let r = -1
  return { update: (d) => (r = jsEngine.update32(algorithm, r, d)), digest: () => ~r >>> 0 }
}
const { crc32: zlibCrc32 } = (await import('node:zlib')) as { crc32?: (data: Uint8Array, value?: number) => number }
const bunHash = (globalThis as { Bun?: { hash: { crc32(d: Uint8Array, seed?: number): number } } }).Bun?.hash
const hashWasm = await import('hash-wasm')
const { AwsCrc32 } = await import('@aws-crypto/crc32')
const { AwsCrc32c } = await import('@aws-crypto/crc32c')
const { Crc64Nvme } = await import('@aws-sdk/crc64-nvme')
const CRC64_NVME_REFLECTED = '9a6c9329ac4bc9b5'
const sumCases = (
  await Promise.all([
    sumCase('CRC32: node zlib.crc32 (signer default where present)', () => {
      if (zlibCrc32 === undefined) throw new Error('no zlib.crc32 (Node < 20.15)')
      return stateful(zlibCrc32)
    }),
    sumCase('CRC32: @partstream/core createCrc32 (WebAssembly; signer fallback)', createCrc32),
    sumCase('CRC32: core pure-JS engine (slicing-by-8, without WebAssembly)', () => jsCrc('CRC32')),
    sumCase('CRC32: @aws-crypto/crc32 (lib-storage default)', () => new AwsCrc32()),
    sumCase('CRC32: crc-32 (SheetJS, pure JS)', async () => {
      const { default: crc32 } = (await import('crc-32')) as unknown as { default: { buf(d: Uint8Array, seed?: number): number } }
      return stateful((d, v) => crc32.buf(d, v))
    }),
    sumCase('CRC32: hash-wasm createCRC32', () => hashWasm.createCRC32()),
    sumCase('CRC32: @node-rs/crc32 (native binding)', async () => {
      const { crc32 } = await import('@node-rs/crc32')
      return stateful((d, v) => crc32(Buffer.from(d.buffer, d.byteOffset, d.byteLength), v))
    }),
    sumCase('CRC32: Bun.hash.crc32', () => {
      if (bunHash === undefined) throw new Error('Bun only')
      return stateful((d, v) => bunHash.crc32(d, v))
    }),
    sumCase('CRC32C: @partstream/core createCrc32c (WebAssembly; signer default)', createCrc32c),
    sumCase('CRC32C: core pure-JS engine (slicing-by-8)', () => jsCrc('CRC32C')),
    sumCase('CRC32C: @aws-crypto/crc32c', () => new AwsCrc32c()),
    sumCase('CRC32C: hash-wasm createCRC32(0x82f63b78)', () => hashWasm.createCRC32(0x82f63b78)),
    sumCase('CRC32C: @node-rs/crc32 crc32c (native binding)', async () => {
      const { crc32c } = await import('@node-rs/crc32')
      return stateful((d, v) => crc32c(Buffer.from(d.buffer, d.byteOffset, d.byteLength), v))
    }),
    sumCase('CRC64NVME: @partstream/core createCrc64Nvme (WebAssembly; signer default)', createCrc64Nvme),
    sumCase('CRC64NVME: core pure-JS engine (slicing-by-8)', () => {
      let r = -1n
      return { update: (d) => (r = jsEngine.update64(r, d)), digest: () => r }
    }),
    sumCase('CRC64NVME: @aws-sdk/crc64-nvme (the SDK default, pure JS)', () => new Crc64Nvme()),
    sumCase('CRC64NVME: @aws-sdk/crc64-nvme-crt (aws-crt native)', async () => {
      const { CrtCrc64Nvme } = await import('@aws-sdk/crc64-nvme-crt')
      return new CrtCrc64Nvme()
    }),
    sumCase(`CRC64NVME: hash-wasm createCRC64('${CRC64_NVME_REFLECTED}')`, () => hashWasm.createCRC64(CRC64_NVME_REFLECTED)),
    sumCase('SHA1: node:crypto createHash (signer default)', () => createHash('sha1')),
    sumCase('SHA1: hash-wasm createSHA1', () => hashWasm.createSHA1()),
    sumCase('SHA256: node:crypto createHash (signer default; reused from the payload hash)', () => createHash('sha256')),
    sumCase('SHA256: hash-wasm createSHA256', () => hashWasm.createSHA256()),
  ])
).filter((c): c is Case => c !== undefined)
const sumGroup: Group = {
  title: `Checksums of ${formatSize(SUM_BYTES)} as ${formatSize(CHUNK)} chunks`,
  options: quick ? { min_samples: 2, max_samples: 3, min_cpu_time: 0 } : { min_samples: 12, max_samples: 100, min_cpu_time: 1e9 },
  cases: sumCases,
}

// ---- signing ----
/** A smithy `ChecksumConstructor` over node:crypto: Hmac with a secret, Hash without. */
class NodeSha256 {
  #secret: Uint8Array | string | undefined
  #h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#secret =
      secret === undefined || typeof secret === 'string'
        ? secret
        : secret instanceof ArrayBuffer
          ? new Uint8Array(secret)
          : new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength)
    this.#h = this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret)
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#h.update(typeof data === 'string' ? data : data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
  }
  async digest(): Promise<Uint8Array> {
    return this.#h.digest()
  }
  reset(): void {
    this.#h = this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret)
  }
}
// The signer package configures SignatureV4 exactly so (packages/signer/src/http/context.ts).
const jsSigner = new SignatureV4({ service: 's3', region: 'us-east-1', credentials: BENCH_CREDENTIALS, sha256: Sha256Js, uriEscapePath: false, applyChecksum: false })
const nodeSigner = new SignatureV4({ service: 's3', region: 'us-east-1', credentials: BENCH_CREDENTIALS, sha256: NodeSha256, uriEscapePath: false, applyChecksum: false })
const payloadHash = createHash('sha256').update(part).digest('hex')
const signingDate = new Date()
const uploadPartRequest = () => ({
  method: 'PUT',
  protocol: 'http:',
  hostname: '127.0.0.1',
  port: 9000,
  path: '/bench/some/object%20key.bin',
  query: { partNumber: '17', uploadId: 'VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA' },
  headers: { host: '127.0.0.1:9000', 'x-amz-content-sha256': payloadHash, 'content-length': String(PART) },
})
const signGroup: Group = {
  title: 'Sign one UploadPart request (payload hash precomputed)',
  options: quick ? { min_samples: 2, max_samples: 3, min_cpu_time: 0, batch_samples: 16 } : { min_cpu_time: 1e9 },
  cases: [
    { name: 'SignatureV4.sign, HMAC by @aws-crypto/sha256-js (as the signer configures it)', bytes: undefined, fn: () => jsSigner.sign(uploadPartRequest(), { signingDate }) },
    { name: 'SignatureV4.sign, HMAC by node:crypto', bytes: undefined, fn: () => nodeSigner.sign(uploadPartRequest(), { signingDate }) },
  ],
}

// ---- run ----
const system = describeSystem()
const groups = [splitGroup, hashGroup, sumGroup, signGroup]
const sections: string[] = [
  '### Micro benchmarks',
  '',
  systemLine(system),
  '',
  `mitata ${quick ? '(quick: 2–3 samples, numbers are not meaningful)' : ''} · time per call: median [min–max]`,
]
const json: unknown[] = []
for (const group of groups) {
  const cases = group.cases.filter((c) => filter === undefined || filter.test(group.title) || filter.test(c.name))
  if (cases.length === 0) continue
  process.stderr.write(`${group.title}\n`)
  const measured: { c: Case; p50: number; min: number; max: number; samples: number }[] = []
  for (const c of cases) {
    await c.fn() // once for correctness before timing: a throwing case fails the run
    const stats = await measure(c.fn, group.options as Record<string, number>)
    measured.push({ c, p50: stats.p50, min: stats.min, max: stats.max, samples: stats.samples.length })
    process.stderr.write(`  ${c.name}: ${fmtTime(stats.p50)}\n`)
    json.push({ group: group.title, name: c.name, bytes: c.bytes, p50Ns: stats.p50, minNs: stats.min, maxNs: stats.max, avgNs: stats.avg, samples: stats.samples.length })
  }
  const fastest = Math.min(...measured.map((m) => m.p50))
  sections.push(
    '',
    `**${group.title}**`,
    '',
    markdownTable(
      ['variant', 'time per call', cases[0]?.bytes === undefined ? 'calls/s' : 'MiB/s', 'CPU s/GiB', 'vs fastest', 'samples'],
      measured.map((m) => [
        m.c.name,
        `${fmtTime(m.p50)} [${fmtTime(m.min)}–${fmtTime(m.max)}]`,
        m.c.bytes === undefined ? fmt(1e9 / m.p50) : fmt(m.c.bytes / MiB / (m.p50 / 1e9)),
        m.c.bytes === undefined ? '–' : fmt(m.p50 / 1e9 / (m.c.bytes / (1024 * MiB))),
        `${(m.p50 / fastest).toFixed(2)}×`,
        String(m.samples),
      ]),
      ['l', 'r', 'r', 'r', 'r', 'r'],
    ),
  )
}
if (skipped.length > 0 && (filter === undefined || filter.test(sumGroup.title))) {
  sections.push('', `Checksum candidates not measured on this runtime: ${skipped.join('; ')}.`)
}
sections.push(
  '',
  '- Single-threaded, synchronous work, so time per call ≈ CPU time (CPU s/GiB = seconds per GiB processed). ' +
    'Split cases allocate nothing per chunk except the copying variants; they measure the loop and its bookkeeping.',
)
const markdown = sections.join('\n')
console.log(`\n${markdown}`)
if (write) {
  const paths = writeResults('micro-', system.date, { system, quick, results: json }, markdown, outDir)
  process.stderr.write(`wrote ${paths.join(' and ')}\n`)
}

function fmtTime(ns: number): string {
  if (ns >= 1e9) return `${fmt(ns / 1e9)} s`
  if (ns >= 1e6) return `${fmt(ns / 1e6)} ms`
  if (ns >= 1e3) return `${fmt(ns / 1e3)} µs`
  return `${fmt(ns)} ns`
}
