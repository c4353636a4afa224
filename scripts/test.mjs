#!/usr/bin/env node
// The test command (`pnpm test`): builds with `tsc -b`, brings up the real S3 server once (Ceph
// RGW, or the one named by S3_ENDPOINT), runs the same test files on every runtime, one runtime
// after the other, then stops the server. Each runtime's own runner prints its own counts; the
// closing table sums them up and the last line is `total: N passed, N failed` (`, N skipped` when
// a test was not run: skipped tests count as neither).
//
//   node20  the Node running this script, on the `tsc -b` output (dist/**/*.test.js)
//   node24  Node 24 on the .ts sources (type stripping, --conditions=development)
//   deno    `deno test` on the .ts sources (its node:test layer, --conditions=development)
//   bun     `bun test` on the .ts sources (its node:test layer, --conditions=development)
// node24, deno and bun are exact versions from npm (scripts/runtimes/package.json), installed
// on first use into scripts/runtimes/node_modules with `npm ci --ignore-scripts`.
//
//   --runtime=all|node20|node24|deno|bun[,…]   default: all
//   --unit       unit tests only (no server)
//   --no-build   skip `tsc -b`
// Extra arguments that are paths select test files (`packages/signer/test/integration`).
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const runtimesDir = join(root, 'scripts/runtimes')
const args = process.argv.slice(2)
const unitOnly = args.includes('--unit')
const ALL = ['node20', 'node24', 'deno', 'bun']
let runtimeArg = 'all'
const selected = []
for (let i = 0; i < args.length; i++) {
  const a = args[i]
  if (a === '--runtime') runtimeArg = args[++i] ?? ''
  else if (a.startsWith('--runtime=')) runtimeArg = a.slice('--runtime='.length)
  else if (!a.startsWith('--')) selected.push(a)
}
const runtimes = runtimeArg === 'all' ? ALL : runtimeArg.split(',').map((r) => (r === 'node' ? 'node20' : r))
for (const r of runtimes) {
  if (!ALL.includes(r)) {
    console.error(`unknown runtime "${r}": expected all, ${ALL.join(', ')} (comma-separated)`)
    process.exit(2)
  }
}

function run(cmd, cmdArgs, opts = {}) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', ...opts })
  if (r.status !== 0) process.exit(r.status ?? 1)
  return r
}

if (!args.includes('--no-build')) run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b'])

// ---- test files: the .ts sources are the list; node20 runs their compiled twins ----

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
const testRoots = [
  ...readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p)),
  join(root, 'examples'),
  join(root, 'bench'),
]
let sources = testRoots.flatMap((pkg) => walk(join(pkg, 'test'))).sort()
// Integration, fault-injection (a proxy in front of the real server), example and bench tests need S3.
const rel = (f) => relative(root, f).split(sep).join('/')
const isBench = (f) => rel(f).startsWith('bench/')
const isIntegration = (f) => /\/test\/(integration|fault)\//.test(rel(f)) || rel(f).startsWith('examples/') || isBench(f)
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

/**
 * Which files each runtime runs. Everything runs everywhere except:
 * - bench/: the benchmark harness (lib-storage baseline, child processes of the host Node) is
 *   Node tooling, not library code: node20 only.
 */
function filesFor(runtime) {
  if (runtime === 'node20') return sources.map(compiled)
  return sources.filter((f) => !isBench(f))
}

// ---- runtimes: node20 is this process's Node; the others are npm platform packages ----

const pins = JSON.parse(readFileSync(join(runtimesDir, 'package.json'), 'utf8')).optionalDependencies
const arch = process.arch === 'arm64' ? 'arm64' : process.arch
const platformPackage = {
  node24: { pkg: `node-${process.platform}-${arch}`, bin: 'bin/node' },
  deno: { pkg: `@deno/${process.platform}-${arch}-glibc`, bin: 'deno' },
  bun: { pkg: `@oven/bun-${process.platform}-${arch === 'arm64' ? 'aarch64' : arch}`, bin: 'bin/bun' },
}

function installedVersion(runtime) {
  const { pkg, bin } = platformPackage[runtime]
  const dir = join(runtimesDir, 'node_modules', pkg)
  if (!existsSync(join(dir, bin))) return undefined
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version
}

