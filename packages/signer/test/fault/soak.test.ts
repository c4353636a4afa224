// The seeded soak ("chaos at scale"): SOAK_UPLOADS uploads (default 200 on Node 20, the first
// runtime scripts/test.mjs runs; 40 on Node 24, Deno and Bun, which run the same file), each
// through its own fault proxy in front of the real server, planned by soak-plan.ts: sizes from 0
// to 30 MiB in random chunkings, concurrency 1-8, signed and unsigned payloads, transient faults
// on every request kind, permanent failures, aborts, leave-parts-then-resume.
//
// Per upload: success ⇒ the object read back has the source's SHA-256; failure ⇒ an error whose
// `code` starts with ERR_PARTSTREAM_ (or `signal.reason` itself after an abort); always: the
// source was closed, no 'abort' listener is left, no multipart upload is open in its bucket, and
// it settled within UPLOAD_DEADLINE_MS (no hangs). Every failure of every upload is collected and
// reported at the end; the soak also fails if a fault kind was never injected.
//
// Replay: the seed is printed. SOAK_SEED=<seed> SOAK_UPLOADS=<n> replays a run, SOAK_ONLY=3,17
// only those uploads (of the same plan list). SOAK_KNOWN_BUGS=1 includes the cases excluded for
// known bugs (soak-plan.ts).
//
// The second test crash-restarts radosgw mid-upload, only where this run started the server.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createBucket, createS3Context, upload, type UploadOptions, type UploadResult } from '../../src/index.ts'
import { createBucket as createTestBucket, deleteBucket, getObject, openUploads, randomData, s3Env, sha256, target } from '../integration/s3.ts'
import { countedController, deferred, failOnUnhandledRejections, fixedChunks, prng, trackedSource } from './helpers.ts'
import { startFaultProxy, type FaultProxy, type FaultRule, type LoggedRequest } from './proxy.ts'
import {
  ATTEMPTS,
  FAULT_KINDS,
  IDLE_TIMEOUT_MS,
  RETRY_BASE_DELAY_MS,
  KNOWN_BUG_ABORT_DURING_CREATE,
  KNOWN_BUG_CORRUPT_BODY_NOT_RETRIED,
  KNOWN_BUG_CREATE_LOST_ANSWER,
  KNOWN_BUG_LEAVE_PARTS_NO_UPLOAD_ID,
  MiB,
  makePlans,
  type Plan,
} from './soak-plan.ts'

failOnUnhandledRejections()

const versions = process.versions as Record<string, string | undefined>
const RUNTIME =
  versions['bun'] !== undefined ? `Bun ${versions['bun']}` : versions['deno'] !== undefined ? `Deno ${versions['deno']}` : `Node ${process.versions.node}`

