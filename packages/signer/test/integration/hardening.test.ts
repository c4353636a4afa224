// Hardening against the real S3 server (Ceph RGW), with the fault proxy in front of it where a
// failure must be forced: a first request refused closes every kind of source; a source whose
// return() never settles cannot hang upload(); a rejecting async onProgress fails the upload
// cleanly; an Abort that fails too is an AbortFailedError; `location` is one well-formed URL;
// RGW's own error answers carry hints. Every failed multipart upload is checked to be aborted.
import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { inspect } from 'node:util'
import {
  AbortFailedError,
  abortMultipartUpload,
  createS3Context,
  InvalidChunkError,
  ObjectExistsError,
  S3ResponseError,
  upload,
  UploadFailedError,
  type UploadOptions,
  type UploadProgress,
} from '../../src/index.ts'
import { SOURCE_CLOSE_GRACE_MS } from '../../src/upload/cleanup.ts'
import { deferred, failOnUnhandledRejections, fixedChunks, trackedSource } from '../fault/helpers.ts'
import { startFaultProxy, type FaultProxy } from '../fault/proxy.ts'
import { SOURCE_KINDS } from '../source-kinds.ts'
import { createBucket, getObject, openUploads, randomData, s3Env, sha256, target } from './s3.ts'

failOnUnhandledRejections()

const MiB = 1024 * 1024
const TEST = { timeout: 30_000 }
/** 5 MiB parts: an endless source of 1 MiB chunks needs a multipart upload. */
const PARTS: UploadOptions = { partSize: 5 * MiB, retry: { attempts: 3, baseDelayMs: 1 } }

let bucket: string
before(async () => {
  bucket = await createBucket('hardening')
})

async function withProxy<T>(rules: Parameters<typeof startFaultProxy>[1], fn: (proxy: FaultProxy) => Promise<T>): Promise<T> {
  const proxy = await startFaultProxy(s3Env().endpoint, rules)
  try {
    return await fn(proxy)
  } finally {
    await proxy.close()
  }
}

function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('the upload should fail'),
    (e: unknown) => e,
  )
}

// ---- 1. the first request refused: every kind of source is closed ----

describe('1. the first request refused closes the source', () => {
  const refusals = [
    {
      name: 'a bucket that does not exist (404 NoSuchBucket)',
      target: () => target(`hardening-missing-${Date.now().toString(36)}`, 'k'),
      status: 404,
      code: /^NoSuchBucket$/,
    },
    {
      name: 'wrong credentials (403)',
      target: () => ({ ...target(bucket, 'refused/wrong-credentials'), credentials: { accessKeyId: s3Env().credentials.accessKeyId, secretAccessKey: 'x'.repeat(40) } }),
      status: 403,
      code: /^(SignatureDoesNotMatch|InvalidAccessKeyId|AccessDenied)$/,
    },
  ]
  for (const kind of SOURCE_KINDS) {
    for (const refusal of refusals) {
      test(`${kind.name} × ${refusal.name}`, TEST, async () => {
        const { source, assertClosed } = kind.make()
        const error = await rejection(upload(source, refusal.target(), { ...PARTS, retry: false }))
        assert.ok(error instanceof S3ResponseError, `S3ResponseError, got ${inspect(error)}`)
        assert.equal(error.operation, 'CreateMultipartUpload')
        assert.equal(error.statusCode, refusal.status)
        assert.match(String(error.s3Code), refusal.code)
        await assertClosed()
      })
    }
  }
})

// ---- 2. a source whose return() never settles cannot hang upload() ----

/** Endless 1 MiB chunks; `next()` fails as told at chunk `failAt`; `return()` never settles. */
function stuckSource(failAt: number, how: 'throw' | 'invalid chunk' | 'never') {
  const state = { pulled: 0, returnCalls: 0 }
  const chunk = new Uint8Array(MiB)
  const boom = new Error('the source failed')
  const source: AsyncIterableIterator<Uint8Array> = {
    async next() {
      const index = state.pulled++
      if (index === failAt && how === 'throw') throw boom
      if (index === failAt && how === 'invalid chunk') return { done: false, value: 'not bytes' as never }
      return { done: false, value: chunk }
    },
    return() {
      state.returnCalls++
      return new Promise<IteratorResult<Uint8Array>>(() => {})
    },
    [Symbol.asyncIterator]() {
      return this
    },
  }
  return { source, state, boom }
}

/** Rejects within the grace plus a few seconds for the Abort round trip (a hang fails on TEST's timeout first). */
const PROMPT_MS = SOURCE_CLOSE_GRACE_MS + 4_000

async function timed<T>(promise: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now()
  const value = await promise
  return { value, ms: performance.now() - started }
}

