// uploadAll / uploadDirectory against the real S3 server: one budget for many files, every key
// and byte verified by GET + SHA-256, failures per file, abort with nothing left open.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  checksumHash,
  createS3Context,
  headObject,
  listObjectsV2,
  PartstreamError,
  uploadAll,
  uploadDirectory,
  walkDirectory,
  type FileResult,
  type HashFactory,
  type UploadAllProgress,
} from '../../src/index.ts'
import { startFaultProxy } from '../fault/proxy.ts'
import { createBucket, getObject, openUploads, randomData, s3Env, sha256 } from './s3.ts'

const MiB = 1024 * 1024
let bucket: string
const root = mkdtempSync(join(tmpdir(), 'partstream-many-'))

before(async () => {
  bucket = await createBucket('many')
})
after(() => rmSync(root, { recursive: true, force: true }))

function put(dir: string, rel: string, data: Uint8Array): void {
  const path = join(dir, ...rel.split('/'))
  mkdirSync(join(path, '..'), { recursive: true })
  writeFileSync(path, data)
}

/** Counts parts in flight across all files from the progress stream; returns the peak. */
function inFlightCounter() {
  let now = 0
  let peak = 0
  return {
    onProgress: (e: UploadAllProgress) => {
      if (e.type === 'part-started') peak = Math.max(peak, ++now)
      if (e.type === 'part-acked') now--
    },
    get peak() {
      return peak
    },
  }
}

async function contentType(key: string): Promise<string | undefined> {
  const ctx = createS3Context({ ...s3Env(), bucket, key })
  try {
    return (await headObject(ctx)).contentType
  } finally {
    await ctx.close()
  }
}

