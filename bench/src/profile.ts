/**
 * Where do the client's CPU seconds go? Runs one upload (fresh client process, `--cpu-prof`)
 * against the sink and summarizes the V8 CPU profile over the upload window only: self time by
 * package / subsystem, then the hottest functions.
 *
 *   node dist/src/profile.js                                  partstream, stream/fresh, 1 GiB, c=4, sha256
 *   node dist/src/profile.js --lib lib-storage --source views --concurrency 1 --size 256
 *   --mode stream|buffer|file --payload sha256|unsigned --top 25 --keep (keep the .cpuprofile)
 *   --tls (the sink serves HTTPS, as in `e2e --tls`)
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { enumList, intList, positiveNumber } from './internal/cli.ts'
import { markdownTable } from './internal/markdown.ts'
import { BENCH_BUCKET, type ChunkSource, type Library, type Mode, type Payload } from './internal/protocol.ts'
import { runClient } from './internal/run-client.ts'
import { startSink } from './internal/sink-control.ts'
import { makeCertificate, trustEnv } from './internal/tls.ts'
import { makeFile, removeFile } from './internal/sources.ts'
import { describeSystem, systemLine } from './internal/system.ts'
import { GiB, KiB, MiB, fmt, formatSize } from './internal/units.ts'

const { values: args } = parseArgs({
  options: {
    lib: { type: 'string', default: 'partstream' },
    mode: { type: 'string', default: 'stream' },
    source: { type: 'string', default: 'fresh' },
    size: { type: 'string', default: '1024' },
    concurrency: { type: 'string', default: '4' },
    payload: { type: 'string', default: 'sha256' },
    top: { type: 'string', default: '25' },
    keep: { type: 'boolean', default: false },
    tls: { type: 'boolean', default: false },
  },
})
const lib = enumList<Library>(args.lib, 'lib', ['partstream', 'lib-storage', 'undici', 'bun-s3'])[0] as Library
const mode = enumList<Mode>(args.mode, 'mode', ['stream', 'buffer', 'file'])[0] as Mode
const source = enumList<ChunkSource>(args.source, 'source', ['views', 'fresh'])[0] as ChunkSource
const sizeBytes = Math.round(positiveNumber(args.size, 'size') * MiB)
const concurrency = intList(args.concurrency, 'concurrency')[0] as number
const payload: Payload = lib === 'partstream' ? (enumList(args.payload, 'payload', ['sha256', 'unsigned'] as const)[0] as Payload) : lib === 'undici' ? 'none' : 'default'
const top = positiveNumber(args.top, 'top')

interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
}
interface ProfileNode {
  readonly id: number
  readonly callFrame: CallFrame
  readonly children?: number[]
}
interface CpuProfile {
  readonly nodes: ProfileNode[]
  readonly startTime: number
  readonly endTime: number
  readonly samples: number[]
  readonly timeDeltas: number[]
}

/** Which package or subsystem a frame belongs to. */
function categoryOf(frame: CallFrame): string {
  const { url, functionName } = frame
  if (url === '') return functionName.startsWith('(') ? functionName : `native: ${functionName || '(anonymous)'}`
  if (url.includes('/packages/core/')) return '@partstream/core'
  if (url.includes('/packages/signer/')) return '@partstream/signer'
  if (url.includes('/bench/dist/')) return 'bench harness (source, sampler)'
  const nm = url.lastIndexOf('/node_modules/')
  if (nm !== -1) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/')
    return rest[0]?.startsWith('@') === true ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? url)
  }
  if (url.startsWith('node:internal/crypto') || url === 'node:crypto') return 'node:crypto'
  if (url.startsWith('node:internal/streams') || url === 'node:stream') return 'node:stream'
  if (url.startsWith('node:internal/deps/undici')) return 'node:internal undici (fetch)'
  if (url.startsWith('node:')) return `node:${url.slice(5).replace(/^internal\//, '').split('/')[0] ?? ''}`
  return url
}

