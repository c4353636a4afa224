// uploadFd against the real S3 server: bytes read from real pipes (FIFOs written by a child
// process or by this one), verified by GET + SHA-256; failures leave no open upload.
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { closeSync, constants, fstatSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { InvalidArgumentError, SourceReadError, uploadFd, type UploadOptions, type UploadProgress } from '../../src/index.ts'
import { uploadFdWith } from '../../src/upload-fd.ts'
import { fsRead } from '../../src/upload/fd-reader.ts'
import { hashWorkerScript } from '../../src/upload/hash-pool.ts'
import { kind, recording } from './recording.ts'
import type { FdChildCase, FdChildResult } from './fixtures/fd-child.ts'
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
      assert.throws(() => fstatSync(fd), { code: 'EBADF' }, 'closed before the promise settled')
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
    // Closed before the promise settled (it was closed a moment later: a caller's own close then
    // could meet a descriptor number reused meanwhile).
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

// ---- uploadFd(0) in a child process on this runtime, stdin a pipe from a producer ----

const fromSource = import.meta.url.endsWith('.ts')
const isDeno = 'Deno' in globalThis
const fdChild = fileURLToPath(new URL(`./fixtures/fd-child.${fromSource ? 'ts' : 'js'}`, import.meta.url))
const runtimeArgs = isDeno ? ['run', '-A', '--no-check', '--conditions=@partstream/source'] : fromSource ? ['--conditions=@partstream/source'] : []

/**
 * What feeds the child's stdin: shell commands through an anonymous pipe (bash's `exec 0< <(…)`,
 * what `producer | node child.js` gives, but with the child itself as the process waited for) or
 * a named FIFO; or `write`, written by this process to the stdin `child_process.spawn` gives (a
 * socket on Node and Bun, a pipe on Deno), which then stays open.
 */
type Feed = { readonly shell: string; readonly fifo?: boolean } | { readonly write: Uint8Array }

/**
 * Runs fixtures/fd-child.ts on this runtime (`process.execPath`; Deno's is the deno binary) with
 * `spec` and `feed` on stdin; resolves with its result and the time from its result line to its
 * exit. Rejects if the child is still alive `exitWithinMs` after that line (it is killed then).
 * The producer is killed at the end either way.
 */
function runFdChild(spec: FdChildCase, feed: Feed, exitWithinMs: number): Promise<{ result: FdChildResult; exitMs: number }> {
  const args = [...runtimeArgs, fdChild, JSON.stringify(spec)]
  let child: ChildProcess
  if ('write' in feed) {
    child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    child.stdin?.on('error', () => {}) // the child may exit before taking it all
    child.stdin?.write(feed.write)
  } else {
    const producer = `(exec 2>/dev/null; ${feed.shell})`
    const path = feed.fifo === true ? fifo() : undefined
    const script = path !== undefined ? `${producer} > '${path}' & echo "producer $!" >&2; exec "$0" "$@" < '${path}'` : `exec 0< <${producer}; echo "producer $!" >&2; exec "$0" "$@"`
    child = spawn('bash', ['-c', script, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  }
  let stdout = ''
  let stderr = ''
  let printed: { result: FdChildResult; at: number } | undefined
  return new Promise<{ result: FdChildResult; exitMs: number }>((resolve, reject) => {
    const killAfter = (ms: number, why: () => string): NodeJS.Timeout =>
      setTimeout(() => {
        child.kill('SIGKILL')
        reject(new Error(`${why()}\n${stderr}`))
      }, ms)
    let timer = killAfter(60_000, () => 'no result from the child within 60 s (killed)')
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8')
      const nl = stdout.indexOf('\n')
      if (printed !== undefined || nl < 0) return
      printed = { result: JSON.parse(stdout.slice(0, nl)) as FdChildResult, at: performance.now() }
      clearTimeout(timer)
      timer = killAfter(exitWithinMs, () => `the child printed ${stdout.slice(0, nl)} and was still alive ${exitWithinMs} ms later (killed)`)
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      if (printed === undefined) reject(new Error(`the child exited (${code}) without a result\n${stderr}`))
      else if (code !== 0) reject(new Error(`the child exited with ${code}\n${stderr}`))
      else resolve({ result: printed.result, exitMs: performance.now() - printed.at })
    })
  }).finally(() => {
    child.stdin?.destroy()
    const producer = Number(/^producer (\d+)$/m.exec(stderr)?.[1])
    if (producer > 0) {
      try {
        process.kill(producer, 'SIGKILL')
      } catch {
        // it had exited
      }
    }
  })
}

describe('uploadFd(0) in a child process on this runtime, stdin a pipe', () => {
  // The upload rejects at once everywhere; the process must then exit too. Deno and Bun used to
  // stay alive until the producer wrote again or closed the pipe: their `fs.read`, blocked on the
  // idle pipe, kept the event loop waiting (a producer idle for ever: a process alive for ever).
  // The producer keeps its end open, idle, for longer than any assertion waits.
  const firstMiB: Feed = { shell: `head -c ${MiB} /dev/zero; exec sleep 10` }
  const aborts: Array<[string, Partial<FdChildCase>, Feed]> = [
    ['idle before part 1 is full', { abortAfterMs: 300 }, firstMiB],
    ['idle before part 1 is full, hashThreads: 1', { abortAfterMs: 300, hashThreads: 1 }, firstMiB],
    ['idle mid-part 2, part 1 acknowledged', { abortAfterMs: 300, abortAfterPart: true }, { shell: `head -c ${7 * MiB} /dev/zero; exec sleep 10` }],
    ['a named FIFO, idle before part 1 is full', { abortAfterMs: 300 }, { ...firstMiB, fifo: true }],
    ['stdin from child_process.spawn, idle before part 1 is full', { abortAfterMs: 300 }, { write: new Uint8Array(MiB) }],
  ]
  for (const [name, fields, feed] of aborts) {
    test(`aborted while the producer is idle (${name}): rejects with signal.reason, and the process exits at once`, async () => {
      const key = `fd-child/abort/${name}`
      const spec: FdChildCase = { bucket, key, partSize: 5 * MiB, hashThreads: 0, close: false, ...fields }
      const { result, exitMs } = await runFdChild(spec, feed, 3000)
      assert.equal(result.settled, 'aborted', JSON.stringify(result))
      assert.ok(exitMs < 3000, `exited ${Math.round(exitMs)} ms after its result`)
      assert.equal(result.stdinOpen, true)
      assert.deepEqual(await openUploads(bucket, key), [])
    })
  }

  test('every byte in order, across a pause mid-part; close: false leaves stdin open and blocking, close: true closes it', async () => {
    const size = 13 * MiB + 5
    const data = randomData(size, 77)
    const path = dataFile('child.bin', data)
    const split = 6 * MiB + 3
    const shell = `head -c ${split} '${path}'; sleep 0.2; tail -c +${split + 1} '${path}'`
    for (const viaFifo of [false, true]) {
      for (const close of [false, true]) {
        const key = `fd-child/whole/${viaFifo ? 'fifo' : 'pipe'}-${close}`
        // With close: true, hashThreads: 1 too: the part buffers are SharedArrayBuffers.
        const spec: FdChildCase = { bucket, key, partSize: 5 * MiB, hashThreads: close ? 1 : 0, close }
        const { result } = await runFdChild(spec, { shell, fifo: viaFifo }, 10_000)
        const what = `${viaFifo ? 'a FIFO' : 'a pipe'}, close: ${close}: ${JSON.stringify(result)}`
        assert.equal(result.settled, 'resolved', what)
        assert.equal(result.size, size, what)
        assert.equal(sha256(await getObject(bucket, key)), sha256(data), what)
        assert.equal(result.stdinOpen, !close, what)
        if (!close) assert.equal(result.stdinNonBlocking, false, what)
      }
    }
  })
})