describe('uploadDirectory to Ceph RGW', () => {
  test('a nested tree: every key and byte, symlinks skipped, filter applied, content types by extension', async () => {
    const dir = join(root, 'tree')
    const files: Record<string, Buffer> = {
      'empty.txt': Buffer.alloc(0),
      'index.html': Buffer.from('<!doctype html><p>hi</p>'),
      'a/big.bin': randomData(13 * MiB, 13),
      'a/b/ünïcödé 日本語.txt': Buffer.from('unicode name'),
      'a/b/c/deep.json': Buffer.from('{"deep":true}'),
      'space dir/x y.css': Buffer.from('p{}'),
    }
    for (const [rel, data] of Object.entries(files)) put(dir, rel, data)
    put(dir, 'a/skip.log', Buffer.from('filtered out'))
    symlinkSync(join(dir, 'index.html'), join(dir, 'link.html'))
    symlinkSync(join(dir, 'a'), join(dir, 'linkdir'))
    const counter = inFlightCounter()
    const events: UploadAllProgress[] = []
    const filtered: string[] = []
    const result = await uploadDirectory(dir, { ...s3Env(), bucket, prefix: 'tree/' }, {
      concurrency: 3,
      filter: (rel, stats) => {
        assert.ok(stats.isFile())
        if (rel.endsWith('.log')) filtered.push(rel)
        return !rel.endsWith('.log')
      },
      onProgress: (e) => {
        counter.onProgress(e)
        events.push(e)
      },
    })
    assert.deepEqual(filtered, ['a/skip.log'])
    assert.equal(result.failed, 0)
    assert.equal(result.succeeded, Object.keys(files).length)
    assert.deepEqual(result.files.map((f) => f.key).sort(), Object.keys(files).map((k) => `tree/${k}`).sort())
    assert.equal(result.uploadedBytes, Object.values(files).reduce((n, d) => n + d.byteLength, 0))
    for (const [rel, data] of Object.entries(files)) {
      const file = result.files.find((f) => f.key === `tree/${rel}`)
      assert.equal(file?.size, data.byteLength, rel)
      assert.equal(file?.path, join(dir, ...rel.split('/')))
      assert.equal(sha256(await getObject(bucket, `tree/${rel}`)), sha256(data), rel)
    }
    assert.ok(counter.peak <= 3, `peak parts in flight ${counter.peak}`)
    assert.equal(await contentType('tree/index.html'), 'text/html; charset=utf-8')
    assert.equal(await contentType('tree/a/b/c/deep.json'), 'application/json')
    const last = events.at(-1)
    assert.equal(last?.type, 'file-done')
    assert.equal(last?.filesDone, Object.keys(files).length)
    assert.equal(last?.bytesAcked, result.uploadedBytes)
    assert.equal(events.filter((e) => e.type === 'file-started').length, Object.keys(files).length)
    // The one multipart file says which upload it opened, before its parts go out (a caller
    // interrupted meanwhile can name what may be left).
    const created = events.filter((e) => e.type === 'upload-created')
    assert.deepEqual(created.map((e) => e.type === 'upload-created' && e.key), ['tree/a/big.bin'])
    assert.match(created[0]?.type === 'upload-created' ? created[0].uploadId : '', /\S{8,}/)
    assert.ok(events.indexOf(created[0]!) < events.findIndex((e) => e.type === 'part-started' && e.key === 'tree/a/big.bin'))
  })

  test('followSymlinks: true uploads through links, a directory reached twice once', async () => {
    const dir = join(root, 'links')
    put(dir, 'real/f.txt', Buffer.from('f'))
    symlinkSync(join(dir, 'real'), join(dir, 'alias'))
    symlinkSync(join(dir, 'real', 'f.txt'), join(dir, 'g.txt'))
    const result = await uploadDirectory(dir, { ...s3Env(), bucket, prefix: 'links/' }, { followSymlinks: true })
    const keys = result.files.map((f) => f.key).sort()
    assert.equal(keys.length, 2) // g.txt, and f.txt under whichever of real/ and alias/ came first
    assert.ok(keys.includes('links/g.txt'))
  })

  test('a file deleted between listing and reading fails alone with a coded error; the others are written', async () => {
    const dir = join(root, 'gone')
    put(dir, 'a.txt', Buffer.from('a'))
    put(dir, 'gone.txt', Buffer.from('soon gone'))
    put(dir, 'z.bin', randomData(7 * MiB, 3))
    const result = await uploadDirectory(dir, { ...s3Env(), bucket, prefix: 'gone/' }, {
      filter: (rel) => {
        if (rel === 'gone.txt') unlinkSync(join(dir, rel)) // listed and accepted, then deleted
        return true
      },
    })
    assert.equal(result.failed, 1)
    assert.equal(result.succeeded, 2)
    const gone = result.files.find((f) => f.key === 'gone/gone.txt')
    assert.ok(gone?.error instanceof PartstreamError)
    assert.equal(gone.error.code, 'ERR_PARTSTREAM_INVALID_ARGUMENT')
    assert.equal((gone.error.cause as { code?: string }).code, 'ENOENT')
    assert.match(gone.error.message, /gone\.txt.*ENOENT/)
    assert.equal(sha256(await getObject(bucket, 'gone/z.bin')), sha256(randomData(7 * MiB, 3)))
    assert.equal((await getObject(bucket, 'gone/a.txt')).toString(), 'a')
    assert.deepEqual(await openUploads(bucket, 'gone/'), [])
  })

  test('entries that are a string or bytes (iterable, but of characters and numbers): one InvalidArgumentError, nothing sent', async () => {
    for (const entries of ['a.txt', new Uint8Array(3)]) {
      await assert.rejects(uploadAll(entries as never, { ...s3Env(), bucket, prefix: 'not-entries/' }), (e: unknown) => {
        assert.ok(e instanceof PartstreamError, `got ${String(e)}`)
        assert.equal(e.code, 'ERR_PARTSTREAM_INVALID_ARGUMENT')
        assert.match(e.message, /`entries`.*upload\(\)/)
        return true
      })
    }
  })

  test('a missing dir: InvalidArgumentError before any request, the ENOENT error as cause', async () => {
    const missing = join(root, 'no-such-dir')
    await assert.rejects(uploadDirectory(missing, { ...s3Env(), bucket, prefix: 'missing/' }), (e: unknown) => {
      assert.ok(e instanceof PartstreamError, `got ${String(e)}`)
      assert.equal(e.code, 'ERR_PARTSTREAM_INVALID_ARGUMENT')
      assert.equal((e.cause as { code?: string }).code, 'ENOENT')
      assert.match(e.message, /no-such-dir.*ENOENT/)
      return true
    })
  })

  test('a directory removed during the walk fails alone (its key with a /); the rest of the tree is written', async () => {
    const dir = join(root, 'vanish')
    put(dir, 'a.txt', Buffer.from('a'))
    put(dir, 'sub/x.txt', Buffer.from('x'))
    put(dir, 'z.bin', randomData(7 * MiB, 4))
    const result = await uploadDirectory(dir, { ...s3Env(), bucket, prefix: 'vanish/' }, {
      filterDirectory: (rel) => {
        if (rel === 'sub') rmSync(join(dir, rel), { recursive: true }) // listed, then gone
        return true
      },
    })
    assert.equal(result.failed, 1)
    assert.equal(result.succeeded, 2)
    const sub = result.files.find((f) => f.key === 'vanish/sub/')
    assert.ok(sub?.error instanceof PartstreamError, `got ${JSON.stringify(result.files.map((f) => f.key))}`)
    assert.equal(sub.error.code, 'ERR_PARTSTREAM_INVALID_ARGUMENT')
    assert.match(sub.error.message, /directory.*sub.*ENOENT.*none of its files/)
    assert.equal(sha256(await getObject(bucket, 'vanish/z.bin')), sha256(randomData(7 * MiB, 4)))
    assert.deepEqual(await openUploads(bucket, 'vanish/'), [])
  })

  test('a file name that is not UTF-8 fails alone with a message that says so; walkDirectory marks it', async () => {
    const dir = join(root, 'latin1')
    put(dir, 'good.txt', Buffer.from('good'))
    // "café.txt" in Latin-1 (é = 0xE9), made by the shell: not every runtime's fs takes byte paths.
    execFileSync('sh', ['-c', 'printf "latin-1 name" > "$1/caf$(printf "\\351").txt"', 'sh', dir])
    const walked: unknown[] = []
    for await (const entry of walkDirectory(dir)) walked.push(entry)
    assert.equal(walked.length, 2)
    const marked = walked.find((e) => (e as { error?: unknown }).error !== undefined)
    assert.ok(marked !== undefined, `got ${JSON.stringify(walked)}`)
    const events: UploadAllProgress[] = []
    const result = await uploadDirectory(dir, { ...s3Env(), bucket, prefix: 'latin1/' }, { onProgress: (e) => events.push(e) })
    assert.equal(result.failed, 1)
    assert.equal(result.succeeded, 1)
    // The count ahead counts it too: it is started and settled as a file ("2 of 1 files" before).
    const last = events.at(-1)
    assert.equal(last?.filesDone, 2)
    assert.equal(last?.totalFiles, 2)
    const bad = result.files.find((f) => f.error !== undefined)
    assert.match((bad?.error as Error).message, /not valid UTF-8/)
    assert.equal((await getObject(bucket, 'latin1/good.txt')).toString(), 'good')
  })

  test('a name that is not UTF-8 beside a file named U+FFFD itself (both show as "\uFFFD"): the bad one fails alone, the other is uploaded once', async () => {
    const dir = join(root, 'fffd')
    // \357\277\275 is U+FFFD in UTF-8 (a valid name); \377 is no UTF-8 at all, and decodes alike.
    execFileSync('sh', ['-c', 'mkdir -p "$1" && printf valid > "$1/$(printf "\\357\\277\\275")" && printf INVALID-BYTES > "$1/$(printf "\\377")"', 'sh', dir])
    const result = await uploadDirectory(dir, { ...s3Env(), bucket, prefix: 'fffd/' })
    assert.equal(result.failed, 1, JSON.stringify(result.files))
    assert.equal(result.succeeded, 1)
    assert.match((result.files.find((f) => f.error !== undefined)?.error as Error).message, /not valid UTF-8/)
    assert.equal((await getObject(bucket, 'fffd/\uFFFD')).toString(), 'valid')
  })
})

