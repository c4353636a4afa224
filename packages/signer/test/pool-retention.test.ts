// What an upload leaves alive once it has settled. An Error created in an `onProgress` listener
// (an abort's reason) keeps the upload's frames alive until its `stack` is read, and with them
// uploadFile's BufferPool: its free part buffers stayed live (24 MiB in the report) for as long
// as the caller held that error. The pool now drops them when the upload ends.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runInNewContext } from 'node:vm'
import { setFlagsFromString } from 'node:v8'
import { after, test } from 'node:test'
import { uploadFile } from '../src/index.ts'
import { BufferPool } from '../src/upload/buffer-pool.ts'
import { startStubServer } from './stub-server.ts'

const MiB = 1024 * 1024
const dir = mkdtempSync(join(tmpdir(), 'partstream-pool-'))
after(() => rmSync(dir, { recursive: true, force: true }))

test('BufferPool.clear drops the free buffers and any given back later', () => {
  const pool = new BufferPool(3, 8)
  const a = pool.take()
  const b = pool.take()
  pool.release(a)
  pool.clear()
  pool.release(b)
  const next = pool.take()
  assert.notEqual(next.buffer, a.buffer, 'not handed out again')
  assert.notEqual(next.buffer, b.buffer)
  assert.equal(pool.available, 2, 'the count still holds: 3 made at most, one out')
})

/** A full garbage collection, where the runtime offers one. */
function collector(): (() => void) | undefined {
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun
  if (bun !== undefined) return () => bun.gc(true)
  const own = (globalThis as { gc?: () => void }).gc
  if (typeof own === 'function') return own
  try {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as unknown
    return typeof gc === 'function' ? (gc as () => void) : undefined
  } catch {
    return undefined
  }
}

test("an aborted uploadFile whose reason the caller keeps (created in onProgress): its part buffers are not kept alive with it", { timeout: 60_000 }, async () => {
  const path = join(dir, 'big.bin')
  writeFileSync(path, new Uint8Array(24 * MiB).fill(7))
  const server = await startStubServer((req, res) => {
    // Slow answers: parts are in flight when the abort comes.
    setTimeout(() => res.writeHead(200, { etag: `"${createHash('md5').update(req.body).digest('hex')}"` }).end('<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>'), 50)
  })
  const gc = collector()
  const live = (): number => {
    gc?.()
    gc?.()
    return process.memoryUsage().arrayBuffers
  }
  try {
    const base = live()
    const controller = new AbortController()
    const reason = await uploadFile(path, { bucket: 'bkt', key: 'k', endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 's' } }, {
      partSize: 5 * MiB,
      concurrency: 2,
      retry: false,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === 'part-acked') controller.abort(new Error('stop'))
      },
    }).then(
      () => assert.fail('the upload should be aborted'),
      (error: unknown) => error,
    )
    assert.equal((reason as Error).message, 'stop')
    await new Promise((resolve) => setTimeout(resolve, 100))
    const held = live() - base
    // Its stack is not read: the frames it holds stay alive. Three 5 MiB buffers were held with them.
    if (gc !== undefined) assert.ok(held < 4 * MiB, `${(held / MiB).toFixed(1)} MiB of ArrayBuffers still live, with the error held`)
    assert.equal(controller.signal.reason, reason)
  } finally {
    await server.close()
  }
})
