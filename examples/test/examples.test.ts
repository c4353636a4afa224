// Runs every example as a user would (a separate Node process) against the real S3 server.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { before, test } from 'node:test'
import { promisify } from 'node:util'
import { createBucket, createS3Context } from '@partstream/signer'

const run = promisify(execFile)
const dist = fileURLToPath(new URL('..', import.meta.url))

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
  const { stdout } = await run(process.execPath, [`${dist}/upload-lines.js`], { env: s3Env() })
  assert.match(stdout, /^2288890 bytes in 1 part\(s\), ETag [0-9a-f]{32}\n$/)
})

test('split-parts.ts: toParts over a file stream', async () => {
  const { stdout } = await run(process.execPath, [`${dist}/split-parts.js`, `${dist}/split-parts.js`], { env: s3Env() })
  assert.match(stdout, /^part 1: \d+ bytes in 1 chunks, sha256 [0-9a-f]{64}\n$/)
})

test('demo.ts: a generated stream round-trips with a verified SHA-256', async () => {
  const { stdout } = await run(process.execPath, [`${dist}/demo.js`], { env: { ...s3Env(), DEMO_MIB: '20' } })
  assert.match(stdout, /uploaded 20\.0 MiB in 4 parts/)
  assert.match(stdout, /✓ verified/)
})
