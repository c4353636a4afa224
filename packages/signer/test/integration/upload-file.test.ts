// uploadFile against the real S3 server: parts read in place at their offsets, verified by GET + SHA-256.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { appendFileSync, existsSync, mkdtempSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { InvalidArgumentError, SourceChangedError, uploadFile, type UploadProgress } from '../../src/index.ts'
import { createBucket, getObject, openUploads, randomData, sha256, target } from './s3.ts'

const MiB = 1024 * 1024
let bucket: string
const dir = mkdtempSync(join(tmpdir(), 'partstream-file-'))

before(async () => {
  bucket = await createBucket('file')
})
after(() => rmSync(dir, { recursive: true, force: true }))

function file(name: string, data: Uint8Array): string {
  const path = join(dir, name)
  writeFileSync(path, data)
  return path
}

describe('uploadFile to Ceph RGW', () => {
  const cases: Array<[string, number, number, number]> = [
    ['empty file', 0, 1, 4],
    ['1 byte', 1, 1, 4],
    ['6 MiB - 1', 6 * MiB - 1, 1, 4],
    ['exactly 6 MiB', 6 * MiB, 1, 4],
    ['6 MiB + 1', 6 * MiB + 1, 2, 4],
    ['25 MiB, concurrency 1', 25 * MiB, 5, 1],
    ['25 MiB + 3, concurrency 4', 25 * MiB + 3, 6, 4],
    ['25 MiB + 7, concurrency 16', 25 * MiB + 7, 6, 16],
  ]
  for (const [name, size, partCount, concurrency] of cases) {
    test(name, async () => {
      const data = randomData(size, size + 11)
      const key = `files/${name}`
      const events: UploadProgress[] = []
      const result = await uploadFile(file(`${size}.bin`, data), target(bucket, key), {
        concurrency,
        partSize: size > 20 * MiB ? 5 * MiB : undefined,
        onProgress: (e) => events.push(e),
      })
      assert.equal(result.size, size)
      assert.equal(result.partCount, partCount)
      // The size is known up front, so every event carries it.
      for (const e of events) if ('totalBytes' in e) assert.equal(e.totalBytes, size)
      assert.equal(sha256(await getObject(bucket, key)), sha256(data))
    })
  }

  test('a file URL works as the path', async () => {
    const data = randomData(1000)
    await uploadFile(pathToFileURL(file('url.bin', data)), target(bucket, 'files/url'))
    assert.equal(sha256(await getObject(bucket, 'files/url')), sha256(data))
  })

  test('a missing file: InvalidArgumentError before any request, the ENOENT error as cause', async () => {
    await assert.rejects(uploadFile(join(dir, 'nope.bin'), target(bucket, 'files/nope')), (e: unknown) => {
      assert.ok(e instanceof InvalidArgumentError)
      assert.equal(e.code, 'ERR_PARTSTREAM_INVALID_ARGUMENT')
      assert.match(e.message, /ENOENT/)
      assert.equal((e.cause as { code?: unknown }).code, 'ENOENT')
      return true
    })
    assert.deepEqual(await openUploads(bucket, 'files/nope'), [])
  })

  // Not regular files: each is an invalid argument, never "the file changed, retry later".
  const notFiles: Array<[string, () => string, RegExp]> = [
    ['a directory', () => dir, /a directory/],
    ['/dev/zero (a device)', () => '/dev/zero', /a device/],
    [
      'a FIFO with no writer (open() would block for ever)',
      () => {
        const fifo = join(dir, 'fifo')
        if (!existsSync(fifo)) execFileSync('mkfifo', [fifo])
        return fifo
      },
      /a FIFO/,
    ],
  ]
  for (const [name, path, kind] of notFiles) {
    test(`${name}: InvalidArgumentError, nothing sent, no hang`, async () => {
      const deadline = AbortSignal.timeout(10_000)
      const result = await Promise.race([
        uploadFile(path(), target(bucket, 'files/not-a-file')).then(
          () => 'resolved',
          (e: unknown) => e,
        ),
        new Promise((resolve) => deadline.addEventListener('abort', () => resolve('hung'), { once: true })),
      ])
      assert.ok(result instanceof InvalidArgumentError, `got ${String(result)}`)
      assert.match(result.message, kind)
      assert.match(result.message, /regular file/)
      assert.match(result.message, /uploadFd\(\)/, 'names what reads a pipe or a device')
    })
  }

  test('a /proc file (reports 0 bytes, has content): InvalidArgumentError naming uploadFd(), not an empty object', async () => {
    const key = 'files/proc-status'
    await assert.rejects(uploadFile('/proc/self/status', target(bucket, key)), (e: unknown) => {
      assert.ok(e instanceof InvalidArgumentError, `got ${String(e)}`)
      assert.match(e.message, /reports 0 bytes but has content.*uploadFd\(/)
      return true
    })
    await assert.rejects(getObject(bucket, key), /404|NoSuchKey/)
  })

  test('a /sys file (reports 4096 bytes whatever it holds): InvalidArgumentError naming uploadFd(), not "the file changed"', async () => {
    // Every sysfs attribute reports 4096 bytes; this one holds 18. It failed as SourceChangedError,
    // "retry once the file is stable", which can never work.
    const key = 'files/sys-address'
    await assert.rejects(uploadFile('/sys/class/net/lo/address', target(bucket, key)), (e: unknown) => {
      assert.ok(e instanceof InvalidArgumentError, `got ${String(e)}`)
      assert.match(e.message, /\/sys.*uploadFd\(/)
      return true
    })
    await assert.rejects(getObject(bucket, key), /404|NoSuchKey/)
  })

  test('an ordinary file reached through /proc (/proc/self/root/…, as a host reaches a container\'s files) is uploaded: its filesystem decides, not its name', async () => {
    const data = randomData(3000)
    const path = file('through-proc.bin', data)
    const key = 'files/through-proc'
    const result = await uploadFile(`/proc/self/root${path}`, target(bucket, key))
    assert.equal(result.size, 3000)
    assert.equal(sha256(await getObject(bucket, key)), sha256(data))
  })

  test('a file that grows while uploading: SourceChangedError, upload aborted', async () => {
    const path = file('grows.bin', randomData(12 * MiB))
    const prefix = 'files/grows'
    await assert.rejects(
      uploadFile(path, target(bucket, prefix), {
        partSize: 5 * MiB,
        concurrency: 1,
        onProgress: (e) => {
          if (e.type === 'part-acked' && e.partNumber === 1) appendFileSync(path, 'more')
        },
      }),
      (e: unknown) => e instanceof SourceChangedError && e.code === 'ERR_PARTSTREAM_SOURCE_CHANGED',
    )
    assert.deepEqual(await openUploads(bucket, prefix), [])
  })

  for (const [name, change] of [
    ['grows', (path: string) => appendFileSync(path, 'more')],
    ['is truncated', (path: string) => truncateSync(path, 1000)],
  ] as const) {
    test(`a file that fits in one part and ${name} before its PutObject: SourceChangedError, nothing written`, async () => {
      const path = file(`small-${name}.bin`, randomData(MiB))
      const key = `files/small-${name}`
      await assert.rejects(
        uploadFile(path, target(bucket, key), {
          onProgress: (e) => {
            if (e.type === 'part-started') change(path)
          },
        }),
        (e: unknown) => e instanceof SourceChangedError && e.code === 'ERR_PARTSTREAM_SOURCE_CHANGED',
      )
      await assert.rejects(getObject(bucket, key), /404|NoSuchKey/)
    })
  }

  test('a file rewritten to the same size while uploading: SourceChangedError naming the modification times, not an unchanged size', async () => {
    const path = file('rewritten.bin', randomData(12 * MiB))
    // A whole second: utimes takes seconds as a float, which would move a millisecond value.
    const later = new Date((Math.floor(statSync(path).mtimeMs / 1000) + 5) * 1000)
    await assert.rejects(
      uploadFile(path, target(bucket, 'files/rewritten'), {
        partSize: 5 * MiB,
        concurrency: 1,
        onProgress: (e) => {
          if (e.type === 'part-acked' && e.partNumber === 1) utimesSync(path, later, later)
        },
      }),
      (e: unknown) =>
        e instanceof SourceChangedError &&
        new RegExp(`^The file changed while uploading \\(modified at \\S+Z, now ${later.toISOString().replaceAll('.', '\\.')}; size ${12 * MiB} unchanged\\)\\.`).test(e.message),
    )
    assert.deepEqual(await openUploads(bucket, 'files/rewritten'), [])
  })

  test('a modification time moved by less than a millisecond: the message shows the two times apart (it showed the same ISO time twice)', async () => {
    const path = file('sub-ms.bin', randomData(12 * MiB))
    const before = statSync(path).mtimeMs
    // Within the same millisecond, in seconds as utimes takes them (Linux keeps the fraction).
    const moved = (Math.floor(before) + (before % 1 === 0.5 ? 0.25 : 0.5)) / 1000
    const upload = uploadFile(path, target(bucket, 'files/sub-ms'), {
      partSize: 5 * MiB,
      concurrency: 1,
      onProgress: (e) => {
        if (e.type === 'part-acked' && e.partNumber === 1) utimesSync(path, moved, moved)
      },
    })
    if (before % 1 === 0) {
      // A runtime whose stat has whole milliseconds (Deno) cannot see such a change: the README says so.
      assert.equal((await upload).size, 12 * MiB)
      return
    }
    await assert.rejects(
      upload,
      (e: unknown) => {
        if (!(e instanceof SourceChangedError)) return false
        const m = /\(modified at (\S+)(?: ms)?, now (\S+?)[;\s]/.exec(e.message)
        return m !== null && m[1] !== m[2]
      },
    )
    assert.deepEqual(await openUploads(bucket, 'files/sub-ms'), [])
  })

  test('a file truncated while uploading: SourceChangedError, upload aborted', async () => {
    const path = file('shrinks.bin', randomData(16 * MiB))
    const prefix = 'files/shrinks'
    await assert.rejects(
      uploadFile(path, target(bucket, prefix), {
        partSize: 5 * MiB,
        concurrency: 1,
        onProgress: (e) => {
          if (e.type === 'part-acked' && e.partNumber === 1) truncateSync(path, 6 * MiB)
        },
      }),
      (e: unknown) => e instanceof SourceChangedError && /ended at byte/.test(e.message),
    )
    assert.deepEqual(await openUploads(bucket, prefix), [])
  })
})
