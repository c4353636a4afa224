// `ifNoneMatch: true` with a single PutObject whose answer is lost, against Ceph RGW through the
// fault proxy: RGW writes the object and answers 200, the proxy resets the connection before the
// client reads it, and the retry meets our own object (412: RGW honours If-None-Match on
// PutObject). The object is then read back with HeadObject and the upload succeeds when it is
// ours (size and the body's MD5 as ETag), fails with ObjectExistsError when it is another
// writer's, and says it cannot tell (not "nothing was written") when the HeadObject is refused.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { before, describe, test } from 'node:test'
import { ObjectExistsError, S3ResponseError, upload, type UploadOptions, type UploadProgress } from '../../src/index.ts'
import { failOnUnhandledRejections } from '../fault/helpers.ts'
import { FAULTS, startFaultProxy, type FaultProxy } from '../fault/proxy.ts'
import { createBucket, getObject, randomData, s3Env, sha256, target } from './s3.ts'

failOnUnhandledRejections()

let bucket: string
before(async () => {
  bucket = await createBucket('ifnm-lost')
})

const OPTIONS: UploadOptions = { ifNoneMatch: true, retry: { attempts: 3, baseDelayMs: 1 } }

const md5 = (data: Uint8Array): string => createHash('md5').update(data).digest('hex')

/** Each request the proxy saw: kind, what RGW answered, what the client got. */
const trail = (proxy: FaultProxy): string[] => proxy.log.map((r) => `${r.kind} ${r.upstreamStatus ?? '-'} ${r.outcome}`)

describe('ifNoneMatch, one PutObject whose answer is lost (Ceph RGW, fault proxy)', () => {
  test('the retry meets our own object (412): read back, it is ours, the upload succeeds', async () => {
    const key = 'lost/ours'
    const data = randomData(1000, 1)
    const proxy = await startFaultProxy(s3Env().endpoint, [{ kind: 'PutObject', fault: FAULTS.dropResponse }])
    const events: string[] = []
    const onProgress = (e: UploadProgress): void => void events.push(e.type)
    try {
      const result = await upload([data], { ...target(bucket, key), endpoint: proxy.endpoint }, { ...OPTIONS, onProgress })
      assert.equal(result.etag, md5(data))
      assert.equal(result.size, data.byteLength)
      assert.equal(result.partCount, 1)
      assert.equal(result.uploadId, undefined)
      assert.deepEqual(trail(proxy), ['PutObject 200 dropped', 'PutObject 412 412', 'HeadObject 200 200'])
      assert.ok(events.includes('part-retried') && events.at(-1) === 'done', events.join(', '))
    } finally {
      await proxy.close()
    }
    assert.equal(sha256(await getObject(bucket, key)), sha256(data))
  })

  test('with a checksum: the HeadObject asks for it (RGW 16 reports none), the MD5 ETag decides', async () => {
    const key = 'lost/ours-crc32'
    const data = randomData(3000, 2)
    const proxy = await startFaultProxy(s3Env().endpoint, [{ kind: 'PutObject', fault: FAULTS.dropResponse }])
    try {
      const result = await upload([data], { ...target(bucket, key), endpoint: proxy.endpoint }, { ...OPTIONS, checksum: 'CRC32' })
      assert.equal(result.etag, md5(data))
      assert.equal(result.checksum?.algorithm, 'CRC32')
      assert.deepEqual(trail(proxy), ['PutObject 200 dropped', 'PutObject 412 412', 'HeadObject 200 200'])
    } finally {
      await proxy.close()
    }
    assert.equal(sha256(await getObject(bucket, key)), sha256(data))
  })

  test('another writer\'s object of the same size is there: read back, not ours, ObjectExistsError, nothing overwritten', async () => {
    const key = 'lost/theirs'
    const other = randomData(1000, 3)
    await upload([other], target(bucket, key))
    const proxy = await startFaultProxy(s3Env().endpoint, [{ kind: 'PutObject', fault: FAULTS.dropResponse }])
    try {
      await assert.rejects(upload([randomData(1000, 4)], { ...target(bucket, key), endpoint: proxy.endpoint }, OPTIONS), (e: unknown) => {
        assert.ok(e instanceof ObjectExistsError, String(e))
        assert.equal(e.code, 'ERR_PARTSTREAM_OBJECT_EXISTS')
        assert.equal((e.cause as { statusCode?: unknown }).statusCode, 412)
        return true
      })
      // The lost attempt was refused too (412): only the retry's answer reached the client.
      assert.deepEqual(trail(proxy), ['PutObject 412 dropped', 'PutObject 412 412', 'HeadObject 200 200'])
    } finally {
      await proxy.close()
    }
    assert.equal(sha256(await getObject(bucket, key)), sha256(other))
  })

  test('the HeadObject is refused (403): the outcome is unknown, said as such, never ObjectExistsError', async () => {
    const key = 'lost/unknown'
    const data = randomData(1000, 5)
    const proxy = await startFaultProxy(s3Env().endpoint, [
      { kind: 'PutObject', fault: FAULTS.dropResponse },
      { kind: 'HeadObject', fault: { type: 'error', status: 403, code: 'AccessDenied' } },
    ])
    try {
      await assert.rejects(upload([data], { ...target(bucket, key), endpoint: proxy.endpoint }, OPTIONS), (e: unknown) => {
        assert.ok(!(e instanceof ObjectExistsError), `not ObjectExistsError: ${String(e)}`)
        assert.ok(e instanceof S3ResponseError, String(e))
        assert.equal(e.code, 'ERR_PARTSTREAM_S3')
        assert.equal(e.statusCode, 412)
        assert.ok(e.attempt > 1)
        assert.match(e.message, /cannot be told/)
        assert.match(e.message, /HeadObject failed with HTTP 403/)
        assert.doesNotMatch(e.message, /nothing was written/)
        return true
      })
      assert.deepEqual(trail(proxy), ['PutObject 200 dropped', 'PutObject 412 412', 'HeadObject - 403'])
    } finally {
      await proxy.close()
    }
    assert.equal(sha256(await getObject(bucket, key)), sha256(data))
  })
})
