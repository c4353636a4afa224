// Resuming a multipart upload against the real S3 server: stored parts are verified and skipped.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { InvalidArgumentError, S3ResponseError, SourceChangedError, upload, UploadFailedError, uploadFile, type UploadProgress } from '../../src/index.ts'
import { recording } from './recording.ts'
import { createBucket, getObject, openUploads, randomChunks, randomData, s3Env, sha256, target } from './s3.ts'

const MiB = 1024 * 1024
let bucket: string
const dir = mkdtempSync(join(tmpdir(), 'partstream-resume-'))
before(async () => {
  bucket = await createBucket('resume')
})
after(() => rmSync(dir, { recursive: true, force: true }))

/** Starts an upload whose source dies once `parts` parts are acknowledged, leaving them stored. */
async function interrupted(key: string, data: Uint8Array, parts: number): Promise<string> {
  const crash = new Error('simulated crash')
  let uploadId: string | undefined
  let storedEnough!: () => void
  const stored = new Promise<void>((resolve) => (storedEnough = resolve))
  async function* dying(): AsyncGenerator<Uint8Array> {
    let sent = 0
    for (const chunk of randomChunks(data, 1 << 20)) {
      if (sent >= parts * 5 * MiB + 1) {
        // A source error cancels the parts in flight: die only once the wanted ones are stored.
        await stored
        throw crash
      }
      sent += chunk.byteLength
      yield chunk
    }
  }
  await assert.rejects(
    upload(dying(), target(bucket, key), {
      partSize: 5 * MiB,
      concurrency: 1,
      leavePartsOnError: true,
      onProgress: (e) => {
        if (e.type === 'upload-created') uploadId = e.uploadId
        if (e.type === 'part-acked' && e.partNumber === parts) storedEnough()
      },
    }),
    (e) => e instanceof UploadFailedError && e.cause === crash && e.uploadId === uploadId,
  )
  assert.ok(uploadId)
  return uploadId
}

