// `ifNoneMatch: true` against Ceph RGW, with every request captured by a recording transport:
// the header goes where S3 honours it (PutObject, CompleteMultipartUpload) and nowhere else, a
// taken key fails with ObjectExistsError before gigabytes are sent, a key taken while uploading
// fails before Complete (RGW 16 ignores the header on Complete, so the HeadObject check is what
// protects the object there), and AWS's atomic answer (412 on Complete) maps to the same error.
import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { ObjectExistsError, upload, type TransportRequest, type UploadOptions } from '../../src/index.ts'
import { deferred, fixedChunks } from '../fault/helpers.ts'
import { startFaultProxy } from '../fault/proxy.ts'
import { kind, recording } from './recording.ts'
import { createBucket, getObject, openUploads, randomData, s3Env, sha256, target } from './s3.ts'

const MiB = 1024 * 1024
let bucket: string
before(async () => {
  bucket = await createBucket('ifnm')
})

const summary = (sent: readonly TransportRequest[]): string[] => sent.map((r) => `${kind(r)}${r.headers['if-none-match'] === undefined ? '' : ' if-none-match'}`)

const OPTIONS: UploadOptions = { partSize: 5 * MiB, concurrency: 2, ifNoneMatch: true }

describe('ifNoneMatch on Ceph RGW, requests captured', () => {
  test('a free key: If-None-Match on PutObject and on Complete, never on Create or UploadPart', async () => {
    const rec = recording()
    try {
      const small = randomData(1000, 1)
      await upload([small], target(bucket, 'free/small'), { ...OPTIONS, transport: rec.transport })
      const data = randomData(13 * MiB, 2)
      const result = await upload(fixedChunks(data, MiB), target(bucket, 'free/large'), { ...OPTIONS, transport: rec.transport })
      assert.equal(result.partCount, 3)
      assert.deepEqual(summary(rec.sent), [
        'PutObject if-none-match',
        'Head', // the key is free: checked before anything is sent
        'Create',
        'UploadPart',
        'UploadPart',
        'UploadPart',
        'Head', // still free just before Complete
        'Complete if-none-match',
        'Head', // RGW's Complete has no ETag: read back and verified
      ])
      assert.equal(sha256(await getObject(bucket, 'free/large')), sha256(data))
    } finally {
      await rec.close()
    }
  })

  test('a taken key, single PutObject: ObjectExistsError from RGW\'s 412, the object is unchanged', async () => {
    const key = 'taken/small'
    const original = randomData(100, 3)
    await upload([original], target(bucket, key))
    await assert.rejects(upload([randomData(100, 4)], target(bucket, key), OPTIONS), (e: unknown) => {
      assert.ok(e instanceof ObjectExistsError)
      assert.equal(e.code, 'ERR_PARTSTREAM_OBJECT_EXISTS')
      assert.equal(e.key, key)
      assert.equal((e.cause as { statusCode?: unknown }).statusCode, 412)
      return true
    })
    assert.equal(sha256(await getObject(bucket, key)), sha256(original))
  })

  test('a taken key, multipart: ObjectExistsError before CreateMultipartUpload, nothing sent, the object is unchanged', async () => {
    const key = 'taken/large'
    const original = randomData(100, 5)
    await upload([original], target(bucket, key))
    const rec = recording()
    let pulled = 0
    async function* source(): AsyncGenerator<Uint8Array> {
      for (const chunk of fixedChunks(randomData(13 * MiB, 6), MiB)) {
        pulled++
        yield chunk
      }
    }
    try {
      await assert.rejects(upload(source(), target(bucket, key), { ...OPTIONS, transport: rec.transport }), ObjectExistsError)
      assert.deepEqual(summary(rec.sent), ['Head'])
      assert.ok(pulled <= 7, `only the first part was read (${pulled} chunks)`)
    } finally {
      await rec.close()
    }
    assert.equal(sha256(await getObject(bucket, key)), sha256(original))
    assert.deepEqual(await openUploads(bucket, key), [])
  })

  test('a key taken while uploading: ObjectExistsError before Complete, the upload aborted, the other object kept', async () => {
    const key = 'race/large'
    const gate = deferred()
    const atGate = deferred()
    async function* source(): AsyncGenerator<Uint8Array> {
      let n = 0
      for (const chunk of fixedChunks(randomData(13 * MiB, 7), MiB)) {
        if (n++ === 8) {
          atGate.resolve()
          await gate.promise
        }
        yield chunk
      }
    }
    const rec = recording()
    const uploading = upload(source(), target(bucket, key), { ...OPTIONS, transport: rec.transport })
    await atGate.promise
    const other = randomData(200, 8)
    await upload([other], target(bucket, key)) // another writer wins the key meanwhile
    gate.resolve()
    try {
      await assert.rejects(uploading, (e: unknown) => e instanceof ObjectExistsError && typeof e.uploadId === 'string')
      const kinds = summary(rec.sent)
      assert.ok(!kinds.some((k) => k.startsWith('Complete')), `no Complete was sent: ${kinds.join(', ')}`)
      assert.equal(kinds.at(-1), 'Abort')
    } finally {
      await rec.close()
    }
    assert.equal(sha256(await getObject(bucket, key)), sha256(other))
    assert.deepEqual(await openUploads(bucket, key), [])
  })

  test('AWS\'s atomic answer: a 412 on Complete is ObjectExistsError and the upload is aborted', async () => {
    const key = 'aws/412'
    const proxy = await startFaultProxy(s3Env().endpoint, [
      { kind: 'CompleteMultipartUpload', fault: { type: 'error', status: 412, code: 'PreconditionFailed' } },
    ])
    try {
      await assert.rejects(
        upload(fixedChunks(randomData(11 * MiB, 9), MiB), { ...target(bucket, key), endpoint: proxy.endpoint }, { ...OPTIONS, retry: { attempts: 3, baseDelayMs: 1 } }),
        (e: unknown) => e instanceof ObjectExistsError && typeof e.uploadId === 'string' && (e.cause as { s3Code?: unknown }).s3Code === 'PreconditionFailed',
      )
      assert.equal(proxy.requests('CompleteMultipartUpload').length, 1, 'a 412 is not retried')
      assert.equal(proxy.requests('AbortMultipartUpload').length, 1)
    } finally {
      await proxy.close()
    }
    assert.deepEqual(await openUploads(bucket, key), [])
  })
})
