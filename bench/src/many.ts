/**
 * Many-files benchmark: one tree of mixed files uploaded by partstream's `uploadDirectory` (one
 * budget), by a promise pool of @aws-sdk/lib-storage `Upload`s (what users write today) and by
 * `aws s3 cp --recursive`, each in a fresh process under `/usr/bin/time`, against the local S3
 * sink in its own process. Also times partstream's lazy walk of a 10,000-file tree alone.
 *
 *   node dist/src/many.js            2000 files of 1–64 KiB + 20 files of 20–40 MiB, 1 run
 *   node dist/src/many.js --quick    500 files of 1–64 KiB + 2 files of 20–40 MiB (about a minute)
 *   --small <n> --large <n> --large-mib <min-max>   the tree (the issue's: --small 10000 --large 4 --large-mib 100-100)
 *   --walk-files <n>   files in the walk-only tree (default 10000)
 *   --concurrency <n>  partstream's parts in flight, and the lib-storage pool's width (default 16)
 *   --libs partstream,lib-storage,aws   --runs <n>   --pin (clients on core 0, sink on core 1)
 *   --out <dir> | --no-write | --tag <name>   (default bench/results/many-<time>.json and many-latest.md; --quick writes nothing)
 *
 * The AWS CLI (`aws`) is used as found on PATH; when missing, the bench installs the Debian
 * package `awscli` with apt-get if it runs as root, else skips it with a note. It is pointed at
 * the sink with --endpoint-url, dummy credentials and path-style addressing (a temporary
 * AWS_CONFIG_FILE), with its defaults otherwise (10 concurrent requests, 8 MiB parts).
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { enumList, intList, onInterrupt, resultsDestination, writeResults } from './internal/cli.ts'
import { markdownTable } from './internal/markdown.ts'
import { BENCH_BUCKET, BENCH_CREDENTIALS, type SinkStats } from './internal/protocol.ts'
import { clientEnv } from './internal/env.ts'
import { startSink } from './internal/sink-control.ts'
import { fillPattern } from './internal/sources.ts'
import { describeSystem, systemLine } from './internal/system.ts'
import { GiB, KiB, MiB, fmt } from './internal/units.ts'
import type { ManyClientConfig, ManyClientResult, ManyClientSuccess } from './many-client.ts'

type Tool = 'partstream' | 'lib-storage' | 'aws'

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    pin: { type: 'boolean', default: false },
    small: { type: 'string' },
    large: { type: 'string' },
    'large-mib': { type: 'string', default: '20-40' },
    'walk-files': { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '16' },
    libs: { type: 'string', default: 'partstream,lib-storage,aws' },
    runs: { type: 'string', default: '1' },
    out: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    tag: { type: 'string' },
  },
})

const log = (line: string): void => {
  process.stderr.write(`${line}\n`)
}
const smallCount = intList(args.small ?? (args.quick ? '500' : '2000'), 'small')[0] as number
const largeCount = Number(args.large ?? (args.quick ? '2' : '20'))
const [largeMin, largeMax] = args['large-mib'].split('-').map(Number) as [number, number]
const walkFiles = intList(args['walk-files'], 'walk-files')[0] as number
const concurrency = intList(args.concurrency, 'concurrency')[0] as number
const runs = intList(args.runs, 'runs')[0] as number
let tools = enumList<Tool>(args.libs, 'libs', ['partstream', 'lib-storage', 'aws'])
const { write, outDir } = resultsDestination(args)
const notes: string[] = []

/** Seeded sizes, so every run and every tool gets the same tree. */
function sizes(count: number, min: number, max: number, seed: number): number[] {
  let x = seed
  return Array.from({ length: count }, () => {
    x = (x * 1103515245 + 12345) >>> 0
    return min + (x % (max - min + 1))
  })
}

/** Writes the tree: small files 50 per directory, large ones at the top; returns its totals. */
function makeTree(root: string): { files: number; bytes: number } {
  const small = sizes(smallCount, 1 * KiB, 64 * KiB, 1)
  const large = sizes(largeCount, Math.round(largeMin * MiB), Math.round(largeMax * MiB), 2)
  const pattern = fillPattern(Buffer.allocUnsafe(Math.max(64 * KiB, ...large)))
  let bytes = 0
  for (const [i, size] of small.entries()) {
    const dir = join(root, `d${String(Math.floor(i / 50)).padStart(3, '0')}`)
    if (i % 50 === 0) mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, `f${i}.bin`), pattern.subarray(i % 1024, (i % 1024) + size))
    bytes += size
  }
  for (const [i, size] of large.entries()) {
    writeFileSync(join(root, `large-${i}.bin`), pattern.subarray(0, size))
    bytes += size
  }
  return { files: small.length + large.length, bytes }
}