describe('2. a source whose return() never settles cannot hang upload()', () => {
  test('next() throws after part 2 (by the protocol, return() is not called)', TEST, async () => {
    const key = 'stuck/next-throws'
    const { source, state, boom } = stuckSource(12, 'throw')
    let created: string | undefined
    const { value: error, ms } = await timed(
      rejection(upload(source, target(bucket, key), { ...PARTS, onProgress: (e) => void (e.type === 'upload-created' && (created = e.uploadId)) })),
    )
    assert.ok(error instanceof UploadFailedError, `UploadFailedError, got ${inspect(error)}`)
    assert.equal(error.cause, boom)
    assert.equal(error.uploadId, created)
    assert.equal(state.returnCalls, 0)
    assert.ok(ms < PROMPT_MS, `rejected after ${Math.round(ms)} ms`)
    assert.deepEqual(await openUploads(bucket, key), [], 'the multipart upload was aborted')
  })

  test('an invalid chunk after part 2', TEST, async () => {
    const key = 'stuck/invalid-chunk'
    const { source, state } = stuckSource(12, 'invalid chunk')
    let created: string | undefined
    const { value: error, ms } = await timed(
      rejection(upload(source, target(bucket, key), { ...PARTS, onProgress: (e) => void (e.type === 'upload-created' && (created = e.uploadId)) })),
    )
    assert.ok(error instanceof InvalidChunkError, `InvalidChunkError, got ${inspect(error)}`)
    assert.equal(error.chunkIndex, 12)
    assert.equal(error.uploadId, created)
    assert.equal(state.returnCalls, 1, 'return() was called once')
    assert.ok(ms < PROMPT_MS, `rejected after ${Math.round(ms)} ms`)
    assert.deepEqual(await openUploads(bucket, key), [], 'the multipart upload was aborted')
  })

  test('the upload fails at S3 mid-way (part 2: 403 AccessDenied)', TEST, async () => {
    const key = 'stuck/s3-fails'
    await withProxy([{ kind: 'UploadPart', partNumber: 2, fault: { type: 'error', status: 403, code: 'AccessDenied' } }], async (proxy) => {
      const { source, state } = stuckSource(-1, 'never')
      const { value: error, ms } = await timed(rejection(upload(source, { ...target(bucket, key), endpoint: proxy.endpoint }, PARTS)))
      assert.ok(error instanceof S3ResponseError, `S3ResponseError, got ${inspect(error)}`)
      assert.equal(error.operation, 'UploadPart')
      assert.equal(error.partNumber, 2)
      assert.equal(error.s3Code, 'AccessDenied')
      assert.equal(state.returnCalls, 1, 'return() was called once')
      assert.ok(ms < PROMPT_MS, `rejected after ${Math.round(ms)} ms`)
      assert.deepEqual(proxy.requests('AbortMultipartUpload').map((r) => r.outcome), [204], 'AbortMultipartUpload was sent')
    })
    assert.deepEqual(await openUploads(bucket, key), [], 'the multipart upload was aborted')
  })

  test('the signal aborts mid-upload (after part 1 is acknowledged)', TEST, async () => {
    const key = 'stuck/aborted'
    const { source, state } = stuckSource(-1, 'never')
    const controller = new AbortController()
    const acked = deferred()
    const promise = upload(source, target(bucket, key), {
      ...PARTS,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === 'part-acked') acked.resolve()
      },
    })
    const outcome = rejection(promise)
    await acked.promise
    const reason = new Error('cancelled mid-upload')
    const started = performance.now()
    controller.abort(reason)
    const error = await outcome
    const ms = performance.now() - started
    assert.equal(error, reason, 'rejects with signal.reason')
    assert.equal(state.returnCalls, 1, 'return() was called once')
    assert.ok(ms < PROMPT_MS, `rejected after ${Math.round(ms)} ms`)
    assert.deepEqual(await openUploads(bucket, key), [], 'the multipart upload was aborted')
  })
})

// ---- 3. an async onProgress that rejects ----

describe('3. an async onProgress that rejects', () => {
  test('rejecting on the 2nd part-acked: UploadFailedError (cause, uploadId), upload aborted, nothing unhandled', TEST, async () => {
    const key = 'progress/rejects'
    const sinkFailed = new Error('progress sink failed')
    const { source, state } = trackedSource(fixedChunks(randomData(20 * MiB, 3), MiB))
    let created: string | undefined
    let acks = 0
    const events: UploadProgress['type'][] = []
    const error = await rejection(
      upload(source, target(bucket, key), {
        ...PARTS,
        concurrency: 1,
        onProgress: async (e) => {
          events.push(e.type)
          if (e.type === 'upload-created') created = e.uploadId
          if (e.type === 'part-acked' && ++acks === 2) throw sinkFailed
        },
      }),
    )
    assert.ok(error instanceof UploadFailedError, `UploadFailedError, got ${inspect(error)}`)
    assert.equal(error.code, 'ERR_PARTSTREAM_UPLOAD_FAILED')
    assert.equal(error.cause, sinkFailed)
    assert.equal(typeof created, 'string')
    assert.equal(error.uploadId, created)
    assert.ok(!events.includes('done'), 'the upload did not complete')
    assert.ok(state.finished.settled, "the source's finally ran")
    assert.deepEqual(await openUploads(bucket, key), [], 'the multipart upload was aborted')
  })
})

// ---- 5. the Abort fails too ----

