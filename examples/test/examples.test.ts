// Runs every example as a user would (a separate process of the runtime running this test) against
// the real S3 server. Built (Node 20, dist/*.js) or from the .ts sources (Node ≥ 22.18, Deno, Bun,
// with the `@partstream/source` export condition, so `@partstream/*` resolve to their src/index.ts).
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { before, test } from 'node:test'
import { promisify } from 'node:util'
import { gunzipSync } from 'node:zlib'
import { createBucket, createS3Context, getObject, headObject, listMultipartUploads } from '@partstream/signer'

const execFileAsync = promisify(execFile)
const dir = fileURLToPath(new URL('..', import.meta.url))
const fromSource = import.meta.url.endsWith('.ts')
const isDeno = 'Deno' in globalThis

const exampleFile = (name: string): string => `${dir}${name}${fromSource ? '.ts' : '.js'}`

/** `<runtime> <example> args…`, with the same runtime and export condition as this test. */
function run(example: string, args: readonly string[], options: { env: Record<string, string> }) {
  const file = exampleFile(example)
  const runtimeArgs = isDeno ? ['run', '-A', '--no-check', '--conditions=@partstream/source'] : fromSource ? ['--conditions=@partstream/source'] : []
  return execFileAsync(process.execPath, [...runtimeArgs, file, ...args], options)
}

function s3Env(): Record<string, string> {
  const { S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } = process.env
  if (!S3_ENDPOINT || !S3_ACCESS_KEY_ID || !S3_SECRET_ACCESS_KEY) {
    throw new Error('examples need the real S3 server: run them through `pnpm test` or set S3_ENDPOINT and keys')
  }
  return {
    ...(process.env as Record<string, string>),
    AWS_ACCESS_KEY_ID: S3_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: S3_SECRET_ACCESS_KEY,
    AWS_REGION: process.env['S3_REGION'] ?? 'us-east-1',
  }
}

