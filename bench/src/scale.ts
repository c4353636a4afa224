/**
 * Scale run: one upload of many GiB (default 64) streamed to the sink with `adaptivePartSize()`,
 * the client's RSS and V8 heap sampled every second. Answers "does memory stay flat however long
 * the stream is?" with a curve, not an assertion.
 *
 *   node dist/src/scale.js                  64 GiB, concurrency 4, client on core 0 and sink on core 1 when --pin
 *   node dist/src/scale.js --size 4 --pin   4 GiB
 *   --concurrency <n> --sample-ms <ms> --out <dir> | --no-write
 *
 * Writes results/scale-<time>.json, results/scale-latest.md and results/scale-latest.svg (the
 * plot the README shows: RSS and heap over baseline against GiB acknowledged).
 */
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { RESULTS_DIR, writeResults } from './internal/cli.ts'
import { startSink } from './internal/sink-control.ts'
import { describeSystem, systemLine } from './internal/system.ts'
import { fmt, GiB, MiB } from './internal/units.ts'
import type { ScaleSample } from './scale-client.ts'

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: '64' },
    concurrency: { type: 'string', default: '4' },
    'sample-ms': { type: 'string', default: '1000' },
    pin: { type: 'boolean', default: false },
    out: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
  },
})

const sizeBytes = Math.round(Number(args.size) * GiB)
const concurrency = Number(args.concurrency)
const sampleMs = Number(args['sample-ms'])
if (!(sizeBytes > 0) || !Number.isInteger(concurrency) || concurrency < 1 || !(sampleMs > 0)) {
  console.error('usage: scale.js [--size <GiB>] [--concurrency <n>] [--sample-ms <ms>] [--pin]')
  process.exit(2)
}

interface ClientOutput {
  readonly ok: boolean
  readonly error?: string
  readonly seconds: number
  readonly parts: number
  readonly size: number
  readonly baseline: { readonly rss: number; readonly heapUsed: number }
  readonly samples: ScaleSample[]
}

function runClient(endpoint: string, pin: boolean): Promise<ClientOutput> {
  const script = fileURLToPath(new URL('./scale-client.js', import.meta.url))
  const argv = ['--expose-gc', script, JSON.stringify({ endpoint, sizeBytes, concurrency, sampleMs })]
  const [command, commandArgs] = pin ? ['taskset', ['-c', '0', process.execPath, ...argv]] : [process.execPath, argv]
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s))
    child.once('error', reject)
    child.once('close', () => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as ClientOutput)
      } catch {
        reject(new Error(`scale client printed no result:\n${out}`))
      }
    })
  })
}

