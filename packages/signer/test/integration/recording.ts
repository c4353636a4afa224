// A transport that records every request it sends to the real server, and names the S3 call
// each one is: for tests that check which headers go on which request.
import { Agent } from 'undici'
import { fetchTransport, undiciTransport, type Transport, type TransportRequest } from '../../src/index.ts'

/** Bun's `undici` import cannot send (see transport/resolve.ts): use fetch there, undici elsewhere. */
const BUN = typeof (globalThis as { Bun?: unknown }).Bun === 'object'

/** A transport that records what it sends (method, query, headers), then sends it. */
export function recording(): { transport: Transport; sent: TransportRequest[]; close(): Promise<void> } {
  const agent = BUN ? undefined : new Agent()
  const inner = agent === undefined ? fetchTransport() : undiciTransport(agent)
  const sent: TransportRequest[] = []
  return {
    sent,
    transport: (req) => {
      sent.push(req)
      return inner(req)
    },
    close: async () => agent?.close(),
  }
}

/** The S3 call a captured request is. */
export function kind(req: TransportRequest): string {
  const q = new URL(req.path, 'http://x').searchParams
  if (req.method === 'POST') return q.has('uploads') ? 'Create' : 'Complete'
  if (req.method === 'PUT') return q.has('partNumber') ? 'UploadPart' : 'PutObject'
  if (req.method === 'HEAD') return 'Head'
  if (req.method === 'DELETE') return 'Abort'
  return req.method
}
