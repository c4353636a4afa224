// A bounded randomized soak: 30 uploads of random sizes (0 to 20 MiB), random chunking and
// concurrency, each through its own fault proxy with random transient faults. Every object is
// read back and compared by SHA-256, and no multipart upload may be left open at the end.
// Seeded: the seed is printed; replay a failure with SOAK_SEED=<seed>.
import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { upload } from '../../src/index.ts'
import { createBucket, getObject, openUploads, randomChunks, randomData, s3Env, sha256, target } from '../integration/s3.ts'
import { failOnUnhandledRejections, prng } from './helpers.ts'
import { FAULTS, startFaultProxy, type Fault, type FaultRule, type RequestKind } from './proxy.ts'

failOnUnhandledRejections()

const MiB = 1024 * 1024
const UPLOADS = 30
/** Uploads running at once (each with its own proxy). */
const PARALLEL = 3
/** Attempts per request: the plan never faults one request more than 4 times in a row. */
const ATTEMPTS = 6
const SEED = process.env['SOAK_SEED'] !== undefined ? Number(process.env['SOAK_SEED']) : Math.floor(Math.random() * 2 ** 31)

interface Plan {
  readonly index: number
  readonly size: number
  readonly maxChunk: number
  readonly partSize: number
  readonly concurrency: number
  readonly rules: readonly FaultRule[]
}

function makePlans(seed: number): Plan[] {
  const random = prng(seed)
  const int = (n: number): number => Math.floor(random() * n)
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T
  const plans: Plan[] = []
  for (let index = 0; index < UPLOADS; index++) {
    const r = random()
    const size = r < 0.1 ? 0 : r < 0.3 ? int(5 * MiB) : int(20 * MiB + 1)
    const partSize = 5 * MiB + int(2 * MiB)
    const kinds: RequestKind[] =
      size <= partSize ? ['PutObject'] : ['CreateMultipartUpload', 'UploadPart', 'UploadPart', 'UploadPart', 'CompleteMultipartUpload', 'CompleteMultipartUpload', 'HeadObject']
    const rules: FaultRule[] = []
    if (size > partSize && random() < 0.3) {
      // A Complete that commits but whose answer is lost, then NoSuchUpload on the retry (as AWS
      // may answer): HeadObject must reconcile. First in the list, so no other rule takes these
      // two requests; they fall within the first 4 Complete requests like every other rule.
      const n = 1 + int(2)
      rules.push(
        { kind: 'CompleteMultipartUpload', nth: n, fault: random() < 0.5 ? FAULTS.dropResponse : { type: 'error-in-200', forward: true } },
        { kind: 'CompleteMultipartUpload', nth: n + 1, fault: { type: 'error', status: 404, code: 'NoSuchUpload' } },
      )
    }
    // 1 to 4 rules, each hitting 1 or 2 of the first 4 matching requests: one request meets at
    // most 4 faults in a row, under the ATTEMPTS budget.
    for (let n = 1 + int(4); n > 0; n--) {
      const kind = pick(kinds)
      const faults: Fault[] = [
        FAULTS.internalError,
        FAULTS.slowDown,
        FAULTS.serviceUnavailable,
        { type: 'reset', afterBytes: int(2 * MiB) },
        { type: 'reset', afterBytes: 0 },
        FAULTS.stall,
        { type: 'stall', afterBytes: int(MiB) },
      ]
      if (kind === 'CompleteMultipartUpload') {
        faults.push({ type: 'error-in-200', forward: false }, { type: 'error-in-200', forward: true }, FAULTS.dropResponse)
      }
      rules.push({
        kind,
        partNumber: kind === 'UploadPart' && random() < 0.5 ? 1 + int(3) : undefined,
        nth: 1 + int(3),
        times: 1 + int(2),
        fault: pick(faults),
      })
    }
    plans.push({
      index,
      size,
      maxChunk: pick([1024, 16 * 1024, 256 * 1024, MiB, 7 * MiB]),
      partSize,
      concurrency: 1 + int(6),
      rules,
    })
  }
  return plans
}

let bucket: string
before(async () => {
  bucket = await createBucket('soak')
})

test(`soak: ${UPLOADS} uploads under random transient faults (seed ${SEED})`, { timeout: 180_000 }, async (t) => {
  t.diagnostic(`seed ${SEED} — replay with SOAK_SEED=${SEED}`)
  const plans = makePlans(SEED)
  const injected = new Map<string, number>()
  let requests = 0

  const runOne = async (plan: Plan): Promise<void> => {
    const key = `soak/${plan.index}`
    const what = `upload ${plan.index} (seed ${SEED}: ${plan.size} bytes, chunks ≤ ${plan.maxChunk}, part ${plan.partSize}, concurrency ${plan.concurrency}, rules ${JSON.stringify(plan.rules)})`
    const proxy = await startFaultProxy(s3Env().endpoint, plan.rules)
    try {
      const data = randomData(plan.size, SEED + plan.index)
      const result = await upload(randomChunks(data, plan.maxChunk, SEED ^ plan.index), { ...target(bucket, key), endpoint: proxy.endpoint }, {
        partSize: plan.partSize,
        concurrency: plan.concurrency,
        retry: { attempts: ATTEMPTS, baseDelayMs: 1 },
        idleTimeoutMs: 1500,
      }).catch((error: unknown) => {
        throw new Error(`${what} failed; proxy log:\n${proxy.log.map((r) => `#${r.seq} ${r.kind} ${r.partNumber ?? ''} ${r.fault ?? ''} → ${r.outcome}`).join('\n')}`, { cause: error })
      })
      assert.equal(result.size, plan.size, what)
      const back = await getObject(bucket, key)
      assert.equal(sha256(back), sha256(data), `${what}: the object read back differs`)
      for (const r of proxy.log) {
        requests++
        if (r.fault !== undefined) injected.set(`${r.kind} ${r.fault}`, (injected.get(`${r.kind} ${r.fault}`) ?? 0) + 1)
      }
    } finally {
      await proxy.close()
    }
  }

  const queue = [...plans]
  // allSettled: a failing upload stops its worker, and the others finish before the test ends.
  const workers = await Promise.allSettled(
    Array.from({ length: PARALLEL }, async () => {
      for (let plan = queue.shift(); plan !== undefined; plan = queue.shift()) await runOne(plan)
    }),
  )
  for (const w of workers) if (w.status === 'rejected') throw w.reason
  t.diagnostic(`${requests} requests, faults injected: ${JSON.stringify(Object.fromEntries([...injected].sort()))}`)
  assert.ok(injected.size > 0, 'the soak injected faults')
  assert.deepEqual(await openUploads(bucket), [], 'no multipart upload left open (no orphans)')
})