function envInt(name: string): number | undefined {
  const value = process.env[name]
  if (value === undefined || value === '') return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`)
  return n
}

const SEED = envInt('SOAK_SEED') ?? Math.floor(Math.random() * 2 ** 31)
/** scripts/test.mjs asks for 200 on its first runtime and 40 on the others; run alone, 200. */
const UPLOADS = envInt('SOAK_UPLOADS') ?? 200
/** Uploads running at once, each with its own proxy (2 cores: more only adds waiting). */
const PARALLEL = envInt('SOAK_PARALLEL') ?? 4
const ONLY = process.env['SOAK_ONLY']?.split(',').filter((s) => s !== '').map(Number)
/** An upload not settled by then counts as a hang (the worst planned one takes about 20 s). */
const UPLOAD_DEADLINE_MS = 60_000
/** How much earlier than IDLE_TIMEOUT_MS (by the proxy's clock) a client may cut a silent answer. */
const IDLE_CUT_MARGIN_MS = 250
const CORRUPTION_CODES = ['XAmzContentSHA256Mismatch', 'BadDigest']
const RUN_ID = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`

type Settled<T> = { status: 'resolved'; value: T } | { status: 'rejected'; error: unknown } | { status: 'hang' }

/** How `promise` settled, or `'hang'` past `ms` (a failure detector, never a synchronization). */
async function within<T>(promise: Promise<T>, ms: number): Promise<Settled<T>> {
  const outcome = promise.then(
    (value): Settled<T> => ({ status: 'resolved', value }),
    (error: unknown): Settled<T> => ({ status: 'rejected', error }),
  )
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<Settled<T>>((resolve) => {
    timer = setTimeout(() => resolve({ status: 'hang' }), ms)
  })
  try {
    return await Promise.race([outcome, deadline])
  } finally {
    clearTimeout(timer)
  }
}

function codeOf(error: unknown): string | undefined {
  const code = error !== null && typeof error === 'object' ? (error as { code?: unknown }).code : undefined
  return typeof code === 'string' ? code : undefined
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return `${typeof error} ${String(error)}`
  return `${error.name}${codeOf(error) === undefined ? '' : ` ${codeOf(error)}`}: ${error.message}`
}

/** The message of the error a planned source failure throws (leave-parts-resume). */
const SOURCE_FAILURE_MESSAGE = 'soak: the source failed'

/**
 * The plan's bytes, generated as they are pulled, and their SHA-256 once the last one was pulled.
 * Each byte depends only on its position (a seeded xorshift stream cut into chunks), so a resumed
 * upload reads the same bytes whatever the chunking; a chunk is never touched once yielded. With
 * `fail`, the source throws once `plan.sourceFailsAt` bytes were read.
 */
function planSource(plan: Plan, fail: boolean): { chunks: Generator<Uint8Array>; digest: () => string | undefined } {
  const random = prng(plan.dataSeed)
  const hash = createHash('sha256')
  let digest: string | undefined
  let x = plan.dataSeed | 1
  const block = new Uint8Array(64 * 1024)
  const words = new Uint32Array(block.buffer)
  let used = block.byteLength
  const take = (n: number): Uint8Array => {
    const out = new Uint8Array(n)
    for (let filled = 0; filled < n; ) {
      if (used === block.byteLength) {
        for (let i = 0; i < words.length; i++) {
          x ^= x << 13
          x ^= x >>> 17
          x ^= x << 5
          words[i] = x
        }
        used = 0
      }
      const k = Math.min(n - filled, block.byteLength - used)
      out.set(block.subarray(used, used + k), filled)
      used += k
      filled += k
    }
    return out
  }
  const failAt = fail ? plan.sourceFailsAt : undefined
  function* chunks(): Generator<Uint8Array> {
    let offset = 0
    while (offset < plan.size) {
      if (offset === failAt) throw new Error(SOURCE_FAILURE_MESSAGE)
      if (plan.emptyChunks && random() < 0.05) yield new Uint8Array(0)
      let n = Math.min(plan.size - offset, 1 + Math.floor(random() * plan.maxChunk))
      if (failAt !== undefined && offset < failAt) n = Math.min(n, failAt - offset)
      const chunk = take(n)
      hash.update(chunk)
      offset += n
      yield chunk
    }
    digest = hash.digest('hex')
  }
  return { chunks: chunks(), digest: () => digest }
}

function describePlan(plan: Plan): string {
  const abort = plan.abortAtRequest === undefined ? '' : `, abort at request ${plan.abortAtRequest}`
  return (
    `upload ${plan.index} [${plan.primary} → ${plan.ending}; ${plan.size} B in chunks ≤ ${plan.maxChunk}${plan.emptyChunks ? ' (+ empty)' : ''}, ` +
    `part ${plan.partSize}, concurrency ${plan.concurrency}, ${plan.payload}${abort}]`
  )
}

const describeRules = (rules: readonly FaultRule[]): string => rules.map((r) => `${r.label ?? '?'}: ${r.kind}${r.partNumber === undefined ? '' : ` part ${r.partNumber}`} nth ${r.nth ?? 1}×${r.times ?? 1} ${JSON.stringify(r.fault)}`).join('; ')

const describeLog = (log: readonly LoggedRequest[]): string =>
  log.map((r) => `#${r.seq} ${r.kind}${r.partNumber === undefined ? '' : ` ${r.partNumber}`}${r.label === undefined ? '' : ` [${r.label}]`} → ${r.outcome}${r.upstreamStatus === undefined ? '' : ` (upstream ${r.upstreamStatus}${r.upstreamCode === undefined ? '' : ` ${r.upstreamCode}`})`}`).join(', ')

interface UploadReport {
  readonly plan: Plan
  readonly failures: string[]
  /** Labels of the faults injected, one per request hit. */
  readonly injected: string[]
  /** How the (last phase of the) upload ended. */
  outcome: 'succeeded' | 'failed' | 'aborted' | 'hang' | 'error'
  requests: number
}

/** A bucket of its own per upload: deleted (open uploads aborted, objects removed) right after it. */
async function freshBucket(index: number): Promise<string> {
  const bucket = `soak-${RUN_ID}-${index}`
  const ctx = createS3Context(target(bucket, 'x'))
  try {
    await createBucket(ctx)
  } finally {
    await ctx.close()
  }
  return bucket
}

async function runPlan(plan: Plan): Promise<UploadReport> {
  const report: UploadReport = { plan, failures: [], injected: [], outcome: 'error', requests: 0 }
  const check = (ok: boolean, message: string): void => {
    if (!ok) report.failures.push(message)
  }
  const proxies: FaultProxy[] = []
  const bucket = await freshBucket(plan.index)
  const key = `soak/${plan.index}`
  const options: UploadOptions = {
    partSize: plan.partSize,
    concurrency: plan.concurrency,
    payload: plan.payload,
    retry: { attempts: ATTEMPTS, baseDelayMs: RETRY_BASE_DELAY_MS },
    idleTimeoutMs: IDLE_TIMEOUT_MS,
  }

  /** Checks an upload that must have succeeded: size, the bytes read back, slow answers waited for. */
  const checkSuccess = async (phase: string, result: UploadResult, digest: string | undefined, proxy: FaultProxy): Promise<void> => {
    check(result.size === plan.size, `${phase}: result.size ${result.size}, expected ${plan.size}`)
    check(digest !== undefined, `${phase}: resolved before the source was read to its end`)
    const back = await getObject(bucket, key)
    check(back.byteLength === plan.size && sha256(back) === digest, `${phase}: the object read back (${back.byteLength} B, sha256 ${sha256(back)}) is not the source (${plan.size} B, sha256 ${digest})`)
    for (const r of proxy.log) {
      // A slow answer within the idle timeout is waited for: never cut off and retried. Cutting
      // it is right once the silence really reached the timeout: a loaded RGW can take longer
      // than the planned gap on its own. Only a cut between the answer's two halves is judged
      // (there the client's idle clock cannot start before the proxy's; see `cut` in proxy.ts);
      // IDLE_CUT_MARGIN_MS covers timer latency. The wait for headers is timed exactly by
      // transient.test.ts and the idle watchdog's own tests.
      if (r.fault === 'slow' && typeof r.outcome !== 'number' && r.cut?.gap !== 'headers') {
        const silent = r.cut === undefined ? 'unknown' : `${r.cut.silentMs.toFixed(0)} ms`
        check(r.cut !== undefined && r.cut.silentMs >= IDLE_TIMEOUT_MS - IDLE_CUT_MARGIN_MS, `${phase}: the slow answer #${r.seq} ${r.kind} was not waited for (${r.outcome} after ${silent} of silence in its body; the idle timeout is ${IDLE_TIMEOUT_MS} ms)`)
      }
    }
  }

  try {
    // ---- phase 1: the planned upload ----
    const proxy = await startFaultProxy(s3Env().endpoint, plan.rules)
    proxies.push(proxy)
    const source = planSource(plan, true)
    const tracked = trackedSource(source.chunks)
    const { controller, listeners } = countedController()
    const reason = new Error(`soak: upload ${plan.index} aborted by its caller`)
    let abortedOn: LoggedRequest | undefined
    if (plan.abortAtRequest !== undefined) {
      let seen = 0
      proxy.onRequest((r) => {
        if (abortedOn !== undefined || (KNOWN_BUG_ABORT_DURING_CREATE && r.kind === 'CreateMultipartUpload')) return
        if (++seen === plan.abortAtRequest) {
          abortedOn = r
          controller.abort(reason)
        }
      })
    }
    let uploadId: string | undefined
    const leave = plan.ending === 'leave-resume'
    const settled = await within(
      upload(tracked.source, { ...target(bucket, key), endpoint: proxy.endpoint }, {
        ...options,
        signal: controller.signal,
        leavePartsOnError: leave,
        onProgress: (e) => {
          if (e.type === 'upload-created') uploadId = e.uploadId
        },
      }),
      UPLOAD_DEADLINE_MS,
    )
    if (settled.status === 'hang') {
      report.outcome = 'hang'
      check(false, `hang: not settled after ${UPLOAD_DEADLINE_MS} ms`)
      controller.abort(new Error('soak: deadline'))
      return report
    }
    check(tracked.state.finished.settled, 'the source was not closed (its finally did not run)')
    check(listeners() === 0, `${listeners()} 'abort' listener(s) left on the caller's signal`)
    for (const r of proxy.log) {
      // A flipped byte under a signed SHA-256 must be refused (never stored).
      if (r.fault === 'corrupt' && r.bodyBytes > 0 && r.upstreamStatus !== undefined) {
        check(r.upstreamStatus === 400 && CORRUPTION_CODES.includes(r.upstreamCode ?? ''), `the corrupted #${r.seq} ${r.kind} was answered ${r.upstreamStatus} ${r.upstreamCode ?? ''}, expected 400 ${CORRUPTION_CODES.join('/')}`)
      }
    }

    if (abortedOn !== undefined) {
      report.injected.push('abort')
      report.outcome = 'aborted'
      if ((abortedOn.kind === 'CompleteMultipartUpload' || abortedOn.kind === 'PutObject') && settled.status === 'resolved') {
        // The commit point: Complete (or a single PutObject) was sent, its answer came within the
        // grace, so the object is written and reported as written (README, `signal`). It must be
        // the data sent.
        report.outcome = 'succeeded'
        await checkSuccess('upload', settled.value, source.digest(), proxy)
      } else {
        check(settled.status === 'rejected' && settled.error === reason, `aborted as #${abortedOn.seq} ${abortedOn.kind} arrived: expected the rejection to be signal.reason itself, got ${settled.status === 'rejected' ? describeError(settled.error) : 'success'}`)
      }
    } else if (plan.ending === 'success' || plan.ending === 'abort') {
      if (settled.status === 'resolved') {
        report.outcome = 'succeeded'
        await checkSuccess('upload', settled.value, source.digest(), proxy)
      } else {
        report.outcome = 'failed'
        check(false, `expected success, got ${describeError(settled.error)}`)
      }
    } else if (settled.status === 'resolved') {
      report.outcome = 'succeeded'
      check(false, `expected a permanent failure (${plan.primary}), but the upload succeeded`)
    } else {
      report.outcome = 'failed'
      const error = settled.error as { s3Code?: unknown; attempt?: unknown; uploadId?: unknown }
      check(codeOf(error)?.startsWith('ERR_PARTSTREAM_') === true, `expected an error coded ERR_PARTSTREAM_*, got ${describeError(error)}`)
      const expected = plan.expectedError
      if (expected?.s3Code !== undefined) check(error.s3Code === expected.s3Code, `expected the planned ${expected.s3Code}, got ${describeError(error)}`)
      if (expected?.sourceFailed === true) {
        const cause = (error as { cause?: unknown }).cause
        check(cause instanceof Error && cause.message === SOURCE_FAILURE_MESSAGE, `expected the source's error as the cause, got ${describeError(error)} (cause ${describeError(cause)})`)
      }
      if (expected?.attempt !== undefined) {
        check(error.attempt === expected.attempt, `expected the error of attempt ${expected.attempt} (retries exhausted), got attempt ${String(error.attempt)}: ${describeError(error)}`)
      }
      if (leave) {
        // Its fault is the source's own throw (the other causes are proxy rules, counted from the log).
        if (plan.sourceFailsAt !== undefined) report.injected.push('leave-parts-resume')
        check(uploadId !== undefined, 'leavePartsOnError: no upload-created event before the failure')
        check(error.uploadId === uploadId, `leavePartsOnError: the rejection's uploadId is ${String(error.uploadId)}, expected ${String(uploadId)} (from upload-created)`)
        const open = await openUploads(bucket)
        check(open.length === 1 && open[0] === `${key} ${uploadId}`, `leavePartsOnError: expected exactly the upload ${uploadId} left open, found ${JSON.stringify(open)}`)
      }
    }

    // ---- phase 2 (leave-resume): resume the upload left open, from the same source ----
    if (leave && settled.status === 'rejected' && uploadId !== undefined) {
      const resumeProxy = await startFaultProxy(s3Env().endpoint, plan.resumeRules)
      proxies.push(resumeProxy)
      const again = planSource(plan, false)
      const resumed = trackedSource(again.chunks)
      const second = await within(upload(resumed.source, { ...target(bucket, key), endpoint: resumeProxy.endpoint }, { ...options, resumeUploadId: uploadId }), UPLOAD_DEADLINE_MS)
      if (second.status === 'hang') {
        report.outcome = 'hang'
        check(false, `resume: hang, not settled after ${UPLOAD_DEADLINE_MS} ms`)
        return report
      }
      check(resumed.state.finished.settled, 'resume: the source was not closed (its finally did not run)')
      if (second.status === 'resolved') {
        report.outcome = 'succeeded'
        await checkSuccess('resume', second.value, again.digest(), resumeProxy)
      } else {
        check(false, `resume: expected success, got ${describeError(second.error)}`)
      }
    }

    const open = await openUploads(bucket)
    check(open.length === 0, `multipart uploads left open (ListMultipartUploads): ${JSON.stringify(open)}`)
  } catch (error) {
    check(false, `the check itself failed: ${describeError(error)}`)
  } finally {
    for (const proxy of proxies) {
      report.requests += proxy.log.length
      for (const r of proxy.log) if (r.label !== undefined) report.injected.push(r.label)
      await proxy.close()
    }
    if (report.failures.length > 0) {
      report.failures.unshift(`${describePlan(plan)} rules: ${describeRules(plan.rules)}${plan.resumeRules.length > 0 ? ` resume rules: ${describeRules(plan.resumeRules)}` : ''}`)
      report.failures.push(`proxy log: ${proxies.map((p) => describeLog(p.log)).join(' || ')}`)
    }
    await deleteBucket(bucket).catch((error: unknown) => report.failures.push(`deleting bucket ${bucket} failed: ${describeError(error)}`))
  }
  return report
}

test(`soak: ${UPLOADS} uploads under random faults on ${RUNTIME} (seed ${SEED})`, { timeout: 900_000 }, async (t) => {
  t.diagnostic(`seed ${SEED}: replay with SOAK_SEED=${SEED} SOAK_UPLOADS=${UPLOADS} (SOAK_ONLY=<index,…> for single uploads)`)
  const plans = makePlans(SEED, UPLOADS).filter((p) => ONLY === undefined || ONLY.includes(p.index))
  const started = performance.now()
  const reports: UploadReport[] = []
  const queue = [...plans]
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      for (let plan = queue.shift(); plan !== undefined; plan = queue.shift()) reports.push(await runPlan(plan))
    }),
  )
  const seconds = ((performance.now() - started) / 1000).toFixed(1)

  const injected = new Map<string, number>()
  for (const r of reports) for (const label of r.injected) injected.set(label, (injected.get(label) ?? 0) + 1)
  const outcomes = new Map<string, number>()
  for (const r of reports) outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1)
  const bytes = plans.reduce((n, p) => n + p.size, 0)
  t.diagnostic(`${reports.length} uploads (${(bytes / MiB).toFixed(0)} MiB) in ${seconds} s, ${reports.reduce((n, r) => n + r.requests, 0)} requests; outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`)
  t.diagnostic(`faults injected (requests hit, per kind): ${FAULT_KINDS.map((k) => `${k} ${injected.get(k) ?? 0}`).join(', ')}`)
  const knownBugs = [
    KNOWN_BUG_ABORT_DURING_CREATE && 'KNOWN_BUG_ABORT_DURING_CREATE (no abort as a Create arrives)',
    KNOWN_BUG_CREATE_LOST_ANSWER && 'KNOWN_BUG_CREATE_LOST_ANSWER (no truncated-xml on Create)',
    KNOWN_BUG_CORRUPT_BODY_NOT_RETRIED && 'KNOWN_BUG_CORRUPT_BODY_NOT_RETRIED (no corrupt-byte)',
    KNOWN_BUG_LEAVE_PARTS_NO_UPLOAD_ID && 'KNOWN_BUG_LEAVE_PARTS_NO_UPLOAD_ID (leave-parts-resume never fails through its source)',
  ].filter((s) => s !== false)
  if (knownBugs.length > 0) t.diagnostic(`EXCLUDED for known bugs (SOAK_KNOWN_BUGS=1 runs them): ${knownBugs.join('; ')}`)

  const failures = reports.filter((r) => r.failures.length > 0).sort((a, b) => a.plan.index - b.plan.index)
  assert.equal(
    failures.length,
    0,
    `${failures.length} of ${reports.length} uploads failed their checks (seed ${SEED}, SOAK_UPLOADS=${UPLOADS}):\n\n` + failures.map((r) => r.failures.join('\n  ')).join('\n\n'),
  )
  if (ONLY === undefined) {
    // Every kind is some upload's primary fault once SOAK_UPLOADS ≥ the number of kinds (fewer: those planned).
    const planned = new Set(plans.map((p) => p.primary))
    const never = FAULT_KINDS.filter((k) => planned.has(k) && (injected.get(k) ?? 0) === 0)
    assert.deepEqual(never, [], `fault kinds never injected (seed ${SEED}, ${UPLOADS} uploads)`)
  }
})

