// A pass-through HTTP proxy in front of the S3 server that can hold UploadPart requests from a
// given part number on, and AbortMultipartUpload requests after a given count (never answered), or
// hold back the server's answer to any request: a CLI run through it stops at a known point, with the
// earlier parts acknowledged, so a test can kill it there without racing the upload. It also
// counts the part bytes that reached the server (what a resume saves), and can cut every
// connection (a network loss). The client signs for the
// proxy's host, which is forwarded unchanged, so the signature still verifies. With `tls` it
// serves HTTPS (and forwards over plain HTTP): what a client sends to an https endpoint.
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import { writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { generate } from 'selfsigned'

export interface StallProxy {
  readonly endpoint: string
  /** UploadPart requests with `partNumber >= stallFrom` are held; `Infinity` passes everything. */
  stallFrom: number
  /** DELETE requests (AbortMultipartUpload) after the first `abortsPassed` are held; `Infinity` passes everything. */
  abortsPassed: number
  /** AbortMultipartUpload of these upload ids is answered 403 AccessDenied (S3's XML), not forwarded. */
  readonly refuseAborts: Set<string>
  /**
   * Called once a CompleteMultipartUpload has arrived whole (its body too: the client's transport
   * took it, which is when the library counts it as sent; Bun's fetch sends the headers before it
   * pulls the body); the request is forwarded once it settles.
   */
  beforeComplete: (() => Promise<void>) | undefined
  /**
   * Called when the server answered a request (it did what was asked: created the upload, wrote
   * the object); a promise returned holds the answer back from the client until it settles.
   */
  holdAnswer: ((request: { readonly method: string; readonly url: string }) => Promise<void> | undefined) | undefined
  /** Bytes of UploadPart bodies forwarded to the server so far. */
  partBytes: number
  /** The network is gone: held requests and every new one have their connection cut. */
  down: boolean
  /** Every request seen: method, URL and headers (what the client sent, as the server gets it). */
  readonly requests: Array<{ method: string; url: string; headers: IncomingHttpHeaders }>
  close(): Promise<void>
}

export async function stallProxy(upstream: string, tls?: { readonly key: string; readonly cert: string }): Promise<StallProxy> {
  const to = new URL(upstream)
  const held: ServerResponse[] = []
  let down = false
  const proxy: StallProxy = {
    endpoint: '',
    stallFrom: Number.POSITIVE_INFINITY,
    abortsPassed: Number.POSITIVE_INFINITY,
    beforeComplete: undefined,
    holdAnswer: undefined,
    refuseAborts: new Set(),
    partBytes: 0,
    requests: [],
    get down() {
      return down
    },
    set down(value: boolean) {
      down = value
      if (value) for (const res of held.splice(0)) res.socket?.destroy()
    },
    async close() {
      for (const res of held) res.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    proxy.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers })
    if (down) {
      req.socket.destroy()
      return
    }
    const partNumber = Number(new URL(req.url ?? '/', 'http://proxy').searchParams.get('partNumber') ?? 0)
    if (req.method === 'PUT' && partNumber > 0) {
      if (partNumber >= proxy.stallFrom) {
        held.push(res) // never answered: the client waits until it is killed
        return
      }
      req.on('data', (chunk: Buffer) => (proxy.partBytes += chunk.byteLength))
    }
    if (req.method === 'DELETE' && proxy.refuseAborts.has(new URL(req.url ?? '/', 'http://proxy').searchParams.get('uploadId') ?? '')) {
      res.writeHead(403, { 'content-type': 'application/xml' }).end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>')
      return
    }
    if (req.method === 'DELETE' && proxy.requests.filter((q) => q.method === 'DELETE').length > proxy.abortsPassed) {
      held.push(res)
      return
    }
    const forward = (body?: Buffer): void => {
      const out = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        const relay = (): void => {
          res.writeHead(up.statusCode ?? 502, up.headers)
          up.pipe(res)
        }
        const held = proxy.holdAnswer?.({ method: req.method ?? '', url: req.url ?? '' })
        if (held === undefined) relay()
        else held.then(relay, () => res.destroy())
      })
      out.on('error', () => res.destroy())
      if (body !== undefined) {
        out.end(body)
        return
      }
      req.on('error', () => out.destroy())
      req.pipe(out)
    }
    const completing = req.method === 'POST' && new URL(req.url ?? '/', 'http://proxy').searchParams.has('uploadId')
    const beforeComplete = proxy.beforeComplete
    if (completing && beforeComplete !== undefined) {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('error', () => res.destroy())
      req.on('end', () => {
        beforeComplete().then(() => forward(Buffer.concat(chunks)), () => res.destroy())
      })
    } else forward()
  }
  const server = tls === undefined ? createServer(handle) : createTlsServer(tls, handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  ;(proxy as { endpoint: string }).endpoint = `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${(server.address() as AddressInfo).port}`
  return proxy
}

/**
 * A certificate for 127.0.0.1 (EC P-256, the IP as subjectAltName) for the proxy's `tls`, and
 * the path of its PEM in `dir`, which the CLI is made to trust (`--ca-bundle`, NODE_EXTRA_CA_CERTS).
 */
export async function localhostCertificate(dir: string, name: string): Promise<{ key: string; cert: string; certPath: string }> {
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  })
  const certPath = join(dir, name)
  writeFileSync(certPath, pems.cert)
  return { key: pems.private, cert: pems.cert, certPath }
}
