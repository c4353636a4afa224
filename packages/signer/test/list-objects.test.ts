// ListObjectsV2 and the listing form of skipExisting, without S3: an in-process node:http server
// on 127.0.0.1, port 0, plays a bucket that lists its keys in pages of `max-keys` with
// continuation tokens and `encoding-type=url` (space as `+`, as S3 sends it), and logs every
// request. The RGW-backed half is in test/integration/upload-all.test.ts.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, beforeEach, describe, test } from 'node:test'
import { createS3Context, InvalidArgumentError, listObjectsV2, uploadAll, uploadDirectory, walkDirectory, type S3Context } from '../src/index.ts'
import { Slots } from '../src/http/slots.ts'
import { ListedObjects } from '../src/upload/existing-objects.ts'
import { compareKeys } from '../src/upload/key-order.ts'
import { decodeUrlKey } from '../src/operations/list-objects-v2.ts'
import { failOnUnhandledRejections } from './fault/helpers.ts'
import { startStubServer, type StubServer } from './stub-server.ts'

failOnUnhandledRejections()

const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }
const utf8Order = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b))

/** The fake bucket: key → { size, etag }, listed in UTF-8 binary order. */
const objects = new Map<string, { size: number; etag: string }>()
const seen: Array<{ method: string; url: URL }> = []
let server: StubServer
let endpoint: string
/** Answer every request with this S3 error instead. */
let refuse: { status: number; code: string } | undefined
/** Hold each listing answer this long (ms). */
let listDelayMs = 0

/** S3's `encoding-type=url`: percent-encoded UTF-8, space as `+`. */
const encodeKey = (key: string): string => encodeURIComponent(key).replace(/%20/g, '+')
const xml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

before(async () => {
  server = await startStubServer((req, res) => {
    const url = new URL(req.url, 'http://fake')
    seen.push({ method: req.method, url })
    const q = url.searchParams
    if (refuse !== undefined) {
      res.writeHead(refuse.status, { 'content-type': 'application/xml' }).end(`<Error><Code>${refuse.code}</Code><Message>refused</Message></Error>`)
      return
    }
    if (req.method === 'GET' && q.get('list-type') === '2') {
      const max = Number(q.get('max-keys') ?? '1000')
      const prefix = q.get('prefix') ?? ''
      const after = q.get('continuation-token') ?? q.get('start-after') ?? ''
      const keys = [...objects.keys()].filter((k) => k.startsWith(prefix) && utf8Order(k, after) > 0).sort(utf8Order)
      const page = keys.slice(0, max)
      const truncated = keys.length > max
      const encoded = q.get('encoding-type') === 'url'
      const contents = page
        .map((k) => {
          const o = objects.get(k) as { size: number; etag: string }
          return `<Contents><Key>${encoded ? encodeKey(k) : xml(k)}</Key><LastModified>2026-11-29T00:00:00.000Z</LastModified><ETag>&quot;${o.etag}&quot;</ETag><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`
        })
        .join('')
      res.writeHead(200, { 'content-type': 'application/xml' })
      const body = (
        `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bkt</Name><Prefix>${encoded ? encodeKey(prefix) : xml(prefix)}</Prefix>` +
          `<KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys>${encoded ? '<EncodingType>url</EncodingType>' : ''}<IsTruncated>${truncated}</IsTruncated>` +
          `${truncated ? `<NextContinuationToken>${xml(page.at(-1) ?? '')}</NextContinuationToken>` : ''}${contents}</ListBucketResult>`
      )
      setTimeout(() => res.end(body), listDelayMs)
      return
    }
    if (req.method === 'PUT' && ![...q.keys()].length) {
      const key = decodeURIComponent(url.pathname.split('/').slice(2).join('/'))
      objects.set(key, { size: req.body.byteLength, etag: 'ffffffffffffffffffffffffffffffff' })
      res.writeHead(200, { etag: '"ffffffffffffffffffffffffffffffff"' }).end()
      return
    }
    res.writeHead(501, { 'content-type': 'application/xml' }).end('<Error><Code>NotImplemented</Code><Message>fake server</Message></Error>')
  })
  endpoint = server.endpoint
})

after(() => server.close())

beforeEach(() => {
  objects.clear()
  seen.length = 0
  refuse = undefined
  listDelayMs = 0
})

