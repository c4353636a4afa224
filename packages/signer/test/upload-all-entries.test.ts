// uploadAll and the entries it is given, without S3: an in-process node:http server stores every
// PutObject. An entries iterator that does not yield, entries of the wrong shape, and sources an
// entry brings that are never read must neither hold the call nor stay open.
import assert from 'node:assert/strict'
import { createReadStream, mkdirSync, mkdtempSync, rmSync, writeFileSync, type ReadStream } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { inspect } from 'node:util'
import { InvalidArgumentError, uploadAll, uploadDirectory, type Credentials, type UploadEntry } from '../src/index.ts'
import { failOnUnhandledRejections } from './fault/helpers.ts'
import { startStubServer, type StubServer } from './stub-server.ts'

failOnUnhandledRejections()

const TEST = { timeout: 20_000 }
const credentials: Credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }
const dir = mkdtempSync(join(tmpdir(), 'partstream-entries-'))
let server: StubServer
before(async () => {
  server = await startStubServer((_req, res) => res.writeHead(200, { etag: '"0123456789abcdef0123456789abcdef"' }).end())
})
after(async () => {
  await server.close()
  rmSync(dir, { recursive: true, force: true })
})

/**
 * A file stream destroyed before it opened: Bun still finishes the open and may emit its error
 * later (after the test removed the file): observed here, and waited for before the test ends.
 */
function quiet<T extends ReadStream>(stream: T): T {
  stream.on('error', () => {})
  return stream
}

function closed(stream: ReadStream): Promise<void> {
  return stream.closed ? Promise.resolve() : new Promise((resolve) => stream.once('close', () => resolve()))
}

const bucket = (): { bucket: string; endpoint: string; credentials: Credentials } => ({ bucket: 'bkt', endpoint: server.endpoint, credentials })

/** Yields `first`, then waits `stallMs` before the next entry (a work queue with nothing in it yet). */
function stalling(first: UploadEntry, stallMs: number, late?: UploadEntry): AsyncIterableIterator<UploadEntry> & { returned: boolean } {
  let i = 0
  const it = {
    returned: false,
    [Symbol.asyncIterator]() {
      return it
    },
    async next(): Promise<IteratorResult<UploadEntry>> {
      if (i++ === 0) return { done: false, value: first }
      await new Promise((resolve) => setTimeout(resolve, stallMs))
      return late === undefined ? { done: true, value: undefined } : { done: false, value: late }
    },
    async return(): Promise<IteratorResult<UploadEntry>> {
      it.returned = true
      return { done: true, value: undefined }
    },
  }
  return it
}

describe('uploadAll: an entries iterator that does not yield', () => {
  test('an abort while next() is pending rejects at once, not when the iterator yields; an entry it yields late is closed unread', TEST, async () => {
    const path = join(dir, 'late.bin')
    writeFileSync(path, 'late')
    const lateStream = quiet(createReadStream(path))
    const entries = stalling({ key: 'one', source: new Uint8Array(10) }, 3000, { key: 'late', source: lateStream })
    const controller = new AbortController()
    setTimeout(() => controller.abort(new Error('user abort')), 200)
    const started = Date.now()
    await assert.rejects(uploadAll(entries, bucket(), { signal: controller.signal }), { message: 'user abort' })
    const took = Date.now() - started
    assert.ok(took < 2500, `rejected after ${took} ms`)
    await new Promise((resolve) => setTimeout(resolve, 3200))
    assert.equal(lateStream.destroyed, true, 'the entry yielded after the abort was closed')
    await closed(lateStream)
  })

  test('failFast: the first failure rejects at once while next() is pending', TEST, async () => {
    const entries = stalling({ key: 'missing', path: join(dir, 'does-not-exist') }, 3000)
    const started = Date.now()
    await assert.rejects(uploadAll(entries, bucket(), { failFast: true }), InvalidArgumentError)
    const took = Date.now() - started
    assert.ok(took < 2500, `rejected after ${took} ms`)
  })
})

describe('uploadAll: entries of the wrong shape', () => {
  for (const [name, entry, message] of [
    ['null', null, /Expected an entry of \{ key, path \} or \{ key, source \}, got null/],
    ['a number', 42, /Expected an entry of \{ key, path \} or \{ key, source \}, got/],
    ['{ path } with no key', { path: '/tmp/x' }, /Expected `key` to be a non-empty string/],
    ['both path and source', { key: 'k', path: '/tmp/x', source: new Uint8Array(1) }, /Expected an entry of \{ key, path \} or \{ key, source \}, not both/],
  ] as const) {
    test(`${name}: that entry fails with a message naming the shape`, TEST, async () => {
      const result = await uploadAll([entry as unknown as UploadEntry], bucket())
      assert.equal(result.failed, 1)
      const error = result.files[0]?.error
      assert.ok(error instanceof InvalidArgumentError, inspect(error))
      assert.match(error.message, message)
    })
  }
})

