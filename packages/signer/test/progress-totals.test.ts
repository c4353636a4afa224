// What progress events know of sizes, without S3: an in-process node:http server on 127.0.0.1,
// port 0, plays a bucket that takes PutObject and multipart uploads (S3's ETags, objects kept in
// memory so the bytes sent are checked too).
// - uploadFd on a regular file: `totalBytes` is the bytes after the descriptor's position (known
//   on Linux, from /proc/self/fdinfo); a pipe's is unknown until `done`, `sizeHint` or not.
// - uploadAll / uploadDirectory: `file-started` carries a `{ key, path }` file's size.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, beforeEach, describe, test } from 'node:test'
import {
  uploadAll,
  uploadDirectory,
  uploadFd,
  type UploadAllProgress,
  type UploadFdOptions,
  type UploadProgress,
  type UploadTarget,
} from '../src/index.ts'
import { failOnUnhandledRejections } from './fault/helpers.ts'
import { startStubServer, type StubRequest, type StubServer } from './stub-server.ts'

failOnUnhandledRejections()

const MiB = 1024 * 1024
const PART = 5 * MiB
const TEST = { timeout: 30_000 }
const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }
/** uploadFd reads a regular file's position from /proc/self/fdinfo (Node has no lseek): elsewhere the total stays unknown. */
const knowsPosition = process.platform === 'linux'

const md5 = (data: Uint8Array): Buffer => createHash('md5').update(data).digest()

/** Objects written: key → bytes. */
const objects = new Map<string, Buffer>()
const uploads = new Map<string, { key: string; parts: Map<number, Buffer> }>()
let server: StubServer
let endpoint: string
const dir = mkdtempSync(join(tmpdir(), 'partstream-totals-'))

