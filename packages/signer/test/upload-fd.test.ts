// uploadFd's reading half alone, no S3: FdReader (EAGAIN, EINTR, errors, abort while a read
// waits), PipeReader on a real pipe, fdParts (look-ahead for isLast, part sizes, the pool bound)
// and BufferPool.
import assert from 'node:assert/strict'
import { closeSync, constants, fstatSync, openSync, readSync, rmSync, mkdtempSync, writeFileSync, writeSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { spawn, spawnSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fixedPartSize, type Part } from '@partstream/core'
import fc from 'fast-check'
import { SourceReadError } from '../src/errors.ts'
import { fdParts, partDigests } from '../src/upload-fd.ts'
import { BufferPool } from '../src/upload/buffer-pool.ts'
import { FdReader, MAX_READ_BYTES, type DescriptorReader, type ReadFn } from '../src/upload/fd-reader.ts'
import { HashPool, hashWorkerScript, type DigestStream } from '../src/upload/hash-pool.ts'
import { checksumHash } from '../src/http/checksum.ts'
import { defaultHash, nodeMd5 } from '../src/http/hash.ts'
import { openPipeReader } from '../src/upload/pipe-reader.ts'
import { openRuntimePipe } from '../src/upload/runtime-pipe.ts'

const MiB = 1024 * 1024
const noHashes = partDigests({ hash: null, checksum: null, md5: null })

/** A read over `data`, at most `max` bytes per call; `script` can answer some calls with an error instead. */
function readsOf(data: Uint8Array, max = 65536, script: (call: number) => Error | undefined = () => undefined): ReadFn & { calls: number } {
  let offset = 0
  const fn = async (_fd: number, buffer: Uint8Array, at: number, length: number): Promise<number> => {
    fn.calls++
    const error = script(fn.calls)
    if (error !== undefined) throw error
    const n = Math.min(length, max, data.byteLength - offset)
    buffer.set(data.subarray(offset, offset + n), at)
    offset += n
    return n
  }
  fn.calls = 0
  return fn
}

const coded = (code: string): Error => Object.assign(new Error(`${code}: system error`), { code })

function bytes(size: number): Uint8Array {
  const out = new Uint8Array(size)
  for (let i = 0; i < size; i++) out[i] = (i * 7 + 3) & 0xff
  return out
}

async function collect(reader: DescriptorReader, partSize: number, pool = new BufferPool(2, partSize)): Promise<Part[]> {
  const parts: Part[] = []
  for await (const part of fdParts(reader, fixedPartSize(partSize), pool, noHashes)) {
    parts.push({ ...part, chunks: part.chunks.map((c) => c.slice()) }) // copy: the buffer goes back to the pool
    pool.release(part.chunks[0])
  }
  return parts
}

const joined = (parts: readonly Part[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let at = 0
  for (const p of parts) for (const c of p.chunks) out.set(c, (at += c.byteLength) - c.byteLength)
  return out
}

describe('fdParts', () => {
  const cases: Array<[string, number, number[]]> = [
    ['0 bytes: one empty last part', 0, [0]],
    ['1 byte', 1, [1]],
    ['exactly one part: the look-ahead finds the end', 5 * MiB, [5 * MiB]],
    ['one part + 1 byte: the byte read ahead starts part 2', 5 * MiB + 1, [5 * MiB, 1]],
    ['13 MiB', 13 * MiB, [5 * MiB, 5 * MiB, 3 * MiB]],
  ]
  for (const [name, size, sizes] of cases) {
    test(name, async () => {
      const data = bytes(size)
      const parts = await collect(new FdReader(3, new AbortController().signal, readsOf(data, 65536 - 17)), 5 * MiB)
      assert.deepEqual(parts.map((p) => p.byteLength), sizes)
      assert.deepEqual(parts.map((p) => p.isLast), sizes.map((_, i) => i === sizes.length - 1))
      assert.deepEqual(parts.map((p) => p.offset), sizes.map((_, i) => i * 5 * MiB))
      assert.deepEqual(joined(parts), data)
    })
  }

  test('1-byte reads fill a part', async () => {
    // A policy of 8-byte parts (fdParts takes any policy; S3's 5 MiB minimum is checked earlier).
    const tiny = { description: '8-byte parts', maxPartSize: 8, sizeOf: () => 8 }
    const data = bytes(8 * 2 + 3)
    const pool = new BufferPool(2, 8)
    const parts: Part[] = []
    for await (const part of fdParts(new FdReader(3, new AbortController().signal, readsOf(data, 1)), tiny, pool, noHashes)) {
      parts.push({ ...part, chunks: part.chunks.map((c) => c.slice()) })
      pool.release(part.chunks[0])
    }
    assert.deepEqual(parts.map((p) => p.byteLength), [8, 8, 3])
    assert.deepEqual(parts.map((p) => p.isLast), [false, false, true])
    assert.deepEqual(joined(parts), data)
  })

  test('the pool bound holds: a part not given back means no buffer for the next one', async () => {
    const pool = new BufferPool(1, 5 * MiB)
    const parts = fdParts(new FdReader(3, new AbortController().signal, readsOf(bytes(11 * MiB))), fixedPartSize(5 * MiB), pool, noHashes)
    const first = await parts.next()
    assert.equal(first.done, false)
    await assert.rejects(parts.next(), /BufferPool exhausted/)
  })

  test('each part is hashed in the same pass (SHA-256 of its bytes)', async () => {
    const { createHash } = await import('node:crypto')
    const data = bytes(6 * MiB)
    const hash = () => {
      const h = createHash('sha256')
      return { update: (b: Uint8Array) => void h.update(b), digest: () => new Uint8Array(h.digest()) }
    }
    const pool = new BufferPool(2, 5 * MiB)
    const digests: string[] = []
    for await (const part of fdParts(new FdReader(3, new AbortController().signal, readsOf(data)), fixedPartSize(5 * MiB), pool, partDigests({ hash, checksum: null, md5: null }))) {
      digests.push(Buffer.from(part.sha256 ?? []).toString('hex'))
      pool.release(part.chunks[0])
    }
    assert.deepEqual(digests, [createHash('sha256').update(data.subarray(0, 5 * MiB)).digest('hex'), createHash('sha256').update(data.subarray(5 * MiB)).digest('hex')])
  })
})

describe('fdParts with hash workers (hashThreads)', () => {
  const hashes = { hash: defaultHash, checksum: checksumHash('CRC64NVME') ?? null, md5: nodeMd5 ?? null }
  const hex = (p: Pick<Part, 'sha256' | 'checksum' | 'md5'>): string[] => [p.sha256, p.checksum, p.md5].map((d) => Buffer.from(d ?? []).toString('hex'))

  test('parts read in 64 KiB pieces into shared buffers and hashed by a worker have the inline digests', async () => {
    hashWorkerScript.inlineUntilReady = false // every part to the worker
    const data = new Uint8Array(13 * MiB + 5)
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24
    const workers = new HashPool(1)
    try {
      const digestAt = partDigests(hashes, { pool: workers, spec: { hash: true, checksum: 'CRC64NVME', md5: true }, startAt: 0 })
      const pool = new BufferPool(2, 5 * MiB, true)
      const seen: string[][] = []
      for await (const part of fdParts(new FdReader(3, new AbortController().signal, readsOf(data, 65536 - 3)), fixedPartSize(5 * MiB), pool, digestAt)) {
        assert.ok(part.chunks[0]?.buffer instanceof SharedArrayBuffer)
        seen.push(hex(part))
        pool.release(part.chunks[0])
      }
      const expected: string[][] = []
      for (const [from, to] of [[0, 5 * MiB], [5 * MiB, 10 * MiB], [10 * MiB, data.length]] as const) {
        const d = partDigests(hashes)(0)
        d.update(data.subarray(from, to))
        expected.push(hex(await d.finish()))
      }
      assert.deepEqual(seen, expected)
    } finally {
      hashWorkerScript.inlineUntilReady = true
      await workers.close()
    }
  })

  test('which part goes where: inline before startAt and until a worker is ready, then the pool; start() once', async () => {
    const calls: string[] = []
    let ready = false
    const stream = (): DigestStream => ({ update: () => {}, finish: async () => ({ sha256: new Uint8Array([1]), checksum: undefined, md5: undefined }) })
    const fake = {
      start: () => void calls.push('start'),
      // What HashPool.takesJobs is with no failure and inlineUntilReady on.
      get takesJobs() {
        return ready
      },
      stream: () => {
        calls.push('stream')
        return stream()
      },
    } as unknown as HashPool
    const digestAt = partDigests({ hash: defaultHash, checksum: null, md5: null }, { pool: fake, spec: { hash: true, checksum: null, md5: false }, startAt: 10 * MiB })
    const where = async (offset: number): Promise<string> => {
      const d = digestAt(offset)
      d.update(new Uint8Array(new SharedArrayBuffer(4)))
      return (await d.finish()).sha256?.byteLength === 32 ? 'inline' : 'worker'
    }
    assert.equal(await where(0), 'inline')
    assert.equal(await where(5 * MiB), 'inline')
    assert.deepEqual(calls, [], 'no worker before startAt')
    assert.equal(await where(10 * MiB), 'inline', 'not ready yet')
    assert.deepEqual(calls, ['start'])
    ready = true
    assert.equal(await where(15 * MiB), 'worker')
    assert.equal(await where(20 * MiB), 'worker')
    assert.deepEqual(calls, ['start', 'stream', 'stream'])
  })
})

describe('FdReader', () => {
  test('EAGAIN waits (no busy loop) and reads again; EINTR reads again', async () => {
    const read = readsOf(bytes(10), 4, (call) => (call <= 3 ? coded('EAGAIN') : call === 5 ? coded('EINTR') : undefined))
    const reader = new FdReader(3, new AbortController().signal, read)
    const started = performance.now()
    const buffer = new Uint8Array(10)
    assert.equal(await reader.fill(buffer), 10)
    assert.deepEqual(buffer, bytes(10))
    // Waits of 1, 2 and 4 ms: at least 7 ms, and only a handful of calls.
    assert.ok(performance.now() - started >= 6, `${performance.now() - started} ms`)
    assert.equal(read.calls, 3 + 1 + 1 + 2) // 3 EAGAIN, 4 bytes, EINTR, 4 + 2 bytes: full, no read past it
    assert.equal(reader.ended, false)
    assert.equal(await reader.readSome(buffer, 0, 10), 0)
    assert.equal(reader.ended, true)
  })

  test('no read asks for more than maxReadBytes (MAX_READ_BYTES, 1 GiB: Node aborts the process on a read of 2^31 bytes or more)', async () => {
    assert.equal(MAX_READ_BYTES, 1024 ** 3)
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 1000 }), async (size, max, perRead) => {
        const data = bytes(size)
        const asked: number[] = []
        const read = readsOf(data, perRead)
        const recording: ReadFn = (fd, buffer, offset, length) => {
          asked.push(length)
          return read(fd, buffer, offset, length)
        }
        const reader = new FdReader(3, new AbortController().signal, recording, 3, max)
        const buffer = new Uint8Array(size + 5)
        const first = await reader.readSome(buffer, 0, buffer.byteLength)
        assert.equal(await reader.fill(buffer, first), size)
        assert.deepEqual(buffer.subarray(0, size), data)
        assert.equal(reader.ended, true)
        assert.ok(asked.every((n) => n <= max), `reads of ${asked.join(', ')} bytes, over ${max}`)
      }),
      { numRuns: 100 },
    )
  })

  test('a read error is a SourceReadError with the system code and the error as cause', async () => {
    const cause = coded('EIO')
    const reader = new FdReader(7, new AbortController().signal, readsOf(bytes(10), 4, (call) => (call === 2 ? cause : undefined)))
    await assert.rejects(reader.fill(new Uint8Array(10)), (e: unknown) => {
      assert.ok(e instanceof SourceReadError)
      assert.equal(e.code, 'ERR_PARTSTREAM_SOURCE_READ')
      assert.equal(e.syscallCode, 'EIO')
      assert.equal(e.cause, cause)
      assert.match(e.message, /file descriptor 7 failed \(EIO\)/)
      return true
    })
  })

  test('an abort rejects with signal.reason at once, while the read still waits', async () => {
    const controller = new AbortController()
    let settle: ((n: number) => void) | undefined
    const reader = new FdReader(3, controller.signal, () => new Promise<number>((resolve) => (settle = resolve)))
    const reading = reader.fill(new Uint8Array(10))
    const reason = new Error('stop')
    controller.abort(reason)
    await assert.rejects(reading, (e: unknown) => e === reason)
    let idle = false
    void reader.idle().then(() => (idle = true))
    await new Promise((resolve) => setTimeout(resolve, 5))
    assert.equal(idle, false) // the read is still in flight: a close would wait for it
    settle?.(3)
    await reader.idle()
  })

  test('a real non-blocking FIFO: EAGAIN until the writer writes, then its bytes, then the end', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'partstream-fd-unit-'))
    try {
      const path = join(dir, 'fifo')
      assert.equal(spawnSync('mkfifo', [path]).status, 0)
      const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
      const writer = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK)
      setTimeout(() => {
        writeSync(writer, 'ab')
        setTimeout(() => {
          writeSync(writer, 'c')
          closeSync(writer)
        }, 20)
      }, 20)
      const reader = new FdReader(fd, new AbortController().signal)
      const buffer = new Uint8Array(8)
      assert.equal(await reader.fill(buffer), 3)
      assert.equal(new TextDecoder().decode(buffer.subarray(0, 3)), 'abc')
      closeSync(fd)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('BufferPool', () => {
  test('reuses released buffers, never makes more than max', () => {
    const pool = new BufferPool(2, 8)
    const a = pool.take()
    const b = pool.take()
    assert.throws(() => pool.take(), /exhausted/)
    pool.release(a.subarray(0, 3))
    assert.equal(pool.take().buffer, a.buffer)
    pool.release(b)
  })

  test('a new size drops the free buffers of the old one; an old-size buffer given back frees its slot', () => {
    const pool = new BufferPool(2, 8)
    const a = pool.take()
    const b = pool.take()
    pool.release(a)
    const c = pool.take(16) // a (free, 8 bytes) is dropped
    assert.equal(c.byteLength, 16)
    assert.throws(() => pool.take(16), /exhausted/) // b is still out
    pool.release(b) // old size: dropped, its slot freed
    assert.equal(pool.take(16).byteLength, 16)
  })
})

