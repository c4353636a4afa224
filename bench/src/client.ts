/**
 * One measured upload, in a fresh process (started by internal/run-client.ts with its config as
 * JSON in argv[2]). A fresh process per upload is what makes "peak RSS" mean something: Linux
 * cannot reset VmHWM, so the peak belongs to this upload alone.
 *
 * Order: import only the library under test, prepare the source (buffers filled and resident),
 * collect garbage if `--expose-gc` is on, read the baseline RSS, then start the 10 ms RSS sampler
 * and the CPU and wall clocks, upload, stop the clocks. Prints one JSON line (`ClientResult`).
 */
import { createReadStream } from 'node:fs'
import { Readable } from 'node:stream'
import { BENCH_CREDENTIALS, type ClientConfig, type ClientResult } from './internal/protocol.ts'
import { fillPattern, freshChunks, viewChunks } from './internal/sources.ts'
import { readHwm, resetHwm } from './internal/hwm.ts'
import { measure } from './internal/measure.ts'

interface Outcome {
  readonly size: number
  readonly partCount: number | undefined
  readonly etag: string | undefined
}



function makeChunks(config: ClientConfig): AsyncGenerator<Uint8Array, void, undefined> {
  if (config.source === 'views') {
    const pool = fillPattern(Buffer.allocUnsafe(Math.min(config.poolBytes, Math.max(config.sizeBytes, config.chunkBytes))))
    return viewChunks(pool, config.sizeBytes, config.chunkBytes)
  }
  return freshChunks(config.sizeBytes, config.chunkBytes)
}

/** Prepares the source and returns the upload to run; everything before the returned call is baseline. */
async function prepare(config: ClientConfig): Promise<() => Promise<Outcome>> {
  const bodyOf = (): Uint8Array | AsyncGenerator<Uint8Array, void, undefined> | undefined => {
    if (config.mode === 'buffer') return fillPattern(Buffer.allocUnsafe(config.sizeBytes))
    if (config.mode === 'stream') return makeChunks(config)
    return undefined
  }

  if (config.lib === 'partstream') {
    const signer = await import('@partstream/signer')
    const target = {
      bucket: config.bucket,
      key: config.key,
      endpoint: config.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: BENCH_CREDENTIALS,
    }
    const options = {
      concurrency: config.concurrency,
      partSize: config.partSizeBytes,
      payload: config.payload === 'unsigned' ? ('unsigned' as const) : ('sha256' as const),
      checksum: config.checksum,
      ...(config.hashThreads === undefined ? {} : { hashThreads: config.hashThreads }),
      // The views' pool is resident anyway (it is in the baseline): do not let core copy them.
      ...(config.source === 'views' ? { maxViewOverhead: Number.POSITIVE_INFINITY } : {}),
    }
    if (config.mode === 'file') {
      const uploadFile = (signer as Record<string, unknown>)['uploadFile'] as typeof signer.uploadFile | undefined
      if (typeof uploadFile !== 'function') throw new Error('@partstream/signer does not export uploadFile')
      const file = config.file as string
      return async () => {
        const r = await uploadFile(file, target, options)
        return { size: r.size, partCount: r.partCount, etag: r.etag }
      }
    }
    const body = bodyOf() as Uint8Array | AsyncGenerator<Uint8Array, void, undefined>
    return async () => {
      const r = await signer.upload(body, target, options)
      return { size: r.size, partCount: r.partCount, etag: r.etag }
    }
  }

  if (config.lib === 'undici') {
    const { Agent, request } = await import('undici')
    const agent = new Agent()
    const body = config.mode === 'file' ? createReadStream(config.file as string) : (bodyOf() as Uint8Array | AsyncGenerator<Uint8Array, void, undefined>)
    return async () => {
      try {
        const response = await request(`${config.endpoint}/${config.bucket}/${config.key}`, {
          method: 'PUT',
          // undici sends any (async) iterable of chunks; its request() typings only list Readable.
          body: body as Readable,
          headers: { 'content-length': String(config.sizeBytes) },
          dispatcher: agent,
        })
        await response.body.dump()
        if (response.statusCode !== 200) throw new Error(`raw PUT answered ${response.statusCode}`)
        return { size: config.sizeBytes, partCount: 1, etag: undefined }
      } finally {
        await agent.close()
      }
    }
  }

  if (config.lib === 'bun-s3') {
    // Bun's built-in S3 client, written to the way its docs show: a writer fed in a plain loop.
    // Its writer buffers what is written ahead of the network (that is what the RSS column shows).
    type BunWriter = { write(chunk: Uint8Array): number | Promise<number>; end(): Promise<number> }
    type BunS3 = { file(key: string): { writer(o: object): BunWriter; write(data: unknown): Promise<number> } }
    const bun = (globalThis as { Bun?: { S3Client: new (o: object) => BunS3; file(path: string): unknown } }).Bun
    if (bun === undefined) throw new Error('bun-s3 runs on Bun only')
    const client = new bun.S3Client({ ...BENCH_CREDENTIALS, endpoint: config.endpoint, bucket: config.bucket, region: 'us-east-1' })
    const object = client.file(config.key)
    const body = bodyOf()
    return async () => {
      if (config.mode === 'file') await object.write(bun.file(config.file as string))
      else if (body instanceof Uint8Array) await object.write(body)
      else {
        const writer = object.writer({ partSize: config.partSizeBytes, queueSize: config.concurrency })
        for await (const chunk of body as AsyncGenerator<Uint8Array>) await writer.write(chunk)
        await writer.end()
      }
      return { size: config.sizeBytes, partCount: undefined, etag: undefined }
    }
  }

  const { S3Client } = await import('@aws-sdk/client-s3')
  const { Upload } = await import('@aws-sdk/lib-storage')
  // lib-storage as users get it: client-s3's defaults, including requestChecksumCalculation
  // 'WHEN_SUPPORTED' (a CRC32 of every part, on top of the SigV4 payload hash).
  const client = new S3Client({ endpoint: config.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: BENCH_CREDENTIALS })
  let body: Uint8Array | Readable
  if (config.mode === 'file') body = createReadStream(config.file as string)
  else if (config.mode === 'stream') body = Readable.from(makeChunks(config))
  else body = bodyOf() as Uint8Array
  return async () => {
    try {
      const upload = new Upload({
        client,
        params: { Bucket: config.bucket, Key: config.key, Body: body },
        queueSize: config.concurrency,
        partSize: config.partSizeBytes,
      })
      const r = await upload.done()
      return { size: config.sizeBytes, partCount: undefined, etag: 'ETag' in r ? r.ETag : undefined }
    } finally {
      client.destroy()
    }
  }
}

