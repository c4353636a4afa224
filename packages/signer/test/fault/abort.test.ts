// The abort-phase matrix (undici's pattern): abort before start, during Create, mid-part (while
// the server waits to answer, and while the body is still being sent), between parts, during the
// retry backoff, during Complete, and during a single PutObject. Every case is driven by the
// fault proxy's log and deferreds (no sleeps) and asserts: the rejection is `signal.reason`
// itself, the source's `finally` ran, AbortMultipartUpload went out when an upload existed, no
// multipart upload is left open, nothing was retried after the abort, and no 'abort' listener is
// left on the caller's signal.
import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { createHash } from 'node:crypto'
import { createMultipartUpload, createS3Context, abortMultipartUpload, upload, uploadPart, type UploadOptions, type UploadProgress } from '../../src/index.ts'
import { createBucket, openUploads, randomData, s3Env, target } from '../integration/s3.ts'
import { countedController, deferred, failOnUnhandledRejections, fixedChunks, trackedSource, type SourceState } from './helpers.ts'
import { FAULTS, startFaultProxy, type FaultProxy, type FaultRule, type LoggedRequest } from './proxy.ts'

failOnUnhandledRejections()

const MiB = 1024 * 1024
const TEST = { timeout: 30_000 }
// Stalls last until the abort: the idle timeout must not end them first.
const BASE: UploadOptions = { retry: { attempts: 5, baseDelayMs: 1 }, partSize: 5 * MiB, idleTimeoutMs: 120_000 }

let bucket: string
before(async () => {
  bucket = await createBucket('abort')
})

interface Scenario {
  readonly rules?: readonly FaultRule[]
  /** Default: 16 MiB in 1 MiB chunks (4 parts). */
  readonly source?: { source: AsyncIterableIterator<Uint8Array>; state: SourceState }
  readonly options?: UploadOptions
  /** Resolves when the upload is in the phase under test. */
  readonly phase: (proxy: FaultProxy, progress: Progress) => Promise<void>
  /** Whether a multipart upload existed at the abort, so AbortMultipartUpload must be sent. */
  readonly uploadExists: boolean
  /** What the source needs after the abort to finish (the gated source's gate). */
  readonly afterReject?: () => void
  /** The abort reason; `'none'` calls `abort()` without one. Default: a fresh Error. */
  readonly reason?: { readonly value: unknown } | 'none'
}

interface Progress {
  /** Resolves once an event satisfying `predicate` was delivered (before or after the call). */
  when(predicate: (e: UploadProgress) => boolean): Promise<void>
}

async function abortDuring(name: string, scenario: Scenario): Promise<{ proxy: FaultProxy; log: readonly LoggedRequest[] }> {
  const key = `abort/${name}`
  const proxy = await startFaultProxy(s3Env().endpoint, scenario.rules ?? [])
  try {
    const { source, state } = scenario.source ?? trackedSource(fixedChunks(randomData(16 * MiB, 3), MiB))
    const { controller, listeners } = countedController()
    const events: UploadProgress[] = []
    const waiting: Array<{ predicate: (e: UploadProgress) => boolean; done: () => void }> = []
    const progress: Progress = {
      when: (predicate) => {
        if (events.some(predicate)) return Promise.resolve()
        const d = deferred()
        waiting.push({ predicate, done: () => d.resolve() })
        return d.promise
      },
    }
    const promise = upload(source, { ...target(bucket, key), endpoint: proxy.endpoint }, {
      ...BASE,
      ...scenario.options,
      signal: controller.signal,
      onProgress: (e) => {
        events.push(e)
        for (const w of waiting) if (w.predicate(e)) w.done()
      },
    })
    // Observe the rejection from the start: the assertion below runs only after the phase.
    const outcome = promise.then(
      () => ({ ok: true as const }),
      (error: unknown) => ({ ok: false as const, error }),
    )
    await scenario.phase(proxy, progress)
    const seenAtAbort = new Map(proxy.log.map((r) => [r.seq, r.outcome]))
    if (scenario.reason === 'none') controller.abort()
    else controller.abort(scenario.reason === undefined ? new Error(`cancelled ${name}`) : scenario.reason.value)
    const settled = await outcome
    assert.equal(settled.ok, false, 'the upload rejects')
    assert.ok(!settled.ok && settled.error === controller.signal.reason, `rejects with signal.reason itself, got ${String(!settled.ok && settled.error)}`)
    assert.equal(listeners(), 0, "no 'abort' listener left on the caller's signal")

    scenario.afterReject?.()
    await state.finished.promise // the source's finally ran (awaited: a gated source finishes once its read settles)
    assert.ok(state.returnCalled || state.finished.settled)

    const aborts = proxy.requests('AbortMultipartUpload')
    if (scenario.uploadExists) assert.deepEqual(aborts.map((r) => r.outcome), [204], 'AbortMultipartUpload was sent')
    else assert.equal(aborts.length, 0, 'no upload existed, so no Abort')
    // Nothing that was in flight at the abort was retried: every request kind+part seen after it
    // is either the Abort or a part that had not been tried before.
    for (const r of proxy.log) {
      if (seenAtAbort.has(r.seq) || r.kind === 'AbortMultipartUpload') continue
      const earlier = proxy.log.find((e) => seenAtAbort.has(e.seq) && e.kind === r.kind && e.partNumber === r.partNumber)
      assert.equal(earlier, undefined, `#${r.seq} ${r.kind} ${r.partNumber ?? ''} was retried after the abort`)
    }
    assert.deepEqual(await openUploads(bucket, key), [], 'no multipart upload left open')
    return { proxy, log: proxy.log }
  } finally {
    await proxy.close()
  }
}

