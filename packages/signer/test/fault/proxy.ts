// A fault-injection HTTP proxy for tests: an in-process node:http server on 127.0.0.1, port 0,
// that forwards to the real S3 server (Ceph RGW) and breaks chosen requests on purpose.
//
// The client signs for the proxy's host:port (it connects to the proxy), and the proxy forwards
// every header unchanged, `host` included: RGW checks the signature over the host header value
// it receives, so the signature stays valid. Bodies stream both ways with backpressure.
//
// Rules pick requests by kind (and part number) and by count ("the 2nd UploadPart", "every
// UploadPart of part 3 for 2 attempts"); every request is logged with what happened to it.
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { Transform } from 'node:stream'

/** The S3 call a request is, told from its method and query (path-style URLs). */
export type RequestKind =
  | 'CreateMultipartUpload' // POST ?uploads
  | 'UploadPart' // PUT ?partNumber&uploadId
  | 'CompleteMultipartUpload' // POST ?uploadId
  | 'AbortMultipartUpload' // DELETE ?uploadId
  | 'PutObject' // PUT /bucket/key, no query
  | 'HeadObject' // HEAD
  | 'ListParts' // GET ?uploadId
  | 'GetObject' // GET /bucket/key, no query
  | 'ListObjectsV2' // GET /bucket?list-type=2
  | 'Other' // bucket-level calls (CreateBucket, ListMultipartUploads, …)

/** What the proxy does to a request instead of forwarding it faithfully. */
export type Fault =
  /** Drain the request body, answer `status` with an S3 XML `<Error>` (no body for HEAD); not forwarded. */
  | { readonly type: 'error'; readonly status: number; readonly code: string }
  /** Reset the connection once `afterBytes` of the request body arrived (or at its end if shorter); not forwarded. */
  | { readonly type: 'reset'; readonly afterBytes: number }
  /**
   * Accept and never answer, until the client gives up; not forwarded. With `afterBytes`, stop
   * reading the request body after that many bytes (the client's send stalls); without it, read
   * the whole body first (the client waits for headers).
   */
  | { readonly type: 'stall'; readonly afterBytes?: number | undefined }
  /**
   * Answer 200 with an `<Error><Code>InternalError</Code>` body (CompleteMultipartUpload's
   * failure mode). `forward: true` sends the request upstream first, so the upload really did
   * complete and only the answer says otherwise.
   */
  | { readonly type: 'error-in-200'; readonly forward: boolean }
  /** Forward, let the upstream answer in full, then reset the client connection: the answer is lost. */
  | { readonly type: 'drop-response' }
  /**
   * Forward with one byte of the request body inverted (the byte at `atByte`, or the last one
   * for a shorter body; an empty body goes unchanged): corruption in flight. The upstream answer
   * is passed on, and its S3 `<Code>` logged as `upstreamCode`.
   */
  | { readonly type: 'corrupt'; readonly atByte: number }
  /**
   * Forward, then answer slowly: the response headers go out `delayMs` after the request body
   * ended, and a response body in two halves `delayMs` apart. Every gap stays `delayMs` long, so a
   * client whose idle timeout is longer must wait it out, however long the whole answer takes.
   */
  | { readonly type: 'slow'; readonly delayMs: number }
  /**
   * Forward, then pass on only the first `keepBytes` of the upstream answer's body (at most all
   * but its last byte). `framing: 'close'`: the headers announce the full length and the
   * connection is closed after the prefix (an answer cut off on the way); `'short'`: a complete
   * HTTP answer whose `content-length` is the prefix's (the XML itself is cut short).
   */
  | { readonly type: 'truncate'; readonly keepBytes: number; readonly framing: 'close' | 'short' }

/** Ready-made faults. */
export const FAULTS = {
  internalError: { type: 'error', status: 500, code: 'InternalError' },
  slowDown: { type: 'error', status: 503, code: 'SlowDown' },
  serviceUnavailable: { type: 'error', status: 503, code: 'ServiceUnavailable' },
  tooManyRequests: { type: 'error', status: 429, code: 'TooManyRequests' },
  requestTimeout: { type: 'error', status: 400, code: 'RequestTimeout' },
  stall: { type: 'stall' },
  dropResponse: { type: 'drop-response' },
} as const satisfies Record<string, Fault>