/** Installs the pinned runtimes when one is missing or at another version (`npm ci`: the lockfile, no scripts). */
function ensureRuntimes(wanted) {
  const stale = wanted.filter((r) => {
    const { pkg } = platformPackage[r]
    return pins[pkg] === undefined || installedVersion(r) !== pins[pkg]
  })
  if (stale.length === 0) return
  for (const r of stale) {
    if (pins[platformPackage[r].pkg] === undefined) {
      console.error(`${r}: no pinned package for ${process.platform}-${process.arch} in scripts/runtimes/package.json (${platformPackage[r].pkg})`)
      process.exit(1)
    }
  }
  console.log(`installing test runtimes (${stale.join(', ')}) from npm into scripts/runtimes/node_modules…`)
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  run(npm, ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: runtimesDir })
  for (const r of stale) {
    if (installedVersion(r) !== pins[platformPackage[r].pkg]) {
      console.error(`${r}: ${platformPackage[r].pkg} did not install (unsupported platform?)`)
      process.exit(1)
    }
  }
}

const binOf = (runtime) => join(runtimesDir, 'node_modules', platformPackage[runtime].pkg, platformPackage[runtime].bin)

function versionOf(runtime) {
  if (runtime === 'node20') return process.version.slice(1)
  const out = spawnSync(binOf(runtime), ['--version'], { encoding: 'utf8' }).stdout ?? ''
  return /(\d+\.\d+\.\d+)/.exec(out)?.[1] ?? '?'
}

ensureRuntimes(runtimes.filter((r) => r !== 'node20'))

// ---- the S3 server, once for every runtime ----

const env = { ...process.env }
const needsServer = sources.some(isIntegration)
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
  // This run owns the server: the fault soak may crash-restart its radosgw (scripts/ceph/restart-rgw.sh).
  // Against a server named by S3_ENDPOINT it never does (set S3_RGW_RESTART=1 yourself only for one you own).
  if (serverUp) env.S3_RGW_RESTART = '1'
  console.log(`S3 server: ${env.S3_ENDPOINT}${serverUp ? ' (Ceph RGW started for this run)' : ' (given by S3_ENDPOINT)'}`)
}

// ---- one runtime: spawn its runner, echo its output, read its own closing counts ----

/** Runs `cmd`, echoing its output, and resolves with the exit code and everything it printed. */
function spawnEcho(cmd, cmdArgs, extraEnv = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, cmdArgs, { cwd: root, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] })
    let text = ''
    child.stdout.on('data', (c) => {
      process.stdout.write(c)
      text += c
    })
    child.stderr.on('data', (c) => {
      process.stderr.write(c)
      text += c
    })
    child.on('error', (error) => {
      text += String(error)
      resolve({ code: 1, text })
    })
    child.on('close', (c, sig) => resolve({ code: c ?? (sig ? 1 : 0), text }))
  })
}

const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*m/g, '')

/** node --test, spec reporter: `ℹ tests N`, `ℹ pass N`, `ℹ fail N`, `ℹ cancelled N`, `ℹ skipped N` (the last of each). */
function nodeCounts(text) {
  const last = (name) => {
    const all = [...stripAnsi(text).matchAll(new RegExp(`^ℹ ${name} (\\d+)$`, 'gm'))]
    return all.length === 0 ? undefined : Number(all.at(-1)[1])
  }
  const tests = last('tests')
  if (tests === undefined) return undefined
  return { tests, passed: last('pass') ?? 0, failed: (last('fail') ?? 0) + (last('cancelled') ?? 0), skipped: last('skipped') ?? 0 }
}

/** bun test: ` N pass`, ` N fail`, ` N skip`, `Ran N tests across M files.` */
function bunCounts(text) {
  const t = stripAnsi(text)
  const ran = /^Ran (\d+) tests? across/m.exec(t)
  if (!ran) return undefined
  const passed = Number(/^\s*(\d+) pass$/m.exec(t)?.[1] ?? 0)
  const failed = Number(/^\s*(\d+) fail$/m.exec(t)?.[1] ?? 0)
  const skipped = Number(/^\s*(\d+) skip$/m.exec(t)?.[1] ?? 0)
  return { tests: Number(ran[1]), passed, failed, skipped }
}

/**
 * deno test counts `describe` blocks as tests and nested tests as "steps"; its JUnit report
 * lists both, steps named `suite > test`. Leaves (what node and bun count) are the entries no
 * other entry is nested under.
 */
