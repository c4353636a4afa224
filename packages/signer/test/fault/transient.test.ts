// Faults injected between the client and the real S3 server (Ceph RGW) by the fault proxy:
// transient ones must be retried until the object is intact (read back and compared by SHA-256),
// permanent ones must surface as an S3ResponseError and leave no multipart upload behind.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { before, describe, test } from 'node:test'
import { Agent, errors as undiciErrors } from 'undici'
import {
  AbortFailedError,
  abortMultipartUpload,
  createMultipartUpload,
  createS3Context,
  fetchTransport,
  getObject as getObjectOp,
  listParts,
  NetworkError,
  S3ResponseError,
  upload,
  uploadPart,
  UploadFailedError,
  type UploadOptions,
  type UploadProgress,
} from '../../src/index.ts'
import { IdleTimeoutError } from '../../src/errors.ts'
import { CREATE_GRACE_MS } from '../../src/upload/create.ts'
import { isRetryableNetworkError, isRetryableStatus } from '../../src/http/retry.ts'
import { createBucket, getObject, openUploads, randomChunks, randomData, s3Env, sha256, target } from '../integration/s3.ts'
import { activeTimers, failOnUnhandledRejections, fixedChunks, trackedSource } from './helpers.ts'
import { FAULTS, startFaultProxy, type Fault, type FaultProxy, type FaultRule, type LoggedRequest, type RequestKind } from './proxy.ts'

failOnUnhandledRejections()

const MiB = 1024 * 1024
/** Tiny backoff: retries are exercised, not waited for. */
const FAST: UploadOptions = { retry: { attempts: 5, baseDelayMs: 1 }, partSize: 5 * MiB }
/** For stall cases: the stalled attempt is given up after this long (each stall costs it once). */
const STALL_IDLE_MS = 1000
const TEST = { timeout: 60_000 }
/**
 * Bun resolves `undici` to a built-in stub (an Agent without request(), error classes without
 * codes): the cases about undici itself run where the real undici is loaded (Node, Deno).
 */
const realUndici = typeof (Agent.prototype as { request?: unknown }).request === 'function'

let bucket: string
before(async () => {
  bucket = await createBucket('fault')
})

async function withProxy<T>(rules: readonly FaultRule[], fn: (proxy: FaultProxy) => Promise<T>): Promise<T> {
  const proxy = await startFaultProxy(s3Env().endpoint, rules)
  try {
    return await fn(proxy)
  } finally {
    await proxy.close()
  }
}

function show(requests: readonly LoggedRequest[]): string {
  return requests.map((r) => `#${r.seq} ${r.kind}${r.partNumber === undefined ? '' : ` part ${r.partNumber}`} ${r.fault ?? ''}→${r.outcome}${r.upstreamStatus === undefined ? '' : ` (upstream ${r.upstreamStatus})`}`).join('\n')
}

const ok = (r: LoggedRequest): boolean => typeof r.outcome === 'number' && r.outcome >= 200 && r.outcome < 300 && r.fault === undefined

/** The faulted request of `kind` was followed by a successful one of the same kind (and part). */
function assertRetried(proxy: FaultProxy, kind: RequestKind, partNumber?: number): void {
  const requests = proxy.requests(kind, partNumber)
  const faulted = requests.findIndex((r) => r.fault !== undefined)
  assert.ok(faulted >= 0, `a ${kind} was faulted:\n${show(proxy.log)}`)
  assert.ok(requests.slice(faulted + 1).some(ok), `the faulted ${kind} was retried and succeeded:\n${show(proxy.log)}`)
}

let seed = 0
/** Uploads `size` random bytes through a proxy with `rules`, then GETs the object and compares. */
async function roundTrip(
  name: string,
  rules: readonly FaultRule[],
  { size = 11 * MiB, options = {} }: { size?: number; options?: UploadOptions } = {},
) {
  const key = `transient/${name}`
  return withProxy(rules, async (proxy) => {
    const data = randomData(size, ++seed)
    const { source, state } = trackedSource(randomChunks(data, 512 * 1024, seed))
    const events: UploadProgress[] = []
    const result = await upload(source, { ...target(bucket, key), endpoint: proxy.endpoint }, {
      ...FAST,
      onProgress: (e) => events.push(e),
      ...options,
    })
    assert.equal(result.size, size)
    assert.ok(state.finished.settled, 'the source finally ran')
    const back = await getObject(bucket, key)
    assert.equal(back.byteLength, size)
    assert.equal(sha256(back), sha256(data), 'the object read back is the data sent')
    assert.deepEqual(await openUploads(bucket, key), [], 'no multipart upload left open')
    return { result, proxy, events }
  })
}

const NO_SUCH_UPLOAD: Fault = { type: 'error', status: 404, code: 'NoSuchUpload' }

const transientFaults: Array<[string, Fault]> = [
  ['500 InternalError', FAULTS.internalError],
  ['503 SlowDown', FAULTS.slowDown],
  ['connection reset', { type: 'reset', afterBytes: 0 }],
]