describe('skipExisting', () => {
  test("using 'head': a rerun uploads only what is missing: 'size' skips same-size files, 'etag' also checks the bytes", async () => {
    const dir = join(root, 'skip')
    put(dir, 'same.txt', Buffer.from('hello'))
    put(dir, 'edited.txt', Buffer.from('aaaa'))
    put(dir, 'big.bin', randomData(13 * MiB, 5))
    const t = { ...s3Env(), bucket, prefix: 'skip/' }
    const first = await uploadDirectory(dir, t)
    assert.equal(first.succeeded, 3)
    put(dir, 'edited.txt', Buffer.from('bbbb')) // same size, other bytes
    put(dir, 'new.txt', Buffer.from('new'))
    const bySize = await uploadDirectory(dir, t, { skipExisting: { by: 'size', using: 'head' } })
    assert.equal(bySize.skipped, 3)
    assert.deepEqual(bySize.files.filter((f) => f.skipped !== true).map((f) => f.key), ['skip/new.txt'])
    assert.equal(bySize.uploadedBytes, 3)
    assert.equal((await getObject(bucket, 'skip/edited.txt')).toString(), 'aaaa') // blind to same-size edits
    const byEtag = await uploadDirectory(dir, t, { skipExisting: { by: 'etag', using: 'head' } })
    assert.deepEqual(byEtag.files.filter((f) => f.skipped !== true).map((f) => f.key), ['skip/edited.txt'])
    assert.equal(byEtag.skipped, 3) // same.txt, big.bin (multipart ETag matched), new.txt
    assert.equal((await getObject(bucket, 'skip/edited.txt')).toString(), 'bbbb')
  })
})

