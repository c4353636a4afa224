#!/usr/bin/env node
// The test command (`pnpm test`): builds with `tsc -b`, brings up the real S3 server (Ceph RGW,
// or the one named by S3_ENDPOINT), runs every unit, integration and example test in one
// `node --test` run so the closing counts are the real ones, then stops the server.
//   --unit   unit tests only (no server)
//   --no-build  skip `tsc -b`
// Extra arguments that are paths select test files.
import { spawnSync, spawn } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const args = process.argv.slice(2)
const unitOnly = args.includes('--unit')
const selected = args.filter((a) => !a.startsWith('--'))

function run(cmd, cmdArgs, opts = {}) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', ...opts })
  if (r.status !== 0) process.exit(r.status ?? 1)
  return r
}

if (!args.includes('--no-build')) run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b'])

function walk(dir, out = []) {
  let entries
  try {
    entries = readdirSync(dir)
  } catch {
    return out
  }
  for (const name of entries) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) walk(p, out)
    else if (name.endsWith('.test.js')) out.push(p)
  }
  return out
}

let files = [
  ...walk(join(root, 'packages/core/dist/test')),
  ...walk(join(root, 'packages/signer/dist/test')),
  ...walk(join(root, 'examples/dist/test')),
  ...walk(join(root, 'bench/dist/test')),
].sort()
// Integration, fault-injection (a proxy in front of the real server) and example tests need S3.
const isIntegration = (f) =>
  f.includes(join('test', 'integration')) || f.includes(join('test', 'fault')) || f.includes(join('examples', 'dist')) || f.includes(join('bench', 'dist'))
if (unitOnly) files = files.filter((f) => !isIntegration(f))
if (selected.length > 0) files = files.filter((f) => selected.some((s) => f.includes(s.replace(/\.ts$/, ''))))
if (files.length === 0) {
  console.error('no test files found (did the build run?)')
  process.exit(1)
}

const env = { ...process.env }
const needsServer = files.some(isIntegration)
let serverUp = false
if (needsServer) {
  const up = spawnSync('bash', [join(root, 'scripts/s3-server.sh'), 'up'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' })
  if (up.status !== 0) {
    console.error('could not bring up the S3 server; the integration suite cannot run (it is never skipped)')
    process.exit(1)
  }
  for (const line of up.stdout.split('\n')) {
    const m = /^(S3_[A-Z_]+)=(.*)$/.exec(line.trim())
    if (m) env[m[1]] = m[2]
  }
  serverUp = !process.env.S3_ENDPOINT
  console.log(`S3 server: ${env.S3_ENDPOINT}${serverUp ? ' (Ceph RGW started for this run)' : ' (given by S3_ENDPOINT)'}`)
}

console.log(`running ${files.length} test files on Node ${process.version}:`)
for (const f of files) console.log(`  ${relative(root, f)}`)
const child = spawn(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=1', ...files], { cwd: root, env, stdio: 'inherit' })
const code = await new Promise((resolve) => child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0))))
if (serverUp) spawnSync('bash', [join(root, 'scripts/s3-server.sh'), 'down'], { cwd: root, stdio: 'inherit' })
process.exit(code)