describe('transient faults on each request kind are retried; the object is intact', () => {
  for (const [name, fault] of transientFaults) {
    test(`CreateMultipartUpload: ${name}`, TEST, async () => {
      const { proxy } = await roundTrip(`create-${name}`, [{ kind: 'CreateMultipartUpload', fault }])
      assertRetried(proxy, 'CreateMultipartUpload')
    })
  }
  for (const [name, fault] of [
    ['answer lost after RGW created the upload', FAULTS.dropResponse],
    ['answer cut short (well-formed length, no closing tag)', { type: 'truncate', keepBytes: 60, framing: 'short' }],
  ] as Array<[string, Fault]>) {
    test(`CreateMultipartUpload: ${name} → retried, and the extra upload it made is aborted`, TEST, async () => {
      // roundTrip checks that no upload is left open for the key: the first attempt's upload,
      // which nobody got the id of, is found by ListMultipartUploads and aborted.
      const { proxy } = await roundTrip(`create-lost-${fault.type}`, [{ kind: 'CreateMultipartUpload', fault }])
      assertRetried(proxy, 'CreateMultipartUpload')
      assert.ok(proxy.requests('Other').length >= 1, `the key's uploads were listed:\n${show(proxy.log)}`)
      assert.equal(proxy.requests('AbortMultipartUpload').length, 1, `the extra upload was aborted:\n${show(proxy.log)}`)
    })
  }
  test('CreateMultipartUpload: answer lost, then every retry refused → the error, and the upload the lost attempt made is aborted', TEST, async () => {
    const key = 'transient/create-lost-then-refused'
    await withProxy(
      [
        { kind: 'CreateMultipartUpload', nth: 1, fault: FAULTS.dropResponse },
        { kind: 'CreateMultipartUpload', nth: 2, times: Infinity, fault: FAULTS.slowDown },
      ],
      async (proxy) => {
        const { source, state } = trackedSource(randomChunks(randomData(11 * MiB, 77), 512 * 1024, 77))
        const error = await upload(source, { ...target(bucket, key), endpoint: proxy.endpoint }, { ...FAST, retry: { attempts: 3, baseDelayMs: 1 } }).then(
          () => assert.fail('the upload should fail'),
          (e: unknown) => e,
        )
        assert.ok(error instanceof S3ResponseError, `S3ResponseError, got ${String(error)}`)
        assert.equal(error.operation, 'CreateMultipartUpload')
        assert.equal(error.statusCode, 503)
        assert.ok(state.finished.settled, 'the source finally ran')
        assert.deepEqual(proxy.requests('CreateMultipartUpload').map((r) => r.outcome), ['dropped', 503, 503], show(proxy.log))
        assert.equal(proxy.requests('AbortMultipartUpload').length, 1, `the lost attempt's upload was aborted:\n${show(proxy.log)}`)
        assert.deepEqual(await openUploads(bucket, key), [], 'no multipart upload left open')
      },
    )
  })
  for (const skewS of [3, -3, 60]) {
    test(`CreateMultipartUpload: answer lost, every retry refused, the server's clock ${skewS} s off: the lost attempt's upload is still found and aborted (the window was on the client's clock)`, TEST, async () => {
      const key = `transient/create-lost-skew-${skewS}`
      const proxy = await startFaultProxy(
        s3Env().endpoint,
        [
          { kind: 'CreateMultipartUpload', nth: 1, fault: FAULTS.dropResponse },
          { kind: 'CreateMultipartUpload', nth: 2, times: Infinity, fault: FAULTS.slowDown },
        ],
        { serverClockAheadMs: skewS * 1000 },
      )
      try {
        const error = await upload(randomData(11 * MiB, 79), { ...target(bucket, key), endpoint: proxy.endpoint }, { ...FAST, retry: { attempts: 3, baseDelayMs: 1 } }).then(
          () => assert.fail('the upload should fail'),
          (e: unknown) => e,
        )
        assert.ok(error instanceof S3ResponseError && error.statusCode === 503, `the 503, got ${String(error)}`)
        assert.equal(proxy.requests('AbortMultipartUpload').length, 1, `the lost attempt's upload was aborted:\n${show(proxy.log)}`)
        assert.deepEqual(await openUploads(bucket, key), [], 'no multipart upload left open')
      } finally {
        await proxy.close()
      }
    })
  }

  test('CreateMultipartUpload: answer lost, and the listing that would find its upload fails too → AbortFailedError naming the key, not the bare error', TEST, async () => {
    const key = 'transient/create-lost-list-fails'
    await withProxy(
      [
        { kind: 'CreateMultipartUpload', nth: 1, fault: FAULTS.dropResponse },
        { kind: 'CreateMultipartUpload', nth: 2, times: Infinity, fault: FAULTS.slowDown },
        { kind: 'Other', nth: 1, times: Infinity, fault: FAULTS.slowDown },
      ],
      async (proxy) => {
        const error = await upload(randomData(11 * MiB, 80), { ...target(bucket, key), endpoint: proxy.endpoint }, { ...FAST, retry: { attempts: 2, baseDelayMs: 1 } }).then(
          () => assert.fail('the upload should fail'),
          (e: unknown) => e,
        )
        assert.ok(error instanceof AbortFailedError, `AbortFailedError, got ${String(error)}`)
        assert.equal(error.uploadId, undefined)
        assert.match(error.message, new RegExp(`an empty upload of "${key}" in bucket "${bucket}" may remain; .*First error: CreateMultipartUpload after 2 attempts failed with HTTP 503`))
        assert.ok(error.cause instanceof S3ResponseError && error.cause.operation === 'CreateMultipartUpload')
        // It does remain: the test cleans it up.
        const open = await openUploads(bucket, key)
        assert.equal(open.length, 1, show(proxy.log))
        const ctx = createS3Context({ ...target(bucket, key) })
        try {
          await abortMultipartUpload(ctx, (open[0] as string).split(' ')[1] as string, { key })
        } finally {
          await ctx.close()
        }
      },
    )
  })

  for (const [name, retry] of [
    ['retry: false', false],
    ['its last attempt', { attempts: 2, baseDelayMs: 1 }],
  ] as const) {
    test(`CreateMultipartUpload: the answer to ${name} lost after RGW created the upload → the error, and that upload is aborted`, TEST, async () => {
      const key = `transient/create-last-lost-${retry === false ? 'once' : 'last'}`
      const rules: FaultRule[] = retry === false ? [] : [{ kind: 'CreateMultipartUpload', nth: 1, fault: FAULTS.tooManyRequests }]
      await withProxy([...rules, { kind: 'CreateMultipartUpload', nth: rules.length + 1, fault: FAULTS.dropResponse }], async (proxy) => {
        const { source, state } = trackedSource(randomChunks(randomData(11 * MiB, 78), 512 * 1024, 78))
        const error = await upload(source, { ...target(bucket, key), endpoint: proxy.endpoint }, { ...FAST, retry }).then(
          () => assert.fail('the upload should fail'),
          (e: unknown) => e,
        )
        assert.ok(error instanceof S3ResponseError && error.operation === 'CreateMultipartUpload' && error.statusCode === 0, `S3ResponseError (status 0), got ${String(error)}`)
        assert.ok(state.finished.settled, 'the source finally ran')
        assert.equal(proxy.requests('AbortMultipartUpload').length, 1, `the lost attempt's upload was aborted:\n${show(proxy.log)}`)
        assert.deepEqual(await openUploads(bucket, key), [], 'no multipart upload left open')
      })
    })
  }
  test('CreateMultipartUpload: stall → idle timeout → retried', TEST, async () => {
    const { proxy } = await roundTrip('create-stall', [{ kind: 'CreateMultipartUpload', fault: FAULTS.stall }], {
      options: { idleTimeoutMs: STALL_IDLE_MS },
    })
    assertRetried(proxy, 'CreateMultipartUpload')
  })

  test('UploadPart: the 2nd UploadPart answers 500 InternalError', TEST, async () => {
    const { proxy, events } = await roundTrip('part-2nd-500', [{ kind: 'UploadPart', nth: 2, fault: FAULTS.internalError }])
    const second = proxy.requests('UploadPart')[1]
    assert.equal(second?.outcome, 500)
    assertRetried(proxy, 'UploadPart', second?.partNumber)
    const retried = events.filter((e) => e.type === 'part-retried')
    assert.equal(retried.length, 1)
    assert.equal(retried[0]?.type === 'part-retried' && retried[0].error.statusCode, 500)
  })
  test('UploadPart: every UploadPart of part 3 answers 503 SlowDown for 2 attempts', TEST, async () => {
    const { proxy } = await roundTrip('part3-slowdown-x2', [{ kind: 'UploadPart', partNumber: 3, times: 2, fault: FAULTS.slowDown }])
    assert.deepEqual(
      proxy.requests('UploadPart', 3).map((r) => r.outcome),
      [503, 503, 200],
    )
  })
  for (const [name, fault] of [
    ['429 TooManyRequests', FAULTS.tooManyRequests],
    ['400 RequestTimeout', FAULTS.requestTimeout],
    ['503 ServiceUnavailable', FAULTS.serviceUnavailable],
  ] as const) {
    test(`UploadPart: ${name}`, TEST, async () => {
      const { proxy } = await roundTrip(`part-${name}`, [{ kind: 'UploadPart', partNumber: 1, fault }])
      assertRetried(proxy, 'UploadPart', 1)
    })
  }
  test('UploadPart: connection reset after 1 MiB of the body', TEST, async () => {
    const { proxy } = await roundTrip('part-reset-mid-body', [{ kind: 'UploadPart', partNumber: 2, fault: { type: 'reset', afterBytes: MiB } }])
    const [first] = proxy.requests('UploadPart', 2)
    assert.equal(first?.outcome, 'reset')
    assert.ok(first.bodyBytes >= MiB && first.bodyBytes < 5 * MiB, `reset mid-body (${first.bodyBytes} bytes in)`)
    assertRetried(proxy, 'UploadPart', 2)
  })
  test('UploadPart: stall after the body (no response headers) → idle timeout → retried', TEST, async () => {
    const { proxy } = await roundTrip('part-stall', [{ kind: 'UploadPart', partNumber: 2, fault: FAULTS.stall }], {
      options: { idleTimeoutMs: STALL_IDLE_MS },
    })
    assert.equal(proxy.requests('UploadPart', 2)[0]?.outcome, 'stalled')
    assertRetried(proxy, 'UploadPart', 2)
  })
  test('UploadPart: the server stops reading the body → idle timeout → retried', TEST, async () => {
    const { proxy } = await roundTrip('part-stall-mid-body', [{ kind: 'UploadPart', partNumber: 2, fault: { type: 'stall', afterBytes: 256 * 1024 } }], {
      options: { idleTimeoutMs: STALL_IDLE_MS },
    })
    assertRetried(proxy, 'UploadPart', 2)
  })

  for (const [name, fault] of [...transientFaults, ['connection reset mid-body', { type: 'reset', afterBytes: 10 }] as [string, Fault]]) {
    test(`CompleteMultipartUpload: ${name}`, TEST, async () => {
      const { proxy, result } = await roundTrip(`complete-${name}`, [{ kind: 'CompleteMultipartUpload', fault }])
      assertRetried(proxy, 'CompleteMultipartUpload')
      assert.match(result.etag, /^[0-9a-f]{32}-3$/)
    })
  }
  test('CompleteMultipartUpload: stall → idle timeout → retried', TEST, async () => {
    const { proxy } = await roundTrip('complete-stall', [{ kind: 'CompleteMultipartUpload', fault: FAULTS.stall }], {
      options: { idleTimeoutMs: STALL_IDLE_MS },
    })
    assertRetried(proxy, 'CompleteMultipartUpload')
  })
  test('CompleteMultipartUpload: 200 with an <Error> body (not committed) → retried', TEST, async () => {
    const { proxy } = await roundTrip('complete-200-error', [{ kind: 'CompleteMultipartUpload', fault: { type: 'error-in-200', forward: false } }])
    const [first] = proxy.requests('CompleteMultipartUpload')
    assert.equal(first?.outcome, 200, 'the failure came as a 200')
    assertRetried(proxy, 'CompleteMultipartUpload')
  })

  // The Complete reached the server and committed the object, but the client never learned it.
  // RGW answers the retried Complete with 200 again; AWS may answer NoSuchUpload, which the
  // proxy injects on the retry: then HeadObject must confirm the object (size and ETag).
  for (const [name, fault] of [
    ['200 with an <Error> body after it committed', { type: 'error-in-200', forward: true }],
    ['answer lost after it committed', FAULTS.dropResponse],
  ] as Array<[string, Fault]>) {
    test(`CompleteMultipartUpload: ${name}; RGW answers the retry with 200`, TEST, async () => {
      const { proxy, result } = await roundTrip(`complete-committed-${fault.type}`, [{ kind: 'CompleteMultipartUpload', fault }])
      const completes = proxy.requests('CompleteMultipartUpload')
      assert.equal(completes[0]?.upstreamStatus, 200, `the first Complete committed upstream:\n${show(proxy.log)}`)
      assert.equal(completes[1]?.outcome, 200, `the retry succeeded:\n${show(proxy.log)}`)
      assert.match(result.etag, /^[0-9a-f]{32}-3$/)
    })
    test(`CompleteMultipartUpload: ${name}; the retry gets NoSuchUpload → reconciled with HeadObject`, TEST, async () => {
      const { proxy, result } = await roundTrip(`complete-reconciled-${fault.type}`, [
        { kind: 'CompleteMultipartUpload', nth: 1, fault },
        { kind: 'CompleteMultipartUpload', nth: 2, fault: NO_SUCH_UPLOAD },
      ])
      const completes = proxy.requests('CompleteMultipartUpload')
      assert.equal(completes[0]?.upstreamStatus, 200, `the first Complete committed upstream:\n${show(proxy.log)}`)
      const retry = completes[1] as LoggedRequest
      assert.equal(retry.outcome, 404)
      assert.equal(completes.length, 2, 'NoSuchUpload is not retried')
      assert.ok(
        proxy.log.some((r) => r.kind === 'HeadObject' && r.seq > retry.seq && ok(r)),
        `HeadObject reconciled the lost answer:\n${show(proxy.log)}`,
      )
      assert.match(result.etag, /^[0-9a-f]{32}-3$/)
    })
  }

  // The first Complete committed, and no answer came back for sure, to it or to any retry (lost
  // on the network, or 503 SlowDown): the upload failed, the Abort answered NoSuchUpload, and the
  // object was there, whole. A rerun wrote it a second time (with ifNoneMatch: failed against it).
  for (const [name, retries] of [
    ['every retry refused 503 SlowDown', FAULTS.slowDown],
    ['every answer lost', FAULTS.dropResponse],
  ] as Array<[string, Fault]>) {
    test(`CompleteMultipartUpload committed, its answer lost, ${name} → reconciled with HeadObject: the upload resolves`, TEST, async () => {
      const { proxy, result } = await roundTrip(`complete-unknown-${retries.type}`, [
        { kind: 'CompleteMultipartUpload', nth: 1, fault: FAULTS.dropResponse },
        { kind: 'CompleteMultipartUpload', nth: 2, times: 10, fault: retries },
      ])
      const completes = proxy.requests('CompleteMultipartUpload')
      assert.equal(completes[0]?.upstreamStatus, 200, `the first Complete committed upstream:\n${show(proxy.log)}`)
      assert.equal(completes.length, 5, 'every attempt was used')
      assert.ok(proxy.log.some((r) => r.kind === 'HeadObject' && ok(r)), `HeadObject found the object:\n${show(proxy.log)}`)
      assert.match(result.etag, /^[0-9a-f]{32}-3$/)
    })
  }

  for (const [name, fault] of [
    ...transientFaults,
    ['connection reset mid-body', { type: 'reset', afterBytes: 100 * 1024 }],
    ['the server stops reading the body', { type: 'stall', afterBytes: 64 * 1024 }],
  ] as Array<[string, Fault]>) {
    test(`PutObject: ${name}`, TEST, async () => {
      const { proxy, result, events } = await roundTrip(`put-${name}`, [{ kind: 'PutObject', fault }], {
        size: 3 * MiB + 3,
        options: { idleTimeoutMs: STALL_IDLE_MS },
      })
      assert.equal(result.partCount, 1)
      assertRetried(proxy, 'PutObject')
      // The retry is reported as a multipart part's is: part 1, attempt 1, with the error.
      assert.deepEqual(
        events.filter((e) => e.type === 'part-retried').map((e) => e.type === 'part-retried' && [e.partNumber, e.attempt, e.error.code]),
        [[1, 1, 'ERR_PARTSTREAM_S3']],
      )
    })
  }
  test('PutObject of an empty object: 503 SlowDown', TEST, async () => {
    const { proxy, result } = await roundTrip('put-empty', [{ kind: 'PutObject', fault: FAULTS.slowDown }], { size: 0 })
    assert.equal(result.size, 0)
    assertRetried(proxy, 'PutObject')
  })

  // RGW's Complete answer has an empty ETag, so upload() reads it with HeadObject.
  for (const [name, fault] of [...transientFaults, ['stall', FAULTS.stall]] as Array<[string, Fault]>) {
    test(`HeadObject: ${name}`, TEST, async () => {
      const { proxy } = await roundTrip(`head-${name}`, [{ kind: 'HeadObject', fault }], {
        size: 6 * MiB,
        options: { idleTimeoutMs: STALL_IDLE_MS },
      })
      assertRetried(proxy, 'HeadObject')
    })
  }

  test('ListParts: 503 SlowDown, then a connection reset', TEST, async () => {
    await withProxy([], async (proxy) => {
      const ctx = createS3Context({ ...target(bucket, 'transient/list-parts'), endpoint: proxy.endpoint }, { retry: { attempts: 3, baseDelayMs: 1 } })
      try {
        const uploadId = await createMultipartUpload(ctx)
        const body = new TextEncoder().encode('one small part')
        const etag = await uploadPart(ctx, uploadId, {
          partNumber: 1,
          chunks: [body],
          byteLength: body.byteLength,
          sha256: createHash('sha256').update(body).digest(),
        })
        proxy.addRule({ kind: 'ListParts', nth: 1, fault: FAULTS.slowDown })
        proxy.addRule({ kind: 'ListParts', nth: 2, fault: { type: 'reset', afterBytes: 0 } })
        assert.deepEqual(await listParts(ctx, uploadId), [etag])
        assert.deepEqual(
          proxy.requests('ListParts').map((r) => r.outcome),
          [503, 'reset', 200],
        )
        await abortMultipartUpload(ctx, uploadId)
      } finally {
        await ctx.close()
      }
      assert.deepEqual(await openUploads(bucket, 'transient/list-parts'), [])
    })
  })

  if (realUndici) {
    test('a send-side stall is caught with a user dispatcher too (no undici timeouts: the watchdog)', TEST, async () => {
      // undici's defaults: 300 s headers and body timeouts. Only our per-attempt watchdog can
      // notice a server that stopped reading within the test's time.
      const dispatcher = new Agent()
      try {
        const { proxy } = await roundTrip('user-dispatcher-stall', [{ kind: 'UploadPart', partNumber: 1, fault: { type: 'stall', afterBytes: 128 * 1024 } }], {
          options: { dispatcher, idleTimeoutMs: STALL_IDLE_MS },
        })
        assertRetried(proxy, 'UploadPart', 1)
      } finally {
        await dispatcher.close()
      }
    })
  }

  test('a send-side stall is caught with the fetch transport too (no timeouts of its own: the watchdog)', TEST, async () => {
    const { proxy } = await roundTrip('fetch-transport-stall', [{ kind: 'UploadPart', partNumber: 1, fault: { type: 'stall', afterBytes: 128 * 1024 } }], {
      options: { transport: fetchTransport(), idleTimeoutMs: STALL_IDLE_MS },
    })
    assertRetried(proxy, 'UploadPart', 1)
  })

  test('no timer is left behind once an upload with retries, stalls and backoff settles', TEST, async () => {
    const before = activeTimers()
    await roundTrip('timers', [
      { kind: 'UploadPart', partNumber: 1, fault: FAULTS.stall },
      { kind: 'UploadPart', partNumber: 2, fault: FAULTS.slowDown },
      { kind: 'CompleteMultipartUpload', fault: FAULTS.internalError },
    ], { options: { idleTimeoutMs: STALL_IDLE_MS, retry: { attempts: 5, baseDelayMs: 20 } } })
    assert.equal(activeTimers(), before)
  })
})

