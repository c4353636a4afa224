/**
 * One measured many-files run, in a fresh process (started by many.ts under `/usr/bin/time`,
 * with its config as JSON in argv[2]), like client.ts: import only what is measured, read the
 * baseline RSS, then wall time, `process.cpuUsage()` and peak RSS (10 ms samples and VmHWM)
 * around the call. Prints one JSON line (`ManyClientResult`).
 *
 * - `partstream`: `uploadDirectory(dir)`, one budget of `concurrency` parts in flight.
 * - `lib-storage`: what users write today: list the tree (`readdir` recursive), then a promise
 *   pool of `concurrency` workers, each running one `@aws-sdk/lib-storage` `Upload` per file
 *   (`fs.createReadStream`, client-s3 defaults, lib-storage's default queueSize 4 and 5 MiB parts)
 *   on one shared `S3Client`.
 * - `walk`: partstream's `walkDirectory` alone (entries only), then the count-ahead walk
 *   (`walkDirectory` + a `stat` per file): how long walking takes next to uploading.
 */
import { createReadStream } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { BENCH_CREDENTIALS } from './internal/protocol.ts'
import { readHwm, resetHwm } from './internal/hwm.ts'
import { measure } from './internal/measure.ts'

export interface ManyClientConfig {
  readonly lib: 'partstream' | 'lib-storage' | 'walk'
  readonly dir: string
  readonly endpoint: string
  readonly bucket: string
  readonly prefix: string
  readonly concurrency: number
  readonly partSizeBytes: number
  readonly sampleMs: number
}

export interface ManyClientSuccess {
  readonly ok: true
  readonly seconds: number
  readonly cpuSeconds: number
  readonly baselineRssBytes: number
  readonly peakRssBytes: number
  readonly files: number
  readonly bytes: number
  readonly failed: number
  /** `walk` only: seconds of the count-ahead walk (entries + a stat each). */
  readonly countSeconds?: number | undefined
}

export type ManyClientResult = ManyClientSuccess | { readonly ok: false; readonly error: string }



interface Outcome {
  readonly files: number
  readonly bytes: number
  readonly failed: number
  readonly countSeconds?: number | undefined
}

async function prepare(config: ManyClientConfig): Promise<() => Promise<Outcome>> {
  if (config.lib === 'partstream' || config.lib === 'walk') {
    const signer = await import('@partstream/signer')
    if (config.lib === 'walk') {
      return async () => {
        let files = 0
        const walk = signer.walkDirectory(config.dir)
        while ((await walk.next()).done !== true) files++
        const t0 = performance.now()
        let bytes = 0
        for await (const entry of signer.walkDirectory(config.dir)) bytes += (await stat((entry as { path: string }).path)).size
        return { files, bytes, failed: 0, countSeconds: (performance.now() - t0) / 1000 }
      }
    }
    return async () => {
      const r = await signer.uploadDirectory(
        config.dir,
        { bucket: config.bucket, prefix: config.prefix, endpoint: config.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: BENCH_CREDENTIALS },
        { concurrency: config.concurrency, partSize: config.partSizeBytes, collect: false },
      )
      return { files: r.succeeded, bytes: r.uploadedBytes, failed: r.failed }
    }
  }
  const { S3Client } = await import('@aws-sdk/client-s3')
  const { Upload } = await import('@aws-sdk/lib-storage')
  const client = new S3Client({ endpoint: config.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: BENCH_CREDENTIALS })
  return async () => {
    try {
      const paths = (await readdir(config.dir, { recursive: true, withFileTypes: true }))
        .filter((d) => d.isFile())
        .map((d) => join(d.parentPath ?? (d as unknown as { path: string }).path, d.name))
      let next = 0
      let files = 0
      let bytes = 0
      let failed = 0
      const worker = async (): Promise<void> => {
        while (next < paths.length) {
          const path = paths[next++] as string
          const key = config.prefix + relative(config.dir, path).split(sep).join('/')
          try {
            await new Upload({ client, params: { Bucket: config.bucket, Key: key, Body: createReadStream(path) } }).done()
            files++
            bytes += (await stat(path)).size
          } catch {
            failed++
          }
        }
      }
      await Promise.all(Array.from({ length: config.concurrency }, worker))
      return { files, bytes, failed }
    } finally {
      client.destroy()
    }
  }
}

async function main(): Promise<ManyClientResult> {
  const config = JSON.parse(process.argv[2] ?? '') as ManyClientConfig
  const run = await prepare(config)
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
  resetHwm()
  const base = process.memoryUsage().rss
  let peak = base
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }, config.sampleMs)
  const { value: outcome, seconds, cpuUserSeconds, cpuSystemSeconds } = await measure(run, () => clearInterval(timer))
  peak = Math.max(peak, process.memoryUsage().rss, readHwm() ?? 0)
  return { ok: true, seconds, cpuSeconds: cpuUserSeconds + cpuSystemSeconds, baselineRssBytes: base, peakRssBytes: peak, ...outcome }
}

main().then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0)),
  (error: unknown) => {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error)
    process.stdout.write(`${JSON.stringify({ ok: false, error: message })}\n`, () => process.exit(1))
  },
)