function answerXml(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?>${body}`)
}

/** A bucket as far as uploads need one: PutObject, Create, UploadPart, Complete, Abort. */
function bucket(req: StubRequest, res: ServerResponse): void {
  const url = new URL(req.url, 'http://fake')
  const q = url.searchParams
  const key = decodeURIComponent(url.pathname.split('/').slice(2).join('/'))
  const uploadId = q.get('uploadId')
  if (req.method === 'POST' && q.has('uploads')) {
    const id = `up${uploads.size + 1}`
    uploads.set(id, { key, parts: new Map() })
    answerXml(res, `<InitiateMultipartUploadResult><Bucket>bkt</Bucket><Key>${key}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`)
  } else if (req.method === 'PUT' && uploadId !== null) {
    uploads.get(uploadId)?.parts.set(Number(q.get('partNumber')), req.body)
    res.writeHead(200, { etag: `"${md5(req.body).toString('hex')}"` }).end()
  } else if (req.method === 'POST' && uploadId !== null) {
    const upload = uploads.get(uploadId)
    const parts = [...(upload?.parts ?? new Map<number, Buffer>()).entries()].sort(([a], [b]) => a - b).map(([, body]) => body)
    objects.set(key, Buffer.concat(parts))
    const etag = `${md5(Buffer.concat(parts.map(md5))).toString('hex')}-${parts.length}`
    answerXml(res, `<CompleteMultipartUploadResult><Bucket>bkt</Bucket><Key>${key}</Key><ETag>&quot;${etag}&quot;</ETag></CompleteMultipartUploadResult>`)
  } else if (req.method === 'DELETE' && uploadId !== null) {
    uploads.delete(uploadId)
    res.writeHead(204).end()
  } else if (req.method === 'PUT') {
    objects.set(key, req.body)
    res.writeHead(200, { etag: `"${md5(req.body).toString('hex')}"` }).end()
  } else {
    res.writeHead(501, { 'content-type': 'application/xml' }).end('<Error><Code>NotImplemented</Code><Message>fake server</Message></Error>')
  }
}

before(async () => {
  server = await startStubServer(bucket)
  endpoint = server.endpoint
})

after(async () => {
  await server.close()
  rmSync(dir, { recursive: true, force: true })
})

beforeEach(() => {
  objects.clear()
  uploads.clear()
})

const target = (key: string): UploadTarget => ({ bucket: 'bkt', key, endpoint, region: 'us-east-1', credentials })

function data(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size)
  for (let i = 0, x = seed; i < size; i++) out[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24
  return out
}

function dataFile(name: string, bytes: Uint8Array): string {
  const path = join(dir, name)
  writeFileSync(path, bytes)
  return path
}

/** `totalBytes` of every event but `done` (the events that have one). */
const totalsOf = (events: readonly UploadProgress[]): Array<number | undefined> =>
  events.flatMap((e) => (e.type === 'done' || !('totalBytes' in e) ? [] : [e.totalBytes]))

describe('uploadFd: totalBytes of a regular file', () => {
  const cases: ReadonlyArray<[string, number, number, UploadFdOptions]> = [
    ['three parts, read from its start', 2 * PART + 9, 0, {}],
    ['one part (PutObject), read from its start', 3 * MiB, 0, {}],
    ['three parts, read from 1 MiB + 3 in (the caller read that much first)', 2 * PART + 9, MiB + 3, {}],
    ['three parts, with a sizeHint of its own (the file still says how much is left)', 2 * PART + 9, 0, { sizeHint: 40 * MiB }],
  ]
  for (const [name, size, skip, options] of cases) {
    test(`${name}: every event carries the bytes after the position`, TEST, async () => {
      const bytes = data(size, size + skip)
      const fd = openSync(dataFile(`${size}-${skip}.bin`, bytes), 'r')
      const events: UploadProgress[] = []
      try {
        if (skip > 0) assert.equal(readSync(fd, new Uint8Array(skip)), skip)
        const result = await uploadFd(fd, target('fd'), { ...options, partSize: PART, concurrency: 2, onProgress: (e) => events.push(e) })
        assert.equal(result.size, size - skip)
        assert.deepEqual(events.at(-1), { type: 'done', bytesAcked: size - skip, totalBytes: size - skip, partCount: result.partCount })
      } finally {
        closeSync(fd)
      }
      assert.ok(objects.get('fd')?.equals(bytes.subarray(skip)), 'the bytes after the position were sent')
      const totals = totalsOf(events)
      assert.ok(totals.length >= 2, JSON.stringify(events.map((e) => e.type)))
      assert.deepEqual(totals, totals.map(() => (knowsPosition ? size - skip : undefined)))
    })
  }

  // The position comes from /proc/self/fdinfo (Linux); `dd` moves it, sharing the descriptor's open
  // file description (`skip` on a seekable input is an lseek; Node has none). Not on Deno: its
  // child_process gives a child /dev/null for a descriptor number in `stdio` (Deno 2.9.6).
  if (knowsPosition && !('deno' in process.versions)) test('a 6 TiB (sparse) file positioned 3 MiB before its end: parts are sized for the 3 MiB left, not the whole file (was ObjectTooLargeError)', TEST, async () => {
    const size = 6 * 1024 * 1024 * MiB
    const tail = data(3 * MiB, 6)
    const path = join(dir, 'sparse-6t.bin')
    const fd = openSync(path, 'w+')
    const events: UploadProgress[] = []
    try {
      ftruncateSync(fd, size)
      writeSync(fd, tail, 0, tail.byteLength, size - tail.byteLength)
      const dd = spawnSync('dd', ['bs=1048576', `skip=${(size - tail.byteLength) / MiB}`, 'count=0'], { stdio: [fd, 'ignore', 'pipe'] })
      assert.equal(dd.status, 0, String(dd.stderr))
      const result = await uploadFd(fd, target('sparse'), { onProgress: (e) => events.push(e) })
      assert.deepEqual([result.size, result.partCount], [tail.byteLength, 1])
    } finally {
      closeSync(fd)
      rmSync(path, { force: true })
    }
    assert.ok(objects.get('sparse')?.equals(tail), 'the bytes after the position were sent')
    assert.deepEqual(events.at(-1), { type: 'done', bytesAcked: tail.byteLength, totalBytes: tail.byteLength, partCount: 1 })
  })

  test('a pipe: totalBytes unknown until its last part is read, sizeHint or not (as upload() with a sizeHint)', TEST, async () => {
    const bytes = data(PART + 7, 3)
    const path = dataFile('pipe.bin', bytes)
    // A FIFO written by a child's `cat`: the read end is not a regular file.
    const fifo = join(dir, 'fifo')
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0)
    const child = spawn('sh', ['-c', `exec > '${fifo}'; cat '${path}'`], { stdio: ['ignore', 'ignore', 'inherit'] })
    const exited = new Promise((resolve) => child.on('close', resolve))
    const fd = openSync(fifo, 'r') // returns once the child has opened its end
    const events: UploadProgress[] = []
    try {
      const result = await uploadFd(fd, target('pipe'), { partSize: PART, sizeHint: PART + 7, onProgress: (e) => events.push(e) })
      assert.equal(result.partCount, 2)
    } finally {
      closeSync(fd)
      await exited
    }
    assert.ok(objects.get('pipe')?.equals(bytes))
    // Part 1's events: unknown (the hint is not the total); from part 2's (the last) on: known.
    const last = events.findIndex((e) => e.type === 'part-started' && e.partNumber === 2)
    assert.ok(last > 0)
    assert.deepEqual(totalsOf(events.slice(0, last)), totalsOf(events.slice(0, last)).map(() => undefined))
    assert.deepEqual(totalsOf(events.slice(last)), totalsOf(events.slice(last)).map(() => PART + 7))
    assert.deepEqual(events.at(-1), { type: 'done', bytesAcked: PART + 7, totalBytes: PART + 7, partCount: 2 })
  })
})

describe('uploadAll / uploadDirectory: file-started carries the size of a { key, path } file', () => {
  const sizes = [0, 1, 1000, PART + 1]

  test('uploadAll: each file-started has its file\'s size, before that file\'s parts, once per file', TEST, async () => {
    const entries = sizes.map((size, i) => ({ key: `f${i}`, path: dataFile(`all-${i}.bin`, data(size, i)) }))
    const events: UploadAllProgress[] = []
    const result = await uploadAll(entries, { bucket: 'bkt', endpoint, region: 'us-east-1', credentials }, { partSize: PART, onProgress: (e) => events.push(e) })
    assert.equal(result.failed, 0)
    const started = events.flatMap((e) => (e.type === 'file-started' ? [[e.key, e.size]] : []))
    assert.deepEqual(started.sort(), sizes.map((size, i) => [`f${i}`, size]).sort())
    for (const [i] of sizes.entries()) {
      const first = events.findIndex((e) => 'key' in e && e.key === `f${i}`)
      assert.equal(events[first]?.type, 'file-started', `f${i}'s first event`)
    }
  })

  test('uploadDirectory: the same, for the files its walk finds', TEST, async () => {
    const root = join(dir, 'tree')
    mkdirSync(join(root, 'sub'), { recursive: true })
    writeFileSync(join(root, 'a.txt'), data(10, 1))
    writeFileSync(join(root, 'sub', 'b.bin'), data(PART + 3, 2))
    const events: UploadAllProgress[] = []
    await uploadDirectory(root, { bucket: 'bkt', endpoint, region: 'us-east-1', credentials, prefix: 'd/' }, { partSize: PART, onProgress: (e) => events.push(e) })
    const started = events.flatMap((e) => (e.type === 'file-started' ? [[e.key, e.size]] : []))
    assert.deepEqual(started.sort(), [
      ['d/a.txt', 10],
      ['d/sub/b.bin', PART + 3],
    ])
  })

  test('a file that cannot be read still gets one file-started (no size) before its failed file-done', TEST, async () => {
    const events: UploadAllProgress[] = []
    const result = await uploadAll([{ key: 'gone', path: join(dir, 'missing.bin') }], { bucket: 'bkt', endpoint, region: 'us-east-1', credentials }, { onProgress: (e) => events.push(e) })
    assert.equal(result.failed, 1)
    assert.deepEqual(
      events.map((e) => [e.type, e.type === 'file-started' ? e.size : undefined, e.filesStarted]),
      [
        ['file-started', undefined, 1],
        ['file-done', undefined, 1],
      ],
    )
  })
})

describe('a total given up front that the data passes', () => {
  test('is dropped (undefined) until the last part says the true one, never below what was sent (uploadFd of a growing file: a bar read 185 %)', async () => {
    const { progressReporter } = await import('../src/upload/progress.ts')
    const events: UploadProgress[] = []
    const p = progressReporter((e) => void events.push(e), 10, () => {})
    p.started(1, 6)
    p.acked(1, 6)
    p.started(2, 6) // 12 bytes sent of a "10-byte" source
    p.acked(2, 6)
    p.knowTotal(15)
    p.started(3, 3)
    p.acked(3, 3)
    assert.deepEqual(
      events.map((e) => ('totalBytes' in e ? e.totalBytes : null)),
      [10, 10, undefined, undefined, 15, 15],
    )
    for (const e of events) if ('totalBytes' in e && e.totalBytes !== undefined) assert.ok(e.totalBytes >= e.bytesAcked)
  })
})
