// A file posted from an HTML form, put in S3 by the server that receives it: the web `Request`
// parses the multipart body into `File`s, and `upload(file, …)` reads each through its stream,
// with its size as the size hint and its type as the object's content type. The same code fits a
// fetch-style framework (Hono's `c.req.parseBody()` and `c.req.formData()` give the same `File`s).
// Without arguments the example is its own client: it posts a generated file to itself.
//
// `formData()` holds each file in memory (undici's parser reads the whole body): fine for form
// uploads of a few MiB. For large bodies, pass `request.body` (a stream) to `upload()` instead, as
// `http-to-s3.ts` does, and the memory bound is partstream's.
import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { upload } from '@partstream/signer'

const server = createServer((req, res) => {
  receive(req).then(
    (stored) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stored)),
    (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(error instanceof Error ? error.message : String(error)),
  )
})

/** Every file field of the posted form, uploaded under `uploads/<its name>`. */
async function receive(req: IncomingMessage): Promise<Array<{ key: string; size: number; contentType: string }>> {
  const request = new Request(`http://localhost${req.url ?? '/'}`, {
    method: req.method ?? 'POST',
    headers: req.headers as Record<string, string>,
    body: Readable.toWeb(req) as ReadableStream<Uint8Array>,
    duplex: 'half', // a streamed request body (Node's fetch requires it)
  } as RequestInit)
  const stored = []
  for (const [, value] of await request.formData()) {
    if (typeof value === 'string') continue
    const key = `uploads/${value.name}`
    const result = await upload(value, { bucket: 'logs', key, endpoint: process.env['S3_ENDPOINT'] })
    stored.push({ key, size: result.size, contentType: value.type })
  }
  return stored
}

await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
try {
  // The client side: a 7 MiB CSV file in a form, as a browser would post it.
  const bytes = new TextEncoder().encode('id,value\n'.concat(Array.from({ length: 400_000 }, (_, i) => `${i},${(i * 7919) % 10007}`).join('\n')))
  const form = new FormData()
  form.append('note', 'a text field is not a file')
  form.append('report', new File([bytes], 'report.csv', { type: 'text/csv' }))
  const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { method: 'POST', body: form })
  if (!response.ok) throw new Error(`POST: HTTP ${response.status} ${await response.text()}`)
  for (const { key, size, contentType } of (await response.json()) as Array<{ key: string; size: number; contentType: string }>) {
    console.log(`s3://logs/${key}: ${size} bytes, ${contentType}, sha256 ${createHash('sha256').update(bytes).digest('hex')}`)
  }
} finally {
  server.close()
}
