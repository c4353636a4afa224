// fetchTransport against the real S3 server on every runtime: the default on Bun, a choice on
// Node and Deno (Deno in its 'buffer' body mode, the only one its fetch sends with a length).
// Multipart uploads from chunk lists, the single PutObject, uploadFile, and an abort.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fetchTransport, InvalidArgumentError, upload, uploadFile, type UploadProgress } from '../../src/index.ts'
import { createBucket, getObject, openUploads, randomChunks, randomData, sha256, target } from './s3.ts'

const MiB = 1024 * 1024
const isDeno = 'Deno' in globalThis
let bucket: string
const dir = mkdtempSync(join(tmpdir(), 'partstream-fetch-'))

before(async () => {
  bucket = await createBucket('fetch')
})
after(() => rmSync(dir, { recursive: true, force: true }))

const modes: Array<'stream' | 'buffer' | undefined> = isDeno ? [undefined] : [undefined, 'buffer']

for (const mode of modes) {
  const transport = fetchTransport(mode === undefined ? {} : { body: mode })
  describe(`upload through fetchTransport(${mode === undefined ? '' : `{ body: '${mode}' }`})`, () => {
    test('13 MiB in random chunks: 3 parts of chunk lists, concurrency 2', async () => {
      const data = randomData(13 * MiB, 21)
      const key = `fetch/${mode ?? 'default'}/chunks`
      const result = await upload(randomChunks(data, 300_000, 21), target(bucket, key), { transport, partSize: 5 * MiB, concurrency: 2 })
      assert.equal(result.partCount, 3)
      assert.match(result.etag, /^[0-9a-f]{32}-3$/)
      assert.equal(sha256(await getObject(bucket, key)), sha256(data))
    })

    test('the empty stream and one small chunk: single PutObjects', async () => {
      for (const [name, data] of [['empty', new Uint8Array(0)], ['small', randomData(1000, 3)]] as const) {
        const key = `fetch/${mode ?? 'default'}/${name}`
        const result = await upload([data], target(bucket, key), { transport })
        assert.equal(result.partCount, 1)
        assert.deepEqual(await getObject(bucket, key), Buffer.from(data))
      }
    })

    test('uploadFile: 11 MiB in 3 parts', async () => {
      const data = randomData(11 * MiB, 22)
      const path = join(dir, `file-${mode ?? 'default'}.bin`)
      writeFileSync(path, data)
      const key = `fetch/${mode ?? 'default'}/file`
      const result = await uploadFile(path, target(bucket, key), { transport, partSize: 5 * MiB })
      assert.equal(result.partCount, 3)
      assert.equal(sha256(await getObject(bucket, key)), sha256(data))
    })

    test('keys with . or .. segments (the URL parser would remove them, so the path sent would not be the one signed): InvalidArgumentError before any request', async () => {
      for (const segmented of ['a/./b', 'a/../b', '.', 'x/..', '..']) {
        for (const size of [1, 12 * MiB]) {
          const key = `fetch/${mode ?? 'default'}/dots/${segmented}`
          await assert.rejects(upload(randomChunks(randomData(size, 5), MiB, 5), target(bucket, key), { transport, partSize: 5 * MiB }), (error: unknown) => {
            assert.ok(error instanceof InvalidArgumentError, `${segmented}: got ${String(error)}`)
            assert.match(error.message, /`\.` or `\.\.` segments.*undici/)
            return true
          })
        }
      }
      assert.deepEqual(await openUploads(bucket, `fetch/${mode ?? 'default'}/dots/`), [])
    })

    test('abort after the first part: rejects with signal.reason, the upload is aborted', async () => {
      const controller = new AbortController()
      const reason = new Error('user abort')
      const key = `fetch/${mode ?? 'default'}/aborted`
      const onProgress = (e: UploadProgress): void => {
        if (e.type === 'part-acked') controller.abort(reason)
      }
      const data = randomData(30 * MiB, 23)
      await assert.rejects(upload(randomChunks(data, 1 * MiB, 23), target(bucket, key), { transport, partSize: 5 * MiB, concurrency: 1, signal: controller.signal, onProgress }), (error: unknown) => error === reason)
      assert.deepEqual(await openUploads(bucket, key), [])
    })
  })
}
