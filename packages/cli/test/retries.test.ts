// How many attempts and how long a silent server is waited for, from the command line as the AWS
// CLI takes them: AWS_MAX_ATTEMPTS or the profile's max_attempts, and --cli-read-timeout.
// Without them a CLI user on a slow uplink could not raise the idle timeout at all.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { command } from './bin.ts'

const dir = mkdtempSync(join(tmpdir(), 'partstream-retries-'))
const file = join(dir, 'small.txt')
writeFileSync(file, 'hi\n')
const config = join(dir, 'config')
writeFileSync(config, '[profile flaky]\naws_access_key_id = AK\naws_secret_access_key = SK\nmax_attempts = 2\n[profile bad]\naws_access_key_id = AK\naws_secret_access_key = SK\nmax_attempts = lots\n')

// A server that accepts connections and never answers: each attempt ends by the idle timer.
let port = 0
const sockets = new Set<Socket>()
const silent = createServer((socket) => {
  sockets.add(socket)
  socket.on('error', () => {})
  socket.on('close', () => sockets.delete(socket))
})
let accepted = 0
silent.on('connection', () => accepted++)
before(() => new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve(void (port = (silent.address() as { port: number }).port)))))
after(() => {
  for (const socket of sockets) socket.destroy()
  silent.close()
  rmSync(dir, { recursive: true, force: true })
})

function cli(args: readonly string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string; ms: number }> {
  const started = Date.now()
  const child = spawn(command[0] as string, [...command.slice(1), ...args], {
    env: { PATH: process.env['PATH'] ?? '', HOME: dir, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK', AWS_CONFIG_FILE: config, ...env },
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  child.stdout.resume()
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr, ms: Date.now() - started })))
}

describe('retries and the idle timeout from the command line', () => {
  test('--cli-read-timeout 1 and AWS_MAX_ATTEMPTS=2: two attempts of 1 s each, then exit 1 saying so', async () => {
    accepted = 0
    const r = await cli(['cp', file, 's3://bucket/k', '--endpoint-url', `http://127.0.0.1:${port}`, '--cli-read-timeout', '1'], { AWS_MAX_ATTEMPTS: '2' })
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, /after 2 attempts failed without a response: No progress for 1000 ms/)
    assert.ok(r.ms < 20_000, `took ${r.ms} ms`)
  })

  test("the profile's max_attempts, as the AWS CLI reads it; a bad value is a usage error naming it", async () => {
    const r = await cli(['cp', file, 's3://bucket/k', '--endpoint-url', `http://127.0.0.1:${port}`, '--cli-read-timeout', '1', '--profile', 'flaky'], {})
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, /after 2 attempts/)
    const bad = await cli(['cp', file, 's3://bucket/k', '--endpoint-url', `http://127.0.0.1:${port}`, '--profile', 'bad'], {})
    assert.equal(bad.code, 2, bad.stderr)
    assert.match(bad.stderr, /max_attempts.*an integer from 1 to 100/)
  })

  test('--cli-read-timeout must be whole seconds; 0 means no idle timeout (as the AWS CLI)', async () => {
    const bad = await cli(['cp', file, 's3://bucket/k', '--endpoint-url', `http://127.0.0.1:${port}`, '--cli-read-timeout', '1.5'], {})
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /--cli-read-timeout: expected an integer/)
  })
})