const warnings: string[] = []
process.on('warning', (warning) => warnings.push(`${warning.name}: ${warning.message}`.replace(/\s+/g, ' ').trim()))

async function main(): Promise<ClientResult> {
  const config = JSON.parse(process.argv[2] ?? '') as ClientConfig
  const run = await prepare(config)
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
  gc?.()
  resetHwm()
  const base = process.memoryUsage()
  let peakRss = base.rss
  let peakArrayBuffers = base.arrayBuffers
  let samples = 0
  const timer = setInterval(() => {
    const m = process.memoryUsage()
    samples++
    if (m.rss > peakRss) peakRss = m.rss
    if (m.arrayBuffers > peakArrayBuffers) peakArrayBuffers = m.arrayBuffers
  }, config.sampleMs)
  let liveBaseline: number | undefined
  let peakLive = 0
  let liveSamples = 0
  let liveTimer: ReturnType<typeof setInterval> | undefined
  if (config.liveSampleMs !== undefined && gc !== undefined) {
    const live = (): number => {
      gc()
      gc()
      return process.memoryUsage().arrayBuffers
    }
    liveBaseline = live()
    peakLive = liveBaseline
    liveTimer = setInterval(() => {
      liveSamples++
      peakLive = Math.max(peakLive, live())
    }, config.liveSampleMs)
  }
  const { value: outcome, seconds, cpuUserSeconds, cpuSystemSeconds, startUs, endUs } = await measure(run, () => {
    clearInterval(timer)
    clearInterval(liveTimer)
  })
  const end = process.memoryUsage()
  peakRss = Math.max(peakRss, end.rss)
  peakArrayBuffers = Math.max(peakArrayBuffers, end.arrayBuffers)
  const hwm = readHwm()
  if (outcome.size !== config.sizeBytes) throw new Error(`uploaded ${outcome.size} bytes, expected ${config.sizeBytes}`)
  return {
    ok: true,
    seconds,
    cpuUserSeconds,
    cpuSystemSeconds,
    baselineRssBytes: base.rss,
    peakRssBytes: Math.max(peakRss, hwm ?? 0),
    hwmBytes: hwm,
    sampledPeakRssBytes: peakRss,
    samples,
    baselineArrayBuffersBytes: base.arrayBuffers,
    peakArrayBuffersBytes: peakArrayBuffers,
    peakLiveArrayBuffersOverBaselineBytes: liveBaseline === undefined ? undefined : peakLive - liveBaseline,
    liveSamples,
    startUs,
    endUs,
    warnings,
    size: outcome.size,
    partCount: outcome.partCount,
    etag: outcome.etag,
  }
}

function finish(result: ClientResult): void {
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(result.ok ? 0 : 1))
}

main().then(finish, (error: unknown) => {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error)
  const cause = error instanceof Error && error.cause !== undefined ? `\ncause: ${String(error.cause)}` : ''
  finish({ ok: false, error: message + cause })
})
