/**
 * The floor under any CLI's `cp` on this machine, for `bench:cli -- --ceiling`: a bare uploader
 * that does only what cannot be skipped. It reads the source straight into 6 MiB part buffers
 * (a pipe as `partstream cp -` does, `net.Socket`'s `onread` on a non-blocking descriptor; a file
 * with positional reads), updates a SHA-256 per read, and sends each part with undici, 4 in
 * flight, to the bench sink: no signing, no retries, no checks, no CLI parsing, no progress.
 *
 *   node dist/src/cli-ceiling.js <endpoint> <path | ->
 *
 * partstream ÷ this, from the same invocation, is the share of the machine's limit that the CLI
 * reaches. It is not an S3 client (the sink checks no signature) and is not published.
 */
import { createHash } from 'node:crypto'
import { closeSync, constants, fstatSync, openSync, read } from 'node:fs'
import { Socket, type SocketConstructorOpts } from 'node:net'
import type { Agent as AgentClass, Dispatcher } from 'undici'
// undici's Agent and request from their own files, as partstream loads them (its entry point
// costs ~100 ms and 7 MiB at start: packages/signer/src/transport/undici-parts.ts).
// @ts-expect-error undici ships types for its entry point only.
import AgentImpl from 'undici/lib/dispatcher/agent.js'
// @ts-expect-error undici ships types for its entry point only.
import requestImpl from 'undici/lib/api/api-request.js'

const Agent: typeof AgentClass = AgentImpl
const request: (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData> = requestImpl

const PART = 6 * 1024 * 1024
const CONCURRENCY = 4
const [endpoint, source] = process.argv.slice(2)
if (endpoint === undefined || source === undefined) {
  process.stderr.write('usage: cli-ceiling <endpoint> <path | ->\n')
  process.exit(2)
}
const origin = new URL(endpoint).origin
const base = '/bench/object'
const dispatcher = new Agent({ connections: CONCURRENCY, pipelining: 1 })

async function call(method: Dispatcher.HttpMethod, path: string, body: Uint8Array | string | null = null, headers: Record<string, string> = {}): Promise<{ etag: string; text: string }> {
  const response = await request.call(dispatcher, { origin, path, method, body, headers })
  const text = await response.body.text()
  if (response.statusCode !== 200) throw new Error(`${method} ${path}: ${response.statusCode} ${text}`)
  return { etag: String(response.headers['etag'] ?? ''), text }
}

/** Fills `buffer` from the source; resolves with the bytes read (less than its length only at the end). */
type Fill = (buffer: Uint8Array, onChunk: (chunk: Uint8Array) => void) => Promise<number>

function fileFill(fd: number): Fill {
  let position = 0
  return async (buffer, onChunk) => {
    let at = 0
    while (at < buffer.byteLength) {
      const n = await new Promise<number>((resolve, reject) => read(fd, buffer, at, buffer.byteLength - at, position, (e, bytes) => (e ? reject(e) : resolve(bytes))))
      if (n === 0) break
      onChunk(buffer.subarray(at, at + n))
      at += n
      position += n
    }
    return at
  }
}

function pipeFill(fd: number): Fill {
  const own = openSync(`/proc/self/fd/${fd}`, constants.O_RDONLY | constants.O_NONBLOCK)
  let target: { buffer: Uint8Array; at: number; onChunk: (chunk: Uint8Array) => void; resolve: (n: number) => void } | undefined
  let ended = false
  const scratch = new Uint8Array(64 * 1024) // one pipe's capacity: a read never exceeds it
  const settle = (): false => {
    const t = target as NonNullable<typeof target>
    target = undefined
    socket.pause()
    t.resolve(t.at)
    return false
  }
  const onread = {
    buffer: () => (target === undefined ? scratch : target.buffer.subarray(target.at)),
    callback: (n: number, landed: Uint8Array): boolean => {
      if (target === undefined) throw new Error('a read with no part waiting')
      // Node asked for the landing buffer before this part was waiting: the first read after a
      // pause lands in the scratch buffer (as in partstream) and is copied.
      if (landed === scratch) target.buffer.set(scratch.subarray(0, n), target.at)
      target.onChunk(target.buffer.subarray(target.at, target.at + n))
      target.at += n
      return target.at < target.buffer.byteLength ? true : settle()
    },
  }
  const socket = new Socket({ fd: own, readable: true, writable: false, onread } as SocketConstructorOpts)
  socket.pause()
  socket.on('end', () => {
    ended = true
    if (target !== undefined) settle()
  })
  return (buffer, onChunk) =>
    ended
      ? Promise.resolve(0)
      : new Promise((resolve) => {
          target = { buffer, at: 0, onChunk, resolve }
          socket.resume()
        })
}

const fd = source === '-' ? 0 : openSync(source, 'r')
const fill = source === '-' && !fstatSync(fd).isFile() ? pipeFill(fd) : fileFill(fd)
const created = await call('POST', `${base}?uploads`)
const uploadId = /<UploadId>(.*?)<\/UploadId>/.exec(created.text)?.[1] as string
const free = Array.from({ length: CONCURRENCY + 1 }, () => new Uint8Array(PART))
const waiting: ((buffer: Uint8Array<ArrayBuffer>) => void)[] = []
const release = (buffer: Uint8Array<ArrayBuffer>): void => {
  const next = waiting.shift()
  if (next === undefined) free.push(buffer)
  else next(buffer)
}
const etags: string[] = []
const sends: Promise<void>[] = []
for (let partNumber = 1; ; partNumber++) {
  const buffer = free.pop() ?? (await new Promise<Uint8Array<ArrayBuffer>>((resolve) => waiting.push(resolve)))
  const hash = createHash('sha256')
  const n = await fill(buffer, (chunk) => hash.update(chunk))
  if (n === 0 && partNumber > 1) break
  const sha256 = hash.digest('hex')
  sends.push(
    call('PUT', `${base}?partNumber=${partNumber}&uploadId=${uploadId}`, buffer.subarray(0, n), { 'x-amz-content-sha256': sha256 }).then(({ etag }) => {
      etags[partNumber - 1] = etag
      release(buffer)
    }),
  )
  if (n < PART) break
}
await Promise.all(sends)
const parts = etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag}</ETag></Part>`).join('')
await call('POST', `${base}?uploadId=${uploadId}`, `<CompleteMultipartUpload>${parts}</CompleteMultipartUpload>`)
if (fd !== 0) closeSync(fd)
await dispatcher.close()
process.exit(0)
