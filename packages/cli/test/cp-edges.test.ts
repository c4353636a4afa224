// `partstream cp` at its edges, run as a child process on the runtime running this file (the
// built bin on Node 20, the .ts sources elsewhere; see bin.ts): a Ctrl-C once the single
// PutObject of `cp -` has written the object; arguments that are not UTF-8; a stdin that can give
// no data (closed, a listening socket). Each checks the exit code, stderr, and what reached S3.
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { command, runtime } from './bin.ts'
import { createBucket, getObject, s3Env } from './s3.ts'
import { stallProxy } from './stall-proxy.ts'

const LINUX = process.platform === 'linux'
const dir = mkdtempSync(join(tmpdir(), 'partstream-cp-edges-'))
let bucket: string
before(async () => {
  bucket = await createBucket('cp-edges')
})
after(() => rmSync(dir, { recursive: true, force: true }))

/** The S3 server's environment, as a user would export it (no credentials in flags). */
function env(): Record<string, string> {
  const { region, credentials } = s3Env()
  return { PATH: process.env['PATH'] ?? '', HOME: dir, NO_COLOR: '1', AWS_REGION: region, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey }
}

const sha = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex')

/** Runs the bin through `sh -c`, with `script` after it (`"$@"` is the bin): a redirection, or arguments made of raw bytes. */
function shell(script: string): { code: number | null; stderr: string; stdout: string } {
  const run = spawnSync('sh', ['-c', script, 'sh', ...command], { cwd: dir, env: env(), encoding: 'utf8', timeout: 30_000 })
  assert.equal(run.error, undefined, String(run.error))
  return { code: run.status, stderr: run.stderr, stdout: run.stdout }
}

function endsWithin(child: ChildProcess, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`still running after ${ms} ms`))
    }, ms)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal })
    })
  })
}