describe('GetObject (a streamed answer): retried until the body starts, watched, aborted with signal.reason', () => {
  const size = 3 * MiB
  const key = 'transient/get-object'
  let data: Buffer
  before(async () => {
    data = randomData(size, 4242)
    await upload(randomChunks(data, 512 * 1024, 4242), target(bucket, key), FAST)
  })

  /** A context that reaches the object through the proxy, with a tiny backoff. */
  const ctxVia = (proxy: FaultProxy, idleTimeoutMs: number) =>
    createS3Context({ ...target(bucket, key), endpoint: proxy.endpoint }, { retry: { attempts: 3, baseDelayMs: 1 }, idleTimeoutMs })

  async function readAll(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
    const chunks: Buffer[] = []
    for await (const chunk of body) chunks.push(Buffer.from(chunk))
    return Buffer.concat(chunks)
  }

  for (const [name, fault] of [...transientFaults, ['stall before the headers → idle timeout', FAULTS.stall]] as Array<[string, Fault]>) {
    test(`${name} → retried; the bytes read are the object's`, TEST, async () => {
      await withProxy([{ kind: 'GetObject', fault }], async (proxy) => {
        const ctx = ctxVia(proxy, STALL_IDLE_MS)
        try {
          const retried: Array<[number, number]> = []
          const { size: announced, body } = await getObjectOp(ctx, { onRetry: (e, attempt) => retried.push([e.statusCode, attempt]) })
          assert.equal(announced, size)
          const back = await readAll(body)
          assert.equal(back.byteLength, size)
          assert.equal(sha256(back), sha256(data), 'the bytes read back are the object')
          assertRetried(proxy, 'GetObject')
          assert.equal(retried.length, 1, `one retry:\n${show(proxy.log)}`)
          assert.equal(retried[0]?.[0], fault.type === 'error' ? fault.status : 0)
        } finally {
          await ctx.close()
        }
      })
    })
  }

  test('the caller aborts while the answer is awaited → rejects with signal.reason, no retry', TEST, async () => {
    await withProxy([{ kind: 'GetObject', times: Infinity, fault: FAULTS.stall }], async (proxy) => {
      const ctx = ctxVia(proxy, 30_000)
      try {
        const controller = new AbortController()
        const reason = new Error('caller gave up')
        void proxy.waitFor((r) => r.kind === 'GetObject').then(() => controller.abort(reason))
        await assert.rejects(getObjectOp(ctx, { signal: controller.signal }), (e) => e === reason)
        assert.equal(proxy.requests('GetObject').length, 1, `not retried:\n${show(proxy.log)}`)
      } finally {
        await ctx.close()
      }
    })
  })

  test('the caller aborts while the body flows → the body rejects with signal.reason', TEST, async () => {
    await withProxy([{ kind: 'GetObject', fault: { type: 'slow', delayMs: 300 } }], async (proxy) => {
      const ctx = ctxVia(proxy, 30_000)
      try {
        const controller = new AbortController()
        const reason = new Error('caller gave up')
        const { body } = await getObjectOp(ctx, { signal: controller.signal })
        let read = 0
        await assert.rejects(
          (async () => {
            for await (const chunk of body) {
              read += chunk.byteLength
              controller.abort(reason)
            }
          })(),
          (e) => e === reason,
        )
        assert.ok(read > 0 && read < size, `stopped mid-body (${read} bytes)`)
      } finally {
        await ctx.close()
      }
    })
  })
})

