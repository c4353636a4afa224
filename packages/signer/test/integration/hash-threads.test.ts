// uploadFile with `hashThreads` against the real S3 server: parts hashed in worker threads, in
// place in SharedArrayBuffers. RGW checks every part's x-amz-content-sha256 (a wrong digest is a
// 400), the object is read back and compared, and the headers each part went out with (payload
// hash, checksum, Content-MD5) equal those of the same upload hashed on the main thread.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { Agent } from 'undici'
import { fetchTransport, undiciTransport, uploadFile, type ChecksumAlgorithm, type Transport, type UploadOptions } from '../../src/index.ts'
import { createBucket, getObject, openUploads, randomData, sha256, target } from './s3.ts'

const MiB = 1024 * 1024
let bucket: string
const dir = mkdtempSync(join(tmpdir(), 'partstream-hash-threads-'))
before(async () => {
  bucket = await createBucket('hashthreads')
})
after(() => rmSync(dir, { recursive: true, force: true }))

/** Bun's `undici` import cannot send (see transport/resolve.ts): use fetch there, undici elsewhere. */
const BUN = typeof (globalThis as { Bun?: unknown }).Bun === 'object'

/** The hash headers of every request, by method and path (upload ids masked), in a stable order. */
function recording(): { transport: Transport; headers: () => string[]; close(): Promise<void> } {
  const agent = BUN ? undefined : new Agent()
  const inner = agent === undefined ? fetchTransport() : undiciTransport(agent)
  const seen: string[] = []
  return {
    transport: (req) => {
      const hashes = Object.entries(req.headers)
        .filter(([name]) => name === 'x-amz-content-sha256' || name === 'content-md5' || name.startsWith('x-amz-checksum-'))
        .sort()
      seen.push(`${req.method} ${req.path.replace(/uploadId=[^&]*/, 'uploadId=…')} ${JSON.stringify(hashes)}`)
      return inner(req)
    },
    headers: () => seen.filter((line) => !line.startsWith('GET') && !line.startsWith('HEAD')).sort(),
    close: async () => agent?.close(),
  }
}

function file(name: string, data: Uint8Array): string {
  const path = join(dir, name)
  writeFileSync(path, data)
  return path
}

describe('uploadFile with hashThreads against Ceph RGW', () => {
  const sizes: Array<[string, number, number]> = [
    ['0 B', 0, 1],
    ['1 B', 1, 1],
    ['exactly 6 MiB', 6 * MiB, 1],
    ['25 MiB + 3', 25 * MiB + 3, 5],
  ]
  for (const hashThreads of [1, 2]) {
    for (const [name, size, partCount] of sizes) {
      test(`hashThreads ${hashThreads}, ${name}: the object reads back equal`, async () => {
        const data = randomData(size, size + hashThreads)
        const key = `t${hashThreads}/${name}`
        const result = await uploadFile(file(`${hashThreads}-${size}.bin`, data), target(bucket, key), { hashThreads })
        assert.equal(result.size, size)
        assert.equal(result.partCount, partCount)
        assert.equal(sha256(await getObject(bucket, key)), sha256(data))
      })
    }
  }

  const modes: Array<[string, UploadOptions]> = [
    ['SHA-256 payload', {}],
    ['CRC64NVME', { checksum: 'CRC64NVME' satisfies ChecksumAlgorithm }],
    ['SHA256 checksum', { checksum: 'SHA256' }],
    ['unsigned + SHA1 + Content-MD5', { payload: 'unsigned', checksum: 'SHA1', contentMd5: true }],
    ['CRC32C + Content-MD5', { checksum: 'CRC32C', contentMd5: true }],
  ]
  for (const [name, options] of modes) {
    test(`${name}: every part goes out with the headers the main thread computes`, async (t) => {
      const size = 25 * MiB + 3
      const path = file(`modes-${name}.bin`, randomData(size, 99))
      const sent: Record<number, string[]> = {}
      for (const hashThreads of [0, 1, 2]) {
        const rec = recording()
        t.after(() => rec.close())
        const result = await uploadFile(path, target(bucket, `modes/${name}/${hashThreads}`), { ...options, partSize: 5 * MiB, hashThreads, transport: rec.transport })
        assert.equal(result.partCount, 6)
        sent[hashThreads] = rec.headers().map((line) => line.replace(`modes/${encodeURIComponent(name)}/${hashThreads}`, 'KEY'))
      }
      assert.ok((sent[0] as string[]).length >= 7, 'the parts and Complete were recorded')
      assert.deepEqual(sent[1], sent[0])
      assert.deepEqual(sent[2], sent[0])
    })
  }

  test('no upload is left open', async () => {
    assert.deepEqual(await openUploads(bucket), [])
  })
})