/** Which requests get a fault. */
export interface FaultRule {
  readonly kind: RequestKind
  /** Only requests for this part number (UploadPart). */
  readonly partNumber?: number | undefined
  /** The first request hit is the `nth` matching one (1-based). @default 1 */
  readonly nth?: number | undefined
  /** How many consecutive matching requests, from the `nth` on, are hit. @default 1 */
  readonly times?: number | undefined
  readonly fault: Fault
  /** A name for reports: copied to the log entry of each request this rule hits. */
  readonly label?: string | undefined
}

/** What the proxy did with one request. */
export type Outcome = 'pending' | 'reset' | 'stalled' | 'dropped' | 'truncated' | 'client-closed' | number

export interface LoggedRequest {
  /** 1-based arrival order. */
  readonly seq: number
  readonly kind: RequestKind
  readonly method: string
  readonly url: string
  readonly partNumber: number | undefined
  readonly uploadId: string | undefined
  /** The fault applied, if any. */
  readonly fault: Fault['type'] | undefined
  /** The `label` of the rule that applied it. */
  readonly label: string | undefined
  /** HTTP status sent to the client, or what happened instead. */
  outcome: Outcome
  /** Status the upstream answered, for forwarded requests. */
  upstreamStatus: number | undefined
  /** Request body bytes received by the proxy. */
  bodyBytes: number
  /** S3 `<Code>` of the upstream answer, where the proxy read it (`corrupt`). */
  upstreamCode: string | undefined
  /**
   * `slow` only, when the client closed first: in which gap (`headers`: before the answer's
   * headers; `body`: between its two halves) and after how long a silence (since the request
   * body ended, or since the first half went out). The client's idle clock for the `headers` gap
   * starts when *it* finished sending, which a loaded event loop can put well before the proxy
   * saw the body end; in the `body` gap it starts when it got the first half, which is never
   * before the proxy sent it.
   */
  cut?: { readonly gap: 'headers' | 'body'; readonly silentMs: number }
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: pass it as the target's `endpoint`. */
  readonly endpoint: string
  readonly log: readonly LoggedRequest[]
  addRule(rule: FaultRule): void
  /** Calls `listener` synchronously as each request arrives, before its fault (if any) is applied. */
  onRequest(listener: (r: LoggedRequest) => void): void
  /** Logged requests of one kind (and part number). */
  requests(kind: RequestKind, partNumber?: number): LoggedRequest[]
  /** Resolves with the first logged request (past or future) that satisfies `predicate`. */
  waitFor(predicate: (r: LoggedRequest) => boolean): Promise<LoggedRequest>
  /** Closes the server and every connection, stalled ones included. */
  close(): Promise<void>
}

export function classify(method: string, url: URL): RequestKind {
  const q = url.searchParams
  const segments = url.pathname.split('/').filter((s, i) => i > 0 || s !== '')
  const isObject = segments.length >= 2
  switch (method) {
    case 'POST':
      if (q.has('uploads')) return 'CreateMultipartUpload'
      if (q.has('uploadId')) return 'CompleteMultipartUpload'
      return 'Other'
    case 'PUT':
      if (q.has('partNumber')) return 'UploadPart'
      return isObject && [...q.keys()].length === 0 ? 'PutObject' : 'Other'
    case 'DELETE':
      return q.has('uploadId') ? 'AbortMultipartUpload' : 'Other'
    case 'HEAD':
      return isObject ? 'HeadObject' : 'Other'
    case 'GET':
      if (q.has('uploadId')) return 'ListParts'
      if (!isObject && q.get('list-type') === '2') return 'ListObjectsV2'
      return isObject && [...q.keys()].length === 0 ? 'GetObject' : 'Other'
    default:
      return 'Other'
  }
}

/** Hop-by-hop headers: they describe one connection and are not forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade'])

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name)) out[name] = value
  return out
}

function errorXml(code: string, seq: number): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>Injected by the fault proxy.</Message><RequestId>fault-proxy-${seq}</RequestId></Error>`
  )
}

/** Kills a connection with a TCP RST where the runtime can (the client sees ECONNRESET), else a plain close. */
function resetSocket(socket: Socket): void {
  if (typeof socket.resetAndDestroy === 'function' && !socket.destroyed) socket.resetAndDestroy()
  else socket.destroy()
}

/**
 * Starts the proxy in front of `upstream` (e.g. `http://127.0.0.1:7480`).
 * @example
 * const proxy = await startFaultProxy(s3Env().endpoint, [{ kind: 'UploadPart', nth: 2, fault: FAULTS.slowDown }])
 * await upload(source, { ...target(bucket, key), endpoint: proxy.endpoint })
 * proxy.requests('UploadPart') // → the 503 and its retry
 */
