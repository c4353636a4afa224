/**
 * A local S3 sink: a node:http server on 127.0.0.1 (port 0) that speaks just enough S3 for
 * partstream and @aws-sdk/lib-storage (Create / UploadPart / Complete / PutObject / Abort / Head),
 * drains every body, and counts what it saw. It runs in its own process, started by the driver
 * with an IPC channel (`startSink` in internal/sink-control.ts), so its CPU is never counted as
 * client CPU.
 *
 * ETags are fake but consistent: a part's ETag is the md5 of its upload id, number and length
 * (hashing the body would cost sink CPU), and Complete answers S3's composite ETag
 * (md5 of the binary part ETags, then `-N`), which partstream checks against the parts it sent.
 *
 * `--tls-key <pem> --tls-cert <pem>` serves HTTPS instead of HTTP (the driver generates the pair).
 *
 * `--verify` hashes every body with node:crypto and answers 400 XAmzContentSHA256Mismatch when
 * `x-amz-content-sha256` does not match. Off by default: it costs sink CPU on a 2-core machine.
 */
import { createHash, type Hash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import type { DriverToSink, SinkStats, SinkToDriver } from './internal/protocol.ts'
import { createRawHttpServer, type RawRequest, type RawResponse } from './internal/raw-http.ts'

const verify = process.argv.includes('--verify')
const argAfter = (flag: string): string | undefined => {
  const i = process.argv.indexOf(flag)
  return i === -1 ? undefined : process.argv[i + 1]
}
const tlsKey = argAfter('--tls-key')
const tlsCert = argAfter('--tls-cert')
const HEX_SHA256 = /^[0-9a-f]{64}$/

interface MultipartUpload {
  readonly parts: Map<number, { etag: string; size: number }>
}

interface Counters {
  requests: number
  byOperation: Record<string, number>
  connections: number
  inFlight: number
  maxInFlight: number
  bodyBytes: number
  payloadBytes: number
  expectContinue: number
  payloadHash: Record<string, number>
  checksumHeaders: Record<string, number>
  verified: number
  verifyFailures: number
  errors: number
  completedObjects: number
  cpu: NodeJS.CpuUsage
}

function freshCounters(): Counters {
  return {
    requests: 0,
    byOperation: {},
    connections: 0,
    inFlight: 0,
    maxInFlight: 0,
    bodyBytes: 0,
    payloadBytes: 0,
    expectContinue: 0,
    payloadHash: {},
    checksumHeaders: {},
    verified: 0,
    verifyFailures: 0,
    errors: 0,
    completedObjects: 0,
    cpu: process.cpuUsage(),
  }
}

let counters = freshCounters()
let uploadSeq = 0
const uploads = new Map<string, MultipartUpload>()
const objects = new Map<string, { size: number; etag: string }>()

const bump = (record: Record<string, number>, key: string): void => {
  record[key] = (record[key] ?? 0) + 1
}

const md5Hex = (data: string | Uint8Array): string => createHash('md5').update(data).digest('hex')

function hashKind(value: string | undefined): string {
  if (value === undefined) return 'none'
  if (HEX_SHA256.test(value)) return 'sha256'
  return value
}

function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function sendXml(res: RawResponse, status: number, xml: string): void {
  if (status >= 400) counters.errors++
  res.send(status, { 'content-type': 'application/xml', 'x-amz-request-id': `sink-${counters.requests}` }, `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`)
}

function sendError(res: RawResponse, status: number, code: string, message: string): void {
  sendXml(res, status, `<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><RequestId>sink-${counters.requests}</RequestId></Error>`)
}

function sendEmpty(res: RawResponse, status: number, headers: Record<string, string | number> = {}): void {
  if (status >= 400) counters.errors++
  res.send(status, headers)
}

/** Drains the body, counting (and with `--verify`, hashing) it; resolves with the bytes if `keep`. */
async function drain(req: RawRequest, keep: boolean): Promise<{ bytes: number; sha256: string | undefined; text: string }> {
  let bytes = 0
  const kept: Buffer[] = []
  const hash: Hash | undefined = verify ? createHash('sha256') : undefined
  await req.body((chunk) => {
    bytes += chunk.byteLength
    hash?.update(chunk)
    if (keep) kept.push(Buffer.from(chunk)) // a view into a reused buffer: copied
  })
  return { bytes, sha256: hash?.digest('hex'), text: keep ? Buffer.concat(kept).toString('utf8') : '' }
}

/** Object bytes in the body: aws-chunked bodies carry their decoded length in a header. */
function payloadLength(req: RawRequest, rawBytes: number): number {
  const decoded = req.headers['x-amz-decoded-content-length']
  return typeof decoded === 'string' ? Number(decoded) : rawBytes
}

function countUploadHeaders(req: RawRequest): void {
  bump(counters.payloadHash, hashKind(req.headers['x-amz-content-sha256'] as string | undefined))
  for (const name of Object.keys(req.headers)) {
    if (name.startsWith('x-amz-checksum-') || name === 'x-amz-sdk-checksum-algorithm' || name === 'x-amz-trailer') bump(counters.checksumHeaders, name)
  }
  const encoding = req.headers['content-encoding']
  if (typeof encoding === 'string' && encoding.includes('aws-chunked')) bump(counters.checksumHeaders, 'content-encoding: aws-chunked')
}

/** `false` (and a 400 sent) when `--verify` is on and the signed payload hash does not match. */
function verifyBody(req: RawRequest, res: RawResponse, sha256: string | undefined): boolean {
  if (sha256 === undefined) return true
  const claimed = req.headers['x-amz-content-sha256']
  if (typeof claimed !== 'string' || !HEX_SHA256.test(claimed)) return true // UNSIGNED-PAYLOAD, STREAMING-…: nothing to check
  counters.verified++
  if (claimed === sha256) return true
  counters.verifyFailures++
  sendError(res, 400, 'XAmzContentSHA256Mismatch', `The provided 'x-amz-content-sha256' header does not match what was computed (${sha256}).`)
  return false
}

/**
 * The body of an UploadPart or PutObject: counts the operation, its headers and bytes, drains it
 * (hashing it with `--verify`); resolves with the object bytes it carried, or `undefined` when
 * the payload hash did not match (the 400 is sent).
 */
async function receiveObjectBytes(req: RawRequest, res: RawResponse, operation: 'UploadPart' | 'PutObject'): Promise<number | undefined> {
  bump(counters.byOperation, operation)
  countUploadHeaders(req)
  const body = await drain(req, false)
  counters.bodyBytes += body.bytes
  const size = payloadLength(req, body.bytes)
  counters.payloadBytes += size
  return verifyBody(req, res, body.sha256) ? size : undefined
}

async function handle(req: RawRequest, res: RawResponse): Promise<void> {
  const url = new URL(req.url, 'http://sink')
  const q = url.searchParams
  const path = url.pathname
  const method = req.method
  if (req.headers.expect !== undefined) counters.expectContinue++

  if (method === 'POST' && q.has('uploads')) {
    bump(counters.byOperation, 'CreateMultipartUpload')
    await drain(req, false)
    const uploadId = `sink-${process.pid}-${++uploadSeq}`
    uploads.set(uploadId, { parts: new Map() })
    const [, bucket = '', ...key] = path.split('/')
    sendXml(
      res,
      200,
      `<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${xmlEscape(bucket)}</Bucket><Key>${xmlEscape(decodeURIComponent(key.join('/')))}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`,
    )
    return
  }

  if (method === 'PUT' && q.has('uploadId') && q.has('partNumber')) {
    const size = await receiveObjectBytes(req, res, 'UploadPart')
    if (size === undefined) return
    const uploadId = q.get('uploadId') as string
    const upload = uploads.get(uploadId)
    if (upload === undefined) return sendError(res, 404, 'NoSuchUpload', 'The specified upload does not exist.')
    const partNumber = Number(q.get('partNumber'))
    const etag = md5Hex(`${uploadId}:${partNumber}:${size}`)
    upload.parts.set(partNumber, { etag, size })
    sendEmpty(res, 200, { etag: `"${etag}"` })
    return
  }

  if (method === 'POST' && q.has('uploadId')) {
    bump(counters.byOperation, 'CompleteMultipartUpload')
    const body = await drain(req, true)
    counters.bodyBytes += body.bytes
    const uploadId = q.get('uploadId') as string
    const upload = uploads.get(uploadId)
    if (upload === undefined) return sendError(res, 404, 'NoSuchUpload', 'The specified upload does not exist.')
    const listed = [...body.text.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((m) => {
      const block = m[1] ?? ''
      const partNumber = Number(/<PartNumber>(\d+)<\/PartNumber>/.exec(block)?.[1])
      const etag = (/<ETag>([\s\S]*?)<\/ETag>/.exec(block)?.[1] ?? '').replace(/&quot;|&#34;|"/g, '')
      return { partNumber, etag }
    })
    if (listed.length === 0) return sendError(res, 400, 'MalformedXML', 'No parts listed.')
    let size = 0
    const binary = Buffer.alloc(listed.length * 16)
    for (const [i, p] of listed.entries()) {
      const stored = upload.parts.get(p.partNumber)
      if (stored === undefined || stored.etag !== p.etag) {
        return sendError(res, 400, 'InvalidPart', `Part ${p.partNumber} was not uploaded or its ETag ${p.etag} does not match.`)
      }
      size += stored.size
      Buffer.from(stored.etag, 'hex').copy(binary, i * 16)
    }
    const etag = `${md5Hex(binary)}-${listed.length}`
    uploads.delete(uploadId)
    objects.set(path, { size, etag })
    counters.completedObjects++
    const [, bucket = '', ...key] = path.split('/')
    sendXml(
      res,
      200,
      `<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Location>http://${xmlEscape(req.headers.host ?? 'sink')}${xmlEscape(path)}</Location><Bucket>${xmlEscape(bucket)}</Bucket><Key>${xmlEscape(decodeURIComponent(key.join('/')))}</Key><ETag>&quot;${etag}&quot;</ETag></CompleteMultipartUploadResult>`,
    )
    return
  }

  if (method === 'PUT' && !q.has('uploadId')) {
    const size = await receiveObjectBytes(req, res, 'PutObject')
    if (size === undefined) return
    const etag = md5Hex(`${path}:${size}:${counters.requests}`)
    objects.set(path, { size, etag })
    counters.completedObjects++
    sendEmpty(res, 200, { etag: `"${etag}"` })
    return
  }

  if (method === 'DELETE' && q.has('uploadId')) {
    bump(counters.byOperation, 'AbortMultipartUpload')
    await drain(req, false)
    uploads.delete(q.get('uploadId') as string)
    sendEmpty(res, 204)
    return
  }

  if (method === 'HEAD') {
    bump(counters.byOperation, 'HeadObject')
    await drain(req, false)
    const object = objects.get(path)
    if (object === undefined) return sendEmpty(res, 404)
    sendEmpty(res, 200, { 'content-length': object.size, etag: `"${object.etag}"`, 'content-type': 'application/octet-stream' })
    return
  }

  bump(counters.byOperation, `other ${method}`)
  await drain(req, false)
  sendError(res, 501, 'NotImplemented', `The bench sink does not implement ${method} ${url.search}`)
}

const onRequest = (req: RawRequest, res: RawResponse): void => {
  counters.requests++
  counters.inFlight++
  counters.maxInFlight = Math.max(counters.maxInFlight, counters.inFlight)
  handle(req, res)
    .catch((error: unknown) => {
      if (!res.sent) sendError(res, 500, 'InternalError', String(error))
      else res.destroy()
    })
    .finally(() => counters.inFlight--)
}

/** node:https's request and response as the raw server's (TLS: the raw server speaks plain TCP only). */
function fromNode(req: IncomingMessage, res: ServerResponse): void {
  const headers: Record<string, string | undefined> = {}
  for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value.at(-1) : value
  onRequest(
    {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers,
      body: (onChunk) =>
        new Promise<void>((resolve, reject) => {
          req.on('data', onChunk)
          req.once('end', resolve)
          req.once('error', reject)
        }),
    },
    {
      get sent() {
        return res.headersSent
      },
      send: (status, fields, body = '') => {
        res.writeHead(status, { ...fields, 'content-length': Buffer.byteLength(body) })
        res.end(body)
      },
      destroy: () => res.destroy(),
    },
  )
}

// Plain HTTP: the raw server (a third of node:http's CPU, see internal/raw-http.ts). HTTPS: node:https.
const server =
  tlsKey !== undefined && tlsCert !== undefined
    ? createTlsServer({ key: readFileSync(tlsKey), cert: readFileSync(tlsCert), keepAliveTimeout: 30_000 }, fromNode)
        .on('connection', () => counters.connections++)
        .on('clientError', (_error, socket) => socket.destroy())
    : createRawHttpServer({ onRequest, onConnection: () => counters.connections++ })

function snapshot(): SinkStats {
  const cpu = process.cpuUsage(counters.cpu)
  return {
    requests: counters.requests,
    byOperation: { ...counters.byOperation },
    connections: counters.connections,
    maxInFlight: counters.maxInFlight,
    bodyBytes: counters.bodyBytes,
    payloadBytes: counters.payloadBytes,
    expectContinue: counters.expectContinue,
    payloadHash: { ...counters.payloadHash },
    checksumHeaders: { ...counters.checksumHeaders },
    verified: counters.verified,
    verifyFailures: counters.verifyFailures,
    errors: counters.errors,
    sinkCpuSeconds: (cpu.user + cpu.system) / 1e6,
    completedObjects: counters.completedObjects,
  }
}

const send = (message: SinkToDriver): void => {
  process.send?.(message)
}

process.on('message', (message: DriverToSink) => {
  if (message.type === 'reset') {
    counters = freshCounters()
    uploads.clear()
    objects.clear()
    send({ type: 'reset-done' })
  } else if (message.type === 'stats') {
    send({ type: 'stats', stats: snapshot() })
  } else if (message.type === 'exit') {
    if ('closeAllConnections' in server) server.closeAllConnections()
    server.close()
    process.disconnect?.()
  }
})
// The driver died: do not linger.
process.on('disconnect', () => process.exit(0))

server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('sink: no port')
  send({ type: 'ready', port: address.port })
})
