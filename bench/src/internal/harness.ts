import type { Checksum, ChunkSource, ClientConfig, ClientSuccess, Library, Mode, Payload, SinkStats } from './protocol.ts'
import { BENCH_BUCKET } from './protocol.ts'
import { runClient, type RunClientOptions } from './run-client.ts'
import type { Sink } from './sink-control.ts'
import { max, median, min } from './stats.ts'
import { GiB, MiB, fmt } from './units.ts'

/** One configuration measured `runs` times. */
export interface Variant {
  readonly lib: Library
  readonly mode: Mode
  readonly source: ChunkSource | undefined
  readonly concurrency: number
  readonly payload: Payload
  /** partstream only: the `checksum` option. */
  readonly checksum?: Checksum | undefined
  /** partstream's file mode only: the `hashThreads` option; absent: the library's default. */
  readonly hashThreads?: number | 'auto' | undefined
  readonly sizeBytes: number
}

export interface Measurement {
  readonly run: number
  readonly client: ClientSuccess
  readonly sink: SinkStats
}

export interface VariantResult {
  readonly variant: Variant
  readonly measurements: Measurement[]
  readonly failures: string[]
}

export interface MatrixOptions {
  readonly runs: number
  readonly sink: Sink
  readonly partSizeBytes: number
  readonly chunkBytes: number
  readonly poolBytes: number
  /** Path of a file of `sizeBytes`, for file mode. */
  readonly fileFor: (sizeBytes: number) => string | undefined
  readonly client: RunClientOptions
  readonly sampleMs: number
  /** See `ClientConfig.liveSampleMs`. */
  readonly liveSampleMs?: number | undefined
  readonly log: (line: string) => void
}

export function modeLabel(v: Pick<Variant, 'mode' | 'source'>): string {
  if (v.mode === 'stream') return `stream/${v.source ?? 'fresh'}`
  return v.mode === 'buffer' ? 'Uint8Array' : 'file'
}

export function variantLabel(v: Variant): string {
  return `${v.lib} ${modeLabel(v)} c=${v.concurrency} ${payloadLabel(v)} ${fmt(v.sizeBytes / MiB)} MiB`
}

/** `sha256`, `unsigned + CRC64NVME`, …: the payload mode and the checksum, if any. */
export function payloadLabel(v: Pick<Variant, 'payload' | 'checksum' | 'hashThreads'>): string {
  const payload = v.payload === 'default' ? 'default (sha256 + crc32)' : v.payload
  const label = v.checksum === undefined ? payload : `${payload} + ${v.checksum}`
  return v.hashThreads === undefined ? label : `${label} · hashThreads ${v.hashThreads}`
}

/** Variants that are compared with each other share a cell: same mode, source, concurrency and size. */
export function cellOf(v: Variant): string {
  return `${v.mode}|${v.source ?? ''}|${v.concurrency}|${v.sizeBytes}`
}

/**
 * Runs every variant `runs` times, interleaved: each run goes through every cell, and inside a
 * cell the libraries take turns (the order rotates every run), so drift on a shared machine
 * (thermal, noisy neighbours, page cache) lands on both libraries alike.
 */
export async function runMatrix(variants: readonly Variant[], options: MatrixOptions): Promise<VariantResult[]> {
  const results = variants.map((variant): VariantResult => ({ variant, measurements: [], failures: [] }))
  const cells = new Map<string, VariantResult[]>()
  for (const r of results) {
    const key = cellOf(r.variant)
    cells.set(key, [...(cells.get(key) ?? []), r])
  }
  let seq = 0
  for (let run = 1; run <= options.runs; run++) {
    for (const cell of cells.values()) {
      const shift = (run - 1) % cell.length
      const order = [...cell.slice(shift), ...cell.slice(0, shift)]
      for (const result of order) {
        const v = result.variant
        const config: ClientConfig = {
          lib: v.lib,
          mode: v.mode,
          source: v.source,
          sizeBytes: v.sizeBytes,
          concurrency: v.concurrency,
          payload: v.payload,
          checksum: v.checksum,
          hashThreads: v.hashThreads,
          partSizeBytes: options.partSizeBytes,
          chunkBytes: options.chunkBytes,
          poolBytes: options.poolBytes,
          endpoint: options.sink.endpoint,
          bucket: BENCH_BUCKET,
          key: `${v.lib}/${v.mode}/run-${run}/${++seq}.bin`,
          file: v.mode === 'file' ? options.fileFor(v.sizeBytes) : undefined,
          sampleMs: options.sampleMs,
          liveSampleMs: options.liveSampleMs,
        }
        await options.sink.reset()
        const client = await runClient(config, options.client)
        const sink = await options.sink.stats()
        const prefix = `[run ${run}/${options.runs}] ${variantLabel(v)}`
        const problem = !client.ok
          ? client.error
          : sink.payloadBytes !== v.sizeBytes
            ? `the sink received ${sink.payloadBytes} object bytes, expected ${v.sizeBytes}`
            : sink.verifyFailures > 0
              ? `${sink.verifyFailures} bodies did not match x-amz-content-sha256`
              : sink.errors > 0
                ? `the sink answered ${sink.errors} errors`
                : undefined
        if (problem !== undefined || !client.ok) {
          result.failures.push(`run ${run}: ${problem ?? 'failed'}`)
          options.log(`${prefix}: FAILED: ${problem ?? ''}`)
          continue
        }
        result.measurements.push({ run, client, sink })
        for (const w of client.warnings) options.log(`${prefix}: warning: ${w}`)
        const s = summarizeOne(v, client)
        options.log(
          `${prefix}: ${fmt(s.mibps)} MiB/s, ${fmt(s.cpuPerGiB)} CPU s/GiB, +${fmt(s.rssOverBaselineMiB)} MiB RSS, ` +
            `${sink.requests} requests, ${sink.connections} connections, ≤${sink.maxInFlight} in flight, ` +
            `sink ${fmt(sink.sinkCpuSeconds / (v.sizeBytes / GiB))} CPU s/GiB`,
        )
      }
    }
  }
  return results
}

