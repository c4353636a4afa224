// A forward HTTP proxy, in process and on port 0, as a corporate one behaves: absolute-form
// requests (`PUT http://host/key HTTP/1.1`, what a client sends for an http:// URL) are forwarded,
// and `CONNECT host:port` opens a TCP tunnel (for https:// URLs; the proxy sees only TLS). It
// records what passed, can require Basic credentials (407 otherwise, as Squid answers), and can
// refuse everything with 407.
import { createServer, request, type IncomingMessage } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'

export interface ForwardProxy {
  /** `http://127.0.0.1:PORT`, without credentials. */
  readonly origin: string
  /** `http://user:password@127.0.0.1:PORT` for the credentials it requires (its origin when none). */
  readonly url: string
  /** Absolute-form requests forwarded: `METHOD URL`. */
  readonly forwarded: string[]
  /** CONNECT tunnels opened: `host:port`. */
  readonly tunnels: string[]
  /** Requests and CONNECTs answered 407. */
  denied: number
  close(): Promise<void>
}

export async function forwardProxy(options: { readonly user?: string; readonly password?: string; readonly refuse?: boolean } = {}): Promise<ForwardProxy> {
  const expected = options.user === undefined ? undefined : `Basic ${Buffer.from(`${options.user}:${options.password ?? ''}`).toString('base64')}`
  const allowed = (req: IncomingMessage): boolean => options.refuse !== true && (expected === undefined || req.headers['proxy-authorization'] === expected)
  const sockets = new Set<Socket>()
  const server = createServer((req, res) => {
    if (!allowed(req)) {
      proxy.denied++
      req.resume()
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"', 'content-type': 'text/plain' }).end('Proxy Authentication Required')
      return
    }
    const to = new URL(req.url ?? '/')
    proxy.forwarded.push(`${req.method} ${req.url}`)
    // Hop-by-hop headers for this proxy stay here; the rest (Host, the signature) goes on as sent.
    const headers = { ...req.headers }
    delete headers['proxy-authorization']
    delete headers['proxy-connection']
    const out = request({ host: to.hostname, port: to.port, method: req.method, path: to.pathname + to.search, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers)
      up.pipe(res)
    })
    out.on('error', () => res.destroy())
    req.on('error', () => out.destroy())
    req.pipe(out)
  })
  server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    if (!allowed(req)) {
      proxy.denied++
      socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n')
      return
    }
    proxy.tunnels.push(req.url ?? '')
    const [host, port] = (req.url ?? '').split(':')
    const upstream = connect(Number(port), host ?? '', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      upstream.write(head)
      upstream.pipe(socket)
      socket.pipe(upstream)
    })
    sockets.add(upstream)
    upstream.on('close', () => sockets.delete(upstream))
    upstream.on('error', () => socket.destroy())
    socket.on('close', () => upstream.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const proxy: ForwardProxy = {
    origin,
    url: options.user === undefined ? origin : `http://${encodeURIComponent(options.user)}:${encodeURIComponent(options.password ?? '')}@${origin.slice('http://'.length)}`,
    forwarded: [],
    tunnels: [],
    denied: 0,
    async close() {
      for (const socket of sockets) socket.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  return proxy
}