/** A FIFO with a child writing `data` to it; the read end opened blocking, as a shell gives stdin. */
function fifoWith(data: Uint8Array, dir: string): { fd: number; done: Promise<void> } {
  const path = join(dir, 'fifo')
  assert.equal(spawnSync('mkfifo', [path]).status, 0)
  const source = join(dir, 'data.bin')
  writeFileSync(source, data)
  const child = spawn('sh', ['-c', `exec cat '${source}' > '${path}'`], { stdio: 'ignore' })
  const done = new Promise<void>((resolve) => child.on('close', () => resolve()))
  return { fd: openSync(path, 'r'), done }
}

// Registered only where uploadFd uses it (Node on Linux), like the other runtime-specific tests.
const pipeReaderRuns = process.platform === 'linux' && !('bun' in process.versions) && !('deno' in process.versions)
if (pipeReaderRuns) describe('PipeReader (a pipe read like a socket; Node on Linux)', () => {

  test('fdParts over a real pipe: every byte in order, parts full but the last, the caller\'s descriptor left open and blocking', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pipe-reader-'))
    try {
      for (const size of [0, 1, 5 * MiB, 5 * MiB + 1, 13 * MiB + 12345]) {
        const data = randomBytes(size)
        const { fd, done } = fifoWith(data, dir)
        const reader = openPipeReader(fd, new AbortController().signal)
        assert.ok(reader !== undefined)
        const parts = await collect(reader, 5 * MiB)
        reader.close()
        await done
        const joined = Buffer.concat(parts.flatMap((p) => p.chunks))
        assert.ok(joined.equals(data), `${size} bytes read back whole`)
        assert.deepEqual(parts.map((p) => p.byteLength), size === 0 ? [0] : [...Array(Math.floor((size - 1) / (5 * MiB))).fill(5 * MiB), ((size - 1) % (5 * MiB)) + 1])
        assert.ok(parts.at(-1)?.isLast)
        assert.ok(fstatSync(fd).isFIFO(), 'the caller\'s descriptor is still open')
        // Blocking still: a read on the caller's descriptor at the end returns 0 instead of EAGAIN.
        assert.equal(readSync(fd, new Uint8Array(1)), 0)
        closeSync(fd)
        rmSync(join(dir, 'fifo'))
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('fill hands each piece to onChunk as it lands; readSome takes what the last read left over first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pipe-reader-'))
    try {
      const data = randomBytes(300_001)
      const { fd, done } = fifoWith(data, dir)
      const reader = openPipeReader(fd, new AbortController().signal)
      assert.ok(reader !== undefined)
      const buffer = new Uint8Array(100_000)
      const pieces: Uint8Array[] = []
      assert.equal(await reader.fill(buffer, 0, buffer.byteLength, (c) => pieces.push(c.slice())), 100_000)
      assert.ok(Buffer.concat(pieces).equals(data.subarray(0, 100_000)))
      const small = new Uint8Array(7)
      const n = await reader.readSome(small, 2, 5)
      assert.ok(n >= 1 && n <= 5)
      assert.ok(Buffer.from(small.subarray(2, 2 + n)).equals(data.subarray(100_000, 100_000 + n)))
      const rest = new Uint8Array(data.byteLength)
      const end = await reader.fill(rest, 0, rest.byteLength, () => {})
      assert.equal(end, data.byteLength - 100_000 - n, 'the data ended before the buffer was full')
      assert.ok(Buffer.from(rest.subarray(0, end)).equals(data.subarray(100_000 + n)))
      assert.ok(reader.ended)
      assert.equal(await reader.readSome(small, 0, 7), 0)
      reader.close()
      closeSync(fd)
      await done
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('a producer that wrote and exited before the reader opened: its bytes, then the end (Linux reports no hang-up then)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pipe-reader-'))
    try {
      for (const data of [new Uint8Array(0), randomBytes(3), randomBytes(60_000)]) {
        const { fd, done } = fifoWith(data, dir)
        await done // the writer is gone before openPipeReader runs
        const reader = openPipeReader(fd, new AbortController().signal)
        assert.ok(reader !== undefined)
        const parts = await collect(reader, 5 * MiB)
        assert.ok(Buffer.concat(parts.flatMap((p) => p.chunks)).equals(data))
        reader.close()
        closeSync(fd)
        rmSync(join(dir, 'fifo'))
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('an abort while waiting for bytes rejects with signal.reason at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pipe-reader-'))
    try {
      const path = join(dir, 'fifo')
      assert.equal(spawnSync('mkfifo', [path]).status, 0)
      const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
      const writer = openSync(path, constants.O_WRONLY) // held open, never written: the reader waits
      const controller = new AbortController()
      const reader = openPipeReader(fd, controller.signal)
      assert.ok(reader !== undefined)
      const reading = reader.fill(new Uint8Array(16), 0, 16, () => {})
      setTimeout(() => controller.abort(new Error('stop')), 20)
      await assert.rejects(reading, /stop/)
      reader.close()
      closeSync(writer)
      closeSync(fd)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

// Deno's and Bun's own pipe readers (Linux), registered where uploadFd uses them. Deno's (an
// anonymous pipe: a shell's `|`) is exercised through a child process in
// integration/upload-fd.test.ts; here, a FIFO.
const ownReader = process.platform !== 'linux' ? undefined : 'bun' in process.versions ? 'Bun' : 'deno' in process.versions ? 'Deno' : undefined
if (ownReader !== undefined) describe(`openRuntimePipe (${ownReader} on Linux)`, () => {
  if (ownReader === 'Deno') {
    test('a named FIFO and a regular file are not taken (Deno.openSync of a FIFO without a writer would block)', () => {
      const dir = mkdtempSync(join(tmpdir(), 'runtime-pipe-'))
      try {
        const path = join(dir, 'fifo')
        assert.equal(spawnSync('mkfifo', [path]).status, 0)
        const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
        assert.equal(openRuntimePipe(fd, fstatSync(fd)), undefined)
        closeSync(fd)
        writeFileSync(join(dir, 'file'), 'x')
        const file = openSync(join(dir, 'file'), 'r')
        assert.equal(openRuntimePipe(file, fstatSync(file)), undefined)
        closeSync(file)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
    return
  }

  test('fdParts over a FIFO: every byte in order, parts full but the last, the caller\'s descriptor left open and blocking', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runtime-pipe-'))
    try {
      for (const size of [0, 1, 5 * MiB, 5 * MiB + 1, 13 * MiB + 12345]) {
        const data = randomBytes(size)
        const { fd, done } = fifoWith(data, dir)
        const pipe = openRuntimePipe(fd, fstatSync(fd))
        assert.ok(pipe !== undefined)
        const parts = await collect(new FdReader(fd, new AbortController().signal, pipe.read), 5 * MiB)
        pipe.close()
        await done
        assert.ok(Buffer.concat(parts.flatMap((p) => p.chunks)).equals(data), `${size} bytes read back whole`)
        assert.deepEqual(parts.map((p) => p.byteLength), size === 0 ? [0] : [...Array(Math.floor((size - 1) / (5 * MiB))).fill(5 * MiB), ((size - 1) % (5 * MiB)) + 1])
        assert.ok(fstatSync(fd).isFIFO(), 'the caller\'s descriptor is still open')
        assert.equal(readSync(fd, new Uint8Array(1)), 0) // blocking still: 0 at the end, not EAGAIN
        closeSync(fd)
        rmSync(join(dir, 'fifo'))
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('a producer that wrote and exited before the open: its bytes, then the end (Linux reports no hang-up then)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runtime-pipe-'))
    try {
      for (const data of [new Uint8Array(0), randomBytes(3), randomBytes(60_000)]) {
        const { fd, done } = fifoWith(data, dir)
        await done // the writer is gone before openRuntimePipe runs
        const pipe = openRuntimePipe(fd, fstatSync(fd))
        assert.ok(pipe !== undefined)
        const parts = await collect(new FdReader(fd, new AbortController().signal, pipe.read), 5 * MiB)
        assert.ok(Buffer.concat(parts.flatMap((p) => p.chunks)).equals(data))
        pipe.close()
        closeSync(fd)
        rmSync(join(dir, 'fifo'))
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('close() ends a read waiting on an idle producer at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runtime-pipe-'))
    try {
      const path = join(dir, 'fifo')
      assert.equal(spawnSync('mkfifo', [path]).status, 0)
      const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
      const writer = openSync(path, constants.O_WRONLY) // held open: the reader waits
      writeSync(writer, 'ab')
      const pipe = openRuntimePipe(fd, fstatSync(fd))
      assert.ok(pipe !== undefined)
      const buffer = new Uint8Array(8)
      assert.equal(await pipe.read(fd, buffer, 0, 8), 2)
      const reading = pipe.read(fd, buffer, 2, 6)
      let settled = false
      void reading.then(() => (settled = true))
      await new Promise((resolve) => setTimeout(resolve, 20))
      assert.equal(settled, false, 'the read waits for the producer')
      pipe.close()
      assert.equal(await reading, 0)
      closeSync(writer)
      closeSync(fd)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('fdParts at the end of the data', () => {
  test('the last part waits one turn of the event loop, so a signal that came with the EOF (a Ctrl-C kills the producer too) is handled before it is sent', async () => {
    // What the race looked like: the EOF read, the last part sent as a PutObject over the key's
    // object, and only then the SIGINT handler: a truncated stream written, exit 0.
    let signalled = false
    const data = bytes(1000)
    const reader: DescriptorReader = {
      ended: false,
      readSome: async () => 0,
      async fill(buffer, from, _to, onChunk) {
        buffer.set(data, from)
        onChunk(buffer.subarray(from, from + data.byteLength))
        // The signal's callback, queued as the EOF is read (libuv runs it in a later phase).
        setImmediate(() => (signalled = true))
        return from + data.byteLength // less than the part: the end
      },
      idle: async () => undefined,
    }
    const parts = fdParts(reader, fixedPartSize(5 * MiB), new BufferPool(2, 5 * MiB), noHashes)
    const first = await parts.next()
    assert.equal(first.value?.isLast, true)
    assert.equal(signalled, true, 'the callback queued with the EOF ran before the last part was handed out')
    await parts.return(undefined)
  })
})
