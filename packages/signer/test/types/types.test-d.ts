/**
 * Type tests: checked by `tsc -p packages/signer/test/types` (part of `pnpm typecheck`), never run.
 * Each `@ts-expect-error` must fail to compile without it.
 */
import { Readable } from 'node:stream'
import {
  createCredentialsProvider,
  CredentialsError,
  PartstreamError,
  resolveCredentials,
  resolveS3Config,
  S3ResponseError,
  upload,
  uploadFd,
  uploadAll,
  uploadFile,
  uploadDirectory,
  uploadPart,
  walkDirectory,
  type S3Context,
  type UploadOptions,
  type UploadProgress,
  type UploadResult,
  type Credentials,
  type ResolvedS3Config,
  type UploadTarget,
} from '../../src/index.ts'

declare const target: UploadTarget
declare const ctx: S3Context
declare const e2: unknown

async function* gen(): AsyncGenerator<Uint8Array> {
  yield new Uint8Array(1)
}

// Every source kind a user has.
const r1: Promise<UploadResult> = upload(gen(), target)
upload([new Uint8Array(1)], target)
upload(new Uint8Array(10), target)
upload(new ReadableStream<Uint8Array>(), target)
upload(Readable.from([Buffer.from('x')]), target)
// A web ReadableStream as the DOM lib types it without "dom.asynciterable" (the Next.js and Vite
// templates): getReader(), no Symbol.asyncIterator. upload() reads it through getReader().
declare const domStream: Omit<ReadableStream<Uint8Array>, typeof Symbol.asyncIterator | 'values'>
upload(domStream, target)
uploadAll([{ key: 'a', source: domStream }], target)
// @ts-expect-error a stream of strings is not bytes
upload(new ReadableStream<string>() as Omit<ReadableStream<string>, typeof Symbol.asyncIterator | 'values'>, target)
uploadFile('/tmp/x', target)
uploadFile(new URL('file:///tmp/x'), target)
const r2: Promise<UploadResult> = uploadFd(0, target, { close: false, sizeHint: undefined })
void r2
// @ts-expect-error a descriptor is a number, not a stream
uploadFd(process.stdin, target)
// @ts-expect-error strings must be encoded first
upload('text', target)
// @ts-expect-error a stream of strings is not bytes
upload(['a', 'b'], target)

// Every option accepts undefined (exactOptionalPropertyTypes callers).
const allUndefined: UploadOptions = {
  partSize: undefined,
  sizeHint: undefined,
  concurrency: undefined,
  signal: undefined,
  hash: undefined,
  payload: undefined,
  leavePartsOnError: undefined,
  onProgress: undefined,
  maxViewOverhead: undefined,
  retry: undefined,
  dispatcher: undefined,
  now: undefined,
  idleTimeoutMs: undefined,
  contentType: undefined,
  metadata: undefined,
  checksum: undefined,
  contentMd5: undefined,
}
void allUndefined
// @ts-expect-error checksum is one of S3's five names, upper case
upload(gen(), target, { checksum: 'crc64nvme' })
// @ts-expect-error MD5 is contentMd5, not a checksum algorithm
upload(gen(), target, { checksum: 'MD5' })
// The result's checksum is what S3 reports: algorithm, type, value.
void r1.then((r) => {
  if (r.checksum !== undefined) {
    const type: 'FULL_OBJECT' | 'COMPOSITE' = r.checksum.type
    const value: string = r.checksum.value
    void [type, value]
  }
})
// @ts-expect-error payload is a closed set
upload(gen(), target, { payload: 'streaming' })
// @ts-expect-error retry is an object or false
upload(gen(), target, { retry: true })

// Progress events are a discriminated union.
upload(gen(), target, {
  onProgress: (e: UploadProgress) => {
    if (e.type === 'part-acked') {
      const n: number = e.bytesAcked
      void n
    }
    if (e.type === 'upload-created') {
      const id: string = e.uploadId
      void id
    }
    // @ts-expect-error only part-retried carries an error
    void (e.type === 'done' && e.error)
  },
})