function makeWalkTree(root: string): void {
  for (let i = 0; i < walkFiles; i++) {
    const dir = join(root, `w${String(Math.floor(i / 100)).padStart(3, '0')}`)
    if (i % 100 === 0) mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, `f${i}.txt`), 'x')
  }
}

/** `aws` on PATH, installing Debian's awscli when missing and running as root. */
function findAws(): string | undefined {
  const version = (): string | undefined => {
    const r = spawnSync('aws', ['--version'], { encoding: 'utf8' })
    return r.status === 0 ? `${r.stdout}${r.stderr}`.trim().split('\n')[0] : undefined
  }
  let found = version()
  if (found === undefined && process.getuid?.() === 0) {
    log('aws not found: apt-get install -y awscli…')
    spawnSync('apt-get', ['install', '-y', 'awscli'], { stdio: 'inherit' })
    found = version()
  }
  return found
}

interface ProcessStats {
  readonly wallSeconds: number
  readonly cpuSeconds: number
  readonly maxRssBytes: number
}

/** Runs a command under `/usr/bin/time`: whole-process wall time, user + sys CPU and max RSS (children included). */
function timed(command: string, argv: readonly string[], env: NodeJS.ProcessEnv, cpus: string | undefined): Promise<{ code: number | null; stdout: string; stderr: string; stats: ProcessStats | undefined }> {
  const timeFile = join(work, `time-${Date.now()}-${Math.random().toString(36).slice(2)}.txt`)
  const inner = ['-f', '%e %U %S %M', '-o', timeFile, command, ...argv]
  const [cmd, cmdArgs] = cpus === undefined ? ['/usr/bin/time', inner] : ['taskset', ['-c', cpus, '/usr/bin/time', ...inner]]
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, cmdArgs, { stdio: ['ignore', 'pipe', 'pipe'], env })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
    child.once('error', reject)
    child.once('close', (code) => {
      let stats: ProcessStats | undefined
      try {
        const [wall, user, sys, rssKiB] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()?.split(' ').map(Number) ?? []
        if (wall !== undefined && user !== undefined && sys !== undefined && rssKiB !== undefined) stats = { wallSeconds: wall, cpuSeconds: user + sys, maxRssBytes: rssKiB * KiB }
      } catch {
        // no stats: the run failed before /usr/bin/time wrote them
      }
      rmSync(timeFile, { force: true })
      resolve({ code, stdout, stderr, stats })
    })
  })
}

const CLIENT = fileURLToPath(new URL('./many-client.js', import.meta.url))

interface Row {
  readonly tool: Tool
  readonly run: number
  readonly process: ProcessStats
  /** In-process measurement of the call (Node clients). */
  readonly call: ManyClientSuccess | undefined
  readonly sink: SinkStats
}