// ---- a real server restart ----

/**
 * scripts/test.mjs sets S3_RGW_RESTART=1 when it started Ceph RGW for this run: only then is
 * radosgw this suite's to kill. Against a server named by S3_ENDPOINT (shared, or another
 * engineer's), the case is reported as not run, never as passed.
 */
const OWNS_RGW = process.env['S3_RGW_RESTART'] === '1'
const NOT_OWNED =
  'NOT RUN: S3_ENDPOINT names a server this run did not start (S3_RGW_RESTART is not 1), so its radosgw is not ours to kill; ' +
  'run `pnpm test` without S3_ENDPOINT (or set S3_RGW_RESTART=1 for a server you own) to run it'

function findUp(relative: string): string {
  const here = fileURLToPath(import.meta.url)
  for (let dir = dirname(here); ; dir = dirname(dir)) {
    const candidate = join(dir, relative)
    if (existsSync(candidate)) return candidate
    if (dirname(dir) === dir) throw new Error(`${relative} not found above ${here}`)
  }
}

/** Runs scripts/ceph/restart-rgw.sh; `onKilled` runs once the old radosgw is gone (before the new one starts). */
function restartRgw(onKilled: () => void): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', [findUp('scripts/ceph/restart-rgw.sh')], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      if (/^killed \d+$/m.test(output)) onKilled()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.on('error', (error) => resolve({ code: null, output: `${output}${String(error)}` }))
    child.on('close', (code) => resolve({ code, output }))
  })
}