/** A small line plot: MiB over baseline (RSS and V8 heap) against GiB acknowledged. */
function svgPlot(samples: readonly ScaleSample[], baseline: { rss: number; heapUsed: number }, title: string): string {
  const W = 720
  const H = 320
  const left = 56
  const right = 16
  const top = 36
  const bottom = 44
  const xs = samples.map((s) => s.acked / GiB)
  const rss = samples.map((s) => (s.rss - baseline.rss) / MiB)
  const heap = samples.map((s) => (s.heapUsed - baseline.heapUsed) / MiB)
  const xMax = Math.max(1, ...xs)
  const yMax = Math.max(10, ...rss, ...heap) * 1.1
  const yMin = Math.min(0, ...rss, ...heap)
  const x = (v: number): number => left + ((W - left - right) * v) / xMax
  const y = (v: number): number => top + ((H - top - bottom) * (yMax - v)) / (yMax - yMin)
  const path = (values: readonly number[]): string => values.map((v, i) => `${i === 0 ? 'M' : 'L'}${x(xs[i] as number).toFixed(1)},${y(v).toFixed(1)}`).join(' ')
  const ticks = (max: number, n: number): number[] => {
    const step = Math.max(1, Math.ceil(max / n / 5) * 5)
    return Array.from({ length: Math.floor(max / step) + 1 }, (_, i) => i * step)
  }
  const grid = [
    ...ticks(xMax, 8).map((v) => `<line x1="${x(v)}" y1="${top}" x2="${x(v)}" y2="${H - bottom}" stroke="#eee"/><text x="${x(v)}" y="${H - bottom + 16}" text-anchor="middle">${v}</text>`),
    ...ticks(yMax, 6).map((v) => `<line x1="${left}" y1="${y(v)}" x2="${W - right}" y2="${y(v)}" stroke="#eee"/><text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`),
  ]
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${title}</text>
${grid.join('\n')}
<line x1="${left}" y1="${H - bottom}" x2="${W - right}" y2="${H - bottom}" stroke="#333"/>
<line x1="${left}" y1="${top}" x2="${left}" y2="${H - bottom}" stroke="#333"/>
<text x="${(left + W - right) / 2}" y="${H - 8}" text-anchor="middle">GiB acknowledged by the sink</text>
<text x="14" y="${(top + H - bottom) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(top + H - bottom) / 2})">MiB over baseline</text>
<path d="${path(rss)}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>
<path d="${path(heap)}" fill="none" stroke="#ff7f0e" stroke-width="1.5"/>
<text x="${W - right - 150}" y="${top + 14}" fill="#1f77b4">— RSS</text>
<text x="${W - right - 80}" y="${top + 14}" fill="#ff7f0e">— V8 heap</text>
</svg>
`
}

const system = describeSystem('node')
const sink = await startSink({ cpus: args.pin ? '1' : undefined })
let output: ClientOutput
try {
  console.error(`streaming ${fmt(sizeBytes / GiB)} GiB at concurrency ${concurrency} to ${sink.endpoint}…`)
  output = await runClient(sink.endpoint, args.pin)
  const stats = await sink.stats()
  if (output.ok && stats.payloadBytes !== sizeBytes) throw new Error(`the sink received ${stats.payloadBytes} bytes, expected ${sizeBytes}`)
} finally {
  await sink.close()
}
if (!output.ok) {
  console.error(`scale client failed: ${output.error}`)
  process.exit(1)
}

const over = (s: ScaleSample): number => (s.rss - output.baseline.rss) / MiB
const afterFirst = output.samples.filter((s) => s.acked >= GiB)
const range = (values: number[]): [number, number] => [Math.min(...values), Math.max(...values)]
const [lo, hi] = afterFirst.length > 0 ? range(afterFirst.map(over)) : [Number.NaN, Number.NaN]
const [heapLo, heapHi] = afterFirst.length > 0 ? range(afterFirst.map((s) => (s.heapUsed - output.baseline.heapUsed) / MiB)) : [Number.NaN, Number.NaN]
const perGiB = (key: 'rss' | 'heapUsed'): number => {
  // Least-squares slope (MiB per GiB) after the first GiB: growth that a ±band could hide.
  const pts = afterFirst.map((s) => [s.acked / GiB, (s[key] - output.baseline[key]) / MiB] as const)
  const n = pts.length
  if (n < 2) return Number.NaN
  const mx = pts.reduce((a, [px]) => a + px, 0) / n
  const my = pts.reduce((a, [, py]) => a + py, 0) / n
  const sxy = pts.reduce((a, [px, py]) => a + (px - mx) * (py - my), 0)
  const sxx = pts.reduce((a, [px]) => a + (px - mx) ** 2, 0)
  return sxx === 0 ? Number.NaN : sxy / sxx
}
const title = `partstream upload(), ${fmt(sizeBytes / GiB)} GiB stream, adaptivePartSize(), concurrency ${concurrency}`
const markdown = [
  `### Scale: ${fmt(sizeBytes / GiB)} GiB in one upload`,
  '',
  systemLine(system),
  '',
  `${fmt(sizeBytes / GiB)} GiB as 64 KiB views of one 16 MiB buffer · adaptivePartSize() → ${output.parts} parts · concurrency ${concurrency} · ` +
    `${fmt(output.seconds)} s (${fmt(sizeBytes / MiB / output.seconds)} MiB/s) · client pinned: ${args.pin ? 'core 0 (sink core 1)' : 'no'} · RSS sampled every ${sampleMs} ms`,
  '',
  '| after the first GiB | min | max | spread | slope |',
  '|---|---:|---:|---:|---:|',
  `| RSS over baseline | ${fmt(lo)} MiB | ${fmt(hi)} MiB | ${fmt(hi - lo)} MiB | ${fmt(perGiB('rss'))} MiB/GiB |`,
  `| V8 heap over baseline | ${fmt(heapLo)} MiB | ${fmt(heapHi)} MiB | ${fmt(heapHi - heapLo)} MiB | ${fmt(perGiB('heapUsed'))} MiB/GiB |`,
  '',
  '![RSS over baseline against GiB acknowledged](scale-latest.svg)',
].join('\n')
console.log(`\n${markdown}`)
if (!args['no-write']) {
  const dir = args.out === undefined ? RESULTS_DIR : `${args.out.replace(/\/$/, '')}/`
  const paths = writeResults('scale-', system.date, { system, settings: { sizeBytes, concurrency, sampleMs, pin: args.pin }, ...output }, markdown, dir)
  writeFileSync(`${dir}scale-latest.svg`, svgPlot(output.samples, output.baseline, title))
  console.error(`wrote ${paths.join(' and ')} and ${dir}scale-latest.svg`)
}
