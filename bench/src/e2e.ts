/**
 * End-to-end benchmark: partstream against @aws-sdk/lib-storage, in the same invocation,
 * interleaved, against a local S3 sink in its own process. One fresh client process per upload.
 *
 *   node dist/src/e2e.js                 1 GiB, 3 runs, every mode and concurrency
 *   node dist/src/e2e.js --quick         16 MiB, 1 run, concurrency 1 and 4 (CI: exits non-zero on any failure)
 *   node dist/src/e2e.js --size 8192 --modes stream,file --concurrency 4
 *   --pin                client on core 0 (taskset -c 0), sink on core 1
 *   --verify             the sink checks x-amz-content-sha256 against every body
 *   --tls                the sink serves HTTPS (a self-signed certificate made for the run, trusted by each client)
 *   --libs --modes --sources --payloads --concurrency   narrow the matrix
 *   --checksums none,CRC64NVME,CRC32C,CRC32,SHA1,SHA256   partstream's `checksum` per variant (default none)
 *   --hash-threads 0,1,auto   partstream's `hashThreads` per file-mode variant (default: the library's default)
 *   --part-size <MiB> --chunk <KiB> --pool <MiB> --runtime node|bun|deno --cpu-prof <dir>
 *   --out <dir> | --no-write | --tag <name>   where results go (default bench/results/<time>.json and latest.md;
 *                                      --tag names a partial run: <time>-<tag>.json, latest-<tag>.md; --quick writes nothing)
 */
import { constants as bufferConstants } from 'node:buffer'
import { parseArgs } from 'node:util'
import { enumList, intList, matrixOptions, matrixSettings, onInterrupt, positiveNumber, writeResults } from './internal/cli.ts'
import { cellOf, headerNotes, modeLabel, payloadLabel, runMatrix, summarize, type Variant, type VariantResult } from './internal/harness.ts'
import { markdownTable } from './internal/markdown.ts'
import { CHECKSUMS, type Checksum, type ChunkSource, type Library, type Mode, type Payload } from './internal/protocol.ts'
import { startSink } from './internal/sink-control.ts'
import { makeFile, removeFile, removeFileSync } from './internal/sources.ts'
import { makeCertificate, trustEnv } from './internal/tls.ts'
import { describeSystem, systemLine } from './internal/system.ts'
import { MiB, fmt, formatSize } from './internal/units.ts'