const work = mkdtempSync(join(tmpdir(), 'partstream-many-bench-'))
onInterrupt(() => rmSync(work, { recursive: true, force: true }))
const tree = join(work, 'tree')
const walkTree = join(work, 'walk')
const rows: Row[] = []
const failures: string[] = []
let walk: ManyClientSuccess | undefined
let treeWalk: ManyClientSuccess | undefined
let totals = { files: 0, bytes: 0 }
let awsVersion: string | undefined
const system = describeSystem()
const sink = await startSink({ cpus: args.pin ? '1' : undefined })
try {
  log(`writing the tree: ${smallCount} files of 1–64 KiB + ${largeCount} of ${largeMin}–${largeMax} MiB…`)
  totals = makeTree(tree)
  log(`writing the walk tree: ${walkFiles} files…`)
  makeWalkTree(walkTree)
  if (tools.includes('aws')) {
    awsVersion = findAws()
    if (awsVersion === undefined) {
      tools = tools.filter((t) => t !== 'aws')
      notes.push('aws skipped: the AWS CLI is not installed (apt-get install -y awscli, as root).')
    }
  }
  const awsConfig = join(work, 'aws-config')
  writeFileSync(awsConfig, '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n')
  const cpus = args.pin ? '0' : undefined
  const nodeClient = async (config: ManyClientConfig) => {
    const r = await timed(process.execPath, ['--expose-gc', CLIENT, JSON.stringify(config)], clientEnv(), cpus)
    const line = r.stdout.trim().split('\n').pop() ?? ''
    let result: ManyClientResult
    try {
      result = JSON.parse(line) as ManyClientResult
    } catch {
      result = { ok: false, error: `exit ${r.code}: ${r.stderr.trim().slice(-2000)}` }
    }
    return { result, stats: r.stats }
  }
  const base = { endpoint: sink.endpoint, bucket: BENCH_BUCKET, concurrency, partSizeBytes: 6 * MiB, sampleMs: 10 }
  for (const [name, dir] of [
    ['walk tree', walkTree],
    ['upload tree', tree],
  ] as const) {
    const { result } = await nodeClient({ ...base, lib: 'walk', dir, prefix: '' })
    if (!result.ok) failures.push(`walk of the ${name}: ${result.error}`)
    else if (dir === walkTree) walk = result
    else treeWalk = result
    if (result.ok) log(`walk of the ${name}: ${result.files} files in ${fmt(result.seconds * 1000)} ms (count ahead with a stat each: ${fmt((result.countSeconds ?? 0) * 1000)} ms)`)
  }
  for (let run = 1; run <= runs; run++) {
    const shift = (run - 1) % tools.length
    for (const tool of [...tools.slice(shift), ...tools.slice(0, shift)]) {
      await sink.reset()
      const prefix = `${tool}/run-${run}/`
      let processStats: ProcessStats | undefined
      let call: ManyClientSuccess | undefined
      let problem: string | undefined
      if (tool === 'aws') {
        const env = clientEnv({
          AWS_ACCESS_KEY_ID: BENCH_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: BENCH_CREDENTIALS.secretAccessKey,
          AWS_CONFIG_FILE: awsConfig,
          AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-credentials'),
          AWS_PAGER: '',
        })
        const r = await timed('aws', ['s3', 'cp', '--recursive', '--only-show-errors', '--endpoint-url', sink.endpoint, tree, `s3://${BENCH_BUCKET}/${prefix}`], env, cpus)
        processStats = r.stats
        if (r.code !== 0) problem = `aws exited ${r.code}: ${r.stderr.trim().slice(-1500)}`
      } else {
        const r = await nodeClient({ ...base, lib: tool, dir: tree, prefix })
        processStats = r.stats
        if (!r.result.ok) problem = r.result.error
        else {
          call = r.result
          if (call.failed > 0) problem = `${call.failed} files failed`
        }
      }
      const stats = await sink.stats()
      if (problem === undefined && stats.completedObjects !== totals.files) problem = `the sink stored ${stats.completedObjects} objects, expected ${totals.files}`
      if (problem === undefined && stats.payloadBytes !== totals.bytes) problem = `the sink received ${stats.payloadBytes} object bytes, expected ${totals.bytes}`
      if (problem === undefined && stats.errors > 0) problem = `the sink answered ${stats.errors} errors`
      if (problem !== undefined || processStats === undefined) {
        failures.push(`${tool} run ${run}: ${problem ?? 'no process stats'}`)
        log(`[run ${run}] ${tool}: FAILED: ${problem ?? ''}`)
        continue
      }
      rows.push({ tool, run, process: processStats, call, sink: stats })
      const seconds = call?.seconds ?? processStats.wallSeconds
      log(
        `[run ${run}] ${tool}: ${fmt(totals.files / seconds)} files/s, ${fmt(totals.bytes / MiB / seconds)} MiB/s, process ${fmt(processStats.wallSeconds)} s ` +
          `${fmt(processStats.cpuSeconds)} CPU s, max RSS ${fmt(processStats.maxRssBytes / MiB)} MiB, ${stats.requests} requests, ${stats.connections} connections`,
      )
    }
  }
} finally {
  await sink.close()
  rmSync(work, { recursive: true, force: true })
}