describe('AbortMultipartUpload after a failure: transient faults are retried, nothing is left open', () => {
  for (const [name, fault] of [
    ...transientFaults,
    ['stall', FAULTS.stall],
    ['answer lost after it aborted', FAULTS.dropResponse],
  ] as Array<[string, Fault]>) {
    test(`AbortMultipartUpload: ${name}`, TEST, async () => {
      const key = `abort-op/${name}`
      await withProxy([{ kind: 'AbortMultipartUpload', fault }], async (proxy) => {
        const boom = new Error('the source failed')
        // 256 KiB chunks: the source fails after 6 MiB, once part 1 is on its way.
        const { source, state } = trackedSource(fixedChunks(randomData(12 * MiB, 5), 256 * 1024), { throwAt: 24, error: boom })
        await assert.rejects(
          upload(source, { ...target(bucket, key), endpoint: proxy.endpoint }, { ...FAST, idleTimeoutMs: STALL_IDLE_MS }),
          // After CreateMultipartUpload a foreign error is wrapped, so the rejection names the upload.
          (e) => e instanceof UploadFailedError && e.cause === boom && typeof e.uploadId === 'string',
        )
        assert.ok(state.finished.settled)
        const aborts = proxy.requests('AbortMultipartUpload')
        assert.ok(aborts.length >= 2, `Abort was retried:\n${show(proxy.log)}`)
        const last = aborts.at(-1) as LoggedRequest
        // A retry after a lost answer finds the upload gone (404 NoSuchUpload): that counts as done.
        assert.ok(last.outcome === 204 || last.outcome === 404, `last Abort → ${last.outcome}`)
      })
      assert.deepEqual(await openUploads(bucket, key), [])
    })
  }
})

