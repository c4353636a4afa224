// Runs the quick end-to-end benchmark once (16 MiB, 1 run: what CI runs so the benchmark cannot
// rot) by spawning the compiled script, and checks it produced a table with both libraries.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const E2E = fileURLToPath(new URL('../src/e2e.js', import.meta.url))

function run(args: readonly string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [E2E, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
    // SIGTERM first: e2e removes its temp file on SIGTERM.
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs)
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

test('bench:quick e2e uploads with partstream and lib-storage and prints the table', { timeout: 90_000 }, async () => {
  const { code, stdout, stderr } = await run(['--quick', '--no-write'], 85_000)
  assert.equal(code, 0, `e2e --quick failed:\n${stderr.slice(-4000)}\n${stdout.slice(-2000)}`)
  assert.match(stdout, /### End-to-end: partstream vs @aws-sdk\/lib-storage/)
  assert.match(stdout, /node v\d+\.\d+\.\d+/, 'the header names the runtime and version')
  assert.match(stdout, /\| library +\| mode +\| conc/)
  const rows = stdout.split('\n').filter((l) => l.startsWith('| '))
  for (const lib of ['partstream', 'lib-storage']) {
    const mine = rows.filter((l) => l.startsWith(`| ${lib} `))
    assert.ok(mine.length > 0, `no ${lib} rows in:\n${stdout}`)
    for (const row of mine) assert.doesNotMatch(row, /failed/, `a ${lib} upload failed: ${row}`)
  }
  for (const mode of ['stream/views', 'stream/fresh', 'Uint8Array']) assert.ok(rows.some((l) => l.includes(mode)), `no ${mode} rows`)
  assert.doesNotMatch(stdout, /failed uploads/)
})

test('bench:quick e2e --hash-threads: uploadFile with hash workers runs and is reported', { timeout: 90_000 }, async () => {
  const args = ['--quick', '--no-write', '--modes', 'file', '--libs', 'partstream', '--payloads', 'sha256', '--concurrency', '4', '--hash-threads', '0,1']
  const { code, stdout, stderr } = await run(args, 85_000)
  assert.equal(code, 0, `e2e --quick --hash-threads failed:\n${stderr.slice(-4000)}\n${stdout.slice(-2000)}`)
  const rows = stdout.split('\n').filter((l) => l.startsWith('| partstream '))
  for (const threads of [0, 1]) {
    const row = rows.find((l) => l.includes(`hashThreads ${threads} `))
    assert.ok(row !== undefined, `no hashThreads ${threads} row in:\n${stdout}`)
    assert.doesNotMatch(row, /failed/)
  }
})