function denoCounts(junitPath) {
  if (!existsSync(junitPath)) return undefined
  const xml = readFileSync(junitPath, 'utf8')
  const unescape = (s) => s.replace(/&gt;/g, '>').replace(/&lt;/g, '<').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&')
  const cases = [...xml.matchAll(/<testcase name="([^"]*)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)].map((m) => ({
    name: unescape(m[1]),
    failed: /<failure|<error/.test(m[3] ?? ''),
    // An ignored test (`skip`) is `<skipped/>`: not run, so not passed.
    skipped: /<skipped/.test(m[3] ?? ''),
  }))
  const parents = new Set()
  for (const c of cases) {
    const parts = c.name.split(' > ')
    for (let i = 1; i < parts.length; i++) parents.add(parts.slice(0, i).join(' > '))
  }
  const leaves = cases.filter((c) => !parents.has(c.name))
  const failed = leaves.filter((c) => c.failed).length
  const skipped = leaves.filter((c) => c.skipped && !c.failed).length
  return { tests: leaves.length, passed: leaves.length - failed - skipped, failed, skipped }
}

async function runRuntime(runtime) {
  const files = filesFor(runtime)
  const version = versionOf(runtime)
  const label = `${runtime} (${runtime === 'deno' ? 'Deno' : runtime === 'bun' ? 'Bun' : 'Node'} ${version})`
  const shown = files.map((f) => relative(root, f))
  console.log(`\n==== ${label}: ${files.length} test files${runtime === 'node20' ? ' (tsc -b output)' : ' (.ts sources, unbuilt)'}`)
  for (const f of shown) console.log(`  ${f}`)
  const started = performance.now()
  let result
  let counts
  if (runtime === 'node20' || runtime === 'node24') {
    const bin = runtime === 'node20' ? process.execPath : binOf('node24')
    const cond = runtime === 'node20' ? [] : ['--conditions=development']
    result = await spawnEcho(bin, [...cond, '--test', '--test-reporter=spec', '--test-concurrency=1', ...shown])
    counts = nodeCounts(result.text)
  } else if (runtime === 'deno') {
    const junit = join(tmpdir(), `partstream-deno-junit-${process.pid}.xml`)
    rmSync(junit, { force: true })
    // -A: the suites use the network, files, env and child processes. --no-check: tsc -b has
    // type-checked already (with the project's config, not deno's).
    result = await spawnEcho(binOf('deno'), ['test', '-A', '--no-check', '--conditions=development', `--junit-path=${junit}`, ...shown], { NO_COLOR: '1' })
    counts = denoCounts(junit)
    rmSync(junit, { force: true })
  } else {
    // bun test's default timeout is 5 s per test; node:test has none, and uploads take longer.
    result = await spawnEcho(binOf('bun'), ['--conditions=development', 'test', '--timeout=600000', ...shown.map((f) => `./${f}`)], { NO_COLOR: '1' })
    counts = bunCounts(result.text)
  }
  const seconds = Math.round((performance.now() - started) / 1000)
  const ok = result.code === 0 && counts !== undefined && counts.failed === 0 && counts.tests > 0
  return { runtime, version, files: files.length, counts, code: result.code, seconds, ok }
}

const results = []
try {
  for (const runtime of runtimes) results.push(await runRuntime(runtime))
} finally {
  if (serverUp) spawnSync('bash', [join(root, 'scripts/s3-server.sh'), 'down'], { cwd: root, stdio: 'inherit' })
}

// ---- closing table (README "Runtimes tested" is copied from it) ----

const names = { node20: 'Node', node24: 'Node (.ts sources)', deno: 'Deno', bun: 'Bun' }
console.log('\n| runtime | version | test files | tests | passed | failed | skipped | time |')
console.log('|---|---|---|---|---|---|---|---|')
for (const r of results) {
  const c = r.counts
  const failed = c === undefined ? `exit ${r.code}, no counts` : r.ok ? '0' : `${c.failed} (exit ${r.code})`
  console.log(`| ${names[r.runtime]} | ${r.version} | ${r.files} | ${c?.tests ?? '?'} | ${c?.passed ?? '?'} | ${failed} | ${c?.skipped ?? '?'} | ${r.seconds} s |`)
}
const passed = results.reduce((n, r) => n + (r.counts?.passed ?? 0), 0)
const failed = results.reduce((n, r) => n + (r.counts?.failed ?? 0) + (r.ok || (r.counts?.failed ?? 0) > 0 ? 0 : 1), 0)
const skipped = results.reduce((n, r) => n + (r.counts?.skipped ?? 0), 0)
console.log(`\ntotal: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped (not run, see the reasons above)` : ''}`)
process.exit(results.every((r) => r.ok) ? 0 : 1)