describe('uploadAll and uploadDirectory: a `key` in the target', () => {
  test('is refused before any request (it was dropped: every file landed at the bucket root), with the prefix to give instead; the entries are closed', TEST, async () => {
    let requests = 0
    const counting = await startStubServer((_req, res) => {
      requests++
      res.writeHead(200, { etag: '"0123456789abcdef0123456789abcdef"' }).end()
    })
    try {
      const target = { ...bucket(), endpoint: counting.endpoint, key: 'backup' }
      const entries = stalling({ key: 'a', source: new Uint8Array(1) }, 0)
      await assert.rejects(uploadAll(entries, target), (error: unknown) => {
        assert.ok(error instanceof InvalidArgumentError, inspect(error))
        assert.match(error.message, /Expected no `key` in the target: each file's key is `prefix` \+ its own key\. Got key "backup"; for keys under it, pass \{ prefix: "backup\/" \}/)
        return true
      })
      assert.equal(entries.returned, true, 'the entries were closed')
      const tree = join(dir, 'tree-with-key')
      mkdirSync(tree, { recursive: true })
      writeFileSync(join(tree, 'f.txt'), 'f')
      const site = { ...target, key: 'site/' }
      await assert.rejects(uploadDirectory(tree, site), /pass \{ prefix: "site\/" \}/)
      assert.equal(requests, 0)
    } finally {
      await counting.close()
    }
  })
})

describe('uploadAll: a Node Readable an entry brings, never read', () => {
  test('an entry that fails before its source is read (a bad key) destroys its Readable (its file descriptor closes)', TEST, async () => {
    const path = join(dir, 'unread.bin')
    writeFileSync(path, 'unread')
    const stream = quiet(createReadStream(path))
    const result = await uploadAll([{ key: '', source: stream }], bucket())
    assert.equal(result.failed, 1)
    assert.equal(stream.destroyed, true)
    await closed(stream)
  })
})

describe('uploadAll: a web ReadableStream an entry brings, never read', () => {
  test('an entry that fails before its source is read (a bad key) cancels its stream, with or without Symbol.asyncIterator', TEST, async () => {
    for (const iterable of [true, false]) {
      let cancels = 0
      const stream = new ReadableStream<Uint8Array>({
        cancel() {
          cancels++
        },
      })
      // A stream as the DOM types describe it, or a runtime or polyfill without async iteration: toParts reads it through getReader().
      if (!iterable) Object.defineProperty(stream, Symbol.asyncIterator, { value: undefined })
      const result = await uploadAll([{ key: '', source: stream }], bucket())
      assert.equal(result.failed, 1)
      assert.equal(cancels, 1, `iterable: ${iterable}`)
    }
  })
})

describe('uploadAll: a locked ReadableStream an entry brings', () => {
  test('that entry fails with InvalidArgumentError in its FileResult (nothing thrown unhandled) and the others go on', TEST, async () => {
    const locked = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(3))
        controller.close()
      },
    })
    const reader = locked.getReader()
    const shared = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(1000).fill(7))
        controller.close()
      },
    })
    const entries: UploadEntry[] = [
      { key: 'locked', source: locked },
      { key: 'first', source: shared },
      // The same stream twice by mistake: the second entry finds it locked by the first.
      { key: 'second', source: shared },
      { key: 'ok', source: [new Uint8Array(5)] },
    ]
    const result = await uploadAll(entries, bucket(), { concurrency: 1 })
    const byKey = new Map(result.files.map((f) => [f.key, f]))
    assert.deepEqual([...byKey.keys()].sort(), ['first', 'locked', 'ok', 'second'], 'every entry has its FileResult')
    assert.equal(result.failed, 2)
    for (const key of ['locked', 'second']) {
      const error = byKey.get(key)?.error
      assert.ok(error instanceof InvalidArgumentError, inspect(error))
      assert.match(error.message, /locked/)
    }
    assert.equal(byKey.get('first')?.error, undefined)
    assert.equal(byKey.get('first')?.size, 1000)
    assert.equal(byKey.get('ok')?.error, undefined)
    // The stream another reader holds is left to that reader: not cancelled behind its back.
    assert.deepEqual(await reader.read(), { done: false, value: new Uint8Array(3) })
    reader.releaseLock()
  })
})