const stalled = (kind: LoggedRequest['kind'], partNumber?: number) => (r: LoggedRequest) =>
  r.kind === kind && r.outcome === 'stalled' && (partNumber === undefined || r.partNumber === partNumber)

describe('abort-phase matrix: rejects with signal.reason, cleans up everything', () => {
  test('before start: nothing is sent, the source is closed', TEST, async () => {
    const proxy = await startFaultProxy(s3Env().endpoint)
    try {
      const { controller, listeners } = countedController()
      const reason = new Error('cancelled before start')
      controller.abort(reason)
      const { source, state } = trackedSource(fixedChunks(randomData(MiB, 1), 64 * 1024))
      await assert.rejects(upload(source, { ...target(bucket, 'abort/before-start'), endpoint: proxy.endpoint }, { ...BASE, signal: controller.signal }), (e) => e === reason)
      assert.ok(state.returnCalled, 'return() was called on the source')
      assert.equal(state.pulled, 0, 'nothing was read')
      assert.deepEqual(proxy.log, [], 'no request was sent')
      assert.equal(listeners(), 0)
    } finally {
      await proxy.close()
    }
  })

  test('during CreateMultipartUpload (stalled)', TEST, async () => {
    const { proxy } = await abortDuring('during-create', {
      rules: [{ kind: 'CreateMultipartUpload', fault: FAULTS.stall }],
      phase: (proxy) => proxy.waitFor(stalled('CreateMultipartUpload')).then(() => {}),
      uploadExists: false,
    })
    // The stalled Create is given up on; the server may have made the upload regardless, so the
    // uploads of the key are listed (Other: ListMultipartUploads) and any made then is aborted.
    assert.deepEqual(proxy.log.map((r) => r.kind), ['CreateMultipartUpload', 'Other'])
  })

  test('during CreateMultipartUpload, after the server made the upload (its answer late): the upload is aborted', TEST, async () => {
    // The bug this guards: the Create was cancelled with the upload, the server created it anyway,
    // and nobody aborted it. Now the Create answer is still awaited and the upload it made aborted.
    await abortDuring('during-create-late-answer', {
      rules: [{ kind: 'CreateMultipartUpload', fault: { type: 'slow', delayMs: 500 } }],
      phase: (proxy) => proxy.waitFor((r) => r.kind === 'CreateMultipartUpload' && r.upstreamStatus !== undefined).then(() => {}),
      uploadExists: true,
    })
  })

  test('mid-part: the server has the body and never answers', TEST, async () => {
    const { proxy } = await abortDuring('mid-part', {
      rules: [{ kind: 'UploadPart', partNumber: 2, fault: FAULTS.stall }],
      phase: (proxy) => proxy.waitFor(stalled('UploadPart', 2)).then(() => {}),
      uploadExists: true,
    })
    assert.equal(proxy.requests('UploadPart', 2).length, 1, 'the stalled part was not retried')
  })

  test('mid-part: the server stopped reading the body (send side stalled)', TEST, async () => {
    await abortDuring('mid-part-sending', {
      rules: [{ kind: 'UploadPart', partNumber: 1, fault: { type: 'stall', afterBytes: 64 * 1024 } }],
      options: { concurrency: 1 },
      phase: (proxy) => proxy.waitFor(stalled('UploadPart', 1)).then(() => {}),
      uploadExists: true,
    })
  })

  test('mid-part, abort() without a reason: the rejection is the signal’s own AbortError', TEST, async () => {
    await abortDuring('mid-part-no-reason', {
      rules: [{ kind: 'UploadPart', partNumber: 1, fault: FAULTS.stall }],
      phase: (proxy) => proxy.waitFor(stalled('UploadPart', 1)).then(() => {}),
      uploadExists: true,
      reason: 'none',
    })
  })

  test('mid-part, a non-Error reason is rethrown as is', TEST, async () => {
    await abortDuring('mid-part-string-reason', {
      rules: [{ kind: 'UploadPart', partNumber: 1, fault: FAULTS.stall }],
      phase: (proxy) => proxy.waitFor(stalled('UploadPart', 1)).then(() => {}),
      uploadExists: true,
      reason: { value: 'stop, a string' },
    })
  })

  test('between parts: part 1 is acknowledged and the source is blocked reading', TEST, async () => {
    const gate = deferred()
    const atGate = deferred()
    // 1 MiB chunks: part 1 is chunks 0-4, chunk 5 is read ahead; the read of chunk 6 blocks.
    const tracked = trackedSource(fixedChunks(randomData(16 * MiB, 4), MiB), { gateAt: 6, gate: gate.promise, atGate })
    const { log } = await abortDuring('between-parts', {
      source: tracked,
      phase: async (_proxy, progress) => {
        await atGate.promise
        await progress.when((e) => e.type === 'part-acked' && e.partNumber === 1)
      },
      uploadExists: true,
      // The upload rejected while the source was still blocked; now let its read finish.
      afterReject: () => gate.resolve(),
    })
    // The blocked read itself completes once the gate opens (chunk 6); no read follows it.
    assert.equal(tracked.state.pulled, 7, 'nothing was read past the blocked chunk')
    assert.deepEqual(log.filter((r) => r.kind === 'UploadPart').map((r) => r.partNumber), [1])
  })

  test('during the retry backoff (abortable sleep)', TEST, async () => {
    await abortDuring('during-backoff', {
      rules: [{ kind: 'UploadPart', partNumber: 1, fault: FAULTS.slowDown }],
      // A minute of backoff: the test only ends in time if the sleep is abortable.
      options: { retry: { attempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 }, concurrency: 1 },
      phase: (_proxy, progress) => progress.when((e) => e.type === 'part-retried'),
      uploadExists: true,
    })
  })

  test('during CompleteMultipartUpload (stalled)', TEST, async () => {
    const { proxy } = await abortDuring('during-complete', {
      rules: [{ kind: 'CompleteMultipartUpload', fault: FAULTS.stall }],
      phase: (proxy) => proxy.waitFor(stalled('CompleteMultipartUpload')).then(() => {}),
      uploadExists: true,
    })
    assert.equal(proxy.requests('CompleteMultipartUpload').length, 1, 'Complete was not retried')
    assert.equal(proxy.requests('UploadPart').length, 4)
  })

  test('during a single PutObject (stalled): no multipart upload, no Abort', TEST, async () => {
    await abortDuring('during-put', {
      source: trackedSource(fixedChunks(randomData(2 * MiB, 5), 256 * 1024)),
      rules: [{ kind: 'PutObject', fault: FAULTS.stall }],
      phase: (proxy) => proxy.waitFor(stalled('PutObject')).then(() => {}),
      uploadExists: false,
    })
  })
})

