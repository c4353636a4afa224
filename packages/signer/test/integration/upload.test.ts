// Uploads against the real S3 server (Ceph RGW): every object is read back and compared by SHA-256.
import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { createS3Context, CredentialsError, headObject, InvalidChunkError, S3ResponseError, upload, UploadFailedError, type UploadProgress } from '../../src/index.ts'
import { createBucket, getObject, openUploads, randomChunks, randomData, sha256, target } from './s3.ts'

const MiB = 1024 * 1024
let bucket: string

before(async () => {
  bucket = await createBucket('upload')
})

/** A source that records whether its `finally` ran (i.e. `return()` reached it). */
function tracked<T>(items: Iterable<T>, hooks: { throwAt?: number; error?: unknown } = {}) {
  const state = { closed: false, pulled: 0 }
  async function* gen(): AsyncGenerator<T> {
    try {
      for (const item of items) {
        if (hooks.throwAt === state.pulled) throw hooks.error
        state.pulled++
        yield item
      }
    } finally {
      state.closed = true
    }
  }
  return { source: gen(), state }
}

describe('upload to Ceph RGW: sizes around part boundaries', () => {
  const cases: Array<[string, number, number]> = [
    ['empty stream', 0, 1],
    ['1 byte', 1, 1],
    ['6 MiB - 1', 6 * MiB - 1, 1],
    ['exactly 6 MiB', 6 * MiB, 1],
    ['6 MiB + 1', 6 * MiB + 1, 2],
    ['50 MiB in random chunks', 50 * MiB, 9],
  ]
  for (const [name, size, partCount] of cases) {
    test(name, async () => {
      const data = randomData(size, size + 1)
      const key = `sizes/${name}`
      const { source, state } = tracked(randomChunks(data, 256 * 1024, size + 3))
      const result = await upload(source, target(bucket, key))
      assert.equal(result.size, size)
      assert.equal(result.partCount, partCount)
      assert.equal(result.uploadId === undefined, partCount === 1)
      assert.match(result.etag, partCount === 1 ? /^[0-9a-f]{32}$/ : new RegExp(`^[0-9a-f]{32}-${partCount}$`))
      assert.ok(state.closed, 'source finally ran')
      const back = await getObject(bucket, key)
      assert.equal(back.byteLength, size)
      assert.equal(sha256(back), sha256(data))
    })
  }

  test('one 30 MiB chunk is split by views into 5 parts', async () => {
    const data = randomData(30 * MiB, 30)
    const result = await upload([data], target(bucket, 'sizes/one-chunk'))
    assert.equal(result.partCount, 5)
    assert.equal(sha256(await getObject(bucket, 'sizes/one-chunk')), sha256(data))
  })

  test('a Blob (a File from a form): read through its stream; its size is the total and the size hint, its type the content type', async () => {
    const data = randomData(13 * MiB + 7, 31)
    const events: UploadProgress[] = []
    const blob = new Blob([data.subarray(0, 5 * MiB), data.subarray(5 * MiB)], { type: 'application/x-ndjson' })
    const result = await upload(blob, target(bucket, 'sizes/blob'), { onProgress: (e) => events.push(e) })
    assert.equal(result.size, data.byteLength)
    assert.equal(sha256(await getObject(bucket, 'sizes/blob')), sha256(data))
    assert.ok(events.some((e) => 'totalBytes' in e && e.totalBytes === data.byteLength), 'progress knows the total')
    const ctx = createS3Context({ ...target(bucket, 'sizes/blob') })
    try {
      assert.equal((await headObject(ctx, { key: 'sizes/blob' })).contentType, 'application/x-ndjson')
      // contentType given wins over the Blob's type; an empty Blob is an empty object.
      await upload(new Blob([data.subarray(0, 10)], { type: 'text/plain' }), target(bucket, 'sizes/blob-typed'), { contentType: 'image/png' })
      assert.equal((await headObject(ctx, { key: 'sizes/blob-typed' })).contentType, 'image/png')
      assert.equal((await upload(new Blob([]), target(bucket, 'sizes/blob-empty'))).size, 0)
    } finally {
      await ctx.close()
    }
  })

  test("a Blob whose stream gives another number of bytes than its size (Bun's file Blob after the file changed): SourceChangedError, nothing written, nothing left (it wrote the shorter object)", async () => {
    const data = randomData(12 * MiB, 33)
    /** A Blob that says `said` as its size but streams `given` bytes: what Bun.file() does once its file shrank or grew. */
    const changed = (given: Uint8Array, said: number): Blob => Object.defineProperty(new Blob([given]), 'size', { value: said })
    for (const [name, given, said] of [
      ['one-part-shorter', data.subarray(0, 1000), 2000],
      ['one-part-longer', data.subarray(0, 3000), 2000],
      ['multipart-shorter', data.subarray(0, 9 * MiB), 12 * MiB],
    ] as const) {
      const key = `sizes/blob-changed-${name}`
      await assert.rejects(
        upload(changed(given, said), target(bucket, key), { partSize: 5 * MiB }),
        (e: unknown) => (e as { code?: unknown }).code === 'ERR_PARTSTREAM_SOURCE_CHANGED' || ((e as { cause?: { code?: unknown } }).cause?.code === 'ERR_PARTSTREAM_SOURCE_CHANGED' && e instanceof UploadFailedError),
        name,
      )
      const ctx = createS3Context({ ...target(bucket, key) })
      try {
        await assert.rejects(headObject(ctx, { key }), (e: unknown) => e instanceof S3ResponseError && e.statusCode === 404, `${name}: no object`)
      } finally {
        await ctx.close()
      }
      assert.deepEqual(await openUploads(bucket, key), [], `${name}: no upload left`)
    }
  })

  test('a Uint8Array source', async () => {
    const data = randomData(13 * MiB, 13)
    const result = await upload(data, target(bucket, 'sizes/uint8array'))
    assert.equal(result.size, data.byteLength)
    assert.equal(sha256(await getObject(bucket, 'sizes/uint8array')), sha256(data))
  })
})