function summarizeOne(v: Variant, client: ClientSuccess): { mibps: number; cpuPerGiB: number; rssOverBaselineMiB: number } {
  return {
    mibps: v.sizeBytes / MiB / client.seconds,
    cpuPerGiB: (client.cpuUserSeconds + client.cpuSystemSeconds) / (v.sizeBytes / GiB),
    rssOverBaselineMiB: (client.peakRssBytes - client.baselineRssBytes) / MiB,
  }
}

/** Medians and spread of one variant's runs. */
export interface Summary {
  readonly runs: number
  readonly mibps: { readonly median: number | undefined; readonly min: number | undefined; readonly max: number | undefined }
  readonly cpuPerGiB: number | undefined
  readonly cpuUserPerGiB: number | undefined
  readonly cpuSystemPerGiB: number | undefined
  readonly rssOverBaselineMiB: { readonly median: number | undefined; readonly max: number | undefined }
  readonly arrayBuffersOverBaselineMiB: { readonly median: number | undefined; readonly max: number | undefined }
  /** Live (after forced GC) ArrayBuffer bytes over baseline, max over runs; undefined unless sampled. */
  readonly liveArrayBuffersOverBaselineMiB: number | undefined
  readonly baselineRssMiB: number | undefined
  readonly requests: number | undefined
  readonly connections: number | undefined
  readonly maxInFlight: number | undefined
  readonly sinkCpuPerGiB: number | undefined
}

export function summarize(result: VariantResult): Summary {
  const v = result.variant
  const m = result.measurements
  const gib = v.sizeBytes / GiB
  const speeds = m.map((x) => v.sizeBytes / MiB / x.client.seconds)
  const rss = m.map((x) => (x.client.peakRssBytes - x.client.baselineRssBytes) / MiB)
  const ab = m.map((x) => (x.client.peakArrayBuffersBytes - x.client.baselineArrayBuffersBytes) / MiB)
  return {
    runs: m.length,
    mibps: { median: median(speeds), min: min(speeds), max: max(speeds) },
    cpuPerGiB: median(m.map((x) => (x.client.cpuUserSeconds + x.client.cpuSystemSeconds) / gib)),
    cpuUserPerGiB: median(m.map((x) => x.client.cpuUserSeconds / gib)),
    cpuSystemPerGiB: median(m.map((x) => x.client.cpuSystemSeconds / gib)),
    rssOverBaselineMiB: { median: median(rss), max: max(rss) },
    arrayBuffersOverBaselineMiB: { median: median(ab), max: max(ab) },
    liveArrayBuffersOverBaselineMiB: max(m.flatMap((x) => (x.client.peakLiveArrayBuffersOverBaselineBytes === undefined ? [] : [x.client.peakLiveArrayBuffersOverBaselineBytes / MiB]))),
    baselineRssMiB: median(m.map((x) => x.client.baselineRssBytes / MiB)),
    requests: median(m.map((x) => x.sink.requests)),
    connections: median(m.map((x) => x.sink.connections)),
    maxInFlight: median(m.map((x) => x.sink.maxInFlight)),
    sinkCpuPerGiB: median(m.map((x) => x.sink.sinkCpuSeconds / gib)),
  }
}

/** Union of the sink's header counters over a library's runs, for the notes under a table. */
export function headerNotes(
  results: readonly VariantResult[],
  lib: Library,
): { payloadHash: string[]; checksum: string[]; expect: number; requests: number; warnings: string[] } {
  const warnings = new Map<string, Set<number>>()
  const payloadHash = new Set<string>()
  const checksum = new Set<string>()
  let expect = 0
  let requests = 0
  for (const r of results) {
    if (r.variant.lib !== lib) continue
    for (const m of r.measurements) {
      for (const k of Object.keys(m.sink.payloadHash)) payloadHash.add(k)
      for (const k of Object.keys(m.sink.checksumHeaders)) checksum.add(k)
      for (const w of m.client.warnings) warnings.set(w, (warnings.get(w) ?? new Set()).add(r.variant.concurrency))
      expect += m.sink.expectContinue
      requests += m.sink.requests
    }
  }
  return { payloadHash: [...payloadHash].sort(), checksum: [...checksum].sort(), expect, requests, warnings: [...warnings].map(([w, c]) => `${w} (concurrency ${[...c].sort((a, b) => a - b).join(', ')})`) }
}