// ---- report ----
const median = (values: number[]): number | undefined => {
  if (values.length === 0) return undefined
  const s = [...values].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : ((s[m - 1] as number) + (s[m] as number)) / 2
}
const table: string[][] = []
const gib = totals.bytes / GiB
for (const tool of tools) {
  const mine = rows.filter((r) => r.tool === tool)
  if (mine.length === 0) {
    table.push([tool, 'failed', '', '', '', '', '', '', '', '', ''])
    continue
  }
  const callSeconds = median(mine.map((r) => r.call?.seconds ?? r.process.wallSeconds)) as number
  const m = (f: (r: Row) => number): number | undefined => median(mine.map(f))
  table.push([
    tool === 'partstream' ? `partstream uploadDirectory (c = ${concurrency})` : tool === 'lib-storage' ? `lib-storage, pool of ${concurrency} Uploads` : 'aws s3 cp --recursive',
    fmt(totals.files / callSeconds),
    fmt(totals.bytes / MiB / callSeconds),
    `${fmt(callSeconds)} / ${fmt(m((r) => r.process.wallSeconds))}`,
    `${tool === 'aws' ? '–' : fmt(m((r) => r.call?.cpuSeconds ?? 0))} / ${fmt(m((r) => r.process.cpuSeconds))}`,
    fmt((m((r) => r.process.cpuSeconds) as number) / gib),
    fmt((m((r) => r.process.maxRssBytes) as number) / MiB),
    tool === 'aws' ? '–' : fmt((m((r) => (r.call?.peakRssBytes ?? 0) - (r.call?.baselineRssBytes ?? 0)) as number) / MiB),
    fmt(m((r) => r.sink.requests)),
    fmt(m((r) => r.sink.connections)),
    fmt(m((r) => r.sink.maxInFlight)),
  ])
}
const ratio = (a: Tool, b: Tool): string | undefined => {
  const fps = (t: Tool) => median(rows.filter((r) => r.tool === t).map((r) => totals.files / (r.call?.seconds ?? r.process.wallSeconds)))
  const x = fps(a)
  const y = fps(b)
  return x === undefined || y === undefined ? undefined : `${(x / y).toFixed(2)}×`
}
const lines = [
  '### Many files: uploadDirectory vs a lib-storage pool vs aws s3 cp --recursive',
  '',
  systemLine(system),
  '',
  `${totals.files} files, ${fmt(totals.bytes / MiB)} MiB: ${smallCount} of 1–64 KiB + ${largeCount} of ${largeMin}–${largeMax} MiB · ${runs} run${runs > 1 ? 's' : ''}, median · ` +
    `clients pinned: ${args.pin ? 'core 0 (sink core 1)' : 'no'}${awsVersion === undefined ? '' : ` · ${awsVersion}`}`,
  '',
  markdownTable(
    ['tool', 'files/s', 'MiB/s', 'wall s (call / process)', 'CPU s (call / process)', 'CPU s/GiB (process)', 'peak RSS MiB (process)', 'RSS Δ MiB (call)', 'requests', 'connections', 'in flight ≤'],
    table,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  ),
  '',
  '- files/s and MiB/s: over the upload call for the Node clients (imports excluded), over the whole process for `aws` (its start, ~0.5 s of Python imports, included). ' +
    'Process figures (wall, user + sys CPU, max RSS) come from `/usr/bin/time` for all three. RSS Δ: peak over the RSS right before the call. ' +
    'Requests, connections and the most requests in flight at once: counted by the sink.',
  `- partstream: \`uploadDirectory(dir, target, { concurrency: ${concurrency}, partSize: 6 MiB })\`: ${concurrency} parts in flight for the whole tree, ≤ ${concurrency} sockets. ` +
    `lib-storage: the tree listed with \`readdir(recursive)\`, then ${concurrency} workers each awaiting one \`new Upload({ client, params: { Body: createReadStream(path) } }).done()\` at a time ` +
    '(client-s3 defaults, queueSize 4, 5 MiB parts: up to 64 parts in flight), one shared S3Client. aws: its defaults (10 concurrent requests, 8 MiB parts from 8 MiB).',
]
if (ratio('partstream', 'aws') !== undefined) lines.push(`- files/s: partstream is ${ratio('partstream', 'aws')} the AWS CLI${ratio('partstream', 'lib-storage') === undefined ? '' : ` and ${ratio('partstream', 'lib-storage')} the lib-storage pool`}.`)
else if (ratio('partstream', 'lib-storage') !== undefined) lines.push(`- files/s: partstream is ${ratio('partstream', 'lib-storage')} the lib-storage pool.`)
if (walk !== undefined) {
  const upload = rows.find((r) => r.tool === 'partstream')
  const uploadFps = upload === undefined ? undefined : totals.files / (upload.call?.seconds ?? upload.process.wallSeconds)
  lines.push(
    `- The walk alone (\`walkDirectory\`, entries only, no upload): ${walk.files} files in ${fmt(walk.seconds * 1000)} ms (${fmt(walk.files / walk.seconds)} files/s); ` +
      `the count-ahead walk (the same walk and a \`stat\` per file) ${fmt((walk.countSeconds ?? 0) * 1000)} ms` +
      (treeWalk === undefined ? '' : `; the upload tree (${treeWalk.files} files) walks in ${fmt(treeWalk.seconds * 1000)} ms`) +
      (uploadFps === undefined ? '.' : `. Uploading ran at ${fmt(uploadFps)} files/s: the walk is ${fmt(walk.files / walk.seconds / uploadFps)}× faster, not the bottleneck.`),
  )
}
for (const note of notes) lines.push(`- ${note}`)
if (failures.length > 0) lines.push('', `**${failures.length} failures:**`, ...failures.map((f) => `- ${f.split('\n')[0]}`))
const markdown = lines.join('\n')
console.log(`\n${markdown}`)
if (write) {
  const paths = writeResults('many-', system.date, { system, settings: { smallCount, largeCount, largeMin, largeMax, walkFiles, concurrency, runs, pin: args.pin }, totals, walk, treeWalk, rows, failures, notes }, markdown, outDir, args.tag)
  log(`wrote ${paths.join(' and ')}`)
}
if (failures.length > 0 || rows.length === 0) process.exitCode = 1
