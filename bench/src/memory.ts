/**
 * Memory benchmark: uploads streams and files of growing size at several concurrencies and
 * reports each upload's peak RSS over its baseline (fresh process per upload), to show that
 * memory stays flat as the object grows and within the contract
 * "(concurrency + 1) × partSize + one chunk".
 *
 *   node dist/src/memory.js                  1 GiB and 8 GiB; stream/fresh and file; c = 1, 4, 16
 *   node dist/src/memory.js --quick          16 and 64 MiB, c = 1 and 4 (CI)
 *   --sizes <MiB,…> --concurrency 1,4,16 --modes stream,file --sources fresh,views
 *   --libs partstream,lib-storage (default partstream) --runs N --pin --part-size <MiB> --chunk <KiB>
 *   --out <dir> | --no-write
 */
import { parseArgs } from 'node:util'
import { enumList, intList, matrixOptions, matrixSettings, onInterrupt, writeResults } from './internal/cli.ts'
import { modeLabel, runMatrix, summarize, type Variant, type VariantResult } from './internal/harness.ts'
import { markdownTable } from './internal/markdown.ts'
import type { ChunkSource, Library, Mode } from './internal/protocol.ts'
import { startSink } from './internal/sink-control.ts'
import { makeFile, removeFile, removeFileSync } from './internal/sources.ts'
import { describeSystem, systemLine } from './internal/system.ts'
import { MiB, fmt, formatSize } from './internal/units.ts'

const { values: args } = parseArgs({
  options: {
    ...matrixOptions({ modes: 'stream,file', sources: 'fresh', libs: 'partstream' }),
    sizes: { type: 'string' },
    runs: { type: 'string', default: '1' },
    'live-ms': { type: 'string', default: '100' },
  },
})

const quick = args.quick
const sizes = intList(args.sizes ?? (quick ? '16,64' : '1024,8192'), 'sizes').map((n) => n * MiB)
const runs = intList(args.runs, 'runs')[0] as number
let modes = enumList<Mode>(args.modes, 'modes', ['stream', 'file'] as Mode[])
const sources = enumList<ChunkSource>(args.sources, 'sources', ['views', 'fresh'])
const libs = enumList<Library>(args.libs, 'libs', ['partstream', 'lib-storage'])
const { concurrencies, partSizeBytes, chunkBytes, write, outDir } = matrixSettings(args)
const liveMs = Number(args['live-ms'])
const log = (line: string): void => {
  process.stderr.write(`${line}\n`)
}

const notes: string[] = []
const signer = (await import('@partstream/signer')) as Record<string, unknown>
if (modes.includes('file') && libs.includes('partstream') && typeof signer['uploadFile'] !== 'function') {
  modes = modes.filter((m) => m !== 'file')
  notes.push('file mode skipped: @partstream/signer does not export uploadFile.')
  log(`note: ${notes.at(-1) ?? ''}`)
}

const variants: Variant[] = []
for (const mode of modes) {
  for (const source of mode === 'stream' ? sources : [undefined]) {
    for (const concurrency of concurrencies) {
      for (const sizeBytes of sizes) {
        for (const lib of libs) {
          variants.push({ lib, mode, source, concurrency, payload: lib === 'partstream' ? 'sha256' : 'default', sizeBytes })
        }
      }
    }
  }
}

const system = describeSystem()
const files = new Map<number, string>()
onInterrupt(() => {
  for (const f of files.values()) removeFileSync(f)
})
const sink = await startSink({ cpus: args.pin ? '1' : undefined })
let results: VariantResult[]
let liveResults: VariantResult[] = []
try {
  if (modes.includes('file')) {
    for (const size of sizes) {
      log(`writing a ${formatSize(size)} file…`)
      files.set(size, await makeFile(size, `partstream-bench-${process.pid}-${size}.bin`))
    }
  }
  const matrix = {
    runs,
    sink,
    partSizeBytes,
    chunkBytes,
    poolBytes: 16 * MiB,
    fileFor: (size: number) => files.get(size),
    client: { cpus: args.pin ? '0' : undefined },
    sampleMs: 10,
    log,
  }
  log(`${variants.length} uploads × ${runs} runs, sink at ${sink.endpoint}`)
  results = await runMatrix(variants, matrix)
  // A second, separate pass at the smallest size measures what the library retains: live
  // ArrayBuffer bytes after forced GCs. Separate, because forcing GCs would also lower the RSS
  // peaks of the first pass, which must show what users get.
  if (liveMs > 0) {
    const smallest = Math.min(...sizes)
    const liveVariants = variants.filter((v) => v.sizeBytes === smallest)
    log(`live-bytes pass: ${liveVariants.length} uploads at ${formatSize(smallest)}, forced GC every ${liveMs} ms`)
    liveResults = await runMatrix(liveVariants, { ...matrix, runs: 1, liveSampleMs: liveMs })
  }
} finally {
  await sink.close()
  for (const f of files.values()) await removeFile(f)
}

