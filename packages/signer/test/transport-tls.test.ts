// undiciTransport over HTTPS (a node:https server in a child process, with a certificate made for the run):
// a part's body, handed over as the idle watchdog's lazy iterable, must not cost a TLS connection
// per request. undici drops a connection whose answer arrives before it saw the body's last write
// drain, which over TLS is the common case (see `endingBody` in src/transport/undici.ts).
import assert from 'node:assert/strict'
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { generate } from 'selfsigned'
import { Agent } from 'undici'
import { createS3Context, headObject, S3ResponseError, undiciTransport, type TransportRequest } from '../src/index.ts'

const undiciDispatches = typeof (Agent.prototype as { request?: unknown }).request === 'function'

/** test/fixtures/tls-server.mjs, from the sources or from dist/test. */
function fixture(name: string): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dirname(dir) !== dir; dir = dirname(dir)) {
    const candidate = join(dir, 'test', 'fixtures', name)
    if (existsSync(candidate)) return candidate
  }
  throw new Error(`test/fixtures/${name} not found`)
}

let server: ChildProcessWithoutNullStreams | undefined
let origin: string
let cert: string
const lines: string[] = []
const waiters: Array<(line: string) => void> = []

function nextLine(): Promise<string> {
  const line = lines.shift()
  return line !== undefined ? Promise.resolve(line) : new Promise((resolve) => waiters.push(resolve))
}

/** The server's counts so far: TLS connections accepted, body bytes received. */
async function serverStats(): Promise<{ connections: number; received: number }> {
  server?.stdin.write('stats\n')
  const [, connections, received] = (await nextLine()).split(' ')
  return { connections: Number(connections), received: Number(received) }
}

before(async () => {
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  })
  cert = pems.cert
  const script = fixture('tls-server.mjs')
  const args = 'Deno' in globalThis ? ['run', '-A', script] : [script]
  server = spawn(process.execPath, args, { env: { ...process.env, TLS_KEY: pems.private, TLS_CERT: pems.cert }, stdio: 'pipe' })
  let buffered = ''
  server.stdout.setEncoding('utf8').on('data', (text: string) => {
    buffered += text
    for (let i = buffered.indexOf('\n'); i !== -1; i = buffered.indexOf('\n')) {
      const line = buffered.slice(0, i)
      buffered = buffered.slice(i + 1)
      const waiter = waiters.shift()
      if (waiter === undefined) lines.push(line)
      else waiter(line)
    }
  })
  const first = await nextLine()
  assert.match(first, /^port \d+$/)
  origin = `https://127.0.0.1:${first.split(' ')[1]}`
})

after(() => {
  server?.stdin.end()
})

const MiB = 1024 * 1024
const part = new Uint8Array(4 * MiB).fill(7)

/** Keeps the event loop busy for `ms`, as hashing the next part does in an upload. */
function busy(ms: number): void {
  for (const end = performance.now() + ms; performance.now() < end; );
}

/** The part as the idle watchdog hands it: 1 MiB views, pulled one at a time, with `busyMs` of work before each. */
function* slices(busyMs = 0): Generator<Uint8Array> {
  for (let offset = 0; offset < part.byteLength; offset += MiB) {
    busy(busyMs)
    yield part.subarray(offset, offset + MiB)
  }
}

function put(body: TransportRequest['body']): TransportRequest {
  return { origin, path: '/bucket/key', method: 'PUT', headers: { host: new URL(origin).host, 'content-length': String(part.byteLength) }, body, signal: undefined }
}

describe('undiciTransport over HTTPS', { skip: !undiciDispatches && "this runtime's undici cannot dispatch (Bun)" }, () => {
  test('4 at a time, parts sent as lazy iterables keep 4 TLS connections (a busy event loop, as when hashing); every byte arrives', async () => {
    const concurrency = 4
    const requests = 40
    const agent = new Agent({ connections: concurrency, connect: { ca: cert } })
    const transport = undiciTransport(agent)
    const before = await serverStats()
    let started = 0
    try {
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (started < requests) {
            started++
            const response = await transport(put(slices(3)))
            assert.equal(response.statusCode, 200)
            await response.body.dump()
            busy(5)
          }
        }),
      )
    } finally {
      await agent.close()
    }
    const now = await serverStats()
    assert.equal(now.received - before.received, requests * part.byteLength)
    const connections = now.connections - before.connections
    assert.equal(connections, concurrency, `${connections} TLS connections for ${requests} requests, ${concurrency} at a time`)
  })

  test('a chunk list that throws mid-body fails the request; the next one goes through', async () => {
    const agent = new Agent({ connections: 1, connect: { ca: cert } })
    const transport = undiciTransport(agent)
    function* failing(): Generator<Uint8Array> {
      yield part.subarray(0, MiB)
      throw new Error('the body failed')
    }
    try {
      await assert.rejects(transport(put(failing())), /the body failed/)
      const response = await transport(put(slices()))
      assert.equal(response.statusCode, 200)
      await response.body.dump()
    } finally {
      await agent.close()
    }
  })
})

describe('the `ca` option: the CAs a context trusts over TLS (the AWS CLI\'s ca_bundle)', () => {
  const target = (): Parameters<typeof createS3Context>[0] => ({
    bucket: 'bucket',
    key: 'key',
    endpoint: origin,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
  })

  test('a certificate from an unknown CA fails at once: an S3ResponseError (no answer), not retried, saying what to do', async () => {
    const ctx = createS3Context(target())
    const started = performance.now()
    try {
      await assert.rejects(headObject(ctx), (error: unknown) => {
        assert.ok(error instanceof S3ResponseError, `got ${String(error)}`)
        assert.equal(error.code, 'ERR_PARTSTREAM_S3')
        assert.equal(error.statusCode, 0)
        assert.equal(error.attempt, 1, 'a refused certificate is not sent again')
        assert.match(error.message, /HeadObject failed without a response: .*\(DEPTH_ZERO_SELF_SIGNED_CERT\)\. The server's TLS certificate is not signed by a CA this runtime trusts: give your CA's certificate as `ca`/)
        return true
      })
    } finally {
      await ctx.close()
    }
    assert.ok(performance.now() - started < 5000, 'no retry backoff')
  })

  test('with `ca`, the same endpoint is trusted (the owned Agent; Bun\'s fetch)', async () => {
    for (const ca of [cert, new TextEncoder().encode(cert), [cert]]) {
      const ctx = createS3Context(target(), { ca })
      try {
        const head = await headObject(ctx)
        assert.equal(typeof head.size, 'number')
      } finally {
        await ctx.close()
      }
    }
    assert.throws(() => createS3Context(target(), { ca: 42 as never }), /Expected `ca` to be PEM text/)
  })
})