const { values: args } = parseArgs({
  options: {
    ...matrixOptions({ modes: 'stream,buffer,file', sources: 'views,fresh', libs: 'partstream,lib-storage,undici' }),
    size: { type: 'string' },
    runs: { type: 'string' },
    verify: { type: 'boolean', default: false },
    tls: { type: 'boolean', default: false },
    payloads: { type: 'string', default: 'sha256,unsigned' },
    checksums: { type: 'string', default: 'none' },
    'hash-threads': { type: 'string' },
    pool: { type: 'string', default: '16' },
    runtime: { type: 'string', default: 'node' },
    'cpu-prof': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
})

if (args.help) {
  const doc = /\/\*\*([\s\S]*?)\*\//.exec(await import('node:fs').then((fs) => fs.readFileSync(new URL(import.meta.url), 'utf8')))
  console.log(doc?.[1]?.replace(/^ \* ?/gm, '') ?? '')
  process.exit(0)
}

const quick = args.quick
const sizeBytes = Math.round(positiveNumber(args.size ?? (quick ? '16' : '1024'), 'size') * MiB)
const runs = intList(args.runs ?? (quick ? '1' : '3'), 'runs')[0] as number
let modes = enumList<Mode>(args.modes, 'modes', ['stream', 'buffer', 'file'])
const sources = enumList<ChunkSource>(args.sources, 'sources', ['views', 'fresh'])
const payloads = enumList<Exclude<Payload, 'default'>>(args.payloads, 'payloads', ['sha256', 'unsigned'])
const checksums = enumList<Checksum | 'none'>(args.checksums, 'checksums', ['none', ...CHECKSUMS]).map((c) => (c === 'none' ? undefined : c))
let libs = enumList<Library>(args.libs, 'libs', ['partstream', 'lib-storage', 'undici', 'bun-s3'])
// --quick: 16 MiB is 3 parts, so concurrency 16 would measure the same thing as 4.
const { concurrencies, partSizeBytes, chunkBytes, write, outDir } = matrixSettings(args)
const hashThreadsList: Array<number | 'auto' | undefined> =
  args['hash-threads'] === undefined
    ? [undefined]
    : args['hash-threads'].split(',').map((t) => {
        if (t === 'auto') return 'auto'
        if (!/^\d+$/.test(t)) throw new Error(`--hash-threads: expected integers or 'auto', got ${JSON.stringify(t)}`)
        return Number(t)
      })
const poolBytes = Math.round(positiveNumber(args.pool, 'pool') * MiB)

const notes: string[] = []
const log = (line: string): void => {
  process.stderr.write(`${line}\n`)
}

const signer = (await import('@partstream/signer')) as Record<string, unknown>
if (modes.includes('file') && typeof signer['uploadFile'] !== 'function') {
  modes = modes.filter((m) => m !== 'file')
  const note = 'file mode skipped: @partstream/signer does not export uploadFile.'
  notes.push(note)
  log(`note: ${note}`)
}
if (modes.includes('buffer') && sizeBytes > bufferConstants.MAX_LENGTH) {
  modes = modes.filter((m) => m !== 'buffer')
  const note = `Uint8Array mode skipped: ${formatSize(sizeBytes)} is more than this runtime's largest buffer (${formatSize(bufferConstants.MAX_LENGTH)}).`
  notes.push(note)
  log(`note: ${note}`)
}

const system = describeSystem(args.runtime)
// Bun ships its own S3 writer: on Bun it is measured in the same run (unless --libs says otherwise).
if (system.runtime === 'bun' && args.libs === 'partstream,lib-storage,undici') libs.push('bun-s3')
if (system.runtime !== 'bun' && libs.includes('bun-s3')) {
  libs = libs.filter((l) => l !== 'bun-s3')
  notes.push('bun-s3 skipped: Bun.S3Client exists only on Bun (--runtime bun).')
}
if (system.runtime === 'bun' && libs.includes('undici')) {
  libs = libs.filter((l) => l !== 'undici')
  const note = "undici ceiling skipped: Bun's built-in `undici` module is a stub that cannot be measured like the real one."
  notes.push(note)
  log(`note: ${note}`)
}

const variants: Variant[] = []
for (const mode of modes) {
  for (const source of mode === 'stream' ? sources : [undefined]) {
    for (const concurrency of concurrencies) {
      for (const lib of libs) {
        // The raw PUT is one request: it sits in the cell of the lowest concurrency.
        if (lib === 'undici' && concurrency !== Math.min(...concurrencies)) continue
        for (const payload of lib === 'partstream' ? payloads : lib === 'undici' ? (['none'] as const) : lib === 'bun-s3' ? (['sha256'] as const) : (['default'] as const)) {
          for (const checksum of lib === 'partstream' ? checksums : [undefined]) {
            for (const hashThreads of lib === 'partstream' && mode === 'file' ? hashThreadsList : [undefined]) {
              variants.push({ lib, mode, source, concurrency, payload, checksum, hashThreads, sizeBytes })
            }
          }
        }
      }
    }
  }
}

const pin = args.pin
const certificate = args.tls ? await makeCertificate() : undefined
const sink = await startSink({ verify: args.verify, cpus: pin ? '1' : undefined, tls: certificate })
let file: string | undefined
onInterrupt(() => {
  removeFileSync(file)
  certificate?.remove()
})
let results: VariantResult[]
try {
  if (modes.includes('file')) {
    log(`writing a ${formatSize(sizeBytes)} file for file mode…`)
    file = await makeFile(sizeBytes)
  }
  log(`${variants.length} variants × ${runs} runs at ${formatSize(sizeBytes)}, sink at ${sink.endpoint}`)
  results = await runMatrix(variants, {
    runs,
    sink,
    partSizeBytes,
    chunkBytes,
    poolBytes,
    fileFor: () => file,
    client: { cpus: pin ? '0' : undefined, runtime: args.runtime, cpuProfDir: args['cpu-prof'], env: certificate === undefined ? undefined : trustEnv(certificate.certPath) },
    sampleMs: 10,
    log,
  })
} finally {
  await sink.close()
  await removeFile(file)
  certificate?.remove()
}

// ---- report ----
const byCell = new Map<string, VariantResult[]>()
for (const r of results) byCell.set(cellOf(r.variant), [...(byCell.get(cellOf(r.variant)) ?? []), r])

const rows: string[][] = []
for (const r of results) {
  const s = summarize(r)
  const v = r.variant
  let ratio = ''
  if (v.lib === 'partstream') {
    const base = byCell.get(cellOf(v))?.find((x) => x.variant.lib === 'lib-storage')
    const b = base === undefined ? undefined : summarize(base)
    if (b?.mibps.median !== undefined && s.mibps.median !== undefined && b.cpuPerGiB !== undefined && s.cpuPerGiB !== undefined) {
      ratio = `${(s.mibps.median / b.mibps.median).toFixed(2)}× / ${(s.cpuPerGiB / b.cpuPerGiB).toFixed(2)}×`
    }
  }
  const failed = r.failures.length > 0 ? ` (${r.failures.length} failed)` : ''
  rows.push([
    (v.lib === 'undici' ? 'undici PUT (ceiling)' : v.lib === 'bun-s3' ? 'Bun.S3Client writer' : v.lib) + failed,
    modeLabel(v),
    v.lib === 'undici' ? '1' : String(v.concurrency),
    payloadLabel(v),
    s.runs === 0 ? 'failed' : `${fmt(s.mibps.median)} [${fmt(s.mibps.min)}–${fmt(s.mibps.max)}]`,
    fmt(s.cpuPerGiB),
    s.runs === 0 ? '–' : `${fmt(s.rssOverBaselineMiB.median)}${s.runs > 1 ? ` (max ${fmt(s.rssOverBaselineMiB.max)})` : ''}`,
    fmt(s.requests),
    fmt(s.connections),
    ratio,
  ])
}

const ls = headerNotes(results, 'lib-storage')
const ps = headerNotes(results, 'partstream')
const failures = results.flatMap((r) => r.failures.map((f) => `${r.variant.lib} ${modeLabel(r.variant)} c=${r.variant.concurrency} ${payloadLabel(r.variant)}: ${f}`))
const lines = [
  `### End-to-end: partstream vs @aws-sdk/lib-storage`,
  '',
  `${systemLine(system)}`,
  '',
  `${formatSize(sizeBytes)} per upload · ${formatSize(partSizeBytes)} parts · ${formatSize(chunkBytes)} chunks · ${runs} run${runs > 1 ? 's' : ''}, interleaved · ` +
    `client pinned: ${pin ? 'core 0 (sink core 1)' : 'no'} · sink verifies x-amz-content-sha256: ${args.verify ? 'yes' : 'no'} · ` +
    `${args.tls ? 'HTTPS (self-signed P-256 certificate made for the run, trusted through NODE_EXTRA_CA_CERTS / DENO_CERT)' : 'plain HTTP'}`,
  '',
  markdownTable(
    ['library', 'mode', 'conc', 'payload', 'MiB/s median [min–max]', 'CPU s/GiB', 'peak RSS Δ MiB', 'requests', 'connections', 'vs lib-storage (MiB/s, CPU)'],
    rows,
    ['l', 'l', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
  ),
  '',
  '- MiB/s: object bytes / wall time of the upload call, in the client. CPU: user + sys of the client process during the upload ' +
    '(generating the source chunks included; it is the same work for both libraries). Peak RSS Δ: the client process\'s peak RSS ' +
    '(max of 10 ms samples and VmHWM) minus its RSS after imports and source preparation; every upload runs in a fresh process. ' +
    'Requests and connections: as counted by the sink.',
  '- undici PUT (ceiling): the same source sent as one raw PUT with undici: no signing, no hashing, no parts. ' +
    'It is what this machine, loopback and sink allow one request at a time; it is not an uploader. ' +
    '(In file mode it streams `fs.createReadStream` in 64 KiB reads, so `uploadFile`\'s 6 MiB positional reads can beat it.)',
  ...[
    modes.includes('stream')
      ? '- stream: an async generator of chunks (lib-storage gets `Readable.from(generator)`, the documented way to pass one). ' +
        `stream/views: views cycling through one preallocated ${formatSize(poolBytes)} buffer (partstream is given ` +
        '`maxViewOverhead: Infinity`, since that buffer is resident anyway); stream/fresh: a `Buffer.allocUnsafe` per chunk.'
      : '',
    modes.includes('buffer') ? '- Uint8Array: one buffer holding the whole object, allocated (and resident) before the baseline.' : '',
    modes.includes('file') ? '- file: `uploadFile(path)` vs lib-storage with `fs.createReadStream(path)`; the file is in the page cache.' : '',
  ].filter((line) => line !== ''),
  '- Peak RSS Δ includes one-time first-use costs (JIT-compiled code, lazily initialised modules, allocator arenas): for partstream about ' +
    '10–15 MiB on Node (30–35 before 2026-11-30, when V8 still compiled undici\'s parser a second time); a second upload in the same process adds only a few MiB. `bench:memory` separates the bytes the library holds.',
]
if (ls.requests > 0) {
  lines.push(
    `- lib-storage runs with client-s3 defaults (\`requestChecksumCalculation: 'WHEN_SUPPORTED'\`): the sink saw ` +
      `x-amz-content-sha256 = ${ls.payloadHash.join(', ')}; checksum headers: ${ls.checksum.join(', ') || 'none'}; ` +
      `\`Expect: 100-continue\` on ${ls.expect} of ${ls.requests} requests.`,
  )
}
if (ps.requests > 0) {
  lines.push(
    `- partstream: x-amz-content-sha256 = ${ps.payloadHash.join(', ')}; checksum headers: ${ps.checksum.join(', ') || 'none'}; ` +
      `\`Expect: 100-continue\` on ${ps.expect} of ${ps.requests} requests. \`unsigned\` = \`payload: 'unsigned'\` (no hashing; meant for HTTPS).`,
  )
}
for (const [name, notes] of [['partstream', ps], ['lib-storage', ls]] as const) {
  for (const w of notes.warnings) lines.push(`- ${name} printed a process warning: ${w}`)
}
if (args.verify) {
  const verified = results.reduce((n, r) => n + r.measurements.reduce((m, x) => m + x.sink.verified, 0), 0)
  lines.push(`- The sink checked x-amz-content-sha256 against ${verified} bodies (sink CPU, not client CPU); mismatches fail the run.`)
}
for (const note of notes) lines.push(`- ${note}`)
if (failures.length > 0) {
  lines.push('', `**${failures.length} failed uploads:**`, ...failures.map((f) => `- ${f.split('\n')[0]}`))
}
const markdown = lines.join('\n')
console.log(`\n${markdown}`)

if (write) {
  const paths = writeResults(
    '',
    system.date,
    {
      system,
      settings: { sizeBytes, partSizeBytes, chunkBytes, poolBytes, runs, pin, verify: args.verify, runtime: args.runtime },
      notes,
      results: results.map((r) => ({ ...r, summary: summarize(r) })),
    },
    markdown,
    outDir,
    args.tag,
  )
  log(`wrote ${paths.join(' and ')}`)
}

const missing = libs.filter((lib) => !results.some((r) => r.variant.lib === lib && r.measurements.length > 0))
if (failures.length > 0 || missing.length > 0) {
  if (missing.length > 0) log(`no successful upload for: ${missing.join(', ')}`)
  process.exitCode = 1
}