function summarizeProfile(profile: CpuProfile, fromUs: number, toUs: number): { categories: [string, number][]; functions: [string, string, number][]; totalUs: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const selfByNode = new Map<number, number>()
  let t = profile.startTime
  let totalUs = 0
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0
    const next = profile.timeDeltas[i + 1] ?? 0
    if (t < fromUs || t > toUs) continue
    const id = profile.samples[i] as number
    selfByNode.set(id, (selfByNode.get(id) ?? 0) + next)
    totalUs += next
  }
  const categories = new Map<string, number>()
  const functions = new Map<string, { category: string; us: number }>()
  for (const [id, us] of selfByNode) {
    const node = byId.get(id)
    if (node === undefined) continue
    const category = categoryOf(node.callFrame)
    categories.set(category, (categories.get(category) ?? 0) + us)
    const where = node.callFrame.url === '' ? '' : ` ${node.callFrame.url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*\/(packages|bench)\//, '$1/')}:${node.callFrame.lineNumber + 1}`
    const name = `${node.callFrame.functionName || '(anonymous)'}${where}`
    const f = functions.get(name) ?? { category, us: 0 }
    f.us += us
    functions.set(name, f)
  }
  return {
    categories: [...categories].sort((a, b) => b[1] - a[1]),
    functions: [...functions].map(([name, f]): [string, string, number] => [name, f.category, f.us]).sort((a, b) => b[2] - a[2]),
    totalUs,
  }
}

const dir = mkdtempSync(join(tmpdir(), 'partstream-prof-'))
const certificate = args.tls ? await makeCertificate() : undefined
const sink = await startSink({ tls: certificate })
let file: string | undefined
try {
  if (mode === 'file') file = await makeFile(sizeBytes)
  const result = await runClient(
    {
      lib,
      mode,
      source: mode === 'stream' ? source : undefined,
      sizeBytes,
      concurrency,
      payload,
      partSizeBytes: 6 * MiB,
      chunkBytes: 64 * KiB,
      poolBytes: 16 * MiB,
      endpoint: sink.endpoint,
      bucket: BENCH_BUCKET,
      key: 'profile.bin',
      file,
      sampleMs: 10,
    },
    { cpuProfDir: dir, env: certificate === undefined ? undefined : trustEnv(certificate.certPath) },
  )
  const stats = await sink.stats()
  if (!result.ok) throw new Error(result.error)
  const name = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
  if (name === undefined) throw new Error(`no .cpuprofile written in ${dir}`)
  const profile = JSON.parse(readFileSync(join(dir, name), 'utf8')) as CpuProfile
  const { categories, functions, totalUs } = summarizeProfile(profile, result.startUs, result.endUs)
  const cpuSeconds = result.cpuUserSeconds + result.cpuSystemSeconds
  const gib = sizeBytes / GiB
  const label = `${lib} ${mode === 'stream' ? `stream/${source}` : mode} c=${concurrency} ${payload}, ${formatSize(sizeBytes)}`
  console.log(
    [
      `### CPU profile: ${label}`,
      '',
      systemLine(describeSystem()),
      '',
      `${fmt(sizeBytes / MiB / result.seconds)} MiB/s · client CPU ${fmt(cpuSeconds / gib)} s/GiB ` +
        `(user ${fmt(result.cpuUserSeconds / gib)}, sys ${fmt(result.cpuSystemSeconds / gib)}) · wall ${fmt(result.seconds)} s · ` +
        `${stats.requests} requests, ${stats.connections} connections · sink CPU ${fmt(stats.sinkCpuSeconds / gib)} s/GiB`,
      '',
      `Main-thread samples inside the upload window: ${fmt(totalUs / 1e6)} s of ${fmt(result.seconds)} s wall ` +
        '(`(idle)` = waiting on I/O; `(program)` = native work outside JS, e.g. socket writes; kernel time is in `sys`).',
      '',
      markdownTable(
        ['package / subsystem', 'self s', 's/GiB', '% of window'],
        categories.map(([c, us]) => [c, fmt(us / 1e6), fmt(us / 1e6 / gib), `${((us / totalUs) * 100).toFixed(1)}%`]),
        ['l', 'r', 'r', 'r'],
      ),
      '',
      `Top ${top} functions by self time:`,
      '',
      markdownTable(
        ['function', 'package', 'self ms', '%'],
        functions.slice(0, top).map(([f, c, us]) => [f, c, fmt(us / 1e3), `${((us / totalUs) * 100).toFixed(1)}%`]),
        ['l', 'l', 'r', 'r'],
      ),
    ].join('\n'),
  )
  if (args.keep) console.error(`profile kept: ${join(dir, name)} (open it in Chrome DevTools → Performance)`)
} finally {
  await sink.close()
  certificate?.remove()
  await removeFile(file)
  if (!args.keep) rmSync(dir, { recursive: true, force: true })
}