const ctxOf = (): S3Context => createS3Context({ endpoint, region: 'us-east-1', credentials, bucket: 'bkt' }, { retry: false })
const lists = (): URL[] => seen.filter((r) => r.url.searchParams.get('list-type') === '2').map((r) => r.url)

/** Keys that need every rule: space, `+`, `%`, `&`, `<`, unicode, an astral character, a control character. */
const SPECIAL = ['p/a b.txt', 'p/a+b.txt', 'p/100%.txt', 'p/a&b<c>.txt', 'p/ünï 日本.txt', 'p/😀.txt', 'p/\uffeb.txt', 'p/tab\tx', 'p/ctl\u0001x', 'p/q?#~.txt']

describe('listObjectsV2', () => {
  test('pages with continuation tokens, keys decoded from encoding-type=url, in UTF-8 binary order', async () => {
    for (const [i, key] of SPECIAL.entries()) objects.set(key, { size: i, etag: `${i}`.padStart(32, '0') })
    objects.set('other/x', { size: 1, etag: '1'.padStart(32, '0') })
    const ctx = ctxOf()
    try {
      const keys: string[] = []
      let token: string | undefined
      let pages = 0
      do {
        const page = await listObjectsV2(ctx, { prefix: 'p/', maxKeys: 3, continuationToken: token })
        assert.ok(page.objects.length <= 3)
        for (const o of page.objects) {
          keys.push(o.key)
          assert.equal(o.size, SPECIAL.indexOf(o.key))
          assert.equal(o.etag, `${o.size}`.padStart(32, '0'), 'the ETag without its quotes')
          assert.equal(o.lastModified?.toISOString(), '2026-11-29T00:00:00.000Z')
        }
        token = page.nextContinuationToken
        pages++
      } while (token !== undefined)
      assert.equal(pages, Math.ceil(SPECIAL.length / 3))
      assert.deepEqual(keys, [...SPECIAL].sort(utf8Order))
      const [first, second] = lists()
      assert.equal(first?.searchParams.get('encoding-type'), 'url')
      assert.equal(first?.searchParams.get('prefix'), 'p/')
      assert.equal(first?.searchParams.get('max-keys'), '3')
      assert.equal(first?.searchParams.has('continuation-token'), false)
      assert.ok(second?.searchParams.get('continuation-token'), 'the second page asks with the first one\'s token')
    } finally {
      await ctx.close()
    }
  })

  test('startAfter; an empty bucket is one empty page', async () => {
    const ctx = ctxOf()
    try {
      assert.deepEqual(await listObjectsV2(ctx), { objects: [], nextContinuationToken: undefined })
      for (const k of ['a', 'b', 'c']) objects.set(k, { size: 0, etag: '' })
      const page = await listObjectsV2(ctx, { startAfter: 'a' })
      assert.deepEqual(page.objects.map((o) => o.key), ['b', 'c'])
      assert.equal(lists().at(-1)?.searchParams.get('start-after'), 'a')
    } finally {
      await ctx.close()
    }
  })

  test('maxKeys outside 1–1000 is refused before any request', async () => {
    const ctx = ctxOf()
    try {
      for (const maxKeys of [0, 1001, 1.5, Number.NaN]) {
        await assert.rejects(listObjectsV2(ctx, { maxKeys }), (e: unknown) => e instanceof InvalidArgumentError && /maxKeys/.test(e.message))
      }
      assert.equal(seen.length, 0)
    } finally {
      await ctx.close()
    }
  })

  test("decodeUrlKey: '+' is a space, %2B a plus", () => {
    assert.equal(decodeUrlKey('a+b%2Bc%25%E6%97%A5'), 'a b+c%日')
  })
})

describe('compareKeys', () => {
  test('is UTF-8 binary order (code point order), not UTF-16 order', () => {
    assert.ok(compareKeys('\uffeb', '😀') < 0, 'U+FFEB before U+1F600, though its UTF-16 unit is larger')
    assert.ok('\uffeb' > '😀', 'what plain < would say')
    const alphabet = ['a', 'b', '/', '-', '.', ' ', 'é', '日', '\uffeb', '\ue000', '😀', '𝄞', '\u0001']
    let x = 7
    const random = (): number => ((x = (x * 1103515245 + 12345) >>> 0), x)
    const strings = Array.from({ length: 400 }, () => Array.from({ length: 1 + (random() % 5) }, () => alphabet[random() % alphabet.length]).join(''))
    assert.deepEqual([...strings].sort(compareKeys), [...strings].sort(utf8Order))
  })
})