describe('resume a multipart upload on Ceph RGW', () => {
  test('the same source: stored parts are skipped, the rest is sent, the object is whole', async () => {
    const key = 'resume/same'
    const data = randomData(23 * MiB, 5)
    const uploadId = await interrupted(key, data, 2)
    const events: UploadProgress[] = []
    const result = await upload(randomChunks(data, 300_000, 9), target(bucket, key), {
      partSize: 5 * MiB,
      resumeUploadId: uploadId,
      onProgress: (e) => events.push(e),
    })
    assert.equal(result.uploadId, uploadId)
    assert.equal(result.partCount, 5)
    assert.deepEqual(events[0], { type: 'upload-resumed', uploadId, storedParts: 2 })
    assert.deepEqual(events.filter((e) => e.type === 'part-skipped').map((e) => (e.type === 'part-skipped' ? e.partNumber : 0)), [1, 2])
    assert.equal(events.filter((e) => e.type === 'part-started').length, 3)
    assert.equal(sha256(await getObject(bucket, key)), sha256(data))
  })

  test('uploadFile resumes too', async () => {
    const key = 'resume/file'
    const data = randomData(16 * MiB, 6)
    const uploadId = await interrupted(key, data, 1)
    const path = join(dir, 'file.bin')
    writeFileSync(path, data)
    const skipped: number[] = []
    await uploadFile(path, target(bucket, key), {
      partSize: 5 * MiB,
      resumeUploadId: uploadId,
      onProgress: (e) => {
        if (e.type === 'part-skipped') skipped.push(e.partNumber)
      },
    })
    assert.deepEqual(skipped, [1])
    assert.equal(sha256(await getObject(bucket, key)), sha256(data))
  })

  test('a different source: stored parts that do not match are sent again', async () => {
    const key = 'resume/different'
    const uploadId = await interrupted(key, randomData(12 * MiB, 7), 2)
    const other = randomData(12 * MiB, 8)
    const skipped: number[] = []
    await upload([other], target(bucket, key), {
      partSize: 5 * MiB,
      resumeUploadId: uploadId,
      onProgress: (e) => {
        if (e.type === 'part-skipped') skipped.push(e.partNumber)
      },
    })
    assert.deepEqual(skipped, [])
    assert.equal(sha256(await getObject(bucket, key)), sha256(other))
  })

  // A wrong source is a wrong argument: the upload stays open for the right one (it used to be
  // aborted, while the message said to resume it with that source).
  test('a source shorter than the stored parts: SourceChangedError, the upload left open (leavePartsOnError: false too), then resumed with the right source', async () => {
    const key = 'resume/shorter'
    const data = randomData(20 * MiB, 9)
    const uploadId = await interrupted(key, data, 3)
    await assert.rejects(
      upload([data.subarray(0, 10 * MiB)], target(bucket, key), { partSize: 5 * MiB, resumeUploadId: uploadId, leavePartsOnError: false }),
      (e: unknown) => e instanceof SourceChangedError && e.uploadId === uploadId && /beyond the end of the source.*The upload is left open, not aborted: resume it with that source/.test(e.message),
    )
    assert.deepEqual(await openUploads(bucket, key), [`${key} ${uploadId}`])
    const result = await upload([data], target(bucket, key), { partSize: 5 * MiB, resumeUploadId: uploadId })
    assert.equal(result.uploadId, uploadId)
    assert.equal(sha256(await getObject(bucket, key)), sha256(data))
  })

  test('a source that ends inside a stored part: SourceChangedError before that part is sent, the upload left open and resumable', async () => {
    const data = randomData(12 * MiB, 10)
    for (const [key, length, part] of [
      ['resume/ends-in-part-2', 5 * MiB + 5, 2],
      ['resume/ends-in-part-1', 3 * MiB, 1],
    ] as const) {
      const uploadId = await interrupted(key, data, 2)
      const started: number[] = []
      await assert.rejects(
        upload([data.subarray(0, length)], target(bucket, key), {
          partSize: 5 * MiB,
          resumeUploadId: uploadId,
          onProgress: (e) => {
            if (e.type === 'part-started') started.push(e.partNumber)
          },
        }),
        (e: unknown) =>
          e instanceof SourceChangedError &&
          e.uploadId === uploadId &&
          e.message.includes(`holds part ${part} of ${5 * MiB} bytes, but the source ends ${length - (part - 1) * 5 * MiB} bytes into it`),
      )
      assert.deepEqual(started, [], key)
      assert.deepEqual(await openUploads(bucket, key), [`${key} ${uploadId}`], key)
      await upload([data], target(bucket, key), { partSize: 5 * MiB, resumeUploadId: uploadId })
      assert.equal(sha256(await getObject(bucket, key)), sha256(data), key)
    }
  })

  test('another partSize: InvalidArgumentError naming the stored part size, nothing sent, the upload kept and resumable', async () => {
    const key = 'resume/other-part-size'
    const data = randomData(23 * MiB, 11)
    const uploadId = await interrupted(key, data, 3)
    const started: number[] = []
    for (const partSize of [8 * MiB, 64 * MiB]) {
      await assert.rejects(
        upload(randomChunks(data, MiB, 3), target(bucket, key), {
          partSize,
          resumeUploadId: uploadId,
          onProgress: (e) => {
            if (e.type === 'part-started') started.push(e.partNumber)
          },
        }),
        (e: unknown) => e instanceof InvalidArgumentError && new RegExp(`parts of ${5 * MiB} bytes.*partSize: ${5 * MiB}`).test(e.message),
      )
    }
    assert.deepEqual(started, [], 'no part was sent')
    assert.deepEqual(await openUploads(bucket, key), [`${key} ${uploadId}`], 'the upload is still there')
    const result = await upload(randomChunks(data, MiB, 4), target(bucket, key), { partSize: 5 * MiB, resumeUploadId: uploadId })
    assert.equal(result.uploadId, uploadId)
    assert.equal(sha256(await getObject(bucket, key)), sha256(data))
  })

  test('a source that fails while part 1 is read: the resumed upload is aborted and the error carries its id, as a part later (it was left open, the error bare)', async () => {
    for (const [i, failAt] of [1000, 5 * MiB + 1000].entries()) {
      const key = `resume/fails-early-${i}`
      const data = randomData(12 * MiB, 20 + i)
      const uploadId = await interrupted(key, data, 1)
      const broke = new Error('source broke')
      let closed = false
      async function* failing(): AsyncGenerator<Uint8Array> {
        try {
          yield data.subarray(0, failAt)
          throw broke
        } finally {
          closed = true
        }
      }
      await assert.rejects(
        upload(failing(), target(bucket, key), { partSize: 5 * MiB, resumeUploadId: uploadId }),
        (e: unknown) => e instanceof UploadFailedError && e.cause === broke && e.uploadId === uploadId,
        `failing at byte ${failAt}`,
      )
      assert.ok(closed, 'the source was closed')
      assert.deepEqual(await openUploads(bucket, key), [], `failing at byte ${failAt}: aborted, nothing left open`)
    }
  })

  test('leavePartsOnError on the resume: a source failing in part 1 leaves it open, and it resumes', async () => {
    const key = 'resume/fails-early-kept'
    const data = randomData(12 * MiB, 30)
    const uploadId = await interrupted(key, data, 1)
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield data.subarray(0, 1000)
      throw new Error('source broke')
    }
    await assert.rejects(upload(failing(), target(bucket, key), { partSize: 5 * MiB, resumeUploadId: uploadId, leavePartsOnError: true }), (e: unknown) => e instanceof UploadFailedError && e.uploadId === uploadId)
    assert.deepEqual(await openUploads(bucket, key), [`${key} ${uploadId}`])
    await upload([data], target(bucket, key), { partSize: 5 * MiB, resumeUploadId: uploadId })
    assert.equal(sha256(await getObject(bucket, key)), sha256(data))
  })

  // AWS answers NoSuchUpload; Ceph RGW answers NoSuchKey when the key has no such upload.
  test('an unknown upload id: 404 S3ResponseError, nothing left behind', async () => {
    await assert.rejects(
      upload([randomData(MiB)], target(bucket, 'resume/unknown'), { resumeUploadId: '2~notanuploadid' }),
      (e: unknown) =>
        e instanceof S3ResponseError && e.statusCode === 404 && ['NoSuchUpload', 'NoSuchKey'].includes(e.s3Code ?? '') && e.operation === 'ListParts',
    )
    assert.deepEqual(await openUploads(bucket, 'resume/unknown'), [])
  })
})

