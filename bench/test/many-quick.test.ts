// Runs the many-files benchmark at its smallest (100 small files + 1 large, partstream and the
// lib-storage pool; the AWS CLI is left out so CI needs no apt-get) so it cannot rot, and checks
// the table: both tools, every object and byte at the sink, the walk timed.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const MANY = fileURLToPath(new URL('../src/many.js', import.meta.url))

test('bench:many --quick uploads one tree with partstream and a lib-storage pool and prints the table', { timeout: 120_000 }, async () => {
  const args = ['--quick', '--no-write', '--small', '100', '--large', '1', '--large-mib', '6-8', '--walk-files', '1000', '--libs', 'partstream,lib-storage']
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [MANY, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s))
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s))
    const timer = setTimeout(() => child.kill('SIGTERM'), 110_000) // SIGTERM: the bench removes its temp tree
    child.once('error', reject)
    child.once('close', (c) => {
      clearTimeout(timer)
      resolve({ code: c, stdout: out, stderr: err })
    })
  })
  assert.equal(code, 0, `many --quick failed:\n${stderr.slice(-4000)}\n${stdout.slice(-2000)}`)
  assert.match(stdout, /### Many files/)
  assert.match(stdout, /101 files/)
  const rows = stdout.split('\n').filter((l) => l.startsWith('| '))
  assert.ok(rows.some((l) => l.startsWith('| partstream uploadDirectory')), stdout)
  assert.ok(rows.some((l) => l.startsWith('| lib-storage, pool of 16')), stdout)
  for (const row of rows) assert.doesNotMatch(row, /failed/)
  assert.match(stdout, /The walk alone \(`walkDirectory`.*\): 1000 files in/)
  assert.doesNotMatch(stdout, /failures/)
})