describe('ListedObjects (skipExisting using: list)', () => {
  test('lists lazily: only the pages up to the key looked up, one page at a time, found entries leave the Map', async () => {
    for (let i = 0; i < 10; i++) objects.set(`k/${i}`, { size: i, etag: `e${i}` })
    const ctx = ctxOf()
    try {
      const listed = new ListedObjects(ctx, 'k/', new Slots(4), 2)
      const signal = new AbortController().signal
      assert.deepEqual(await listed.find('k/0', signal), { size: 0, etag: 'e0' })
      assert.equal(listed.pages, 1)
      assert.equal(listed.held, 1) // k/1
      // Three lookups at once share the page fetches: no page is asked for twice.
      const found = await Promise.all(['k/5', 'k/4', 'k/3'].map((k) => listed.find(k, signal)))
      assert.deepEqual(found.map((o) => o?.size), [5, 4, 3])
      assert.equal(listed.pages, 3)
      assert.equal(lists().length, 3)
      assert.equal(await listed.find('k/2~missing', signal), undefined)
      assert.equal(listed.pages, 3, 'k/5 was listed already, so the listing is past k/2~missing')
      assert.equal(await listed.find('k/zzz', signal), undefined)
      assert.equal(listed.pages, 5)
      assert.equal(listed.held, 6) // k/1, k/2, k/6…k/9: listed, never looked up
      assert.equal(await listed.find('k/9', signal).then((o) => o?.size), 9)
      assert.equal(lists().length, 5, 'the listing is done: no request after the last page')
    } finally {
      await ctx.close()
    }
  })

  test('a failed page fails every lookup with the same error, asked once', async () => {
    const ctx = createS3Context({ endpoint, region: 'us-east-1', credentials, bucket: 'bkt' }, { retry: false })
    try {
      const listed = new ListedObjects(ctx, 'k/', new Slots(1), 2)
      const signal = new AbortController().signal
      refuse = { status: 403, code: 'AccessDenied' }
      await assert.rejects(listed.find('k/1', signal), { s3Code: 'AccessDenied' })
      await assert.rejects(listed.find('k/2', signal), { s3Code: 'AccessDenied' })
      assert.equal(seen.length, 1)
    } finally {
      await ctx.close()
    }
  })
})

