// The bench sink's HTTP/1.1 server: what it parses is what node:http would have seen.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { request } from 'node:http'
import { connect, type AddressInfo, type Server } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { createRawHttpServer } from '../src/internal/raw-http.ts'

interface Seen {
  method: string
  url: string
  headers: Record<string, string | undefined>
  bytes: number
  sha256: string
}

describe('createRawHttpServer', () => {
  let server: Server
  let port = 0
  const seen: Seen[] = []
  let connections = 0
  before(async () => {
    server = createRawHttpServer({
      onConnection: () => connections++,
      onRequest: (req, res) => {
        const hash = createHash('sha256')
        let bytes = 0
        // Subscribing late (after a timer) must still see every byte.
        setTimeout(() => {
          void req
            .body((chunk) => {
              bytes += chunk.byteLength
              hash.update(chunk)
            })
            .then(() => {
              const sha256 = hash.digest('hex')
              seen.push({ method: req.method, url: req.url, headers: { ...req.headers }, bytes, sha256 })
              res.send(200, { etag: `"${sha256.slice(0, 8)}"` }, `${bytes}`)
            })
        }, 1)
      },
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })
  after(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const put = (path: string, chunks: Buffer[], headers: Record<string, string>): Promise<{ status: number; etag: string; body: string }> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'PUT', path, headers, agent: false }, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (body += c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, etag: String(res.headers.etag), body }))
      })
      req.on('error', reject)
      for (const chunk of chunks) req.write(chunk)
      req.end()
    })

  const sha = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex')

  test('Content-Length bodies, large and empty, on one kept-alive connection', async () => {
    const data = Buffer.alloc(3 * 1024 * 1024 + 7, 1)
    data.fill(9, 1000, 2_000_000)
    const before = connections
    const agentless = { 'content-length': String(data.byteLength), 'x-amz-content-sha256': sha(data) }
    const r = await put('/b/k?partNumber=1&uploadId=u', [data], agentless)
    assert.deepEqual([r.status, r.body], [200, String(data.byteLength)])
    const last = seen.at(-1) as Seen
    assert.equal(last.sha256, sha(data))
    assert.equal(last.url, '/b/k?partNumber=1&uploadId=u')
    assert.equal(last.headers['x-amz-content-sha256'], sha(data))
    const empty = await put('/b/empty', [], { 'content-length': '0' })
    assert.deepEqual([empty.status, empty.body], [200, '0'])
    assert.ok(connections - before >= 1)
  })

  test('chunked bodies (chunk extensions, trailers) are decoded', async () => {
    const parts = [Buffer.from('hello '), Buffer.alloc(200_000, 3), Buffer.from('world')]
    const r = await put('/b/chunked', parts, { 'transfer-encoding': 'chunked' })
    assert.equal(r.body, String(200_011))
    assert.equal((seen.at(-1) as Seen).sha256, sha(Buffer.concat(parts)))

    // By hand: an extension on a size line, a trailer, and every byte in its own write.
    const raw = 'PUT /b/ext HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;name=v\r\nabc\r\n2\r\nde\r\n0\r\nx-amz-checksum-crc32: AAAAAA==\r\n\r\n'
    const answer = await sendRaw(port, [...raw].map((c) => Buffer.from(c, 'latin1')))
    assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/)
    assert.match(answer, /\r\n\r\n5$/)
    assert.equal((seen.at(-1) as Seen).sha256, sha(Buffer.from('abcde')))
  })

  test('a head split across reads, two requests in one write, Expect: 100-continue, Connection: close', async () => {
    const one = 'PUT /b/split HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nwxyz'
    const two = 'PUT /b/second HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'
    const answer = await sendRaw(port, [Buffer.from(one.slice(0, 30)), Buffer.from(one.slice(30, 52)), Buffer.from(one.slice(52) + two)])
    assert.equal(answer.match(/HTTP\/1\.1 200 OK/g)?.length, 2)
    assert.match(answer, /connection: close/)
    assert.match(answer, /\r\n\r\n4HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\n2$/, 'answered in request order, though the second was ready first')
    assert.deepEqual(seen.slice(-2).map((s) => [s.url, s.bytes]).sort(), [
      ['/b/second', 2],
      ['/b/split', 4],
    ])

    const continued = await sendRaw(port, [Buffer.from('PUT /b/continue HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc')])
    assert.match(continued, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/)
  })
})

/** Writes each buffer on its own (a pause between them), returns everything the server said until it closed. */
async function sendRaw(port: number, writes: Buffer[]): Promise<string> {
  const socket = connect(port, '127.0.0.1')
  let answer = ''
  socket.setEncoding('latin1')
  socket.on('data', (c: string) => (answer += c))
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  for (const w of writes) {
    socket.write(w)
    await new Promise((resolve) => setTimeout(resolve, writes.length > 10 ? 0 : 5))
  }
  // A kept-alive connection: close our side once the answer is in.
  setTimeout(() => socket.end(), 200)
  await closed
  return answer
}
