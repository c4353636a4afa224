// uploadFd(0) on a stdin that holds no data: closed when the process started (the runtime puts
// /dev/null, read-write, in its place) or a listening socket (what an inetd "wait" service is
// handed). Each is refused before any request, where it used to upload an empty object or wait
// for ever. Run in a child process whose stdin the test sets up; Linux only (/proc).
import assert from 'node:assert/strict'
import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, describe, test } from 'node:test'

const LINUX = process.platform === 'linux'
const child = new URL(import.meta.url.endsWith('.ts') ? './fixtures/upload-stdin.ts' : './fixtures/upload-stdin.js', import.meta.url)
const deno = (globalThis as { Deno?: { execPath(): string } }).Deno
const bun = typeof (globalThis as { Bun?: unknown }).Bun === 'object'
/** This runtime running the fixture. */
const command: readonly string[] =
  deno !== undefined
    ? [deno.execPath(), 'run', '-A', '--conditions=@partstream/source', fileURLToPath(child)]
    : bun
      ? [process.execPath, '--conditions=@partstream/source', fileURLToPath(child)]
      : [process.execPath, ...process.execArgv.filter((a) => a.startsWith('--conditions')), fileURLToPath(child)]

/** The fixture's JSON line. */
function outcome(run: SpawnSyncReturns<string>): { code?: string; message?: string; size?: number } {
  assert.equal(run.error, undefined, `the child did not end: ${String(run.error)}; stderr: ${run.stderr}`)
  assert.equal(run.status, 0, run.stderr)
  return JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as { code?: string; message?: string; size?: number }
}

/** The fixture with its stdin given by `redirect`, a shell redirection (`<&-`, `< /dev/null`). */
const withShell = (redirect: string): SpawnSyncReturns<string> =>
  spawnSync('sh', ['-c', `exec "$@" ${redirect}`, 'sh', ...command], { encoding: 'utf8', timeout: 30_000 })

describe('uploadFd(0): a stdin with no data to give (Linux)', { skip: !LINUX }, () => {
  test('stdin closed (<&-): InvalidArgumentError before any request, not an empty object', () => {
    const end = outcome(withShell('<&-'))
    assert.equal(end.code, 'ERR_PARTSTREAM_INVALID_ARGUMENT', JSON.stringify(end))
    assert.match(end.message ?? '', /`fd` 0 \(stdin\).*closed/)
    assert.match(end.message ?? '', /< \/dev\/null/)
  })

  test('stdin from /dev/null (read-only, as a shell opens it) is an empty source: the upload goes ahead (here, to a refused connection)', () => {
    const end = outcome(withShell('< /dev/null'))
    assert.notEqual(end.code, 'ERR_PARTSTREAM_INVALID_ARGUMENT', JSON.stringify(end))
    assert.equal(end.code, 'ERR_PARTSTREAM_S3', JSON.stringify(end)) // statusCode 0: no answer
    assert.match(end.message ?? '', /PutObject/)
  })

  // The listening socket is made by Node (Deno's net.Server does not show its descriptor), which
  // hands it to this runtime's child as stdin.
  const dir = mkdtempSync(join(tmpdir(), 'partstream-stdin-'))
  after(() => rmSync(dir, { recursive: true, force: true }))
  for (const [name, where] of [
    ['TCP', 'tcp'],
    ['Unix', join(dir, 'listening.sock')],
  ] as const) {
    test(`stdin a listening ${name} socket: InvalidArgumentError at once, not a wait for ever`, () => {
      const end = outcome(withListeningStdin(where, command))
      assert.equal(end.code, 'ERR_PARTSTREAM_INVALID_ARGUMENT', JSON.stringify(end))
      assert.match(end.message ?? '', /listening socket/)
    })
  }
})

/** Node, on this runtime's runs; else the `node` on PATH. */
const NODE = deno === undefined && !bun ? process.execPath : 'node'

/**
 * `argv` run with a listening socket as stdin (`where`: 'tcp', or a Unix socket's path), made by
 * a Node process that hands its descriptor over and prints how the child ended.
 */
function withListeningStdin(where: string, argv: readonly string[]): SpawnSyncReturns<string> {
  const script = `
    const [where, ...argv] = process.argv.slice(1)
    const server = require('node:net').createServer()
    server.listen(where === 'tcp' ? { port: 0, host: '127.0.0.1' } : where, () => {
      const r = require('node:child_process').spawnSync(argv[0], argv.slice(1), { stdio: [server._handle.fd, 'pipe', 'pipe'], encoding: 'utf8', timeout: 15000 })
      process.stdout.write(JSON.stringify({ status: r.status, stdout: r.stdout, stderr: r.stderr, error: r.error === undefined ? undefined : String(r.error) }))
      server.close()
    })`
  const run = spawnSync(NODE, ['-e', script, where, ...argv], { encoding: 'utf8', timeout: 30_000 })
  assert.equal(run.status, 0, `the Node that holds the socket: ${run.stderr}`)
  const r = JSON.parse(run.stdout) as { status: number | null; stdout: string; stderr: string; error?: string }
  return { pid: 0, output: [], status: r.status, signal: null, stdout: r.stdout, stderr: r.stderr, ...(r.error === undefined ? {} : { error: new Error(r.error) }) }
}
