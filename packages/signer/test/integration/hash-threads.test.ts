// uploadFile with `hashThreads` against the real S3 server: parts hashed in worker threads, in
// place in SharedArrayBuffers. RGW checks every part's x-amz-content-sha256 (a wrong digest is a
// 400), the object is read back and compared, and the headers each part went out with (payload
// hash, checksum, Content-MD5) equal those of the same upload hashed on the main thread.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { Agent } from 'undici'
import { fetchTransport, HashWorkerError, undiciTransport, uploadFile, type ChecksumAlgorithm, type Transport, type UploadOptions } from '../../src/index.ts'
import { hashWorkerScript } from '../../src/upload/hash-pool.ts'
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
      test(`hashThreads ${hashThreads}, ${name}: every part hashed by a worker, the object reads back equal`, async (t) => {
        // Not even the first parts hashed inline while the workers load.
        hashWorkerScript.inlineUntilReady = false
        t.after(() => {
          hashWorkerScript.inlineUntilReady = true
        })
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
    test(`${name}: every part goes out with the headers the main thread computes (inline until a worker is ready, then in workers)`, async (t) => {
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

  test('a hash worker that crashes mid-upload: ERR_PARTSTREAM_HASH_WORKER, the multipart upload aborted', async () => {
    // Answers the first two parts with their true SHA-256 (node:crypto), then crashes.
    const crash = join(dir, 'crash-third.mjs')
    writeFileSync(
      crash,
      "import { parentPort } from 'node:worker_threads'\nimport { createHash } from 'node:crypto'\nlet jobs = 0\n" +
        "parentPort.on('message', (r) => {\n  if (++jobs === 3) throw new Error('boom on part 3')\n" +
        "  const sha256 = createHash('sha256').update(new Uint8Array(r.buffer, r.offset, r.length)).digest()\n" +
        "  parentPort.postMessage({ id: r.id, sha256: new Uint8Array(sha256), checksum: undefined, md5: undefined })\n})\n",
    )
    const path = file('crash.bin', randomData(25 * MiB + 3, 5))
    hashWorkerScript.url = pathToFileURL(crash)
    hashWorkerScript.inlineUntilReady = false // every part goes to the worker, ready or not
    try {
      const error: unknown = await uploadFile(path, target(bucket, 'crash/object'), { hashThreads: 1, partSize: 5 * MiB, concurrency: 1 }).then(
        () => assert.fail('resolved'),
        (e: unknown) => e,
      )
      assert.ok(error instanceof HashWorkerError, String(error))
      assert.equal(error.code, 'ERR_PARTSTREAM_HASH_WORKER')
      assert.ok(error.uploadId !== undefined, 'the multipart upload existed (parts 1 and 2 were hashed)')
    } finally {
      hashWorkerScript.url = undefined // the default script
      hashWorkerScript.inlineUntilReady = true
    }
    assert.deepEqual(await openUploads(bucket, 'crash/'), [])
  })

  test('a hash worker that cannot load fails the upload with ERR_PARTSTREAM_HASH_WORKER (not every part hashed inline unannounced); nothing left open', async () => {
    // The default mode: parts are hashed on the main thread until a worker is ready. Each request
    // waits 300 ms, so the worker's load failure (tens of ms; hundreds under load) comes before
    // the last of the 6 parts is hashed.
    const path = file('no-worker.bin', randomData(25 * MiB + 3, 7))
    hashWorkerScript.url = pathToFileURL(join(dir, 'no-such-worker.mjs'))
    const rec = recording()
    const slow: Transport = async (req) => {
      await new Promise((resolve) => setTimeout(resolve, 300))
      return rec.transport(req)
    }
    try {
      const error: unknown = await uploadFile(path, target(bucket, 'no-worker/object'), { hashThreads: 1, partSize: 5 * MiB, concurrency: 1, transport: slow }).then(
        () => assert.fail('resolved: every part was hashed on the main thread and nobody was told'),
        (e: unknown) => e,
      )
      assert.ok(error instanceof HashWorkerError, String(error))
      assert.match(error.message, /could not start .*no-such-worker\.mjs/)
      // Where the failure comes before the first part is hashed (Bun reports a missing script at
      // once), no multipart upload was created; elsewhere it was, and is aborted: none is left.
    } finally {
      hashWorkerScript.url = undefined // the default script
      await rec.close()
    }
    assert.deepEqual(await openUploads(bucket, 'no-worker/'), [])
  })

  test('abort mid-upload: rejects with the reason, nothing left open, workers gone', async () => {
    const path = file('abort.bin', randomData(25 * MiB + 3, 6))
    const controller = new AbortController()
    const reason = new Error('stop hashing')
    const promise = uploadFile(path, target(bucket, 'abort/object'), {
      hashThreads: 2,
      partSize: 5 * MiB,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === 'part-acked') controller.abort(reason)
      },
    })
    await assert.rejects(promise, (e: unknown) => e === reason)
    assert.deepEqual(await openUploads(bucket, 'abort/'), [])
  })

  test('no upload is left open', async () => {
    assert.deepEqual(await openUploads(bucket), [])
  })
})
