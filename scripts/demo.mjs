#!/usr/bin/env node
// `pnpm demo`: builds, brings up the local S3 server (Ceph RGW, or S3_ENDPOINT if set), streams
// DEMO_MIB (default 256) MiB of generated data to it, reads it back and checks the SHA-256.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const build = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b'], { cwd: root, stdio: 'inherit' })
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
if (started && !process.env.KEEP_S3) spawnSync('bash', [join(root, 'scripts/s3-server.sh'), 'down'], { cwd: root, stdio: 'inherit' })
process.exit(demo.status ?? 1)