describe('permanent failures: S3ResponseError, upload aborted, source closed', () => {
  async function failing(name: string, rules: readonly FaultRule[], options: UploadOptions, prepare?: (key: string) => Promise<void>) {
    const key = `permanent/${name}`
    await prepare?.(key)
    return withProxy(rules, async (proxy) => {
      const { source, state } = trackedSource(randomChunks(randomData(16 * MiB, 9), 512 * 1024, 9))
      let created: string | undefined
      const events: UploadProgress[] = []
      const error = await upload(source, { ...target(bucket, key), endpoint: proxy.endpoint }, {
        ...FAST,
        ...options,
        onProgress: (e) => {
          events.push(e)
          if (e.type === 'upload-created') created = e.uploadId
        },
      }).then(
        () => assert.fail('the upload should fail'),
        (e: unknown) => e,
      )
      assert.ok(error instanceof S3ResponseError, `S3ResponseError, got ${String(error)}`)
      assert.ok(state.finished.settled, 'the source finally ran')
      assert.equal(typeof created, 'string')
      assert.equal(error.uploadId, created)
      const aborts = proxy.requests('AbortMultipartUpload')
      assert.deepEqual(aborts.map((r) => r.outcome), [204], 'AbortMultipartUpload was sent once')
      assert.deepEqual(await openUploads(bucket, key), [])
      return { error, proxy, events }
    })
  }

  test('a part that answers 500 every time: every attempt is used, then the error names the part', TEST, async () => {
    const { error, proxy, events } = await failing('part-500', [{ kind: 'UploadPart', partNumber: 2, times: Infinity, fault: FAULTS.internalError }], {
      retry: { attempts: 3, baseDelayMs: 1 },
    })
    assert.equal(error.code, 'ERR_PARTSTREAM_S3')
    assert.equal(error.operation, 'UploadPart')
    assert.equal(error.partNumber, 2)
    assert.equal(error.attempt, 3)
    assert.equal(error.statusCode, 500)
    assert.equal(error.s3Code, 'InternalError')
    assert.equal(error.requestId, `fault-proxy-${proxy.requests('UploadPart', 2).at(-1)?.seq}`)
    assert.deepEqual(proxy.requests('UploadPart', 2).map((r) => r.outcome), [500, 500, 500])
    assert.deepEqual(
      events.filter((e) => e.type === 'part-retried').map((e) => e.type === 'part-retried' && [e.partNumber, e.attempt]),
      [[2, 1], [2, 2]],
    )
    // Nothing is sent after the Abort.
    assert.equal(proxy.log.at(-1)?.kind, 'AbortMultipartUpload')
  })

  test('a part that stalls every time: statusCode 0 with the idle timeout as cause', TEST, async () => {
    const { error, proxy } = await failing('part-stall', [{ kind: 'UploadPart', partNumber: 1, times: Infinity, fault: FAULTS.stall }], {
      retry: { attempts: 2, baseDelayMs: 1 },
      idleTimeoutMs: 500,
      concurrency: 1,
    })
    assert.equal(error.statusCode, 0)
    assert.equal(error.partNumber, 1)
    assert.equal(error.attempt, 2)
    const cause = error.cause as { code?: string }
    assert.ok(cause.code === 'ERR_PARTSTREAM_TIMEOUT' || cause.code === 'UND_ERR_HEADERS_TIMEOUT', `timeout cause, got ${cause.code}`)
    assert.equal(proxy.requests('UploadPart', 1).length, 2)
  })

  test('Complete: NoSuchUpload on the retry, but no object was written → the NoSuchUpload error', TEST, async () => {
    const { error, proxy } = await failing('reconcile-no-object', [
      { kind: 'CompleteMultipartUpload', nth: 1, fault: FAULTS.internalError },
      { kind: 'CompleteMultipartUpload', nth: 2, fault: NO_SUCH_UPLOAD },
    ], {})
    assert.equal(error.operation, 'CompleteMultipartUpload')
    assert.equal(error.s3Code, 'NoSuchUpload')
    assert.equal(error.attempt, 2)
    assert.deepEqual(proxy.requests('HeadObject').map((r) => r.outcome), [404], 'HeadObject looked and found nothing')
  })

  test('Complete: NoSuchUpload on the retry, and another object of the same size is there → the NoSuchUpload error', TEST, async () => {
    const { error, proxy } = await failing('reconcile-other-object', [
      { kind: 'CompleteMultipartUpload', nth: 1, fault: FAULTS.internalError },
      { kind: 'CompleteMultipartUpload', nth: 2, fault: NO_SUCH_UPLOAD },
    ], {}, async (key) => {
      // Same size and part layout, other bytes: only the ETag tells them apart.
      await upload(randomData(16 * MiB, 10), target(bucket, key), { partSize: 5 * MiB })
    })
    assert.equal(error.s3Code, 'NoSuchUpload')
    assert.deepEqual(proxy.requests('HeadObject').map((r) => r.outcome), [200], 'HeadObject found the other object')
  })

  test('Complete: NoSuchUpload on the first attempt is not reconciled (nothing can have committed)', TEST, async () => {
    const { error, proxy } = await failing('no-such-upload-first', [{ kind: 'CompleteMultipartUpload', fault: NO_SUCH_UPLOAD }], {})
    assert.equal(error.s3Code, 'NoSuchUpload')
    assert.equal(error.attempt, 1)
    assert.equal(proxy.requests('HeadObject').length, 0)
  })

  for (const [status, code] of [[403, 'AccessDenied'], [501, 'NotImplemented'], [400, 'InvalidDigest']] as const) {
    test(`${status} ${code} is not retried`, TEST, async () => {
      const { error, proxy } = await failing(`no-retry-${status}`, [{ kind: 'UploadPart', partNumber: 1, fault: { type: 'error', status, code } }], {})
      assert.equal(error.statusCode, status)
      assert.equal(error.s3Code, code)
      assert.equal(error.attempt, 1)
      assert.equal(proxy.requests('UploadPart', 1).length, 1)
    })
  }
})

