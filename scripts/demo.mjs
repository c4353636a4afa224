#!/usr/bin/env node
// `pnpm demo`: builds, brings up the local S3 server (Ceph RGW, or S3_ENDPOINT if set), streams
// DEMO_MIB (default 256) MiB of generated data to it, reads it back and checks the SHA-256; then
// the same from a shell pipe with the CLI (DEMO_CLI_MIB, default 64), its progress bar on stderr.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' })
if (build.status !== 0) process.exit(build.status ?? 1)

const env = { ...process.env }
const up = spawnSync('bash', [join(root, 'scripts/s3-server.sh'), 'up'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' })
if (up.status !== 0) process.exit(up.status ?? 1)
for (const line of up.stdout.split('\n')) {
  const m = /^(S3_[A-Z_]+)=(.*)$/.exec(line.trim())
  if (m) env[m[1]] = m[2]
}
const started = !process.env.S3_ENDPOINT
const demo = spawnSync(process.execPath, [join(root, 'examples/dist/demo.js')], { cwd: root, env, stdio: 'inherit' })
if (demo.status === 0) cliStep()
if (started && !process.env.KEEP_S3) spawnSync('bash', [join(root, 'scripts/s3-server.sh'), 'down'], { cwd: root, stdio: 'inherit' })
process.exit(demo.status === 0 ? (process.exitCode ?? 0) : (demo.status ?? 1))

/** The CLI on a pipe, as a user would type it (the bucket is the one demo.ts made). */
function cliStep() {
  const mib = Number(process.env.DEMO_CLI_MIB ?? 64)
  const bin = join(root, 'packages/cli/dist/bin/partstream.js')
  const url = `s3://${env.DEMO_BUCKET ?? 'partstream-demo'}/demo/cli-${new Date().toISOString()}.bin`
  const line = `head -c ${mib * 1024 * 1024} /dev/urandom | partstream cp - ${url} --size-hint ${mib}MiB`
  console.log(`\n$ ${line}`)
  const cliEnv = { ...env, AWS_ENDPOINT_URL: env.S3_ENDPOINT, AWS_ACCESS_KEY_ID: env.S3_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: env.S3_SECRET_ACCESS_KEY, AWS_REGION: env.S3_REGION ?? 'us-east-1' }
  const cli = spawnSync('bash', ['-o', 'pipefail', '-c', line.replace('partstream', `'${process.execPath}' '${bin}'`)], { cwd: root, env: cliEnv, stdio: 'inherit' })
  if (cli.status !== 0) process.exitCode = cli.status ?? 1
}