describe('upload to Ceph RGW: keys, metadata, concurrency', () => {
  const keys = ['with space.txt', 'plus+sign', 'per%cent', 'hash#tag', 'question?mark', 'ünïcødé/日本語/😀', "quote'paren(1)*!", 'a//double/slash', 'tilde~and=equals&amp']
  for (const key of keys) {
    test(`key ${JSON.stringify(key)}`, async () => {
      const data = new TextEncoder().encode(`object named ${key}`)
      await upload([data], target(bucket, key))
      assert.deepEqual(await getObject(bucket, key), Buffer.from(data))
    })
  }

  test('a multipart upload to an awkward key', async () => {
    const key = 'dir with space/ü+%#?.bin'
    const data = randomData(11 * MiB, 11)
    const result = await upload([data], target(bucket, key), { partSize: 5 * MiB })
    assert.equal(result.partCount, 3)
    assert.equal(sha256(await getObject(bucket, key)), sha256(data))
  })

  test('contentType and metadata reach the object', async () => {
    const key = 'meta/with-headers.txt'
    await upload([new TextEncoder().encode('hello')], target(bucket, key), {
      contentType: 'text/plain; charset=utf-8',
      metadata: { origin: 'partstream-test' },
    })
    const ctx = createS3Context(target(bucket, key))
    try {
      const head = await headObject(ctx)
      assert.equal(head.contentType, 'text/plain; charset=utf-8')
      assert.equal(head.size, 5)
    } finally {
      await ctx.close()
    }
  })

  for (const concurrency of [1, 4, 16]) {
    test(`concurrency ${concurrency}: 40 MiB, progress is exact`, async () => {
      const data = randomData(40 * MiB, concurrency)
      const events: UploadProgress[] = []
      let maxInFlight = 0
      let inFlight = 0
      const result = await upload(randomChunks(data, 100_000, concurrency), target(bucket, `conc/${concurrency}`), {
        concurrency,
        partSize: 5 * MiB,
        onProgress: (e) => {
          events.push(e)
          if (e.type === 'part-started') maxInFlight = Math.max(maxInFlight, ++inFlight)
          if (e.type === 'part-acked') inFlight--
        },
      })
      assert.equal(result.partCount, 8)
      assert.ok(maxInFlight <= concurrency, `at most ${concurrency} parts in flight, saw ${maxInFlight}`)
      const acked = events.filter((e) => e.type === 'part-acked')
      assert.equal(acked.length, 8)
      assert.equal(acked.at(-1)?.type === 'part-acked' && acked.at(-1)?.bytesAcked, data.byteLength)
      assert.deepEqual(events.at(-1), { type: 'done', bytesAcked: data.byteLength, totalBytes: data.byteLength, partCount: 8 })
      // A stream's total is unknown until its last part is read, then known on every event: a
      // progress bar can tell "every byte acknowledged" means the commit is next.
      const started = events.filter((e) => e.type === 'part-started')
      assert.deepEqual(started.map((e) => e.partNumber === 8), [false, false, false, false, false, false, false, true])
      assert.ok(started.slice(0, 7).every((e) => e.totalBytes === undefined), 'unknown before the last part')
      const fromLast = events.slice(events.findIndex((e) => e.type === 'part-started' && e.partNumber === 8))
      assert.ok(fromLast.every((e) => 'totalBytes' in e && e.totalBytes === data.byteLength), 'known from the last part on')
      assert.equal(sha256(await getObject(bucket, `conc/${concurrency}`)), sha256(data))
    })
  }
})

