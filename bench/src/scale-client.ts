/**
 * The client of `bench:scale` (started by scale.ts with its settings as JSON in argv[2]): one
 * `upload()` of `sizeBytes` streamed as 64 KiB views of one resident 16 MiB buffer, part size
 * `adaptivePartSize()`, with the RSS and the V8 heap sampled every `sampleMs`. Prints one JSON
 * line: the samples and the result.
 */
import { adaptivePartSize } from '@partstream/core'
import { upload } from '@partstream/signer'
import { BENCH_BUCKET, BENCH_CREDENTIALS } from './internal/protocol.ts'
import { fillPattern, viewChunks } from './internal/sources.ts'

interface ScaleConfig {
  readonly endpoint: string
  readonly sizeBytes: number
  readonly concurrency: number
  readonly sampleMs: number
}

export interface ScaleSample {
  /** Seconds since the upload started. */
  readonly t: number
  /** Object bytes the sink acknowledged by then. */
  readonly acked: number
  readonly rss: number
  readonly heapUsed: number
  readonly arrayBuffers: number
}

const config = JSON.parse(process.argv[2] ?? '{}') as ScaleConfig
const pool = fillPattern(Buffer.allocUnsafe(16 * 1024 * 1024))
;(globalThis as { gc?: () => void }).gc?.()
const baseline = process.memoryUsage()
const samples: ScaleSample[] = []
let acked = 0
const started = performance.now()
const sample = (): void => {
  const m = process.memoryUsage()
  samples.push({ t: (performance.now() - started) / 1000, acked, rss: m.rss, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers })
}
sample()
const timer = setInterval(sample, config.sampleMs)
try {
  const result = await upload(
    viewChunks(pool, config.sizeBytes, 64 * 1024),
    { bucket: BENCH_BUCKET, key: 'scale.bin', endpoint: config.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: BENCH_CREDENTIALS },
    {
      concurrency: config.concurrency,
      partSize: adaptivePartSize(),
      maxViewOverhead: Number.POSITIVE_INFINITY,
      onProgress: (e) => {
        if (e.type === 'part-acked') acked = e.bytesAcked
      },
    },
  )
  clearInterval(timer)
  sample()
  process.stdout.write(`${JSON.stringify({ ok: true, seconds: (performance.now() - started) / 1000, parts: result.partCount, size: result.size, baseline: { rss: baseline.rss, heapUsed: baseline.heapUsed }, samples })}\n`)
} catch (error) {
  clearInterval(timer)
  process.stdout.write(`${JSON.stringify({ ok: false, error: String(error) })}\n`)
  process.exitCode = 1
}
