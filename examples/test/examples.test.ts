// Runs every example as a user would (a separate process of the runtime running this test) against
// the real S3 server. Built (Node 20, dist/*.js) or from the .ts sources (Node ≥ 22.18, Deno, Bun,
// with the `development` export condition, so `@partstream/*` resolve to their src/index.ts).
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { before, test } from 'node:test'
import { promisify } from 'node:util'
import { createBucket, createS3Context } from '@partstream/signer'

const execFileAsync = promisify(execFile)
const dir = fileURLToPath(new URL('..', import.meta.url))
const fromSource = import.meta.url.endsWith('.ts')
const isDeno = 'Deno' in globalThis

const exampleFile = (name: string): string => `${dir}${name}${fromSource ? '.ts' : '.js'}`

/** `<runtime> <example> args…`, with the same runtime and export condition as this test. */
function run(example: string, args: readonly string[], options: { env: Record<string, string> }) {
  const file = exampleFile(example)
  const runtimeArgs = isDeno ? ['run', '-A', '--no-check', '--conditions=development'] : fromSource ? ['--conditions=development'] : []
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

test('the examples run what this runtime should: the sources unbuilt, or the tsc -b output', () => {
  // Proves the unbuilt path is exercised: with --conditions=development the packages resolve to src/*.ts.
  const resolved = import.meta.resolve('@partstream/signer')
  assert.ok(resolved.endsWith(fromSource ? '/packages/signer/src/index.ts' : '/packages/signer/dist/src/index.js'), resolved)
})
