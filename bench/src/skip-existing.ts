/**
 * `skipExisting` against a real S3 server (S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY;
 * the test server is Ceph RGW): a tree of small files is uploaded once, then uploaded again with
 * every file already there, once per lookup (`using: 'head'` / `'list'`) and comparison
 * (`by: 'size'` / `'etag'`). Each rerun is timed and its requests counted by method through a
 * counting transport. The bucket is made for the run and emptied and deleted after it.
 *
 *   node dist/src/skip-existing.js             2000 files of 1–4 KiB
 *   node dist/src/skip-existing.js --quick     500 files
 *   --files <n> --concurrency <n> (default 16)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import {
  createBucket,
  createS3Context,
  deleteBucket,
  deleteObject,
  listObjectsV2,
  undiciTransport,
  uploadDirectory,
  type SkipExisting,
  type Transport,
} from '@partstream/signer'
import { Agent } from 'undici'
import { intList } from './internal/cli.ts'
import { markdownTable } from './internal/markdown.ts'
import { describeSystem, systemLine } from './internal/system.ts'
import { fmt } from './internal/units.ts'

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    files: { type: 'string' },
    concurrency: { type: 'string', default: '16' },
  },
})
const files = intList(args.files ?? (args.quick ? '500' : '2000'), 'files')[0] as number
const concurrency = intList(args.concurrency, 'concurrency')[0] as number
const endpoint = process.env['S3_ENDPOINT']
const accessKeyId = process.env['S3_ACCESS_KEY_ID']
const secretAccessKey = process.env['S3_SECRET_ACCESS_KEY']
if (!endpoint || !accessKeyId || !secretAccessKey) {
  console.error('skip-existing needs a real S3 server: set S3_ENDPOINT, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY.')
  process.exit(2)
}
const base = { endpoint, region: process.env['S3_REGION'] ?? 'us-east-1', credentials: { accessKeyId, secretAccessKey } }
const bucket = `skip-bench-${Date.now().toString(36)}`
const system = describeSystem()

const agent = new Agent({ connections: concurrency })
const sent = new Map<string, number>()
const inner = undiciTransport(agent)
const counting: Transport = (request) => {
  const kind = request.method === 'GET' && request.path.includes('list-type=2') ? 'ListObjectsV2' : request.method
  sent.set(kind, (sent.get(kind) ?? 0) + 1)
  return inner(request)
}

const dir = mkdtempSync(join(tmpdir(), 'partstream-skip-bench-'))
const ctx = createS3Context({ ...base, bucket }, { transport: counting })
const rows: string[][] = []
try {
  for (let i = 0; i < files; i++) {
    const sub = join(dir, `d${Math.floor(i / 100)}`)
    if (i % 100 === 0) mkdirSync(sub, { recursive: true })
    writeFileSync(join(sub, `f${i}.txt`), Buffer.alloc(1024 + ((i * 37) % 3072), i & 0xff))
  }
  await createBucket(ctx)
  const target = { ...base, bucket, prefix: 'tree/' }
  const run = async (label: string, skipExisting: SkipExisting | undefined): Promise<void> => {
    sent.clear()
    const t0 = performance.now()
    const r = await uploadDirectory(dir, target, { concurrency, skipExisting, transport: counting, collect: false })
    const seconds = (performance.now() - t0) / 1000
    const requests = [...sent.values()].reduce((a, b) => a + b, 0)
    const detail = [...sent].map(([k, n]) => `${n} ${k}`).join(', ')
    process.stderr.write(`${label}: ${fmt(seconds)} s, ${requests} requests (${detail}), skipped ${r.skipped}, failed ${r.failed}\n`)
    if (r.failed > 0) throw new Error(`${label}: ${r.failed} files failed`)
    rows.push([label, String(r.skipped), String(requests), detail, fmt(seconds), fmt(files / seconds)])
  }
  await run('first upload (nothing to skip)', undefined)
  await run("rerun, { by: 'size', using: 'head' }", { by: 'size', using: 'head' })
  await run("rerun, { by: 'size', using: 'list' }", { by: 'size', using: 'list' })
  await run("rerun, { by: 'etag', using: 'head' }", { by: 'etag', using: 'head' })
  await run("rerun, { by: 'etag', using: 'list' }", { by: 'etag', using: 'list' })
} finally {
  // Empty and delete the bucket (the test server keeps objects in RAM).
  for (;;) {
    const page = await listObjectsV2(ctx).catch(() => undefined)
    if (page === undefined || page.objects.length === 0) break
    const keys = page.objects.map((o) => o.key)
    await Promise.all(Array.from({ length: concurrency }, async () => {
      for (let key = keys.pop(); key !== undefined; key = keys.pop()) await deleteObject(ctx, { key })
    }))
  }
  await deleteBucket(ctx).catch(() => {})
  await ctx.close()
  await agent.close()
  rmSync(dir, { recursive: true, force: true })
}

console.log(
  [
    `### skipExisting: HeadObject per file vs one ListObjectsV2 of the prefix`,
    '',
    systemLine(system),
    '',
    `${files} files of 1–4 KiB, all already in the bucket for the reruns · concurrency ${concurrency} · server ${endpoint}`,
    '',
    markdownTable(['run', 'skipped', 'requests', 'by method', 'seconds', 'files/s'], rows, ['l', 'r', 'r', 'l', 'r', 'r']),
  ].join('\n'),
)