describe('retry classification (undici error classes, S3 statuses)', () => {
  test('network failures undici reports are retried; aborts and closed dispatchers are not', () => {
    const retried = [
      ...(realUndici
        ? [
            new undiciErrors.SocketError('other side closed'),
            new undiciErrors.HeadersTimeoutError(),
            new undiciErrors.BodyTimeoutError(),
            new undiciErrors.ConnectTimeoutError(),
            new undiciErrors.ResponseContentLengthMismatchError(),
          ]
        : []),
      // fetchTransport's wrapper for fetch's bare TypeError (Deno's has no code at all).
      new NetworkError(new TypeError('error sending request: connection reset')),
      new IdleTimeoutError(1000, 'sending the request body'),
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }),
      // As fetch reports it: the network error is the cause.
      new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }),
    ]
    for (const error of retried) assert.equal(isRetryableNetworkError(error), true, String(error))
    const notRetried = [
      ...(realUndici
        ? [
            new undiciErrors.RequestAbortedError(),
            new undiciErrors.ClientClosedError(),
            new undiciErrors.ClientDestroyedError(),
            new undiciErrors.InformationalError('reset'),
            new undiciErrors.InvalidArgumentError('bad'),
            new undiciErrors.RequestContentLengthMismatchError(),
          ]
        : []),
      new DOMException('This operation was aborted', 'AbortError'),
      new Error('plain'),
      'a string',
      undefined,
    ]
    for (const error of notRetried) assert.equal(isRetryableNetworkError(error), false, String(error))
  })

  test('5xx (not 501), 429 and the S3 retry codes are retried; other 4xx are not', () => {
    for (const [status, code] of [[500, undefined], [502, undefined], [503, 'SlowDown'], [504, undefined], [429, undefined], [400, 'RequestTimeout'], [200, 'InternalError'], [403, 'RequestTimeTooSkewed']] as const) {
      assert.equal(isRetryableStatus(status, code), true, `${status} ${code}`)
    }
    for (const [status, code] of [[501, 'NotImplemented'], [400, 'InvalidDigest'], [403, 'AccessDenied'], [404, 'NoSuchUpload'], [400, 'EntityTooSmall'], [200, 'AccessDenied']] as const) {
      assert.equal(isRetryableStatus(status, code), false, `${status} ${code}`)
    }
  })
})