describe('low-level operations honour the signal too', () => {
  test('uploadPart: an abort during a stalled attempt rejects with signal.reason and is not retried', TEST, async () => {
    const key = 'abort/low-level-upload-part'
    const proxy = await startFaultProxy(s3Env().endpoint, [{ kind: 'UploadPart', times: Infinity, fault: FAULTS.stall }])
    const ctx = createS3Context({ ...target(bucket, key), endpoint: proxy.endpoint }, { retry: { attempts: 5, baseDelayMs: 1 }, idleTimeoutMs: 120_000 })
    try {
      const uploadId = await createMultipartUpload(ctx)
      const { controller, listeners } = countedController()
      const body = randomData(MiB, 8)
      const sent = uploadPart(ctx, uploadId, { partNumber: 1, chunks: [body], byteLength: body.byteLength, sha256: createHash('sha256').update(body).digest() }, { signal: controller.signal })
      const outcome = sent.then(() => 'resolved', (e: unknown) => e)
      await proxy.waitFor(stalled('UploadPart', 1))
      controller.abort()
      assert.equal(await outcome, controller.signal.reason)
      assert.equal(listeners(), 0)
      assert.equal(proxy.requests('UploadPart').length, 1, 'not retried')
      await abortMultipartUpload(ctx, uploadId)
    } finally {
      await ctx.close()
      await proxy.close()
    }
    assert.deepEqual(await openUploads(bucket, key), [])
  })
})