// The name says it too: Deno prints no skip reason.
const RESTART_NAME = `soak: radosgw is killed mid-upload and started again${OWNS_RGW ? '' : ' (NOT RUN: not this run’s server)'}`
test(RESTART_NAME, { timeout: 180_000, skip: OWNS_RGW ? false : NOT_OWNED }, async (t) => {
  const bucket = await createTestBucket('soak-restart')
  const key = 'restart/30MiB'
  const data = randomData(30 * MiB, SEED)
  const killed = deferred()
  const atGate = deferred()
  // Parts 1 and 2 (1 MiB chunks, 5 MiB parts) are read and sent; reading chunk 12 waits until
  // radosgw is dead, so parts 3 to 6 meet a server that is down, then starting up.
  const { source, state } = trackedSource(fixedChunks(data, MiB), { gateAt: 12, gate: killed.promise, atGate })
  let retries = 0
  const uploading = within(
    upload(source, target(bucket, key), {
      partSize: 5 * MiB,
      concurrency: 3,
      // Enough backoff to outlast a restart (about 3 s here): 15 attempts, full jitter up to 2 s.
      retry: { attempts: 15, baseDelayMs: 200, maxDelayMs: 2000 },
      idleTimeoutMs: 10_000,
      onProgress: (e) => {
        if (e.type === 'part-retried') retries++
      },
    }),
    120_000,
  )
  // The source reaches the gate, unless the upload already failed (then there is nothing to restart under).
  const early = await Promise.race([atGate.promise.then(() => undefined), uploading])
  assert.equal(early, undefined, `the upload settled before reaching the restart point: ${JSON.stringify(early)}`)
  const restart = await restartRgw(() => killed.resolve())
  killed.resolve() // also when the script failed before killing: the upload must end either way
  const settled = await uploading
  t.diagnostic(`restart-rgw.sh (exit ${restart.code}): ${restart.output.trim().replace(/\n/g, '; ')}; upload ${settled.status} after ${retries} part retries`)
  assert.equal(restart.code, 0, `scripts/ceph/restart-rgw.sh failed:\n${restart.output}`)
  assert.notEqual(settled.status, 'hang', 'the upload settled (no hang)')
  if (settled.status === 'resolved') {
    const back = await getObject(bucket, key)
    assert.equal(sha256(back), sha256(data), 'the object read back is the source')
  } else if (settled.status === 'rejected') {
    assert.ok(codeOf(settled.error)?.startsWith('ERR_PARTSTREAM_'), `a coded error, got ${describeError(settled.error)}`)
  }
  assert.ok(state.finished.settled, 'the source was closed')
  assert.deepEqual(await openUploads(bucket), [], 'no multipart upload left open')
})