describe("skipExisting using 'list' (ListObjectsV2 of the prefix)", () => {
  test('a rerun after a partial upload sends only the missing and changed files: one listing instead of a HEAD per file', async () => {
    const dir = join(root, 'listed')
    const names = Array.from({ length: 40 }, (_, i) => `d${i % 4}/f${String(i).padStart(2, '0')}.txt`)
    for (const [i, rel] of names.entries()) put(dir, rel, Buffer.from(`file ${i}`))
    put(dir, 'big.bin', randomData(13 * MiB, 9)) // multipart: its ETag is the md5 of the part md5s + -3
    const t = { ...s3Env(), bucket, prefix: 'listed/' }
    // The crash: only the first half of the files made it.
    const half = names.slice(0, 20).map((rel) => ({ key: rel, path: join(dir, rel) }))
    assert.equal((await uploadAll([...half, { key: 'big.bin', path: join(dir, 'big.bin') }], t)).succeeded, 21)
    put(dir, 'd0/f00.txt', Buffer.from('file X')) // same size, other bytes: only 'etag' sees it
    const proxy = await startFaultProxy(s3Env().endpoint)
    try {
      const rerun = await uploadDirectory(dir, { ...t, endpoint: proxy.endpoint }, { skipExisting: 'etag', concurrency: 4 })
      assert.equal(rerun.failed, 0)
      const sent = rerun.files.filter((f) => f.skipped !== true).map((f) => f.key).sort()
      assert.deepEqual(sent, ['listed/d0/f00.txt', ...names.slice(20).map((rel) => `listed/${rel}`)].sort())
      assert.equal(rerun.skipped, 20) // 19 small files and big.bin
      assert.equal(proxy.requests('ListObjectsV2').length, 1)
      assert.equal(proxy.requests('HeadObject').length, 0)
      assert.equal(proxy.requests('PutObject').length, 21)
      assert.equal(proxy.log.length, 22, 'one listing and the 21 PutObjects, nothing else')
      assert.equal((await getObject(bucket, 'listed/d0/f00.txt')).toString(), 'file X')
      // The same rerun with a HEAD per file: one request per file instead of one listing.
      const before = proxy.log.length
      const again = await uploadDirectory(dir, { ...t, endpoint: proxy.endpoint }, { skipExisting: { by: 'etag', using: 'head' } })
      assert.equal(again.skipped, 41)
      assert.equal(proxy.log.length - before, 41)
      assert.equal(proxy.requests('HeadObject').length, 41)
    } finally {
      await proxy.close()
    }
  })

  test('more than 1,000 keys: the listing pages with continuation tokens on RGW', async () => {
    const dir = join(root, 'paged')
    const count = 1005
    for (let i = 0; i < count; i++) put(dir, `${i % 10}/${i}.txt`, Buffer.from(String(i)))
    const t = { ...s3Env(), bucket, prefix: 'paged/' }
    const first = await uploadDirectory(dir, t, { concurrency: 16 })
    assert.equal(first.succeeded, count)
    unlinkSync(join(dir, '9', '999.txt'))
    put(dir, '9/new.txt', Buffer.from('new'))
    const proxy = await startFaultProxy(s3Env().endpoint)
    try {
      const rerun = await uploadDirectory(dir, { ...t, endpoint: proxy.endpoint }, { skipExisting: 'size', concurrency: 16 })
      assert.equal(rerun.skipped, count - 1)
      assert.deepEqual(rerun.files.filter((f) => f.skipped !== true).map((f) => f.key), ['paged/9/new.txt'])
      const pages = proxy.requests('ListObjectsV2')
      assert.equal(pages.length, 2, 'two pages of up to 1,000 keys')
      assert.ok(new URL(pages[1]?.url ?? '', 'http://x').searchParams.has('continuation-token'))
      assert.equal(proxy.requests('PutObject').length, 1)
    } finally {
      await proxy.close()
    }
  })

  test('keys with special characters survive encoding-type=url both ways', async () => {
    const dir = join(root, 'special')
    const rels = ['a b.txt', 'a+b.txt', '100%.txt', 'a&b=c.txt', "it's (1).txt", 'ünï 日本語.txt', '😀.txt', '\uffeb.txt', 'q#~!$.txt', 'sub dir/x+y z.txt']
    for (const rel of rels) put(dir, rel, Buffer.from(rel))
    const t = { ...s3Env(), bucket, prefix: 'special/' }
    assert.equal((await uploadDirectory(dir, t)).succeeded, rels.length)
    const ctx = createS3Context({ ...s3Env(), bucket })
    try {
      const page = await listObjectsV2(ctx, { prefix: 'special/', maxKeys: 4 })
      assert.equal(page.objects.length, 4)
      const all = [...page.objects]
      for (let token = page.nextContinuationToken; token !== undefined; ) {
        const next = await listObjectsV2(ctx, { prefix: 'special/', maxKeys: 4, continuationToken: token })
        all.push(...next.objects)
        token = next.nextContinuationToken
      }
      const expected = rels.map((rel) => `special/${rel}`).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
      assert.deepEqual(all.map((o) => o.key), expected, 'RGW lists in UTF-8 binary order, keys decoded exactly')
      for (const o of all) assert.equal(o.size, Buffer.byteLength(o.key.slice('special/'.length)))
    } finally {
      await ctx.close()
    }
    const rerun = await uploadDirectory(dir, t, { skipExisting: 'etag' })
    assert.equal(rerun.skipped, rels.length, `not skipped: ${rerun.files.filter((f) => f.skipped !== true).map((f) => f.key).join(', ')}`)
  })
})