// Targets: bucket and key are required; credentials can be a provider.
// @ts-expect-error key is required
const noKey: UploadTarget = { bucket: 'b' }
void noKey
const withProvider: UploadTarget = {
  bucket: 'b',
  key: 'k',
  credentials: async () => ({ accessKeyId: 'a', secretAccessKey: 's' }),
}
void withProvider
// A profile, and credentials that expire (the provider is called again before they do).
const withProfile: UploadTarget = {
  bucket: 'b',
  key: 'k',
  profile: 'backup',
  credentials: async () => ({ accessKeyId: 'a', secretAccessKey: 's', sessionToken: 't', expiration: new Date() }),
}
void withProfile
// @ts-expect-error expiration is a Date
const badExpiration: UploadTarget = { bucket: 'b', key: 'k', credentials: { accessKeyId: 'a', secretAccessKey: 's', expiration: '2030-01-01' } }
void badExpiration
const exactOptional: UploadTarget = { bucket: 'b', key: 'k', profile: undefined, region: undefined, endpoint: undefined, credentials: undefined }
void exactOptional

// The chain, for embedders and CLIs.
const resolved: Promise<Credentials> = resolveCredentials({ profile: undefined, env: undefined })
void resolved
const shared: UploadTarget = { bucket: 'b', key: 'k', credentials: createCredentialsProvider({ profile: 'ci' }) }
void shared
const config: ResolvedS3Config = resolveS3Config({ region: undefined, endpoint: new URL('http://127.0.0.1:7480'), profile: undefined, env: {} })
const regionName: string = config.region
void regionName
// @ts-expect-error env values are strings
resolveS3Config({ env: { AWS_REGION: 1 } })
if (e2 instanceof CredentialsError) {
  const tried: readonly string[] = e2.tried
  const profileName: string = e2.profile
  void [tried, profileName]
}

// Errors share the core base class; S3 errors expose their fields.
declare const e: unknown
if (e instanceof S3ResponseError) {
  const s: number = e.statusCode
  void s
}
if (e instanceof PartstreamError) void e.code

// The low-level operation takes a Part-shaped body.
uploadPart(ctx, 'upload-id', { partNumber: 1, chunks: [new Uint8Array(1)], byteLength: 1, sha256: undefined })
// @ts-expect-error partNumber is required
uploadPart(ctx, 'upload-id', { chunks: [], byteLength: 0, sha256: undefined })
// A part with a checksum, sent with its algorithm.
uploadPart(ctx, 'upload-id', { partNumber: 1, chunks: [], byteLength: 0, sha256: undefined, checksum: new Uint8Array(8) }, { checksumAlgorithm: 'CRC64NVME' })
void r1

// walkDirectory yields `{ key, path, contentType?, error? }` entries only: `path` (a string) and
// `error` need no narrowing, and uploadAll takes the walk as it is.
async function walkedEntries(): Promise<void> {
  for await (const e of walkDirectory('./dist')) {
    const path: string = e.path
    const code: string | undefined = e.error?.code
    void [path, code]
  }
}
void walkedEntries
void uploadAll(walkDirectory('./dist'), { bucket: 'b' })

// skipExisting: a comparison alone (listing the prefix), or { by, using }.
uploadDirectory('./dist', { bucket: 'b' }, { skipExisting: 'etag' })
uploadDirectory('./dist', { bucket: 'b' }, { skipExisting: { by: 'size', using: 'head' } })
uploadDirectory('./dist', { bucket: 'b' }, { skipExisting: { by: 'etag' }, countAhead: true })
// @ts-expect-error using is 'head' or 'list'
uploadDirectory('./dist', { bucket: 'b' }, { skipExisting: { by: 'size', using: 'get' } })
// @ts-expect-error by is required in the object form
uploadDirectory('./dist', { bucket: 'b' }, { skipExisting: { using: 'list' } })
uploadDirectory('./dist', { bucket: 'b' }, {
  onProgress: (e) => {
    const known: number | undefined = e.totalBytes
    const skipped: number = e.bytesSkipped
    void [known, skipped]
  },
})