describe('5. AbortMultipartUpload fails too', () => {
  test('AbortFailedError: errors = [original, abortError], cause = original, uploadId; the upload is left for the caller', TEST, async () => {
    const key = 'abort-fails/denied'
    const boom = new Error('the source failed')
    // 256 KiB chunks: the source fails after 6 MiB, once part 1 is on its way.
    const { source } = trackedSource(fixedChunks(randomData(12 * MiB, 5), 256 * 1024), { throwAt: 24, error: boom })
    let uploadId: string | undefined
    await withProxy([{ kind: 'AbortMultipartUpload', times: Infinity, fault: { type: 'error', status: 403, code: 'AccessDenied' } }], async (proxy) => {
      const error = await rejection(
        upload(source, { ...target(bucket, key), endpoint: proxy.endpoint }, { ...PARTS, onProgress: (e) => void (e.type === 'upload-created' && (uploadId = e.uploadId)) }),
      )
      assert.ok(error instanceof AbortFailedError, `AbortFailedError, got ${inspect(error)}`)
      assert.equal(error.code, 'ERR_PARTSTREAM_ABORT_FAILED')
      assert.equal(error.cause, boom)
      assert.equal(typeof uploadId, 'string')
      assert.equal(error.uploadId, uploadId)
      assert.equal(error.errors.length, 2)
      assert.equal(error.errors[0], boom)
      const abortError = error.errors[1]
      assert.ok(abortError instanceof S3ResponseError)
      assert.equal(abortError.operation, 'AbortMultipartUpload')
      assert.equal(abortError.statusCode, 403)
      assert.match(error.message, /AbortMultipartUpload failed too: upload .+ may still hold parts\. First error: the source failed/)
      assert.deepEqual(proxy.requests('AbortMultipartUpload').map((r) => r.outcome), [403], 'a 403 is not retried')
    })
    // The upload is still open, as the error says; the caller aborts it.
    assert.deepEqual(await openUploads(bucket, key), [`${key} ${uploadId}`])
    const ctx = createS3Context(target(bucket, key))
    try {
      await abortMultipartUpload(ctx, uploadId as string)
    } finally {
      await ctx.close()
    }
    assert.deepEqual(await openUploads(bucket, key), [])
  })
})

// ---- 7. location ----

describe('7. location: one well-formed URL for PutObject and multipart', () => {
  const key = 'dir/a b+c%d/ü?x#y'
  const encoded = 'dir/a%20b%2Bc%25d/%C3%BC%3Fx%23y'
  for (const [name, size] of [['PutObject', 1000], ['multipart', 6 * MiB]] as const) {
    test(`${name}: a key with a space, +, %, ü, ? and #`, TEST, async () => {
      const data = randomData(size, size)
      const result = await upload(data, target(bucket, `${name}/${key}`), PARTS)
      assert.equal(result.partCount, name === 'PutObject' ? 1 : 2)
      const { endpoint } = s3Env()
      assert.equal(result.location, `${endpoint}/${bucket}/${name}/${encoded}`)
      const url = new URL(result.location)
      assert.equal(url.origin, new URL(endpoint).origin)
      assert.deepEqual([url.search, url.hash], ['', ''])
      assert.deepEqual(url.pathname.split('/').slice(2).map(decodeURIComponent).join('/'), `${name}/${key}`)
      assert.equal(sha256(await getObject(bucket, `${name}/${key}`)), sha256(data), 'the object is at that key')
    })
  }
})

// ---- 9. hints on RGW's own answers ----

describe("9. hints on RGW's answers", () => {
  test('a bogus resumeUploadId: ListParts NoSuchKey names `resumeUploadId`; the source is closed', TEST, async () => {
    const { source, assertClosed } = SOURCE_KINDS[0]!.make()
    const error = await rejection(upload(source, target(bucket, 'hints/bogus-resume'), { ...PARTS, resumeUploadId: 'no-such-upload-id' }))
    assert.ok(error instanceof S3ResponseError, `S3ResponseError, got ${inspect(error)}`)
    assert.equal(error.operation, 'ListParts')
    assert.equal(error.statusCode, 404)
    assert.match(String(error.s3Code), /^(NoSuchKey|NoSuchUpload)$/)
    assert.match(error.message, /The upload id is unknown or was aborted or completed: check `resumeUploadId`, or start a new upload\./)
    await assertClosed()
  })

  test('412 PreconditionFailed (ifNoneMatch on a taken key, PutObject): the cause names `ifNoneMatch`', TEST, async () => {
    const key = 'hints/taken'
    await upload(new Uint8Array(10), target(bucket, key))
    const error = await rejection(upload(new Uint8Array(10), target(bucket, key), { ifNoneMatch: true }))
    assert.ok(error instanceof ObjectExistsError, `ObjectExistsError, got ${inspect(error)}`)
    const cause = error.cause
    assert.ok(cause instanceof S3ResponseError, 'the server answered 412 (RGW honours If-None-Match on PutObject)')
    assert.equal(cause.statusCode, 412)
    assert.equal(cause.s3Code, 'PreconditionFailed')
    assert.match(cause.message, /An object exists at the key and `ifNoneMatch` is set/)
  })
})