describe('upload to Ceph RGW: failures lose nothing and leave nothing', () => {
  test('bad credentials: 403 S3ResponseError, source closed', async () => {
    const { source, state } = tracked([new Uint8Array(10)])
    const t = { ...target(bucket, 'denied'), credentials: { accessKeyId: 'TESTACCESSKEY0000001', secretAccessKey: 'wrong-secret-key-000000000000000000000000' } }
    await assert.rejects(upload(source, t), (error: unknown) => {
      assert.ok(error instanceof S3ResponseError)
      assert.equal(error.code, 'ERR_PARTSTREAM_S3')
      assert.equal(error.statusCode, 403)
      assert.equal(error.s3Code, 'SignatureDoesNotMatch')
      assert.ok(!error.message.includes('wrong-secret-key'), 'no secret in the message')
      return true
    })
    assert.ok(state.closed)
  })

  test('unknown access key: 403 InvalidAccessKeyId', async () => {
    const t = { ...target(bucket, 'denied'), credentials: { accessKeyId: 'NOSUCHKEY', secretAccessKey: 'whatever-secret' } }
    await assert.rejects(upload([new Uint8Array(1)], t), { name: 'S3ResponseError', statusCode: 403, s3Code: 'InvalidAccessKeyId' })
  })

  test('a credentials function that fails: CredentialsError (not a network failure, even when its own fetch failed), its error as cause, called once, nothing started', async () => {
    const vault = new Error('vault unreachable')
    // A function whose own fetch failed: ECONNREFUSED in its causes is not S3's network failing
    // (it was retried as one, five calls, then "PutObject failed without a response").
    const refused = Object.assign(new TypeError('fetch failed: vault unreachable'), { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) })
    let calls = 0
    for (const [credentials, thrown] of [
      [async () => Promise.reject(vault), vault],
      [
        () => {
          throw vault
        },
        vault,
      ],
      [
        async () => {
          calls++
          throw refused
        },
        refused,
      ],
    ] as const) {
      for (const size of [1, 12 * MiB]) {
        const { source, state } = tracked(randomChunks(randomData(size), 1 << 20))
        await assert.rejects(upload(source, { ...target(bucket, 'creds-fail'), credentials }), (error: unknown) => {
          assert.ok(error instanceof CredentialsError, `got ${String(error)}`)
          assert.equal(error.code, 'ERR_PARTSTREAM_CREDENTIALS')
          assert.equal(error.cause, thrown)
          assert.match(error.message, /`credentials` function/)
          assert.match(error.message, /vault unreachable/)
          return true
        })
        assert.ok(state.closed)
      }
    }
    assert.equal(calls, 2, 'a failing credentials function is not retried as a network failure')
    assert.deepEqual(await openUploads(bucket, 'creds-fail'), [])
  })

  test('credentials that never come (a hung credential_process, a provider that never settles): the abort still wins', async () => {
    // One PutObject, and a multipart upload (whose Create would otherwise get a grace after the abort).
    for (const size of [1, 12 * MiB]) {
      const { source, state } = tracked(randomChunks(randomData(size), 1 << 20))
      const controller = new AbortController()
      const reason = new Error('gave up waiting')
      let waiting = false
      setTimeout(() => controller.abort(reason), 200)
      const started = Date.now()
      const never = (): Promise<never> => {
        waiting = true
        return new Promise(() => {})
      }
      // A timer of the test's own keeps the event loop alive; a hang would end at the test's timeout.
      await assert.rejects(upload(source, { ...target(bucket, 'creds-hang'), credentials: never }, { signal: controller.signal }), (e: unknown) => e === reason)
      assert.ok(waiting, 'the abort came while the credentials were awaited')
      assert.ok(Date.now() - started < 3000, `${size} bytes: settled after ${Date.now() - started} ms`)
      assert.ok(state.closed)
    }
  })

  test('missing bucket: 404 NoSuchBucket for PutObject and for a multipart upload', async () => {
    const missing = `missing-${Date.now()}`
    await assert.rejects(upload([new Uint8Array(1)], target(missing, 'k')), { statusCode: 404, s3Code: 'NoSuchBucket' })
    const { source, state } = tracked(randomChunks(randomData(12 * MiB), 1 << 20))
    await assert.rejects(upload(source, target(missing, 'k')), { statusCode: 404, s3Code: 'NoSuchBucket', operation: 'CreateMultipartUpload' })
    assert.ok(state.closed)
  })

  test('a source that throws mid-upload: UploadFailedError with its error as cause, the upload is aborted', async () => {
    const boom = new Error('disk on fire')
    const prefix = 'fail/source-throws'
    const { source, state } = tracked(randomChunks(randomData(30 * MiB), 1 << 20), { throwAt: 15, error: boom })
    await assert.rejects(upload(source, target(bucket, prefix), { partSize: 5 * MiB }), (e) => {
      assert.ok(e instanceof UploadFailedError)
      assert.equal(e.code, 'ERR_PARTSTREAM_UPLOAD_FAILED')
      assert.equal(e.cause, boom)
      assert.match(e.message, /disk on fire/)
      assert.equal(typeof e.uploadId, 'string')
      return true
    })
    assert.ok(state.closed)
    assert.deepEqual(await openUploads(bucket, prefix), [])
  })

  test('an invalid chunk mid-upload: InvalidChunkError, the upload is aborted', async () => {
    const prefix = 'fail/invalid-chunk'
    const chunks: unknown[] = [...randomChunks(randomData(12 * MiB), 1 << 20)]
    chunks.splice(10, 0, 'not bytes')
    const { source, state } = tracked(chunks as Uint8Array[])
    await assert.rejects(upload(source, target(bucket, prefix), { partSize: 5 * MiB }), (e: unknown) => {
      assert.ok(e instanceof InvalidChunkError)
      assert.equal(e.chunkIndex, 10)
      assert.equal(typeof (e as { uploadId?: unknown }).uploadId, 'string')
      return true
    })
    assert.ok(state.closed)
    assert.deepEqual(await openUploads(bucket, prefix), [])
  })

  test('abort mid-upload: rejects with signal.reason, no open multipart upload left', async () => {
    const prefix = 'fail/aborted'
    const controller = new AbortController()
    const reason = new Error('user cancelled')
    const { source, state } = tracked(randomChunks(randomData(60 * MiB), 1 << 20))
    const promise = upload(source, target(bucket, prefix), {
      partSize: 5 * MiB,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === 'part-acked' && e.partNumber >= 2) controller.abort(reason)
      },
    })
    await assert.rejects(promise, (e) => e === reason)
    assert.ok(state.closed)
    assert.deepEqual(await openUploads(bucket, prefix), [])
  })

  test('leavePartsOnError keeps the upload and reports its id', async () => {
    const prefix = 'fail/leave-parts'
    const boom = new Error('stop here')
    const { source } = tracked(randomChunks(randomData(20 * MiB), 1 << 20), { throwAt: 12, error: boom })
    let created: string | undefined
    await assert.rejects(
      upload(source, target(bucket, prefix), {
        partSize: 5 * MiB,
        leavePartsOnError: true,
        onProgress: (e) => {
          if (e.type === 'upload-created') created = e.uploadId
        },
      }),
      // The rejection names the upload left open, so resuming from `err.uploadId` works.
      (e) => e instanceof UploadFailedError && e.cause === boom && e.uploadId === created,
    )
    assert.equal(typeof created, 'string')
    assert.deepEqual(await openUploads(bucket, prefix), [`${prefix} ${created}`])
  })
})