describe('uploadAll to Ceph RGW', () => {
  // They used to run side by side: either Complete could land last (the object one entry or the
  // other, run to run), and the other entry failed its size check with ERR_PARTSTREAM_INTEGRITY.
  test('entries of one key: each written in turn, the last one wins, none fails', async () => {
    const versions = [randomData(8 * MiB, 301), randomData(9 * MiB, 302), randomData(3 * MiB, 303), randomData(7 * MiB, 304)]
    for (let round = 0; round < 3; round++) {
      const result = await uploadAll(
        [...versions.map((source) => ({ key: 'dup', source })), { key: 'other', source: versions[0] as Uint8Array }],
        { ...s3Env(), bucket, prefix: 'same-key/' },
        { partSize: 5 * MiB },
      )
      assert.equal(result.failed, 0, String(result.files.find((f) => f.error !== undefined)?.error))
      assert.deepEqual(result.files.filter((f) => f.key === 'same-key/dup').map((f) => f.size), versions.map((v) => v.byteLength), 'written in entry order')
      assert.equal(sha256(await getObject(bucket, 'same-key/dup')), sha256(versions.at(-1) as Uint8Array), `round ${round}`)
      assert.deepEqual(await openUploads(bucket, 'same-key/'), [])
    }
  })

  test('files: parts in flight ≤ concurrency and part buffers held ≤ concurrency + 1, across files', async () => {
    const concurrency = 2
    const dir = join(root, 'bound')
    const sizes = [11 * MiB, 1, 11 * MiB, 0, 6 * MiB, 11 * MiB, 100, 11 * MiB]
    sizes.forEach((size, i) => put(dir, `f${i}`, randomData(size, i + 100)))
    // A part is hashed right after it is read into its buffer, and its buffer dropped once acked.
    let read = 0
    let acked = 0
    let peakHeld = 0
    const hash = () => {
      const h = createHash('sha256')
      read++
      peakHeld = Math.max(peakHeld, read - acked)
      return { update: (b: Uint8Array) => void h.update(b), digest: () => new Uint8Array(h.digest()) }
    }
    const counter = inFlightCounter()
    const result = await uploadAll(
      sizes.map((_, i) => ({ key: `f${i}`, path: join(dir, `f${i}`) })),
      { ...s3Env(), bucket, prefix: 'bound/' },
      {
        concurrency,
        partSize: 5 * MiB,
        hash,
        onProgress: (e) => {
          counter.onProgress(e)
          if (e.type === 'part-acked') acked++
        },
      },
    )
    assert.equal(result.failed, 0)
    assert.equal(counter.peak, concurrency)
    assert.ok(peakHeld <= concurrency + 1, `peak part buffers held ${peakHeld}`)
    for (const [i, size] of sizes.entries()) assert.equal(sha256(await getObject(bucket, `bound/f${i}`)), sha256(randomData(size, i + 100)))
  })

  test('streams: parts in flight ≤ concurrency; buffers ≤ concurrency + 1 plus one look-ahead chunk per open file', async () => {
    const concurrency = 2
    const partSize = 5 * MiB
    let yielded = 0
    let acked = 0
    let peakHeld = 0
    // Sources of whole parts: a chunk is a part's buffer, retained from its read until acknowledged.
    async function* source(parts: number, seed: number): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < parts; i++) {
        yielded++
        peakHeld = Math.max(peakHeld, yielded - acked)
        yield randomData(partSize, seed + i)
      }
    }
    const counter = inFlightCounter()
    const entries = [1, 2, 3, 4, 5].map((n) => ({ key: `big-${n}`, source: source(3, n * 10), sizeHint: 3 * partSize }))
    const result = await uploadAll(entries, { ...s3Env(), bucket, prefix: 'budget/' }, {
      concurrency,
      partSize,
      collect: false,
      onProgress: (e) => {
        counter.onProgress(e)
        if (e.type === 'part-acked') acked++
      },
    })
    assert.deepEqual(result.files, []) // collect: false
    assert.equal(result.succeeded, 5)
    assert.equal(result.uploadedBytes, 5 * 3 * partSize)
    assert.ok(counter.peak <= concurrency, `peak parts in flight ${counter.peak}`)
    assert.equal(counter.peak, concurrency)
    // toParts holds one chunk past each part to learn whether it is the last; ≤ concurrency + 1 files are open.
    assert.ok(peakHeld <= 2 * (concurrency + 1), `peak chunks held ${peakHeld}`)
    const back = await getObject(bucket, 'budget/big-3')
    assert.equal(sha256(back), sha256([randomData(partSize, 30), randomData(partSize, 31), randomData(partSize, 32)]))
  })

  test('an abort in the middle rejects with signal.reason, stops pulling and leaves no open upload', async () => {
    const dir = join(root, 'abort')
    for (let i = 0; i < 6; i++) put(dir, `f${i}.bin`, randomData(11 * MiB, i + 1))
    const controller = new AbortController()
    const reason = new Error('stop now')
    let pulled = 0
    function* entries() {
      for (let i = 0; i < 6; i++) {
        pulled++
        yield { key: `f${i}.bin`, path: join(dir, `f${i}.bin`) }
      }
    }
    let closed = false
    const iterable = {
      [Symbol.iterator]() {
        const it = entries()
        return {
          next: () => it.next(),
          return: (v?: unknown) => {
            closed = true
            return it.return(v as undefined)
          },
        }
      },
    }
    let acks = 0
    await assert.rejects(
      uploadAll(iterable, { ...s3Env(), bucket, prefix: 'abort/' }, {
        concurrency: 2,
        partSize: 5 * MiB,
        signal: controller.signal,
        onProgress: (e) => {
          if (e.type === 'part-acked' && ++acks === 2) controller.abort(reason)
        },
      }),
      (e) => e === reason,
    )
    assert.ok(pulled < 6, `pulled ${pulled}`)
    assert.ok(closed, 'entries closed')
    assert.deepEqual(await openUploads(bucket, 'abort/'), [])
  })

  test('a source that fails mid-upload fails alone: coded, its multipart upload aborted; the others are written', async () => {
    async function* breaks(): AsyncGenerator<Uint8Array> {
      yield randomData(5 * MiB, 1)
      yield randomData(5 * MiB, 2)
      throw new Error('disk on fire')
    }
    const result = await uploadAll(
      [
        { key: 'ok-1', source: [Buffer.from('one')] },
        { key: 'broken', source: breaks() },
        { key: 'ok-2', source: randomData(6 * MiB + 1, 9) },
        { key: 'bad key', path: '' },
      ],
      { ...s3Env(), bucket, prefix: 'fail/' },
      { concurrency: 2, partSize: 5 * MiB },
    )
    assert.equal(result.failed, 2)
    assert.equal(result.succeeded, 2)
    const broken = result.files.find((f) => f.key === 'fail/broken')
    assert.ok(broken?.error instanceof PartstreamError)
    assert.equal(broken.error.code, 'ERR_PARTSTREAM_UPLOAD_FAILED')
    assert.equal((broken.error.cause as Error).message, 'disk on fire')
    assert.equal(typeof broken.error.uploadId, 'string')
    // The parts it had filled (it said 0): the first; the second waited for what followed it.
    assert.equal(broken.size, 5 * MiB)
    const bad = result.files.find((f) => f.key === 'fail/bad key')
    assert.ok(bad?.error instanceof PartstreamError && bad.error.code === 'ERR_PARTSTREAM_INVALID_ARGUMENT')
    assert.deepEqual(await openUploads(bucket, 'fail/'), [])
    assert.equal((await getObject(bucket, 'fail/ok-1')).toString(), 'one')
    assert.equal(sha256(await getObject(bucket, 'fail/ok-2')), sha256(randomData(6 * MiB + 1, 9)))
  })

  test("with `checksum`: each file's result carries the object checksum (as upload's result does); a skipped or failed file none", async () => {
    const dir = join(root, 'checksummed')
    const small = randomData(1000, 31)
    const big = randomData(11 * MiB, 32)
    put(dir, 'small.bin', small)
    put(dir, 'big.bin', big)
    const crc = (bytes: Uint8Array): string => {
      const hasher = (checksumHash('CRC64NVME') as HashFactory)()
      hasher.update(bytes)
      return Buffer.from(hasher.digest() as Uint8Array).toString('base64')
    }
    const files: FileResult[] = []
    const result = await uploadAll(
      [{ key: 'small.bin', path: join(dir, 'small.bin') }, { key: 'big.bin', path: join(dir, 'big.bin') }, { key: 'gone.bin', path: join(dir, 'gone.bin') }],
      { ...s3Env(), bucket, prefix: 'checksummed/' },
      { checksum: 'CRC64NVME', partSize: 5 * MiB, onFile: (f) => files.push(f) },
    )
    assert.equal(result.failed, 1)
    const byKey = new Map(result.files.map((f) => [f.key, f]))
    // The one PutObject and the multipart object alike: the CRC of the whole object (FULL_OBJECT).
    assert.deepEqual(byKey.get('checksummed/small.bin')?.checksum, { algorithm: 'CRC64NVME', type: 'FULL_OBJECT', value: crc(small) })
    assert.deepEqual(byKey.get('checksummed/big.bin')?.checksum, { algorithm: 'CRC64NVME', type: 'FULL_OBJECT', value: crc(big) })
    assert.equal(byKey.get('checksummed/gone.bin')?.checksum, undefined)
    assert.deepEqual(files.map((f) => f.checksum?.value).sort(), [crc(big), crc(small), undefined].sort(), 'onFile gets the same results')
    const rerun = await uploadAll([{ key: 'small.bin', path: join(dir, 'small.bin') }], { ...s3Env(), bucket, prefix: 'checksummed/' }, { checksum: 'CRC64NVME', skipExisting: 'size' })
    assert.deepEqual(rerun.files, [{ key: 'checksummed/small.bin', path: join(dir, 'small.bin'), size: 1000, skipped: true }])
  })

  test('Blob entries: their size in the file-started event, their type as the content type', async () => {
    const data = randomData(6 * MiB + 3, 12)
    const started: Array<{ key: string; size: number | undefined }> = []
    const result = await uploadAll(
      [
        { key: 'form.csv', source: new Blob([data], { type: 'text/csv' }) },
        { key: 'typed.bin', source: new Blob([data.subarray(0, 9)], { type: 'text/csv' }), contentType: 'application/octet-stream' },
      ],
      { ...s3Env(), bucket, prefix: 'blob/' },
      { onProgress: (e) => (e.type === 'file-started' ? started.push({ key: e.key, size: e.size }) : undefined) },
    )
    assert.equal(result.failed, 0)
    assert.deepEqual(started.sort((a, b) => a.key.localeCompare(b.key)), [
      { key: 'blob/form.csv', size: data.byteLength },
      { key: 'blob/typed.bin', size: 9 },
    ])
    assert.equal(sha256(await getObject(bucket, 'blob/form.csv')), sha256(data))
    const ctx = createS3Context({ ...s3Env(), bucket })
    try {
      assert.equal((await headObject(ctx, { key: 'blob/form.csv' })).contentType, 'text/csv')
      assert.equal((await headObject(ctx, { key: 'blob/typed.bin' })).contentType, 'application/octet-stream')
    } finally {
      await ctx.close()
    }
  })

  test('failFast: the first failure stops the call and rejects with it', async () => {
    const result = uploadAll(
      [
        { key: 'missing', path: join(root, 'does-not-exist') },
        { key: 'ok', source: [new Uint8Array(10)] },
      ],
      { ...s3Env(), bucket, prefix: 'ff/' },
      { failFast: true, concurrency: 1 },
    )
    await assert.rejects(result, (e) => e instanceof PartstreamError && e.code === 'ERR_PARTSTREAM_INVALID_ARGUMENT')
  })
})