// One row per library × mode × concurrency, one column per size: flat memory reads as equal columns.
const rows: string[][] = []
const failures: string[] = []
const groups = new Map<string, VariantResult[]>()
for (const r of results) {
  const key = `${r.variant.lib}|${modeLabel(r.variant)}|${r.variant.concurrency}`
  groups.set(key, [...(groups.get(key) ?? []), r])
  for (const f of r.failures) failures.push(`${r.variant.lib} ${modeLabel(r.variant)} c=${r.variant.concurrency} ${formatSize(r.variant.sizeBytes)}: ${f.split('\n')[0]}`)
}
for (const group of groups.values()) {
  const v = (group[0] as VariantResult).variant
  const summaries = group.map((r) => summarize(r))
  const peaks = summaries.map((s) => s.rssOverBaselineMiB.max)
  const buffers = summaries.map((s) => s.arrayBuffersOverBaselineMiB.max)
  const liveResult = liveResults.find((r) => r.variant.lib === v.lib && modeLabel(r.variant) === modeLabel(v) && r.variant.concurrency === v.concurrency)
  const live = liveResult === undefined ? undefined : summarize(liveResult).liveArrayBuffersOverBaselineMiB
  if (liveResult !== undefined) {
    for (const f of liveResult.failures) failures.push(`${v.lib} ${modeLabel(v)} c=${v.concurrency} (live pass): ${f.split('\n')[0]}`)
  }
  const contractMiB = ((v.concurrency + 1) * partSizeBytes + 2 * chunkBytes + 64 * 1024) / MiB
  const first = peaks[0]
  const last = peaks.at(-1)
  const worstRss = Math.max(...peaks.map((p) => p ?? Number.POSITIVE_INFINITY))
  const ours = v.lib === 'partstream'
  rows.push([
    v.lib,
    modeLabel(v),
    String(v.concurrency),
    ...peaks.map((p) => fmt(p)),
    first === undefined || last === undefined ? '–' : `${last - first >= 0 ? '+' : ''}${fmt(last - first)}`,
    fmt(Math.max(...buffers.map((p) => p ?? Number.NaN))),
    live === undefined ? '–' : live.toFixed(2),
    ours ? contractMiB.toFixed(2) : '–',
    ours ? `${live === undefined ? '–' : live <= contractMiB ? 'yes' : `no (+${Math.round((live - contractMiB) * 1024)} KiB)`} / ${worstRss <= contractMiB ? 'yes' : 'no'}` : '–',
    summaries.map((s) => fmt(s.mibps.median)).join(' / '),
  ])
}

const sizeHeads = sizes.map((s) => `RSS Δ @ ${formatSize(s)}`)
const markdown = [
  '### Memory: peak RSS over baseline as the object grows',
  '',
  systemLine(system),
  '',
  `${formatSize(partSizeBytes)} parts · ${formatSize(chunkBytes)} chunks · ${runs} run${runs > 1 ? 's' : ''} (worst run shown) · ` +
    `client pinned: ${args.pin ? 'core 0' : 'no'}`,
  '',
  markdownTable(
    [
      'library',
      'mode',
      'conc',
      ...sizeHeads,
      `growth ${formatSize(sizes[0] ?? 0)} → ${formatSize(sizes.at(-1) ?? 0)}`,
      'ArrayBuffers Δ incl. garbage',
      `live buffers Δ @ ${formatSize(Math.min(...sizes))}`,
      'contract MiB',
      'within: live / RSS',
      `MiB/s (${sizes.map((x) => formatSize(x)).join(' / ')})`,
    ],
    rows,
    ['l', 'l', 'r', ...sizes.map(() => 'r' as const), 'r', 'r', 'r', 'r', 'l', 'r'],
  ),
  '',
  '- RSS Δ: peak RSS of the client process (max of 10 ms samples and VmHWM) minus its RSS right before the upload, in MiB; ' +
    'a fresh process per upload, worst of the runs. ArrayBuffers Δ incl. garbage: peak of `process.memoryUsage().arrayBuffers` ' +
    'over baseline (10 ms samples), which counts dropped chunks until the GC frees them. ' +
    `live buffers Δ: a separate run per row at the smallest size with a forced full GC (twice) every ${liveMs} ms before ` +
    'reading `arrayBuffers`: the bytes the library really holds (input chunks, part buffers), which is what the contract bounds.',
  '- contract: (concurrency + 1) × partSize + two chunks + 64 KiB (the look-ahead chunk, the one the source holds, fixed request buffers; the README\'s memory bound). RSS also carries the JS heap, code and ' +
    'allocator slack, and freed chunks stay resident until the GC runs, so the RSS column is the stricter reading.',
  '- stream/fresh: an async generator yielding a fresh `Buffer.allocUnsafe(64 KiB)` per chunk; file: `uploadFile(path)` ' +
    '(partstream) or `fs.createReadStream(path)` (lib-storage), file in the page cache (page cache is not RSS).',
  ...notes.map((n) => `- ${n}`),
  ...(failures.length > 0 ? ['', `**${failures.length} failed uploads:**`, ...failures.map((f) => `- ${f}`)] : []),
].join('\n')
console.log(`\n${markdown}`)

if (write) {
  const paths = writeResults(
    'memory-',
    system.date,
    { system, settings: { sizes, partSizeBytes, chunkBytes, runs, pin: args.pin }, notes, results: results.map((r) => ({ ...r, summary: summarize(r) })) },
    markdown,
    outDir,
    args.tag,
  )
  log(`wrote ${paths.join(' and ')}`)
}
if (failures.length > 0 || results.every((r) => r.measurements.length === 0)) process.exitCode = 1
