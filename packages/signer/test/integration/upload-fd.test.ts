// uploadFd against the real S3 server: bytes read from real pipes (FIFOs written by a child
// process or by this one), verified by GET + SHA-256; failures leave no open upload.
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { closeSync, constants, fstatSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { InvalidArgumentError, SourceReadError, uploadFd, type UploadOptions, type UploadProgress } from '../../src/index.ts'
import { uploadFdWith } from '../../src/upload-fd.ts'
import { fsRead } from '../../src/upload/fd-reader.ts'
import { hashWorkerScript } from '../../src/upload/hash-pool.ts'
import { kind, recording } from './recording.ts'
import { createBucket, getObject, openUploads, randomData, sha256, target } from './s3.ts'

const MiB = 1024 * 1024
let bucket: string
const dir = mkdtempSync(join(tmpdir(), 'partstream-fd-'))
let fifoCount = 0

before(async () => {
  bucket = await createBucket('fd')
})
after(() => rmSync(dir, { recursive: true, force: true }))

function fifo(): string {
  const path = join(dir, `fifo-${++fifoCount}`)
  const made = spawnSync('mkfifo', [path])
  assert.equal(made.status, 0, String(made.stderr))
  return path
}

/**
 * A FIFO whose write end is a child shell running `script` with stdout on the FIFO; resolves with
 * the read end (opened blocking, as a shell hands a pipe to stdin) and the child.
 */
function pipeFrom(script: string): { fd: number; child: ChildProcess; exited: Promise<number | null> } {
  const path = fifo()
  const child = spawn('sh', ['-c', `exec > '${path}'; ${script}`], { stdio: ['ignore', 'ignore', 'inherit'] })
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  const fd = openSync(path, 'r') // returns once the child has opened its end
  return { fd, child, exited }
}

function dataFile(name: string, data: Uint8Array): string {
  const path = join(dir, name)
  writeFileSync(path, data)
  return path
}

describe('uploadFd to Ceph RGW', () => {
  const cases: Array<[string, number, number]> = [
    ['0 bytes', 0, 1],
    ['1 byte', 1, 1],
    ['exactly one part (5 MiB)', 5 * MiB, 1],
    ['one part + 1 byte', 5 * MiB + 1, 2],
    ['13 MiB through a real pipe', 13 * MiB, 3],
  ]
  for (const hashThreads of [0, 1]) {
    for (const [name, size, partCount] of cases) {
      test(`${name}${hashThreads === 0 ? '' : ', every part hashed by a worker as it is read (hashThreads: 1)'}`, async (t) => {
        hashWorkerScript.inlineUntilReady = false // not even the first part inline while the worker loads
        t.after(() => {
          hashWorkerScript.inlineUntilReady = true
        })
        const data = randomData(size, size + 3)
        const { fd, exited } = pipeFrom(`cat '${dataFile(`${size}.bin`, data)}'`)
        const key = `fd/${hashThreads}/${name}`
        try {
          const events: UploadProgress[] = []
          const result = await uploadFd(fd, target(bucket, key), { partSize: 5 * MiB, concurrency: 2, hashThreads, onProgress: (e) => events.push(e) })
          assert.equal(result.size, size)
          assert.equal(result.partCount, partCount)
          assert.equal(result.uploadId === undefined, partCount === 1) // one part: a single PutObject
          assert.equal(sha256(await getObject(bucket, key)), sha256(data))
          assert.equal(events.at(-1)?.type, 'done')
        } finally {
          closeSync(fd)
          await exited
        }
      })
    }
  }

  const modes: Array<[string, UploadOptions]> = [
    ['SHA-256 payload', {}],
    ['CRC64NVME', { checksum: 'CRC64NVME' }],
    ['unsigned + SHA1 + Content-MD5', { payload: 'unsigned', checksum: 'SHA1', contentMd5: true }],
  ]
  for (const [name, options] of modes) {
    test(`hashThreads, ${name}: each part goes out with the hash headers of the same pipe hashed inline`, async (t) => {
      hashWorkerScript.inlineUntilReady = false
      t.after(() => {
        hashWorkerScript.inlineUntilReady = true
      })
      const data = randomData(13 * MiB + 7, 41)
      const path = dataFile(`modes-${name}.bin`, data)
      const sent: Record<number, string[]> = {}
      for (const hashThreads of [0, 1]) {
        const rec = recording()
        t.after(() => rec.close())
        const { fd, exited } = pipeFrom(`cat '${path}'`)
        const key = `fd-modes/${name}/${hashThreads}`
        try {
          const result = await uploadFd(fd, target(bucket, key), { ...options, partSize: 5 * MiB, hashThreads, transport: rec.transport })
          assert.equal(result.partCount, 3)
        } finally {
          closeSync(fd)
          await exited
        }
        assert.equal(sha256(await getObject(bucket, key)), sha256(data))
        sent[hashThreads] = rec.sent
          .filter((q) => kind(q) === 'UploadPart')
          .map((q) => JSON.stringify(Object.entries(q.headers).filter(([h]) => h === 'x-amz-content-sha256' || h === 'content-md5' || h.startsWith('x-amz-checksum-')).sort()))
          .sort()
      }
      assert.equal(sent[0]?.length, 3)
      assert.ok(sent[0]?.every((line) => line.includes('x-amz-')), JSON.stringify(sent[0]))
      assert.deepEqual(sent[1], sent[0])
    })
  }

  test('1-byte writes with delays, from a child', async () => {
    const { fd, exited } = pipeFrom(`for c in a b c d e f g h; do printf $c; sleep 0.02; done`)
    try {
      const result = await uploadFd(fd, target(bucket, 'fd/slow'))
      assert.equal(result.size, 8)
      assert.equal((await getObject(bucket, 'fd/slow')).toString(), 'abcdefgh')
    } finally {
      closeSync(fd)
      await exited
    }
  })

  test('a non-blocking read end (EAGAIN) is waited on, 1-byte writes with delays', async () => {
    const path = fifo()
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
    const writer = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK)
    const writing = (async () => {
      for (const c of 'partstream') {
        await new Promise((resolve) => setTimeout(resolve, 15))
        writeSync(writer, c)
      }
      closeSync(writer)
    })()
    try {
      const result = await uploadFd(fd, target(bucket, 'fd/nonblocking'), { close: true })
      assert.equal(result.size, 10)
      assert.equal((await getObject(bucket, 'fd/nonblocking')).toString(), 'partstream')
    } finally {
      await writing
    }
  })

  test('a regular file is read from its position; the caller\'s fd stays open unless `close: true`', async () => {
    const data = randomData(3 * MiB, 5)
    const path = dataFile('regular.bin', data)
    const fd = openSync(path, 'r')
    await uploadFd(fd, target(bucket, 'fd/regular'))
    assert.ok(fstatSync(fd).isFile()) // still open
    closeSync(fd)
    assert.equal(sha256(await getObject(bucket, 'fd/regular')), sha256(data))
    const owned = openSync(path, 'r')
    await uploadFd(owned, target(bucket, 'fd/regular-closed'), { close: true })
    await new Promise((resolve) => setTimeout(resolve, 50)) // the close is not awaited by the upload
    assert.throws(() => fstatSync(owned), { code: 'EBADF' })
  })

  test('a regular file with hashThreads: 4: hashed by one worker as it is read, the object equal', async (t) => {
    hashWorkerScript.inlineUntilReady = false
    t.after(() => {
      hashWorkerScript.inlineUntilReady = true
    })
    const data = randomData(11 * MiB + 9, 31)
    const fd = openSync(dataFile('regular-hashed.bin', data), 'r')
    try {
      const result = await uploadFd(fd, target(bucket, 'fd/regular-hashed'), { partSize: 5 * MiB, hashThreads: 4 })
      assert.equal(result.partCount, 3)
    } finally {
      closeSync(fd)
    }
    assert.equal(sha256(await getObject(bucket, 'fd/regular-hashed')), sha256(data))
  })

  for (const hashThreads of [0, 1]) test(`aborted mid-part (hashThreads: ${hashThreads}): rejects with signal.reason at once, no open upload left`, async () => {
    // 7 MiB, then the producer stays alive without writing: part 2 waits for bytes that never come.
    const { fd, child, exited } = pipeFrom(`head -c ${7 * MiB} '${dataFile('abort.bin', randomData(7 * MiB, 9))}'; exec sleep 60`)
    const controller = new AbortController()
    const reason = new Error('stop')
    let abortedAt = 0
    try {
      const uploading = uploadFd(fd, target(bucket, `fd/aborted-${hashThreads}`), {
        partSize: 5 * MiB,
        hashThreads,
        signal: controller.signal,
        onProgress: (e) => {
          if (e.type === 'part-acked') {
            setTimeout(() => {
              abortedAt = performance.now()
              controller.abort(reason)
            }, 100)
          }
        },
      })
      await assert.rejects(uploading, (e: unknown) => e === reason)
      // Not after the producer's `sleep 60`: the read waiting for it is left behind.
      assert.ok(performance.now() - abortedAt < 10_000, `rejected ${Math.round(performance.now() - abortedAt)} ms after the abort`)
      assert.deepEqual(await openUploads(bucket, `fd/aborted-${hashThreads}`), [])
    } finally {
      child.kill()
      await exited
      closeSync(fd)
    }
  })

  test('a read error mid-stream rejects with SourceReadError (coded), and the upload is aborted', async () => {
    const data = randomData(6 * MiB, 2)
    let offset = 0
    const failing = async (_fd: number, buffer: Uint8Array, at: number, length: number): Promise<number> => {
      if (offset >= data.byteLength) throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' })
      const n = Math.min(length, 65536, data.byteLength - offset)
      buffer.set(data.subarray(offset, offset + n), at)
      offset += n
      return n
    }
    let uploadId: string | undefined
    await assert.rejects(
      uploadFdWith(failing, 0, target(bucket, 'fd/read-error'), { partSize: 5 * MiB, onProgress: (e) => (e.type === 'upload-created' ? (uploadId = e.uploadId) : undefined) }),
      (e: unknown) => e instanceof SourceReadError && e.code === 'ERR_PARTSTREAM_SOURCE_READ' && e.syscallCode === 'EIO' && e.uploadId === uploadId,
    )
    assert.ok(uploadId !== undefined) // part 1 was full: the multipart upload had started
    assert.deepEqual(await openUploads(bucket, 'fd/read-error'), [])
  })

  test('a descriptor open for writing only: SourceReadError (EBADF), nothing sent', async () => {
    const fd = openSync(join(dir, 'write-only.bin'), 'w')
    try {
      await assert.rejects(uploadFdWith(fsRead, fd, target(bucket, 'fd/write-only')), (e: unknown) => e instanceof SourceReadError && e.syscallCode === 'EBADF')
    } finally {
      closeSync(fd)
    }
    assert.deepEqual(await openUploads(bucket, 'fd/write-only'), [])
  })

  test('an invalid fd is an InvalidArgumentError before any request', async () => {
    await assert.rejects(uploadFd(-1, target(bucket, 'fd/x')), InvalidArgumentError)
    await assert.rejects(uploadFd(1.5, target(bucket, 'fd/x')), InvalidArgumentError)
    const fd = openSync(dir, 'r')
    try {
      await assert.rejects(uploadFd(fd, target(bucket, 'fd/x')), (e: unknown) => e instanceof InvalidArgumentError && /directory/.test(e.message))
    } finally {
      closeSync(fd)
    }
    const closed = openSync(join(dir, 'regular.bin'), 'r')
    closeSync(closed)
    await assert.rejects(uploadFd(closed, target(bucket, 'fd/x')), (e: unknown) => e instanceof InvalidArgumentError && /EBADF/.test(e.message))
  })
})
