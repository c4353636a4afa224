// An in-process node:http server on 127.0.0.1, port 0, that stands in for an S3 endpoint in the
// tests that need no real S3: each request is read whole, then handed to the test's handler.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One request as the stub server saw it, body read whole. */
export interface StubRequest {
  readonly method: string
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly body: Buffer
}

export interface StubServer {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string
  /** Drops every connection and stops listening. */
  close(): Promise<void>
}

export async function startStubServer(handle: (req: StubRequest, res: ServerResponse) => void): Promise<StubServer> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => handle({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) }, res))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