describe(`partstream cp at its edges (${runtime})`, () => {
  test('SIGINT once the PutObject of `cp -` is answered (its answer held back): too late to abort; exit 0, the object written, the old one replaced', async () => {
    const key = 'late/put'
    const old = shell(`printf 'OLD CONTENT\\n' | exec "$@" cp - s3://${bucket}/${key} --endpoint-url ${s3Env().endpoint}`)
    assert.equal(old.code, 0, old.stderr)
    const proxy = await stallProxy(s3Env().endpoint)
    try {
      const child = spawn(command[0] as string, [...command.slice(1), 'cp', '-', `s3://${bucket}/${key}`, '--endpoint-url', proxy.endpoint], { env: env(), stdio: ['pipe', 'pipe', 'pipe'] })
      let stderr = ''
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
      child.stdout.resume()
      const ended = endsWithin(child, 20_000)
      // The server wrote the object and answered; the Ctrl-C comes while its answer is on the way.
      proxy.holdAnswer = ({ method, url }) => {
        if (method !== 'PUT' || url.includes('partNumber=')) return undefined
        child.kill('SIGINT')
        return new Promise((resolve) => setTimeout(resolve, 500))
      }
      child.stdin.end('NEW CONTENT\n')
      const end = await ended
      // Deno's node:child_process reports a child it sent SIGINT as killed by it whatever its exit
      // status (see cli.test.ts); the message shows the CLI ran to its end.
      if (runtime === 'deno' && end.code === null) assert.equal(end.signal, 'SIGINT', stderr)
      else assert.equal(end.code, 0, stderr)
      assert.match(stderr, /interrupted by SIGINT, too late to abort/)
      assert.equal(sha(await getObject(bucket, key)), sha(new TextEncoder().encode('NEW CONTENT\n')))
    } finally {
      await proxy.close()
    }
  })

  describe('arguments that are not UTF-8: exit 2, nothing sent', () => {
    // No server behind the endpoint: a request would fail with exit 1, not 2.
    const nowhere = '--endpoint-url http://127.0.0.1:1'
    test("a key (`cp - s3://b/t/caf$'\\xe9'`): refused, not written under the key with U+FFFD in place of the byte", () => {
      const r = shell(`echo hi | exec "$@" cp - "s3://${bucket}/t/caf$(printf '\\351')" ${nowhere}`)
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, /the destination ".*caf\uFFFD" is not valid UTF-8.*S3 keys are UTF-8/)
    })
    test('a file that exists under a name that is not UTF-8: refused as a name, not "cannot read …: ENOENT"', () => {
      const r = shell(`f="caf$(printf '\\351').txt"; echo data > "$f"; exec "$@" cp "$f" s3://${bucket}/t/ ${nowhere}`)
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, /the source "caf\uFFFD\.txt" is not valid UTF-8/)
      assert.doesNotMatch(r.stderr, /ENOENT/)
    })
  })

  test('cp -r of an empty directory with --progress json: the last line carries zero totals (it had none)', () => {
    const r = shell(`mkdir -p empty-tree && exec "$@" cp -r empty-tree s3://${bucket}/empty/ --progress json --endpoint-url http://127.0.0.1:9`)
    assert.equal(r.code, 0, r.stderr)
    const last = JSON.parse(r.stderr.trim().split('\n').at(-1) as string) as Record<string, unknown>
    assert.equal(last['type'], 'done')
    for (const field of ['bytesAcked', 'filesDone', 'filesFailed', 'totalFiles']) assert.equal(last[field], 0, `${field}: ${r.stderr}`)
  })

  test('an S3 URL as the source (a download, a copy between buckets): said as such, exit 2, not "cannot read …: ENOENT"', () => {
    const r = shell(`exec "$@" cp s3://${bucket}/a s3://${bucket}/b --endpoint-url http://127.0.0.1:9`)
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /the source s3:\/\/.*\/a is an S3 URL: partstream uploads local data .*it does not download or copy between buckets/)
    assert.doesNotMatch(r.stderr, /ENOENT/)
  })

  describe('a stdin with no data to give: exit 2, nothing sent (Linux)', { skip: !LINUX }, () => {
    test('stdin closed (`cp - … <&-`): refused, where it uploaded an empty object and exited 0', async () => {
      const r = shell(`exec "$@" cp - s3://${bucket}/t/closed-stdin --endpoint-url ${s3Env().endpoint} <&-`)
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, /stdin\) to give the data to upload, but it was closed when the process started/)
      await assert.rejects(getObject(bucket, 't/closed-stdin'))
    })

    // The socket is made by Node (Deno's net.Server does not show its descriptor), which hands
    // it to this runtime's CLI as stdin.
    test('stdin a listening socket (an inetd "wait" service): refused at once, where it waited for ever', () => {
      const script = `
        const [where, ...argv] = process.argv.slice(1)
        const server = require('node:net').createServer()
        server.listen(where, () => {
          const r = require('node:child_process').spawnSync(argv[0], argv.slice(1), { stdio: [server._handle.fd, 'pipe', 'pipe'], encoding: 'utf8', timeout: 15000 })
          process.stdout.write(JSON.stringify({ status: r.status, stderr: r.stderr, error: r.error === undefined ? undefined : String(r.error) }))
          server.close()
        })`
      const argv = [...command, 'cp', '-', `s3://${bucket}/t/listening`, '--endpoint-url', s3Env().endpoint]
      const node = runtime === 'node' ? process.execPath : 'node'
      const holder = spawnSync(node, ['-e', script, join(dir, 'listening.sock'), ...argv], { env: env(), encoding: 'utf8', timeout: 30_000 })
      assert.equal(holder.status, 0, `the Node that holds the socket: ${holder.stderr}`)
      const run = JSON.parse(holder.stdout) as { status: number | null; stderr: string; error?: string }
      assert.equal(run.error, undefined, `${String(run.error)}: ${run.stderr}`)
      assert.equal(run.status, 2, run.stderr)
      assert.match(run.stderr, /got a listening socket/)
    })
  })
})