/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /**
   * A server clock this far ahead of the client's (negative: behind): every faithfully passed
   * answer's `Date` header, and each `<Initiated>` of a ListMultipartUploads answer, moved by it.
   */
  readonly serverClockAheadMs?: number | undefined
}

export async function startFaultProxy(upstream: string, initialRules: readonly FaultRule[] = [], options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const skewMs = options.serverClockAheadMs ?? 0
  const up = new URL(upstream)
  // No keep-alive upstream: a pooled socket the server closed while idle would make the proxy
  // fail a request nobody asked it to fail, and the tests count requests exactly.
  const agent = new Agent({ keepAlive: false })
  const rules: Array<{ rule: FaultRule; seen: number }> = initialRules.map((rule) => ({ rule, seen: 0 }))
  const log: LoggedRequest[] = []
  const waiters: Array<{ predicate: (r: LoggedRequest) => boolean; resolve: (r: LoggedRequest) => void }> = []

  const changed = (entry: LoggedRequest): void => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!
      if (w.predicate(entry)) {
        waiters.splice(i, 1)
        w.resolve(entry)
      }
    }
  }
  const settle = (entry: LoggedRequest, outcome: Outcome): void => {
    entry.outcome = outcome
    changed(entry)
  }

  const arrivals: Array<(r: LoggedRequest) => void> = []
  const timers = new Set<ReturnType<typeof setTimeout>>()
  /** A slow server's pause (fault injection, not synchronization); cleared by `close()`. */
  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer)
        resolve()
      }, ms)
      timers.add(timer)
    })

  const pickRule = (kind: RequestKind, partNumber: number | undefined): FaultRule | undefined => {
    let picked: FaultRule | undefined
    for (const r of rules) {
      if (r.rule.kind !== kind || (r.rule.partNumber !== undefined && r.rule.partNumber !== partNumber)) continue
      r.seen++
      const nth = r.rule.nth ?? 1
      const times = r.rule.times ?? 1
      if (picked === undefined && r.seen >= nth && r.seen < nth + times) picked = r.rule
    }
    return picked
  }

  /** Reads the request body, counting bytes; `onBytes` may stop it (returns `true`). */
  const consume = (req: IncomingMessage, entry: LoggedRequest, onBytes?: () => boolean): Promise<boolean> =>
    new Promise((resolve) => {
      if (onBytes?.()) {
        resolve(false)
        return
      }
      const onData = (chunk: Buffer): void => {
        entry.bodyBytes += chunk.byteLength
        if (onBytes?.()) {
          req.off('data', onData)
          req.pause()
          resolve(false)
        }
      }
      req.on('data', onData)
      req.once('end', () => resolve(true))
      req.once('close', () => resolve(false))
    })

  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    entry: LoggedRequest,
    onResponse: (upstreamRes: IncomingMessage) => void,
    onError: () => void,
    /** Changes the body on its way upstream, in place (`offset`: of `chunk` in the body). */
    mutate?: (chunk: Buffer, offset: number) => void,
    /**
     * Read the whole body before sending it upstream: a slow upstream then never holds the
     * client's writes back, so the client's last write is when the proxy saw the body end.
     */
    buffered = false,
  ): void => {
    const upstreamReq = httpRequest({
      protocol: up.protocol,
      hostname: up.hostname,
      port: up.port,
      method: req.method,
      path: req.url,
      // The signed headers as the client sent them, `host` (the proxy's host:port) included.
      headers: endToEnd(req.headers),
      agent,
    })
    upstreamReq.on('response', (upstreamRes) => {
      entry.upstreamStatus = upstreamRes.statusCode
      onResponse(upstreamRes)
    })
    upstreamReq.on('error', onError)
    req.on('data', (chunk: Buffer) => {
      entry.bodyBytes += chunk.byteLength
    })
    if (buffered) {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.once('end', () => upstreamReq.end(Buffer.concat(chunks)))
    } else if (mutate === undefined) {
      req.pipe(upstreamReq)
    } else {
      let offset = 0
      const edit = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          mutate(chunk, offset)
          offset += chunk.byteLength
          done(null, chunk)
        },
      })
      req.pipe(edit).pipe(upstreamReq)
    }
    // The client gave up: nothing waits for the upstream answer any more.
    res.once('close', () => {
      if (!upstreamReq.destroyed && entry.outcome === 'client-closed') upstreamReq.destroy()
    })
  }

  const readAll = (stream: IncomingMessage): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.once('end', () => resolve(Buffer.concat(chunks)))
      stream.once('error', reject)
    })

  const sendError = (res: ServerResponse, entry: LoggedRequest, status: number, code: string, method: string): void => {
    const body = method === 'HEAD' ? '' : errorXml(code, entry.seq)
    res.writeHead(status, {
      'content-type': 'application/xml',
      'content-length': Buffer.byteLength(body),
      'x-amz-request-id': `fault-proxy-${entry.seq}`,
    })
    res.end(body)
    settle(entry, status)
  }

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const method = req.method ?? 'GET'
    const url = new URL(req.url ?? '/', 'http://proxy')
    const kind = classify(method, url)
    const part = url.searchParams.get('partNumber')
    const partNumber = part === null ? undefined : Number(part)
    const rule = pickRule(kind, partNumber)
    const fault = rule?.fault
    const entry: LoggedRequest = {
      seq: log.length + 1,
      kind,
      method,
      url: req.url ?? '/',
      partNumber,
      uploadId: url.searchParams.get('uploadId') ?? undefined,
      fault: fault?.type,
      label: rule?.label,
      outcome: 'pending',
      upstreamStatus: undefined,
      bodyBytes: 0,
      upstreamCode: undefined,
    }
    log.push(entry)
    for (const listener of arrivals) listener(entry)
    // A response's 'close' also fires when its connection dies first (a stalled request whose
    // client gave up). Not the socket's: keep-alive sockets carry many requests.
    res.once('close', () => {
      if (entry.outcome === 'pending') settle(entry, 'client-closed')
    })

    const passThrough = (upstreamRes: IncomingMessage): void => {
      const headers = endToEnd(upstreamRes.headers)
      if (skewMs !== 0) {
        // The server's clock, moved: its Date, and the Initiated times of a listing (read whole).
        if (typeof headers.date === 'string') headers.date = new Date(Date.parse(headers.date) + skewMs).toUTCString()
        const chunks: Buffer[] = []
        upstreamRes.on('data', (chunk: Buffer) => chunks.push(chunk))
        upstreamRes.once('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          const body = Buffer.from(text.replace(/<Initiated>([^<]+)<\/Initiated>/g, (_, at: string) => `<Initiated>${new Date(Date.parse(at) + skewMs).toISOString()}</Initiated>`))
          res.writeHead(upstreamRes.statusCode ?? 502, { ...headers, ...(method === 'HEAD' ? {} : { 'content-length': String(body.byteLength) }) })
          res.end(method === 'HEAD' ? undefined : body)
        })
        res.once('finish', () => settle(entry, upstreamRes.statusCode ?? 502))
        return
      }
      res.writeHead(upstreamRes.statusCode ?? 502, headers)
      upstreamRes.pipe(res)
      res.once('finish', () => settle(entry, upstreamRes.statusCode ?? 502))
    }
    const upstreamFailed = (): void => {
      if (!res.headersSent) sendError(res, entry, 502, 'BadGateway', method)
      else resetSocket(req.socket)
    }
    /** Forwards the request, then hands the whole upstream answer to `onBody`. */
    const forwardThenRead = (
      onBody: (upstreamRes: IncomingMessage, body: Buffer) => void | Promise<void>,
      mutate?: (chunk: Buffer, offset: number) => void,
      buffered = false,
    ): void => {
      const read = (upstreamRes: IncomingMessage): void => void readAll(upstreamRes).then((body) => onBody(upstreamRes, body), upstreamFailed)
      forward(req, res, entry, read, upstreamFailed, mutate, buffered)
    }

    switch (fault?.type) {
      case undefined:
        forward(req, res, entry, passThrough, upstreamFailed)
        return
      case 'error':
        void consume(req, entry).then((complete) => {
          if (complete) sendError(res, entry, fault.status, fault.code, method)
        })
        return
      case 'reset': {
        const limit = fault.afterBytes
        void consume(req, entry, () => entry.bodyBytes >= limit).then(() => {
          // Settle first: the close this causes must not read as the client hanging up.
          settle(entry, 'reset')
          resetSocket(req.socket)
        })
        return
      }
      case 'stall': {
        const limit = fault.afterBytes
        void consume(req, entry, limit === undefined ? undefined : () => entry.bodyBytes >= limit).then(() => {
          if (!req.socket.destroyed) settle(entry, 'stalled')
        })
        return
      }
      case 'error-in-200': {
        const answer = (): void => {
          const body = errorXml('InternalError', entry.seq)
          res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) })
          res.end(body)
          settle(entry, 200)
        }
        if (!fault.forward) {
          void consume(req, entry).then((complete) => {
            if (complete) answer()
          })
          return
        }
        forward(
          req,
          res,
          entry,
          (upstreamRes) => {
            if (upstreamRes.statusCode !== 200) {
              passThrough(upstreamRes)
              return
            }
            void readAll(upstreamRes).then(answer, upstreamFailed)
          },
          upstreamFailed,
        )
        return
      }
      case 'corrupt': {
        const length = Number(req.headers['content-length'] ?? 0)
        const at = Math.min(fault.atByte, length - 1)
        forwardThenRead(
          (upstreamRes, body) => {
            entry.upstreamCode = /<Code>([^<]*)<\/Code>/.exec(body.toString('utf8'))?.[1]
            res.writeHead(upstreamRes.statusCode ?? 502, endToEnd(upstreamRes.headers))
            res.end(body)
            settle(entry, upstreamRes.statusCode ?? 502)
          },
          (chunk, offset) => {
            if (at >= offset && at < offset + chunk.byteLength) chunk[at - offset] = (chunk[at - offset] as number) ^ 0xff
          },
        )
        return
      }
      case 'slow': {
        let bodyEnd: number | undefined
        /** When the client last heard from us (request body ended, or answer bytes went out). */
        let lastSent: number | undefined
        req.once('end', () => {
          bodyEnd = lastSent = performance.now()
        })
        let gap: 'headers' | 'body' = 'headers'
        res.once('close', () => {
          if (entry.outcome === 'client-closed' && lastSent !== undefined) entry.cut = { gap, silentMs: performance.now() - lastSent }
        })
        forwardThenRead(async (upstreamRes, body) => {
          const status = upstreamRes.statusCode ?? 502
          await pause(Math.max(0, fault.delayMs - (performance.now() - (bodyEnd ?? performance.now()))))
          if (res.destroyed) return
          res.once('finish', () => settle(entry, status))
          res.writeHead(status, endToEnd(upstreamRes.headers))
          if (body.byteLength >= 2 && method !== 'HEAD') {
            res.write(body.subarray(0, body.byteLength >> 1))
            lastSent = performance.now()
            gap = 'body'
            await pause(fault.delayMs)
            if (res.destroyed) return
            res.end(body.subarray(body.byteLength >> 1))
          } else {
            res.end(body)
          }
        }, undefined, true)
        return
      }
      case 'truncate':
        forwardThenRead((upstreamRes, body) => {
          const prefix = body.subarray(0, Math.max(0, Math.min(fault.keepBytes, body.byteLength - 1)))
          const headers = endToEnd(upstreamRes.headers)
          if (fault.framing === 'short') {
            res.once('finish', () => settle(entry, upstreamRes.statusCode ?? 502))
            res.writeHead(upstreamRes.statusCode ?? 502, { ...headers, 'content-length': String(prefix.byteLength) })
            res.end(prefix)
            return
          }
          res.writeHead(upstreamRes.statusCode ?? 502, headers)
          // A plain close (FIN, not RST) once the prefix is written: the client reads the
          // headers and the prefix, then the end of the connection, short of content-length.
          res.write(prefix, () => {
            settle(entry, 'truncated')
            req.socket.destroy()
          })
        })
        return
      case 'drop-response':
        // Wait for the whole upstream answer, so the upstream side surely happened.
        forwardThenRead(() => {
          settle(entry, 'dropped')
          resetSocket(req.socket)
        })
        return
    }
  }

  const server = createServer(handle)
  // Longer than the client's keep-alive: the client, not the proxy, closes idle connections, so
  // no request races a server-side close (which would be a fault nobody asked for).
  server.keepAliveTimeout = 30_000
  server.requestTimeout = 0
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    endpoint: `http://127.0.0.1:${port}`,
    log,
    addRule(rule) {
      rules.push({ rule, seen: 0 })
    },
    onRequest(listener) {
      arrivals.push(listener)
    },
    requests(kind, partNumber) {
      return log.filter((r) => r.kind === kind && (partNumber === undefined || r.partNumber === partNumber))
    },
    waitFor(predicate) {
      const found = log.find(predicate)
      if (found !== undefined) return Promise.resolve(found)
      return new Promise((resolve) => waiters.push({ predicate, resolve }))
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      await closed
      agent.destroy()
    },
  }
}