/** The object the examples wrote to bucket `logs`, read back whole. */
async function readBack(key: string): Promise<Buffer> {
  const env = s3Env()
  const credentials = { accessKeyId: env['AWS_ACCESS_KEY_ID'] ?? '', secretAccessKey: env['AWS_SECRET_ACCESS_KEY'] ?? '' }
  const ctx = createS3Context({ bucket: 'logs', endpoint: env['S3_ENDPOINT'], credentials })
  try {
    const chunks: Uint8Array[] = []
    for await (const chunk of (await getObject(ctx, { key })).body) chunks.push(chunk)
    const open = await listMultipartUploads(ctx, { prefix: key })
    assert.deepEqual(open, [], `no multipart upload left open under ${key}`)
    return Buffer.concat(chunks)
  } finally {
    await ctx.close()
  }
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex')

before(async () => {
  const env = s3Env()
  const credentials = { accessKeyId: env['AWS_ACCESS_KEY_ID'] ?? '', secretAccessKey: env['AWS_SECRET_ACCESS_KEY'] ?? '' }
  const ctx = createS3Context({ bucket: 'logs', key: 'x', endpoint: env['S3_ENDPOINT'], credentials })
  await createBucket(ctx).finally(() => ctx.close())
})

test('upload-lines.ts: the README example uploads a generator', async () => {
  const { stdout } = await run('upload-lines', [], { env: s3Env() })
  assert.match(stdout, /^2288890 bytes in 1 part\(s\), ETag [0-9a-f]{32}\n$/)
})

test('split-parts.ts: toParts over a file stream', async () => {
  const { stdout } = await run('split-parts', [exampleFile('split-parts')], { env: s3Env() })
  assert.match(stdout, /^part 1: \d+ bytes in 1 chunks, sha256 [0-9a-f]{64}\n$/)
})

test('demo.ts: a generated stream round-trips with a verified SHA-256', async () => {
  const { stdout } = await run('demo', [], { env: { ...s3Env(), DEMO_MIB: '20' } })
  assert.match(stdout, /uploaded 20\.0 MiB in 4 parts/)
  assert.match(stdout, /✓ verified/)
})

test('aws-config.ts: region and endpoint from the environment, one credentials provider for two uploads', async () => {
  const env = { ...s3Env(), AWS_ENDPOINT_URL: process.env['S3_ENDPOINT'] ?? '', AWS_PROFILE: '' }
  const { stdout } = await run('aws-config', [], { env })
  const endpoint = process.env['S3_ENDPOINT'] ?? ''
  assert.equal(
    stdout,
    `profile default: region us-east-1 (AWS_REGION), endpoint ${endpoint} (AWS_ENDPOINT_URL)\n` +
      'a.txt: 12 bytes, ETag d45bb3b60a653015255c0f50505b9122\nb.txt: 12 bytes, ETag 4d198535c24844437ebcd72f17826c1b\n',
  )
})

test('pg-dump-gzip.ts: a generated dump through gzip into S3; the object gunzips to the dump', async () => {
  const { stdout } = await run('pg-dump-gzip', [], { env: { ...s3Env(), ROWS: '100000' } })
  const m = /^dump: (\d+) bytes, sha256 ([0-9a-f]{64})\ngzip: (\d+) bytes in 1 part\(s\) to s3:\/\/logs\/backups\/mydb\.sql\.gz\n$/.exec(stdout)
  assert.ok(m !== null, stdout)
  const gzipped = await readBack('backups/mydb.sql.gz')
  assert.equal(gzipped.byteLength, Number(m[3]))
  const dump = gunzipSync(gzipped)
  assert.equal(dump.byteLength, Number(m[1]))
  assert.equal(sha256(dump), m[2])
  assert.match(dump.subarray(0, 30).toString(), /^-- PostgreSQL database dump\n/)
})

test('http-to-s3.ts: an HTTP download piped into S3; the object is what the origin sent', async () => {
  const { stdout } = await run('http-to-s3', [], { env: { ...s3Env(), ORIGIN_MIB: '13' } })
  const m = /^origin: sent (\d+) bytes, sha256 ([0-9a-f]{64})\n.* → s3:\/\/logs\/downloads\/dump\.bin: \1 bytes in 3 part\(s\)\n$/.exec(stdout)
  assert.ok(m !== null, stdout)
  const object = await readBack('downloads/dump.bin')
  assert.equal(object.byteLength, 13 * 1024 * 1024)
  assert.equal(sha256(object), m[2])
})

test('form-to-s3.ts: a File from a posted form, uploaded with its size and type', async () => {
  const { stdout } = await run('form-to-s3', [], { env: s3Env() })
  const m = /^s3:\/\/logs\/uploads\/report\.csv: (\d+) bytes, text\/csv, sha256 ([0-9a-f]{64})\n$/.exec(stdout)
  assert.ok(m !== null, stdout)
  const object = await readBack('uploads/report.csv')
  assert.equal(object.byteLength, Number(m[1]))
  assert.equal(sha256(object), m[2])
  const env = s3Env()
  const ctx = createS3Context({ bucket: 'logs', endpoint: env['S3_ENDPOINT'], credentials: { accessKeyId: env['AWS_ACCESS_KEY_ID'] ?? '', secretAccessKey: env['AWS_SECRET_ACCESS_KEY'] ?? '' } })
  try {
    assert.equal((await headObject(ctx, { key: 'uploads/report.csv' })).contentType, 'text/csv', "the File's type is the object's content type")
  } finally {
    await ctx.close()
  }
})

test('embed-parts.ts: toParts + uploadPart with a pool of its own; the object is the stream', async () => {
  const { stdout } = await run('embed-parts', [], { env: s3Env() })
  const m = /^5 parts, ETag [0-9a-f]{32}-5, sha256 ([0-9a-f]{64})\n$/.exec(stdout)
  assert.ok(m !== null, stdout)
  const object = await readBack('embedded/object.bin')
  assert.equal(object.byteLength, 23 * 1024 * 1024)
  assert.equal(sha256(object), m[1])
})

test('resume-after-crash.ts: the parts stored before the crash are reused, the object is whole', async () => {
  const { stdout } = await run('resume-after-crash', [], { env: s3Env() })
  const m = /^crashed after 2 parts: the producer crashed; upload \S+ kept\nresumed: 2 parts reused, 2 sent; 18874368 bytes in 4 parts, sha256 ([0-9a-f]{64})\n$/.exec(stdout)
  assert.ok(m !== null, stdout)
  const object = await readBack('resumed/object.bin')
  assert.equal(object.byteLength, 18 * 1024 * 1024)
  assert.equal(sha256(object), m[1])
})

test('the examples run what this runtime should: the sources unbuilt, or the tsc -b output', () => {
  // Proves the unbuilt path is exercised: with --conditions=@partstream/source the packages resolve to src/*.ts.
  const resolved = import.meta.resolve('@partstream/signer')
  assert.ok(resolved.endsWith(fromSource ? '/packages/signer/src/index.ts' : '/packages/signer/dist/src/index.js'), resolved)
})
