/**
 * The smallest HTTP/1.1 server the bench sink needs, on `node:net` with one static read buffer.
 *
 * Why not `node:http`: every socket read there lands in a fresh 64 KiB buffer and becomes a
 * `Buffer` and a 'data' event. Measured on the 2-core VM (1 GiB in 6 MiB PUTs, c = 4): a
 * `node:http` sink that drains the bodies costs 1.25–1.35 CPU s/GiB; this one 0.3–0.45. On two
 * cores that is CPU the client under test would otherwise have (issue: the sink as light as the
 * bench can make it).
 *
 * What it understands: a request line, headers, a `Content-Length` or `Transfer-Encoding: chunked`
 * body, `Expect: 100-continue`, keep-alive, `Connection: close` and pipelined requests (answered
 * in order). Body chunks are views into the shared read buffer, valid only during the callback.
 */
import { createServer, Socket, type Server } from 'node:net'

export interface RawRequest {
  readonly method: string
  readonly url: string
  /** Lowercased names; a repeated header keeps its last value. */
  readonly headers: Readonly<Record<string, string | undefined>>
  /** Calls `onChunk` with each piece of the body (a view valid only during the call); resolves at its end. */
  body(onChunk: (chunk: Uint8Array) => void): Promise<void>
}

export interface RawResponse {
  readonly sent: boolean
  send(status: number, headers: Readonly<Record<string, string | number>>, body?: string): void
  /** Drops the connection (after a failure once the answer was sent). */
  destroy(): void
}

const STATUS_TEXT: Record<number, string> = { 200: 'OK', 204: 'No Content', 400: 'Bad Request', 404: 'Not Found', 500: 'Internal Server Error', 501: 'Not Implemented' }
const READ_BUFFER = Buffer.allocUnsafe(1024 * 1024)
const CRLF2 = Buffer.from('\r\n\r\n')
const MAX_HEAD = 64 * 1024

export interface RawServerEvents {
  onRequest(req: RawRequest, res: RawResponse): void
  onConnection?(): void
}

export function createRawHttpServer(events: RawServerEvents): Server {
  return createServer({ noDelay: true, pauseOnConnect: true }, (accepted) => {
    events.onConnection?.()
    // Node's servers take no `onread`: a socket over the accepted handle gets the static buffer.
    const handle = (accepted as unknown as { _handle: unknown })._handle
    ;(accepted as unknown as { _handle: unknown })._handle = null
    const connection = new Connection(events.onRequest)
    const socket = new Socket({ handle, onread: { buffer: READ_BUFFER, callback: (n: number, buffer: Buffer) => connection.feed(buffer, n) } } as never)
    connection.socket = socket
    socket.on('error', () => socket.destroy())
    // The server counts the accepted socket: it closes with ours, so server.close() can finish.
    socket.on('close', () => accepted.destroy())
    socket.resume()
  })
}

/** One request's body as it arrives: handed to the handler's callback, or kept until it subscribes. */
class Incoming {
  onChunk: ((chunk: Uint8Array) => void) | undefined
  ended: (() => void) | undefined
  early: Buffer[] = []
  done = false

  deliver(view: Buffer): void {
    if (this.onChunk !== undefined) this.onChunk(view)
    else this.early.push(Buffer.from(view)) // copied: the read buffer is reused
  }

  finish(): void {
    this.done = true
    this.onChunk = undefined
    this.ended?.()
  }

  subscribe(onChunk: (chunk: Uint8Array) => void): Promise<void> {
    return new Promise<void>((resolve) => {
      for (const chunk of this.early) onChunk(chunk)
      this.early = []
      if (this.done) return resolve()
      this.onChunk = onChunk
      this.ended = resolve
    })
  }
}

type BodyState = { kind: 'length'; remaining: number } | { kind: 'chunked'; remaining: number; stage: 'size' | 'data' | 'data-crlf' | 'trailer'; line: string }

class Connection {
  socket!: Socket
  private head = ''
  private body: BodyState | undefined
  private incoming: Incoming | undefined
  /** Answers in request order: a later request's answer waits for the earlier ones. */
  private readonly answers: Array<{ text: string | undefined; close: boolean }> = []
  private readonly onRequest: (req: RawRequest, res: RawResponse) => void

  constructor(onRequest: (req: RawRequest, res: RawResponse) => void) {
    this.onRequest = onRequest
  }

