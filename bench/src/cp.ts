/**
 * The CLI benchmark: `partstream cp` against `aws s3 cp` (the AWS CLI), the commands people type,
 * in the same invocation, against the local S3 sink (its own process). Two sources:
 *   pipe   `head -c N /dev/zero | <cli> cp - s3://bench/object`  (stdin is a kernel pipe)
 *   file   `<cli> cp FILE s3://bench/object`                      (the file is in the page cache)
 * Each upload runs under GNU time (/usr/bin/time): wall time, user + sys CPU and peak RSS (maxrss)
 * of the CLI process alone (the producer `head` is not counted). The sink checks that one object
 * of N bytes arrived. Both CLIs run with their defaults (partstream: 6 MiB parts, 4 in flight;
 * AWS CLI: 8 MiB parts, 10 threads) and get the same AWS_* environment and --endpoint-url.
 *
 *   node dist/src/cp.js             1 GiB, 3 runs, interleaved (the tools alternate, order rotating)
 *   node dist/src/cp.js --quick     256 MiB, 1 run
 *   --size <MiB> --runs N --sources pipe,file --pin (CLI on core 0, sink on core 1) --out <dir> | --no-write
 *   --ceiling: a third tool in the same runs, the floor under any CLI here (`cli-ceiling.ts`: reads,
 *   SHA-256 per part, undici PUTs, nothing else), and partstream ÷ it
 *   --tls: the sink serves HTTPS (a certificate made for the run; partstream trusts it through
 *   NODE_EXTRA_CA_CERTS, the AWS CLI through AWS_CA_BUNDLE), each CLI with its HTTPS defaults
 *
 * The AWS CLI is installed when missing (`apt-get install -y awscli`, as root); otherwise the
 * benchmark says how to install it and exits 1.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { enumList, intList, onInterrupt, positiveNumber, resultsDestination, writeResults } from './internal/cli.ts'
import { markdownTable } from './internal/markdown.ts'
import { clientEnv } from './internal/env.ts'
import { startSink, type Sink } from './internal/sink-control.ts'
import { makeCertificate, trustEnv } from './internal/tls.ts'
import { makeFile, removeFile, removeFileSync } from './internal/sources.ts'
import { median } from './internal/stats.ts'
import { describeSystem, systemLine } from './internal/system.ts'
import { GiB, MiB, fmt, formatSize } from './internal/units.ts'

// `pnpm run bench:cli -- --quick` hands the `--` on: skip it.
const argv = process.argv.slice(2)
const { values: args } = parseArgs({
  args: argv[0] === '--' ? argv.slice(1) : argv,
  options: {
    quick: { type: 'boolean', default: false },
    size: { type: 'string' },
    runs: { type: 'string' },
    sources: { type: 'string', default: 'pipe,file' },
    pin: { type: 'boolean', default: false },
    tls: { type: 'boolean', default: false },
    ceiling: { type: 'boolean', default: false },
    out: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
})

if (args.help) {
  const doc = /\/\*\*([\s\S]*?)\*\//.exec(readFileSync(new URL(import.meta.url), 'utf8'))
  console.log(doc?.[1]?.replace(/^ \* ?/gm, '') ?? '')
  process.exit(0)
}

type Source = 'pipe' | 'file'
type Tool = 'partstream' | 'aws' | 'ceiling'

const sizeBytes = Math.round(positiveNumber(args.size ?? (args.quick ? '256' : '1024'), 'size') * MiB)
const runs = intList(args.runs ?? (args.quick ? '1' : '3'), 'runs')[0] as number
const sources = enumList<Source>(args.sources, 'sources', ['pipe', 'file'])
const tools: Tool[] = args.ceiling ? ['partstream', 'aws', 'ceiling'] : ['partstream', 'aws']
const log = (line: string): void => void process.stderr.write(`${line}\n`)

const TIME = '/usr/bin/time'
if (!existsSync(TIME)) {
  log(`bench:cli needs GNU time at ${TIME} (peak RSS and CPU of the CLI process): apt-get install -y time`)
  process.exit(1)
}
// The bin as `npm i -g` installs it (scripts/build.mjs), started through its own `#!` line as a user's shell does.
const BIN = fileURLToPath(new URL('../../../packages/cli/dist/bin/partstream.js', import.meta.url))
const CEILING = fileURLToPath(new URL('./cli-ceiling.js', import.meta.url))
if (!existsSync(BIN)) {
  log(`The partstream bin is not built (${BIN}): run \`pnpm --filter @partstream/bench run bench:cli\`, which builds it.`)
  process.exit(1)
}
const aws = findAws()

/** The AWS CLI's real executable (not a pyenv shim, whose bash wrapper would be timed too); installs it when missing. */
function findAws(): string {
  const which = (): string | undefined => {
    const pyenv = spawnSync('pyenv', ['which', 'aws'], { encoding: 'utf8' })
    if (pyenv.status === 0 && pyenv.stdout.trim() !== '') return pyenv.stdout.trim()
    const found = spawnSync('sh', ['-c', 'command -v aws'], { encoding: 'utf8' })
    return found.status === 0 && found.stdout.trim() !== '' ? found.stdout.trim() : undefined
  }
  let path = which()
  if (path === undefined) {
    if (process.getuid?.() !== 0) {
      log('The AWS CLI (`aws`) is missing: install it (Debian/Ubuntu: `sudo apt-get install -y awscli`; or `pip install awscli`) and run again.')
      process.exit(1)
    }
    log('The AWS CLI is missing: apt-get install -y awscli …')
    let install = spawnSync('apt-get', ['install', '-y', 'awscli'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
    if (install.status !== 0) {
      spawnSync('apt-get', ['update'], { stdio: 'inherit' })
      install = spawnSync('apt-get', ['install', '-y', 'awscli'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
    }
    path = which()
    if (install.status !== 0 || path === undefined) {
      log('Installing the AWS CLI failed (see above): install it by hand (`apt-get install -y awscli` or `pip install awscli`) and run again.')
      process.exit(1)
    }
  }
  return path
}

const awsVersion = spawnSync(aws, ['--version'], { encoding: 'utf8' })
const awsLabel = `${(awsVersion.stdout || awsVersion.stderr).trim().split(' ')[0] ?? 'aws-cli'}`

interface Measure {
  readonly seconds: number
  readonly cpuSeconds: number
  readonly peakRssMiB: number
}

const quote = (a: string): string => `'${a.replaceAll("'", "'\\''")}'`

/** One upload by one CLI, under GNU time; checks the sink got exactly one object of `sizeBytes`. */
async function runOne(sink: Sink, tool: Tool, source: Source, file: string | undefined, home: string): Promise<Measure> {
  await sink.reset()
  const src = source === 'pipe' ? '-' : (file as string)
  const dst = 's3://bench/object'
  const cli =
    tool === 'partstream'
      ? [BIN, 'cp', src, dst, '--endpoint-url', sink.endpoint, '--quiet']
      : tool === 'aws'
        ? [aws, 's3', 'cp', src, dst, '--endpoint-url', sink.endpoint, '--only-show-errors']
        : [process.execPath, CEILING, sink.endpoint, src]
  const timeOut = join(home, 'time.txt')
  const timed = [TIME, '-o', timeOut, '-f', '%e %U %S %M', ...(args.pin ? ['taskset', '-c', '0'] : []), ...cli].map(quote).join(' ')
  const line = source === 'pipe' ? `head -c ${sizeBytes} /dev/zero | ${timed}` : timed
  const env = clientEnv({
    AWS_ACCESS_KEY_ID: 'BENCHACCESSKEY000001',
    AWS_SECRET_ACCESS_KEY: 'benchsecret0000000000000000000000000001',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    // No profile of the user's: both CLIs see only the variables above.
    AWS_CONFIG_FILE: join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
    AWS_PROFILE: '',
    ...(certificate === undefined ? {} : { ...trustEnv(certificate.certPath), AWS_CA_BUNDLE: certificate.certPath }),
  })
  delete (env as Record<string, string | undefined>)['AWS_PROFILE']
  const r = spawnSync('sh', ['-c', line], { env, encoding: 'utf8', timeout: 900_000 })
  if (r.status !== 0) throw new Error(`${tool} ${source} exited ${r.status}: ${r.stderr.trim().slice(-2000)}`)
  const [wall, user, sys, maxKiB] = readFileSync(timeOut, 'utf8').trim().split('\n').pop()?.split(' ').map(Number) ?? []
  const stats = await sink.stats()
  if (stats.completedObjects !== 1 || stats.payloadBytes !== sizeBytes) {
    throw new Error(`${tool} ${source}: the sink got ${stats.completedObjects} objects and ${stats.payloadBytes} bytes, expected 1 and ${sizeBytes}`)
  }
  seen.set(tool, `x-amz-content-sha256 ${describeCounts(stats.payloadHash)}; checksum headers ${describeCounts(stats.checksumHeaders)}`)
  return { seconds: wall as number, cpuSeconds: (user as number) + (sys as number), peakRssMiB: (maxKiB as number) / 1024 }
}

/** What each CLI sent, as the sink saw it on its last upload (payload hash and checksum headers). */
const seen = new Map<Tool, string>()
const describeCounts = (counts: Record<string, number>): string => {
  const entries = Object.entries(counts)
  return entries.length === 0 ? 'none' : entries.map(([k, n]) => `${k} ×${n}`).join(', ')
}

const home = mkdtempSync(join(tmpdir(), 'partstream-bench-cp-'))
const system = describeSystem()
const certificate = args.tls ? await makeCertificate() : undefined
const sink = await startSink({ cpus: args.pin ? '1' : undefined, tls: certificate })
let file: string | undefined
onInterrupt(() => {
  removeFileSync(file)
  certificate?.remove()
  rmSync(home, { recursive: true, force: true })
})
const results = new Map<string, Measure[]>()
const cell = (source: Source, tool: Tool): string => `${source} ${tool}`
try {
  if (sources.includes('file')) {
    log(`writing a ${formatSize(sizeBytes)} file…`)
    file = await makeFile(sizeBytes)
  }
  log(`${sources.length * tools.length} cases × ${runs} runs at ${formatSize(sizeBytes)}, sink at ${sink.endpoint}; ${awsLabel} at ${aws}`)
  for (let run = 0; run < runs; run++) {
    for (const source of sources) {
      const order = run % 2 === 0 ? tools : [...tools].reverse()
      for (const tool of order) {
        const m = await runOne(sink, tool, source, file, home)
        log(`run ${run + 1}: ${source} ${tool}: ${fmt(sizeBytes / MiB / m.seconds)} MiB/s, ${fmt(m.cpuSeconds / (sizeBytes / GiB))} CPU s/GiB, ${fmt(m.peakRssMiB)} MiB peak RSS`)
        results.set(cell(source, tool), [...(results.get(cell(source, tool)) ?? []), m])
      }
    }
  }
} finally {
  await sink.close()
  certificate?.remove()
  await removeFile(file)
  rmSync(home, { recursive: true, force: true })
}

// ---- report ----
const summary = (source: Source, tool: Tool) => {
  const list = results.get(cell(source, tool)) ?? []
  return {
    mibps: median(list.map((m) => sizeBytes / MiB / m.seconds)) as number,
    cpu: median(list.map((m) => m.cpuSeconds / (sizeBytes / GiB))) as number,
    rss: median(list.map((m) => m.peakRssMiB)) as number,
    min: Math.min(...list.map((m) => sizeBytes / MiB / m.seconds)),
    max: Math.max(...list.map((m) => sizeBytes / MiB / m.seconds)),
  }
}
/** The issue's targets: `cp -` ≥ 1.5× the AWS CLI's throughput at ≤ 0.6× its peak RSS; `cp FILE` ≥ 2×. */
const TARGETS: Record<Source, { speed: number; rss: number | undefined }> = { pipe: { speed: 1.5, rss: 0.6 }, file: { speed: 2, rss: undefined } }
const rows: string[][] = []
const verdicts: string[] = []
const toolLabel = (tool: Tool): string => (tool === 'partstream' ? 'partstream' : tool === 'aws' ? awsLabel : 'ceiling (`cli-ceiling.ts`)')
for (const source of sources) {
  const ps = summary(source, 'partstream')
  const base = summary(source, 'aws')
  for (const tool of tools) {
    const s = summary(source, tool)
    rows.push([
      source === 'pipe' ? 'pipe (`cp -`)' : 'file (`cp FILE`)',
      toolLabel(tool),
      `${fmt(s.mibps)}${runs > 1 ? ` [${fmt(s.min)}–${fmt(s.max)}]` : ''}`,
      fmt(s.cpu),
      fmt(s.rss),
      tool === 'aws' ? '' : `${(s.mibps / base.mibps).toFixed(2)}× / ${(s.cpu / base.cpu).toFixed(2)}× / ${(s.rss / base.rss).toFixed(2)}×`,
    ])
  }
  const t = TARGETS[source]
  const met = ps.mibps / base.mibps >= t.speed && (t.rss === undefined || ps.rss / base.rss <= t.rss)
  verdicts.push(
    `- ${source}: target ≥ ${t.speed}× the AWS CLI's MiB/s${t.rss === undefined ? '' : ` and ≤ ${t.rss}× its peak RSS`}: ` +
      `${(ps.mibps / base.mibps).toFixed(2)}×${t.rss === undefined ? '' : `, ${(ps.rss / base.rss).toFixed(2)}× RSS`} → ${met ? 'met' : 'not met'}` +
      (tools.includes('ceiling') ? `; partstream reaches ${((100 * ps.mibps) / summary(source, 'ceiling').mibps).toFixed(0)} % of the ceiling's MiB/s` : ''),
  )
}
const lines = [
  '### CLI: `partstream cp` vs `aws s3 cp`',
  '',
  systemLine(system),
  '',
  `${formatSize(sizeBytes)} per upload · ${runs} run${runs > 1 ? 's' : ''}, interleaved · each CLI with its defaults · CLI pinned: ${args.pin ? 'core 0 (sink core 1)' : 'no'} · ${certificate === undefined ? 'plain HTTP' : 'HTTPS (a self-signed P-256 certificate made for the run, trusted by each CLI)'}`,
  '',
  markdownTable(['source', 'CLI', 'MiB/s (median [min–max])', 'CPU s/GiB', 'peak RSS MiB', '÷ aws (MiB/s / CPU / RSS)'], rows, ['l', 'l', 'r', 'r', 'r', 'r']),
  '',
  ...verdicts,
  '',
  ...tools.map((tool) => `- ${toolLabel(tool)} sent (last upload): ${seen.get(tool) ?? 'nothing'}.`),
  '',
  '- Measured by GNU time around the CLI process alone: wall time (process start included: Node ~40 ms, Python more), ' +
    'user + sys CPU, maxrss. pipe: `head -c N /dev/zero |` into the CLI; file: a file in the page cache. The sink (own process) checks one object of N bytes arrived.',
  '- Both CLIs run without the machine-wide CA variables (`NODE_EXTRA_CA_CERTS`, `AWS_CA_BUNDLE`, `SSL_CERT_FILE`…; `internal/env.ts`), as on a machine that sets none' +
    `${certificate === undefined ? '' : '; over TLS each trusts the run\'s certificate alone'}.`,
]
const report = lines.join('\n')
process.stdout.write(`${report}\n`)
const destination = resultsDestination(args)
if (destination.write) {
  const paths = writeResults('cli-', system.date, { system, sizeBytes, runs, aws: awsLabel, results: Object.fromEntries(results) }, report, destination.outDir)
  log(`wrote ${paths.join(', ')}`)
}