describe('waiting for a socket is not a stall; every wait gives way to an abort', () => {
  test('connections: 1 under concurrency 8, each answer slow but steady: no idle timeout, no retry', TEST, async () => {
    // Each UploadPart holds the one socket ~0.6 s (two 300 ms gaps, each under the 1 s idle
    // timeout); the eighth part waits ~4 s for it. Counted as idle, that wait failed and retried.
    const { events } = await roundTrip('one-socket', [{ kind: 'UploadPart', times: 1000, fault: { type: 'slow', delayMs: 300 } }], {
      size: 40 * MiB,
      options: { concurrency: 8, connections: 1, idleTimeoutMs: 1000 },
    })
    assert.deepEqual(events.filter((e) => e.type === 'part-retried'), [])
  })

  test('a request queued behind a slow body on one socket: its signal still ends it at once', TEST, async () => {
    const key = 'transient/queued-abort'
    const ctx = createS3Context({ ...target(bucket, key) }, { connections: 1 })
    try {
      await upload([randomData(2 * MiB, 3)], target(bucket, key))
      const body = (await getObjectOp(ctx)).body
      const iterator = body[Symbol.asyncIterator]()
      await iterator.next() // the one socket is held by this body, unread
      const started = Date.now()
      const signal = AbortSignal.timeout(300)
      // undici's pool (Node, Deno) holds it for the socket: it rejects with the reason. Bun's fetch
      // opens another connection, so it may be answered first: then it only has to settle.
      const outcome = await getObjectOp(ctx, { signal }).then(
        (answer) => answer.body[Symbol.asyncIterator]().return?.(),
        (e: unknown) => assert.equal(e, signal.reason),
      )
      void outcome
      assert.ok(Date.now() - started < 3000, `settled after ${Date.now() - started} ms`)
      await iterator.return?.()
    } finally {
      await ctx.close()
    }
  })

  test('a transport that never answers and ignores the signal: the abort still settles the upload', TEST, async () => {
    const controller = new AbortController()
    const reason = new Error('user abort')
    setTimeout(() => controller.abort(reason), 200)
    const never = (): Promise<never> => new Promise(() => {})
    const started = Date.now()
    await assert.rejects(upload([new Uint8Array(10)], target(bucket, 'transient/never'), { transport: never, signal: controller.signal, idleTimeoutMs: 60_000 }), (e: unknown) => e === reason)
    // A single PutObject once sent may be writing the object: the abort waits out its grace (the commit point), no longer.
    assert.ok(Date.now() - started < CREATE_GRACE_MS + 3000, `settled after ${Date.now() - started} ms`)
  })

  test('a getObject body left before its first chunk frees its socket at once', TEST, async () => {
    const key = 'transient/left-early'
    await upload([randomData(20 * MiB, 4)], target(bucket, key))
    const ctx = createS3Context({ ...target(bucket, key) }, { connections: 1, idleTimeoutMs: 20_000 })
    try {
      const { body } = await getObjectOp(ctx)
      await body[Symbol.asyncIterator]().return?.()
      const started = Date.now()
      const head = await getObjectOp(ctx) // needs the one socket
      for await (const chunk of head.body) void chunk
      assert.ok(Date.now() - started < 5000, `the next request waited ${Date.now() - started} ms`)
      const closing = Date.now()
      await ctx.close()
      assert.ok(Date.now() - closing < 5000, `close() took ${Date.now() - closing} ms`)
    } finally {
      await ctx.close()
    }
  })
})