describe('walkDirectory: filterDirectory', () => {
  test('a directory it refuses is never walked: no file under it reaches `filter`; nested paths use /', async () => {
    const root = mkdtempSync(join(tmpdir(), 'partstream-prune-'))
    try {
      for (const rel of ['a.txt', 'node_modules/x/1.js', 'node_modules/2.js', 'src/b.ts', 'src/deep/node_modules/3.js', 'src/deep/c.ts']) {
        const path = join(root, ...rel.split('/'))
        mkdirSync(join(path, '..'), { recursive: true })
        writeFileSync(path, rel)
      }
      const asked: string[] = []
      const filtered: string[] = []
      const keys: string[] = []
      const walk = walkDirectory(root, {
        filterDirectory: (rel) => {
          asked.push(rel)
          return !rel.split('/').includes('node_modules')
        },
        filter: (rel) => {
          filtered.push(rel)
          return true
        },
      })
      for await (const entry of walk) keys.push(entry.key)
      assert.deepEqual(keys, ['a.txt', 'src/b.ts', 'src/deep/c.ts'])
      assert.deepEqual(filtered, keys, 'no file under a refused directory was looked at')
      assert.deepEqual(asked, ['node_modules', 'src', 'src/deep', 'src/deep/node_modules'])
      assert.throws(() => walkDirectory(root, { filterDirectory: 'node_modules' as never }), InvalidArgumentError)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})

describe('uploadDirectory with skipExisting listing the prefix (fake bucket)', () => {
  const root = mkdtempSync(join(tmpdir(), 'partstream-list-'))
  after(() => rmSync(root, { recursive: true, force: true }))
  const put = (rel: string, text: string): void => {
    const path = join(root, ...rel.split('/'))
    mkdirSync(join(path, '..'), { recursive: true })
    writeFileSync(path, text)
  }
  const target = () => ({ endpoint, region: 'us-east-1', credentials, bucket: 'bkt', prefix: 't/' })

  test('walkDirectory yields keys in S3 order (a directory d sorts as d/)', async () => {
    for (const rel of ['a-b', 'a/x', 'a/y/z', 'a.txt', 'B', '😀', '\uffeb', 'é/1']) put(rel, rel)
    const keys: string[] = []
    for await (const entry of walkDirectory(root)) keys.push(entry.key)
    assert.deepEqual(keys, [...keys].sort(utf8Order))
    assert.equal(keys.length, 8)
  })

  test('a rerun lists the prefix in pages and sends only the missing and changed files; totals counted ahead', async () => {
    // walkDirectory's tree from the test above, plus these.
    for (let i = 0; i < 12; i++) put(`many/${String(i).padStart(2, '0')}.txt`, 'x'.repeat(i))
    const first = await uploadDirectory(root, target(), { concurrency: 3 })
    assert.equal(first.failed, 0)
    const total = first.succeeded
    put('many/05.txt', 'changed size')
    put('new.txt', 'new')
    seen.length = 0
    // The count-ahead walk of these 21 files takes a few ms; holding the listing makes sure the
    // upload cannot finish before it (on a fast runtime it can: totals are "when known").
    listDelayMs = 300
    const events: Array<{ totalFiles: number | undefined; totalBytes: number | undefined; bytesSkipped: number }> = []
    const rerun = await uploadDirectory(root, target(), { concurrency: 3, skipExisting: 'size', onProgress: (e) => events.push(e) })
    assert.equal(rerun.failed, 0)
    assert.deepEqual(rerun.files.filter((f) => f.skipped !== true).map((f) => f.key).sort(), ['t/many/05.txt', 't/new.txt'])
    assert.equal(rerun.skipped, total - 1)
    const listed = lists()
    assert.equal(listed.length, 1, 'one page holds the prefix')
    assert.equal(listed[0]?.searchParams.get('prefix'), 't/')
    assert.equal(seen.filter((r) => r.method === 'HEAD').length, 0)
    assert.equal(seen.filter((r) => r.method === 'PUT').length, 2)
    const last = events.at(-1)
    assert.equal(last?.totalFiles, total + 1)
    assert.equal(last?.bytesSkipped, rerun.files.filter((f) => f.skipped === true).reduce((n, f) => n + f.size, 0))
    assert.ok((last?.totalBytes ?? 0) > 0)
  })

  test("using: 'head' sends a HeadObject per file instead", async () => {
    put('h.txt', 'h')
    await uploadDirectory(root, target())
    seen.length = 0
    const result = await uploadAll([{ key: 'h.txt', path: join(root, 'h.txt') }], target(), { skipExisting: { by: 'size', using: 'head' } })
    assert.equal(lists().length, 0)
    // The fake answers HEAD with 501: the file fails alone with that coded error.
    assert.equal(seen.filter((r) => r.method === 'HEAD').length, 1)
    assert.equal(result.failed, 1)
  })

  test('a listing that fails fails the whole call with that error', async () => {
    put('f.txt', 'f')
    refuse = { status: 403, code: 'AccessDenied' }
    await assert.rejects(uploadDirectory(root, target(), { skipExisting: 'etag' }), { s3Code: 'AccessDenied' })
    assert.equal(lists().length, 1, 'asked once')
    assert.equal(seen.filter((r) => r.method === 'PUT').length, 0)
  })

  test('a count-ahead walk that fails is no unhandled rejection, even when the call fails first', async () => {
    const missing = join(root, 'no-such-dir')
    const events: unknown[] = []
    await assert.rejects(uploadDirectory(missing, { ...target(), bucket: 'Not_A_Bucket' }, { onProgress: (e) => events.push(e) }), InvalidArgumentError)
    await assert.rejects(uploadDirectory(missing, target(), { onProgress: (e) => events.push(e) }), { code: 'ERR_PARTSTREAM_INVALID_ARGUMENT' }) // the missing dir, coded
    await new Promise((resolve) => setTimeout(resolve, 50)) // let both counts fail; failOnUnhandledRejections checks at the end
    assert.deepEqual(events, [])
  })

  test('skipExisting is validated before any request', async () => {
    for (const bad of ['yes', { by: 'md5' }, { by: 'size', using: 'get' }, null]) {
      await assert.rejects(uploadAll([], target(), { skipExisting: bad as never }), (e: unknown) => e instanceof InvalidArgumentError && /skipExisting/.test(e.message))
    }
    assert.equal(seen.length, 0)
  })
})