describe('resume messages', () => {
  test('parts left past the end: the first ten numbers and a count, and advice for a resume (not for a changing file)', async () => {
    const { assertNoStoredPartsLeft } = await import('../../src/upload/resume.ts')
    const stored = new Map(Array.from({ length: 1002 }, (_, i) => [i + 4, { partNumber: i + 4, etag: 'x', size: 1 }]))
    assert.throws(
      () => assertNoStoredPartsLeft(stored, 'id1', 15),
      (e: unknown) => {
        assert.ok(e instanceof SourceChangedError)
        assert.match(e.message, /holds parts 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 and 992 more beyond the end of the source \(15 bytes\)/)
        assert.match(e.message, /The upload is left open, not aborted: resume it with that source, or abort it and upload afresh/)
        assert.doesNotMatch(e.message, /snapshot/)
        assert.ok(e.message.length < 300, `${e.message.length} characters`)
        return true
      },
    )
  })
})

describe('abortStaleUploads on Ceph RGW', () => {
  test('aborts open uploads older than the cutoff, under the prefix only', async () => {
    const { abortStaleUploads, createMultipartUpload, createS3Context } = await import('../../src/index.ts')
    const keep = createS3Context(target(bucket, 'stale-keep/a'))
    const old1 = createS3Context(target(bucket, 'stale/a b'))
    const old2 = createS3Context(target(bucket, 'stale/ü+%'))
    try {
      const keptId = await createMultipartUpload(keep)
      await createMultipartUpload(old1)
      await createMultipartUpload(old2)
      const ctx = createS3Context({ bucket, ...s3Env() })
      const none = await abortStaleUploads(ctx, { olderThanMs: 3600_000, prefix: 'stale/' })
      assert.deepEqual(none, [])
      const aborted = await abortStaleUploads(ctx, { olderThanMs: 0, prefix: 'stale/' })
      assert.deepEqual(aborted.map((u) => u.key).sort(), ['stale/a b', 'stale/ü+%'])
      assert.deepEqual(await openUploads(bucket, 'stale/'), [])
      assert.deepEqual(await openUploads(bucket, 'stale-keep/'), [`stale-keep/a ${keptId}`])
      await ctx.close()
    } finally {
      await Promise.all([keep.close(), old1.close(), old2.close()])
    }
  })
  test("age is judged on the server's clock: a client clock 2 h fast aborts nothing started now, even on a fresh context", async () => {
    const { abortStaleUploads, createMultipartUpload, createS3Context, listMultipartUploads } = await import('../../src/index.ts')
    const started = createS3Context(target(bucket, 'stale-skew/new'))
    try {
      const id = await createMultipartUpload(started)
      const fast = () => new Date(Date.now() + 2 * 3600_000)
      // A context whose first request is the cleanup itself: no offset measured yet.
      const listing = createS3Context({ bucket, ...s3Env() }, { now: fast })
      const old = await listMultipartUploads(listing, { prefix: 'stale-skew/', olderThanMs: 3600_000 })
      assert.deepEqual(old, [])
      await listing.close()
      const ctx = createS3Context({ bucket, ...s3Env() }, { now: fast })
      assert.deepEqual(await abortStaleUploads(ctx, { olderThanMs: 3600_000, prefix: 'stale-skew/' }), [])
      assert.deepEqual(await openUploads(bucket, 'stale-skew/'), [`stale-skew/new ${id}`])
      // …while the age itself counts: 0 ms selects it (once a second passed: the corrected clock
      // comes from `Date`, whose resolution is a second).
      await new Promise((resolve) => setTimeout(resolve, 1100))
      assert.deepEqual((await abortStaleUploads(ctx, { olderThanMs: 0, prefix: 'stale-skew/' })).map((u) => u.uploadId), [id])
      await ctx.close()
    } finally {
      await started.close()
    }
  })

  test('an Abort that fails does not stop the others: AbortFailedError names it, `aborted` the rest', async () => {
    const { AbortFailedError, abortStaleUploads, createMultipartUpload, createS3Context } = await import('../../src/index.ts')
    const ids: string[] = []
    for (const key of ['stale-fail/a', 'stale-fail/b', 'stale-fail/c']) {
      const one = createS3Context(target(bucket, key))
      ids.push(await createMultipartUpload(one))
      await one.close()
    }
    const refused = ids[1]!
    const base = recording()
    const ctx = createS3Context({ bucket, ...s3Env() }, {
      retry: false,
      transport: async (req) => {
        if (req.method === 'DELETE' && req.path.includes(encodeURIComponent(refused))) throw new Error('connection reset (test)')
        return base.transport(req)
      },
    })
    try {
      const error = await abortStaleUploads(ctx, { olderThanMs: 0, prefix: 'stale-fail/' }).then(
        () => assert.fail('expected a rejection'),
        (e: unknown) => e,
      )
      assert.ok(error instanceof AbortFailedError, `AbortFailedError, got ${String(error)}`)
      assert.equal(error.code, 'ERR_PARTSTREAM_ABORT_FAILED')
      assert.equal(error.errors.length, 1)
      assert.deepEqual(error.aborted.map((u) => u.key), ['stale-fail/a', 'stale-fail/c'])
      assert.match(error.message, new RegExp(`1 of 3 .*${refused}`))
      assert.deepEqual(await openUploads(bucket, 'stale-fail/'), [`stale-fail/b ${refused}`])
    } finally {
      await ctx.close()
      await base.close()
      await abortStaleUploads(createS3Context({ bucket, ...s3Env() }), { olderThanMs: 0, prefix: 'stale-fail/' })
    }
  })
})
