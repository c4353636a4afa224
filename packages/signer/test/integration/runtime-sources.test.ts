// The byte sources each runtime hands its users, uploaded to the real S3 server and read back:
// a web ReadableStream (everywhere), a Node Readable (everywhere node:stream exists: Node, Deno,
// Bun), Deno.open(…).readable on Deno, Bun.file(…).stream() on Bun. Tests for another runtime's
// native source are not registered (not skipped): each runtime counts only what it runs.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { upload, uploadFile } from '../../src/index.ts'
import { createBucket, getObject, randomChunks, randomData, sha256, target } from './s3.ts'

const MiB = 1024 * 1024

/** The runtime-specific globals used here, typed structurally (tsc sees only @types/node). */
interface DenoGlobal {
  open(path: string): Promise<{ readonly readable: ReadableStream<Uint8Array> }>
}
interface BunGlobal {
  file(path: string): { stream(): ReadableStream<Uint8Array> }
}
const deno = (globalThis as { Deno?: DenoGlobal }).Deno
const bun = (globalThis as { Bun?: BunGlobal }).Bun

let bucket: string
const dir = mkdtempSync(join(tmpdir(), 'partstream-sources-'))

before(async () => {
  bucket = await createBucket('sources')
})
after(() => rmSync(dir, { recursive: true, force: true }))

/** A 13 MiB file (3 parts at 5 MiB) of seeded bytes. */
function dataFile(name: string, size: number): { path: string; data: Uint8Array } {
  const data = randomData(size, size + name.length)
  const path = join(dir, name)
  writeFileSync(path, data)
  return { path, data }
}

async function roundTrip(key: string, source: AsyncIterable<Uint8Array>, data: Uint8Array, partCount: number): Promise<void> {
  const result = await upload(source, target(bucket, key), { partSize: 5 * MiB })
  assert.equal(result.size, data.byteLength)
  assert.equal(result.partCount, partCount)
  assert.equal(sha256(await getObject(bucket, key)), sha256(data))
}

describe('sources native to the runtime', () => {
  test('web ReadableStream (pull-based, random chunk sizes): 13 MiB in 3 parts', async () => {
    const data = randomData(13 * MiB, 5)
    const chunks = randomChunks(data, 200_000, 5)
    let cancelled = false
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.next()
        if (next.done === true) controller.close()
        else controller.enqueue(next.value)
      },
      cancel() {
        cancelled = true
      },
    })
    await roundTrip('web-readable-stream', stream, data, 3)
    assert.equal(cancelled, false)
  })

  test('web ReadableStream of bytes (type: "bytes"), a single small part', async () => {
    const data = randomData(100_000, 6)
    let offset = 0
    const stream = new ReadableStream({
      type: 'bytes',
      pull(controller) {
        if (offset >= data.byteLength) return controller.close()
        // A copy: a byte stream transfers (detaches) what is enqueued, and Buffer#slice is a view.
        controller.enqueue(Uint8Array.from(data.subarray(offset, offset + 16_384)))
        offset += 16_384
      },
    })
    await roundTrip('web-byte-stream', stream, data, 1)
  })

  test('web ReadableStream: an upload that fails cancels the stream', async () => {
    let cancelled = false
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue('not bytes' as never)
      },
      cancel() {
        cancelled = true
      },
    })
    await assert.rejects(upload(stream, target(bucket, 'web-invalid')), { code: 'ERR_PARTSTREAM_INVALID_CHUNK' })
    assert.ok(cancelled, 'the ReadableStream was cancelled (its iterator return() ran)')
  })

  test('Node Readable (node:stream, fs-like 64 KiB chunks): 11 MiB in 3 parts', async () => {
    const data = randomData(11 * MiB, 7)
    await roundTrip('node-readable', Readable.from(randomChunks(data, 64 * 1024, 7)), data, 3)
  })

  if (deno !== undefined) {
    test('Deno.open(path).readable: 13 MiB in 3 parts', async () => {
      const { path, data } = dataFile('deno-open.bin', 13 * MiB)
      const file = await deno.open(path)
      await roundTrip('deno-open-readable', file.readable, data, 3)
    })
  }

  if (bun !== undefined) {
    test('Bun.file(path).stream(): 13 MiB in 3 parts', async () => {
      const { path, data } = dataFile('bun-file.bin', 13 * MiB)
      await roundTrip('bun-file-stream', bun.file(path).stream(), data, 3)
    })
  }

  test('uploadFile (node:fs/promises positional reads): 12 MiB + 1 in 3 parts', async () => {
    const { path, data } = dataFile('upload-file.bin', 12 * MiB + 1)
    const result = await uploadFile(path, target(bucket, 'upload-file'), { partSize: 5 * MiB })
    assert.equal(result.size, data.byteLength)
    assert.equal(result.partCount, 3)
    assert.equal(sha256(await getObject(bucket, 'upload-file')), sha256(data))
  })
})