  feed(buffer: Buffer, n: number): boolean {
    let offset = 0
    try {
      while (offset < n) {
        if (this.body !== undefined) offset = this.bodyBytes(buffer, offset, n)
        else offset = this.headBytes(buffer, offset, n)
      }
    } catch {
      this.socket.destroy()
    }
    return true
  }

  private headBytes(buffer: Buffer, offset: number, n: number): number {
    if (this.head === '') {
      const end = buffer.subarray(offset, n).indexOf(CRLF2)
      if (end !== -1) {
        this.start(buffer.toString('latin1', offset, offset + end))
        return offset + end + 4
      }
    }
    // The head straddles reads (rare): keep it as text, looking again from 3 bytes back.
    const before = this.head.length
    this.head += buffer.toString('latin1', offset, n)
    const at = this.head.indexOf('\r\n\r\n', Math.max(0, before - 3))
    if (at === -1) {
      if (this.head.length > MAX_HEAD) throw new Error('head too large')
      return n
    }
    this.start(this.head.slice(0, at))
    return offset + (at + 4 - before)
  }

  private start(head: string): void {
    this.head = ''
    const lines = head.split('\r\n')
    const [method = '', url = '/'] = (lines[0] ?? '').split(' ')
    const headers: Record<string, string> = {}
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string
      const colon = line.indexOf(':')
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
    }
    const answer = { text: undefined as string | undefined, close: headers['connection']?.toLowerCase() === 'close' }
    this.answers.push(answer)
    if (headers['expect']?.toLowerCase() === '100-continue') this.socket.write('HTTP/1.1 100 Continue\r\n\r\n')
    const chunked = headers['transfer-encoding']?.toLowerCase().includes('chunked') === true
    const length = Number(headers['content-length'] ?? 0)
    this.body = chunked ? { kind: 'chunked', remaining: 0, stage: 'size', line: '' } : { kind: 'length', remaining: length }
    const incoming = new Incoming()
    this.incoming = incoming
    let sent = false
    const req: RawRequest = { method, url, headers, body: (onChunk) => incoming.subscribe(onChunk) }
    const res: RawResponse = {
      get sent() {
        return sent
      },
      send: (status, fields, body = '') => {
        if (sent) return
        sent = true
        let text = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Status'}\r\n`
        for (const [name, value] of Object.entries(fields)) if (name.toLowerCase() !== 'content-length') text += `${name}: ${value}\r\n`
        text += `content-length: ${Buffer.byteLength(body)}\r\n`
        if (answer.close) text += 'connection: close\r\n'
        answer.text = `${text}\r\n${body}`
        this.flush()
      },
      destroy: () => this.socket.destroy(),
    }
    if (this.body.kind === 'length' && this.body.remaining === 0) this.finishBody()
    this.onRequest(req, res)
  }

  private flush(): void {
    while (this.answers[0]?.text !== undefined) {
      const answer = this.answers.shift() as { text: string; close: boolean }
      this.socket.write(answer.text)
      if (answer.close) return void this.socket.end()
    }
  }

  private finishBody(): void {
    this.body = undefined
    this.incoming?.finish()
    this.incoming = undefined
  }

  private bodyBytes(buffer: Buffer, offset: number, n: number): number {
    const body = this.body as BodyState
    if (body.kind === 'length' || body.stage === 'data') {
      const take = Math.min(body.remaining, n - offset)
      this.incoming?.deliver(buffer.subarray(offset, offset + take))
      body.remaining -= take
      if (body.remaining === 0) {
        if (body.kind === 'length') this.finishBody()
        else body.stage = 'data-crlf'
      }
      return offset + take
    }
    // Chunked, between data: a size line, the CRLF after data, trailers, the final empty line.
    const newline = buffer.subarray(offset, n).indexOf(10)
    const stop = newline === -1 ? n : offset + newline + 1
    body.line += buffer.toString('latin1', offset, stop)
    if (!body.line.endsWith('\n')) return stop
    const line = body.line.trim()
    body.line = ''
    if (body.stage === 'size') {
      const size = Number.parseInt(line.split(';')[0] ?? '', 16)
      if (!Number.isFinite(size)) throw new Error('bad chunk size')
      if (size === 0) body.stage = 'trailer'
      else {
        body.remaining = size
        body.stage = 'data'
      }
    } else if (body.stage === 'data-crlf') {
      body.stage = 'size'
    } else if (line === '') {
      this.finishBody() // the empty line after the trailers
    }
    return stop
  }
}
