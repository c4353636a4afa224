// The transports against a local node:http server on port 0, on every runtime: what reaches the
// wire (content-length, never chunked), connection reuse, abort, network errors, response bodies.
// undici's transport runs where undici can dispatch (Node, Deno; Bun's `undici` is a stub), the
// fetch transport everywhere, in each body mode that runtime's fetch sends correctly.
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { execFile } from 'node:child_process'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Agent } from 'undici'
import { createS3Context, fetchTransport, undiciTransport, type Transport, type TransportRequest } from '../src/index.ts'
import { stateOf } from '../src/http/state.ts'
import { isRetryableNetworkError } from '../src/http/retry.ts'

const isDeno = 'Deno' in globalThis
const undiciDispatches = typeof (Agent.prototype as { request?: unknown }).request === 'function' && !('Bun' in globalThis)

interface Seen {
  readonly url: string
  readonly contentLength: string | undefined
  readonly transferEncoding: string | undefined
  readonly received: number
  readonly socket: number
}

let server: Server
let origin: string
const seen: Seen[] = []
const sockets = new Map<Socket, number>()

before(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (!sockets.has(req.socket)) sockets.set(req.socket, sockets.size + 1)
    if (req.url?.startsWith('/stall')) {
      req.resume() // reads the body, never answers
      return
    }
    if (req.url?.startsWith('/reset')) {
      req.socket.destroy()
      return
    }
    let received = 0
    req.on('data', (c: Buffer) => {
      received += c.byteLength
    })
    req.on('end', () => {
      seen.push({
        url: req.url ?? '',
        contentLength: req.headers['content-length'],
        transferEncoding: req.headers['transfer-encoding'],
        received,
        socket: sockets.get(req.socket) ?? 0,
      })
      const body = req.url?.startsWith('/big') ? 'x'.repeat(300_000) : `<Result>${received}</Result>`
      res.writeHead(req.url?.startsWith('/missing') ? 404 : 200, { 'content-type': 'application/xml', etag: '"abc"', 'x-amz-request-id': 'req-1' })
      res.end(req.method === 'HEAD' ? undefined : body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

after(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

async function text(body: AsyncIterable<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder()
  let out = ''
  for await (const chunk of body) out += decoder.decode(chunk, { stream: true })
  return out + decoder.decode()
}

function request(path: string, body: TransportRequest['body'], length: number, signal?: AbortSignal): TransportRequest {
  return {
    origin,
    path,
    method: 'PUT',
    headers: { host: new URL(origin).host, 'content-length': String(length) },
    body,
    signal,
  }
}

/** 2 MiB + 3 in uneven chunks, one of them empty, as a part's chunk list looks. */
const chunks = [new Uint8Array(100_000).fill(1), new Uint8Array(0), new Uint8Array(3).fill(2), new Uint8Array(2 * 1024 * 1024 - 100_000).fill(3)]
const total = chunks.reduce((n, c) => n + c.byteLength, 0)

const transports: Array<[string, () => { transport: Transport; close(): Promise<void> }]> = []
if (undiciDispatches) {
  transports.push([
    'undiciTransport(new Agent())',
    () => {
      const agent = new Agent({ keepAliveTimeout: 10_000 })
      return { transport: undiciTransport(agent), close: () => agent.close() }
    },
  ])
}
transports.push(['fetchTransport({ body: "buffer" })', () => ({ transport: fetchTransport({ body: 'buffer' }), close: async () => {} })])
// Deno's fetch sends a stream body chunked without our content-length: that mode is not for Deno.
if (!isDeno) transports.push(['fetchTransport({ body: "stream" })', () => ({ transport: fetchTransport({ body: 'stream' }), close: async () => {} })])

for (const [name, make] of transports) {
  describe(name, () => {
    test('a chunk list goes out with our content-length, not chunked, every byte', async () => {
      const { transport, close } = make()
      try {
        const response = await transport(request('/put', chunks, total))
        assert.equal(response.statusCode, 200)
        assert.equal(response.headers['etag'], '"abc"')
        assert.equal(await text(response.body), `<Result>${total}</Result>`)
        const last = seen.at(-1)
        assert.deepEqual([last?.contentLength, last?.transferEncoding, last?.received], [String(total), undefined, total])
      } finally {
        await close()
      }
    })

    test('a lazy iterable body is pulled as it is sent (a generator, as the idle watchdog hands it)', async () => {
      const { transport, close } = make()
      let pulled = 0
      function* body(): Generator<Uint8Array> {
        for (const c of chunks) {
          pulled++
          yield c
        }
      }
      try {
        const response = await transport(request('/generator', body(), total))
        await response.body.dump()
        assert.equal(pulled, chunks.length)
        assert.deepEqual([seen.at(-1)?.contentLength, seen.at(-1)?.received], [String(total), total])
      } finally {
        await close()
      }
    })

    test('one buffer and an empty body keep their content-length', async () => {
      const { transport, close } = make()
      try {
        await (await transport(request('/one', new Uint8Array(12345), 12345))).body.dump()
        assert.deepEqual([seen.at(-1)?.contentLength, seen.at(-1)?.received], ['12345', 12345])
        await (await transport(request('/empty', new Uint8Array(0), 0))).body.dump()
        assert.deepEqual([seen.at(-1)?.contentLength, seen.at(-1)?.received], ['0', 0])
      } finally {
        await close()
      }
    })

    // Node alternates between 2 connections; Bun's fetch sometimes opens a new one when the next
    // request starts right after a body ended (seen on Bun 1.4.5): reuse is asserted, not a count.
    test('keep-alive: 6 sequential requests reuse connections', async () => {
      const { transport, close } = make()
      const before = seen.length
      try {
        for (let i = 0; i < 6; i++) await (await transport(request('/keepalive', chunks, total))).body.dump()
        const used = new Set(seen.slice(before).map((s) => s.socket))
        assert.ok(used.size < 6, `6 requests used ${used.size} connections`)
      } finally {
        await close()
      }
    })

    test('HEAD and error answers: status, headers, a readable (or empty) body', async () => {
      const { transport, close } = make()
      try {
        const head = await transport({ origin, path: '/head', method: 'HEAD', headers: {}, body: null, signal: undefined })
        assert.equal(head.statusCode, 200)
        assert.equal(await text(head.body), '')
        const missing = await transport({ origin, path: '/missing', method: 'GET', headers: {}, body: null, signal: undefined })
        assert.equal(missing.statusCode, 404)
        assert.equal(missing.headers['x-amz-request-id'], 'req-1')
        assert.match(await text(missing.body), /<Result>0<\/Result>/)
        // A large body left unread is dumped without hanging; the next request still works.
        await (await transport({ origin, path: '/big', method: 'GET', headers: {}, body: null, signal: undefined })).body.dump()
        assert.equal((await transport({ origin, path: '/after-big', method: 'GET', headers: {}, body: null, signal: undefined })).statusCode, 200)
      } finally {
        await close()
      }
    })

    test('abort while the server holds the request: rejects, and the caller sees signal.aborted', async () => {
      const { transport, close } = make()
      const controller = new AbortController()
      const reason = new Error('stop now')
      try {
        const pending = transport(request('/stall', chunks, total, controller.signal))
        setTimeout(() => controller.abort(reason), 100)
        await assert.rejects(pending, (error: unknown) => error === reason || controller.signal.aborted)
      } finally {
        await close()
      }
    })

    test('connection refused and reset are retryable network errors', async () => {
      const { transport, close } = make()
      const closed = createServer()
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
      const port = (closed.address() as AddressInfo).port
      await new Promise((resolve) => closed.close(resolve))
      try {
        await assert.rejects(transport({ ...request('/x', null, 0), origin: `http://127.0.0.1:${port}` }), (error: unknown) => {
          assert.ok(isRetryableNetworkError(error), `retryable: ${String(error)}`)
          return true
        })
        await assert.rejects(transport(request('/reset', new Uint8Array(10), 10)), (error: unknown) => {
          assert.ok(isRetryableNetworkError(error), `retryable: ${String(error)}`)
          return true
        })
      } finally {
        await close()
      }
    })
  })
}

describe('choosing a transport', () => {
  test('the default: undici where it can dispatch (Node, Deno), fetch on Bun', async () => {
    const ctx = createS3Context({ bucket: 'bkt', key: 'k', endpoint: origin, credentials: { accessKeyId: 'a', secretAccessKey: 's' } })
    try {
      assert.equal(stateOf(ctx).dispatcher !== undefined, undiciDispatches)
      assert.equal(typeof stateOf(ctx).transport, 'function')
    } finally {
      await ctx.close()
    }
  })

  // Structural, not timed: undici's entry point evaluates every dispatcher, the mocks, fetch and
  // WebSocket, and makes Node load its own bundled undici too (~100 ms and ~7 MiB at start-up,
  // measured; see src/transport/undici-parts.ts). Node only: it reads Node's module records.
  if (!isDeno && !('Bun' in globalThis)) {
    test("importing the signer and sending loads neither undici's entry point nor Node's bundled fetch", async () => {
      const fromSource = import.meta.url.endsWith('.ts')
      const script = `
        const { upload } = await import('@partstream/signer')
        await upload(new Uint8Array(10), { bucket: 'bkt', key: 'k', region: 'us-east-1', endpoint: ${JSON.stringify(origin)}, credentials: { accessKeyId: 'a', secretAccessKey: 's' } })
        const { createRequire } = await import('node:module')
        const cache = Object.keys(createRequire(import.meta.url).cache)
        console.log(JSON.stringify({ undici: cache.filter((f) => f.includes('undici')), builtins: process.moduleLoadList.filter((m) => m.includes('undici')) }))`
      const { stdout: out } = await promisify(execFile)(process.execPath, [...(fromSource ? ['--conditions=@partstream/source'] : []), '--input-type=module', '-e', script], {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        encoding: 'utf8',
      })
      const loaded = JSON.parse(out) as { undici: string[]; builtins: string[] }
      assert.ok(loaded.undici.some((f) => f.endsWith('/lib/dispatcher/agent.js')), `undici's Agent was not loaded: ${out}`)
      assert.deepEqual(loaded.undici.filter((f) => /[/\\]undici[/\\]index\.js$/.test(f)), [])
      // (The script has no HTTP server of its own: on Node 22, \`import('node:http')\` itself loads it.)
      assert.deepEqual(loaded.builtins, [])
      assert.ok(seen.some((s) => s.url.endsWith('/k') && s.received === 10), `the PUT reached the server: ${JSON.stringify(seen.at(-1))}`)
    })
  }

  test('transport and dispatcher together, or a transport that is not a function: InvalidArgumentError', () => {
    const target = { bucket: 'bkt', key: 'k', endpoint: origin, credentials: { accessKeyId: 'a', secretAccessKey: 's' } }
    assert.throws(() => createS3Context(target, { transport: fetchTransport(), dispatcher: {} as never }), { code: 'ERR_PARTSTREAM_INVALID_ARGUMENT' })
    assert.throws(() => createS3Context(target, { transport: 'fetch' as never }), { code: 'ERR_PARTSTREAM_INVALID_ARGUMENT' })
    assert.throws(() => createS3Context(target, { dispatcher: { close() {} } as never }), { code: 'ERR_PARTSTREAM_INVALID_ARGUMENT' })
    assert.throws(() => fetchTransport({ body: 'chunked' as never }), { code: 'ERR_PARTSTREAM_INVALID_ARGUMENT' })
  })
})
