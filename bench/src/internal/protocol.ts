/**
 * Messages between the benchmark driver and its two kinds of child process: the S3 sink (one per
 * invocation, its own process so its CPU is never counted as client CPU) and the measured client
 * (one fresh process per upload, so its peak RSS belongs to that upload alone).
 */

/** `undici`: one raw PUT of the whole object, unsigned and unhashed: the ceiling of this machine and sink. */
/** `bun-s3`: Bun's built-in `Bun.S3Client` writer, measured only when the runtime is Bun. */
export type Library = 'partstream' | 'lib-storage' | 'undici' | 'bun-s3'
/** `stream`: an async generator of chunks; `buffer`: one `Uint8Array`; `file`: a file on disk. */
export type Mode = 'stream' | 'buffer' | 'file'
/** Where stream chunks come from: views of one preallocated buffer, or a fresh allocation each. */
export type ChunkSource = 'views' | 'fresh'
/** partstream's `payload` option; lib-storage always runs with its defaults (`default`); the raw PUT has `none`. */
export type Payload = 'sha256' | 'unsigned' | 'default' | 'none'
/** partstream's `checksum` option (issue 12); absent: none. */
export type Checksum = 'CRC64NVME' | 'CRC32C' | 'CRC32' | 'SHA1' | 'SHA256'
export const CHECKSUMS: readonly Checksum[] = ['CRC64NVME', 'CRC32C', 'CRC32', 'SHA1', 'SHA256']

/** One measured upload, handed to `client.js` as JSON in argv[2]. */
export interface ClientConfig {
  readonly lib: Library
  readonly mode: Mode
  /** Stream mode only. */
  readonly source: ChunkSource | undefined
  readonly sizeBytes: number
  readonly concurrency: number
  readonly payload: Payload
  /** partstream only: the `checksum` option. */
  readonly checksum?: Checksum | undefined
  /** partstream's file mode only: the `hashThreads` option; absent: the library's default. */
  readonly hashThreads?: number | 'auto' | undefined
  readonly partSizeBytes: number
  readonly chunkBytes: number
  /** Stream/views only: size of the preallocated buffer the views cycle through. */
  readonly poolBytes: number
  readonly endpoint: string
  readonly bucket: string
  readonly key: string
  /** File mode only. */
  readonly file: string | undefined
  /** RSS sampling period. */
  readonly sampleMs: number
  /**
   * Memory bench: every this many ms, collect garbage (twice, so array buffer sweeping finishes)
   * and read the live `arrayBuffers` bytes: what the library really retains. Costs throughput.
   */
  readonly liveSampleMs?: number | undefined
}

export interface ClientSuccess {
  readonly ok: true
  readonly seconds: number
  readonly cpuUserSeconds: number
  readonly cpuSystemSeconds: number
  /** RSS after imports and source preparation, right before the upload starts. */
  readonly baselineRssBytes: number
  /** max(sampled RSS, VmHWM): the process's peak resident set. */
  readonly peakRssBytes: number
  /** Linux `VmHWM` from /proc/self/status at the end (undefined elsewhere). */
  readonly hwmBytes: number | undefined
  readonly sampledPeakRssBytes: number
  readonly samples: number
  /** `process.memoryUsage().arrayBuffers`: bytes held in ArrayBuffers (the input chunks, part buffers). */
  readonly baselineArrayBuffersBytes: number
  readonly peakArrayBuffersBytes: number
  /** Peak of live `arrayBuffers` (after forced GC) over the baseline's live bytes; undefined unless `liveSampleMs`. */
  readonly peakLiveArrayBuffersOverBaselineBytes: number | undefined
  readonly liveSamples: number
  /** `process.hrtime` (µs, monotonic: the clock of V8 CPU profiles) when the upload started and ended. */
  readonly startUs: number
  readonly endUs: number
  /** Process warnings emitted during the run (`MaxListenersExceededWarning`, deprecations…). */
  readonly warnings: readonly string[]
  readonly size: number
  readonly partCount: number | undefined
  readonly etag: string | undefined
}

export interface ClientFailure {
  readonly ok: false
  readonly error: string
}

export type ClientResult = ClientSuccess | ClientFailure

/** What the sink saw since its last reset. */
export interface SinkStats {
  readonly requests: number
  readonly byOperation: Record<string, number>
  readonly connections: number
  /** Most requests open at the same time: confirms the concurrency the client really used. */
  readonly maxInFlight: number
  /** Raw request body bytes (aws-chunked framing included). */
  readonly bodyBytes: number
  /** Object bytes received in UploadPart/PutObject bodies (decoded length for aws-chunked). */
  readonly payloadBytes: number
  readonly expectContinue: number
  /** `x-amz-content-sha256` kinds: `sha256` (hex), `UNSIGNED-PAYLOAD`, `STREAMING-…`, `none`. */
  readonly payloadHash: Record<string, number>
  /** `x-amz-checksum-*` / `x-amz-sdk-checksum-algorithm` headers on part and object uploads. */
  readonly checksumHeaders: Record<string, number>
  readonly verified: number
  readonly verifyFailures: number
  /** Answers with status ≥ 400. */
  readonly errors: number
  readonly sinkCpuSeconds: number
  readonly completedObjects: number
}

export type DriverToSink = { readonly type: 'reset' } | { readonly type: 'stats' } | { readonly type: 'exit' }
export type SinkToDriver =
  | { readonly type: 'ready'; readonly port: number }
  | { readonly type: 'reset-done' }
  | { readonly type: 'stats'; readonly stats: SinkStats }

/** Fixed fake credentials: the sink accepts any signature. */
export const BENCH_CREDENTIALS = { accessKeyId: 'BENCHACCESSKEY000001', secretAccessKey: 'benchsecretkey00000000000000000000000001' } as const
export const BENCH_BUCKET = 'bench'
