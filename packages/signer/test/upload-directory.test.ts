// walkDirectory and uploadDirectory's walks, without S3 (an in-process node:http server on
// 127.0.0.1, port 0, takes the PutObjects where an upload is needed): when `filter` is asked and
// with what, the count-ahead walk's totals, trees deeper than a generator per level could walk,
// and what the walk keeps of its order, links and early exit.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, renameSync, rmdirSync, rmSync, symlinkSync, writeFileSync, type Stats } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { uploadDirectory, walkDirectory, type WalkEntry } from '../src/index.ts'
import { countTree } from '../src/upload-directory.ts'
import { failOnUnhandledRejections } from './fault/helpers.ts'
import { startStubServer, type StubServer } from './stub-server.ts'

failOnUnhandledRejections()

const TEST = { timeout: 60_000 }
const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }

/** A fresh directory holding `files` (relative path → text). */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'partstream-walk-'))
  for (const [rel, text] of Object.entries(files)) {
    const path = join(root, ...rel.split('/'))
    mkdirSync(join(path, '..'), { recursive: true })
    writeFileSync(path, text)
  }
  return root
}

/** Every entry of the walk as `[key, error code]`. */
async function walked(root: string, options: Parameters<typeof walkDirectory>[1]): Promise<Array<[string, string | undefined]>> {
  const out: Array<[string, string | undefined]> = []
  for await (const e of walkDirectory(root, options)) out.push([e.key, e.error?.code])
  return out
}

describe('walkDirectory: filter', () => {
  test('a filter declared with the path alone is asked before any stat: a file it excludes that vanished since the listing is not reported', TEST, async () => {
    const root = tree({ 'a.txt': 'a', 'b.tmp': 'b' })
    try {
      const asked: string[] = []
      // Asked about a.txt, it removes b.tmp, as a writer rotating its *.tmp files would: b.tmp is
      // listed, then gone before the walk reaches it.
      const filter = (rel: string): boolean => {
        asked.push(rel)
        if (rel === 'a.txt') rmSync(join(root, 'b.tmp'))
        return !rel.endsWith('.tmp')
      }
      assert.deepEqual(await walked(root, { filter }), [['a.txt', undefined]])
      assert.deepEqual(asked, ['a.txt', 'b.tmp'])
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  test("a filter declaring `stats` gets the file's; a file that cannot be stat-ed then fails alone (the filter cannot be asked without them)", TEST, async () => {
    const root = tree({ 'a.txt': 'abc', 'b.tmp': 'b' })
    try {
      const sizes: Array<[string, number]> = []
      const filter = (rel: string, stats: Stats): boolean => {
        sizes.push([rel, stats.size])
        if (rel === 'a.txt') rmSync(join(root, 'b.tmp'))
        return !rel.endsWith('.tmp')
      }
      const entries: WalkEntry[] = []
      for await (const e of walkDirectory(root, { filter })) entries.push(e)
      assert.deepEqual(sizes, [['a.txt', 3]])
      assert.deepEqual(
        entries.map((e) => [e.key, e.error?.code, (e.error?.cause as { code?: unknown } | undefined)?.code]),
        [
          ['a.txt', undefined, undefined],
          ['b.tmp', 'ERR_PARTSTREAM_INVALID_ARGUMENT', 'ENOENT'],
        ],
      )
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})

describe('uploadDirectory: filter', () => {
  const puts: string[] = []
  const bodies: string[] = []
  let server: StubServer
  before(async () => {
    server = await startStubServer((req, res) => {
      puts.push(`${req.method} ${decodeURIComponent(new URL(req.url, 'http://fake').pathname)}`)
      bodies.push(req.body.toString('utf8'))
      res.writeHead(200, { etag: `"${createHash('md5').update(req.body).digest('hex')}"` }).end()
    })
  })
  after(() => server.close())

  test("a file the filter excludes by path (as the CLI's --exclude) is never reported, even gone since the listing: only the others are uploaded", TEST, async () => {
    const root = tree({ 'a.txt': 'a', 'b.tmp': 'b' })
    try {
      const filter = (rel: string): boolean => {
        if (rel === 'a.txt') rmSync(join(root, 'b.tmp'))
        return !rel.endsWith('.tmp')
      }
      const result = await uploadDirectory(root, { bucket: 'bkt', endpoint: server.endpoint, region: 'us-east-1', credentials }, { filter })
      assert.deepEqual(
        result.files.map((f) => [f.key, f.error]),
        [['a.txt', undefined]],
      )
      assert.equal(result.failed, 0)
      assert.deepEqual(puts, ['PUT /bkt/a.txt'])
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
  test('without followSymlinks, a file or directory swapped for a link after the listing is not followed out of the tree (it uploaded what the link named)', TEST, async () => {
    // The walk is lazy: a directory is entered, and a file opened, when the budget has room,
    // long after their parent was listed. A link swapped in meanwhile was followed.
    const root = tree({ 'a.txt': 'a', 'e.txt': 'e', 'sub/k.txt': 'k', 'z/in.txt': 'in' })
    const outside = tree({ 'key.pem': 'TOPSECRET', 'other.txt': 'TOPSECRET' })
    puts.length = 0
    bodies.length = 0
    try {
      const { uploadAll } = await import('../src/index.ts')
      // The walk as uploadDirectory runs it, with the swap made after a.txt was handed out: e.txt
      // (listed, not yet handed out) becomes a link to a file outside, sub/ (listed, not yet
      // entered) a link to a directory outside.
      async function* swapping(): AsyncGenerator<WalkEntry> {
        for await (const entry of walkDirectory(root)) {
          yield entry
          if (entry.key !== 'a.txt') continue
          rmSync(join(root, 'e.txt'))
          symlinkSync(join(outside, 'key.pem'), join(root, 'e.txt'))
          rmSync(join(root, 'sub'), { recursive: true })
          symlinkSync(outside, join(root, 'sub'))
        }
      }
      const result = await uploadAll(swapping(), { bucket: 'bkt', endpoint: server.endpoint, region: 'us-east-1', credentials }, { concurrency: 1 })
      assert.deepEqual(puts, ['PUT /bkt/a.txt', 'PUT /bkt/z/in.txt'], 'nothing from outside the tree')
      assert.ok(!bodies.includes('TOPSECRET'))
      assert.equal(result.failed, 0, 'the swapped-in links are skipped, as links are')
    } finally {
      rmSync(root, { recursive: true, force: true })
      rmSync(outside, { recursive: true, force: true })
    }
  })

  test('without followSymlinks, a file, or a directory on its path, swapped for a link after the file was handed out: it fails alone, not read through the link', TEST, async () => {
    const root = tree({ 'a.txt': 'a', 'd/f.txt': 'f', 'g.txt': 'g' })
    const outside = tree({ 'f.txt': 'TOPSECRET' })
    puts.length = 0
    try {
      const client = { bucket: 'bkt', endpoint: server.endpoint, region: 'us-east-1', credentials }
      const { uploadAll } = await import('../src/index.ts')
      // The entries as the walk hands them out, then d/ swapped before uploadAll opens d/f.txt.
      const entries: WalkEntry[] = []
      for await (const e of walkDirectory(root)) entries.push(e)
      rmSync(join(root, 'd'), { recursive: true })
      symlinkSync(outside, join(root, 'd'))
      // And a file handed out, then swapped for a link itself: not opened through it (O_NOFOLLOW).
      rmSync(join(root, 'g.txt'))
      symlinkSync(join(outside, 'f.txt'), join(root, 'g.txt'))
      const result = await uploadAll(entries, client, { concurrency: 1 })
      const files = [...result.files].sort((a, b) => a.key.localeCompare(b.key))
      assert.deepEqual(
        files.map((f) => [f.key, (f.error as { code?: string } | undefined)?.code]),
        [
          ['a.txt', undefined],
          ['d/f.txt', 'ERR_PARTSTREAM_SOURCE_CHANGED'],
          ['g.txt', 'ERR_PARTSTREAM_SOURCE_CHANGED'],
        ],
      )
      assert.match(String((files[1]?.error as Error | undefined)?.message), /is now another file .*symbolic links are not followed/)
      assert.match(String((files[2]?.error as Error | undefined)?.message), /is now a symbolic link since the directory was listed/)
      assert.deepEqual(puts.filter((p) => p.startsWith('PUT')), ['PUT /bkt/a.txt'])
    } finally {
      rmSync(root, { recursive: true, force: true })
      rmSync(outside, { recursive: true, force: true })
    }
  })
})

describe('the count-ahead walk (progress totals)', () => {
  test('a file the filter excludes is not counted, even gone since the listing', TEST, async () => {
    const root = tree({ 'a.txt': 'a', 'b.tmp': 'b' })
    try {
      const filter = (rel: string): boolean => {
        if (rel === 'a.txt') rmSync(join(root, 'b.tmp'))
        return !rel.endsWith('.tmp')
      }
      assert.deepEqual(await countTree(root, { filter }, new AbortController().signal), { files: 1, bytes: 1 })
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  test('a file gone since the listing counts as one file of no bytes (the upload fails it alone): the totals stay known', TEST, async () => {
    const root = tree({ 'a/x.txt': 'xx', 'b.txt': 'b' })
    try {
      // Asked about a/, it removes b.txt: listed, then gone before the count stats it.
      const filterDirectory = (rel: string): boolean => {
        if (rel === 'a') rmSync(join(root, 'b.txt'))
        return true
      }
      assert.deepEqual(await countTree(root, { filterDirectory }, new AbortController().signal), { files: 2, bytes: 2 })
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  test('the same with a filter that takes the path alone (which the walk no longer stats for)', TEST, async () => {
    const root = tree({ 'a.txt': 'aa', 'b.txt': 'b' })
    try {
      const filter = (rel: string): boolean => {
        if (rel === 'a.txt') rmSync(join(root, 'b.txt'))
        return true
      }
      assert.deepEqual(await countTree(root, { filter }, new AbortController().signal), { files: 2, bytes: 2 })
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})

describe('walkDirectory: deep trees', () => {
  /**
   * 2,000 nested directories `d`, a file `f` in each and in the root. One async generator per
   * level (delegating with `yield*`) overflowed the call stack at ~1,750 levels on Node; this depth
   * still keeps the deepest path under Linux's PATH_MAX (4,096 bytes) from a short tmpdir.
   */
  const DEPTH = 2_000
  const root = mkdtempSync(join(tmpdir(), 'partstream-deep-'))
  const at = (...names: string[]): string => join(root, ...names)
  // Built bottom up and removed top down by renames, every call on a path two or three levels
  // deep: the kernel resolves a path one level at a time (a call on the deepest path takes ~1 ms),
  // and rmSync's own recursion overflows on such a tree (Node 20).
  before(() => {
    mkdirSync(at('t'))
    writeFileSync(at('t', 'f'), 'x')
    for (let level = 1; level < DEPTH; level++) {
      mkdirSync(at('n'))
      writeFileSync(at('n', 'f'), 'x')
      renameSync(at('t'), at('n', 'd'))
      renameSync(at('n'), at('t'))
    }
    renameSync(at('t'), at('d'))
    writeFileSync(at('f'), 'x')
  })
  after(() => {
    rmSync(at('f'))
    renameSync(at('d'), at('t'))
    for (let level = 1; level < DEPTH; level++) {
      rmSync(at('t', 'f'))
      renameSync(at('t', 'd'), at('n'))
      rmdirSync(at('t'))
      renameSync(at('n'), at('t'))
    }
    rmSync(root, { recursive: true })
  })

  test(`${DEPTH.toLocaleString('en')} levels: every file, in key order (a directory d sorts as d/, before f), no error`, TEST, async () => {
    assert.ok(root.length + 2 * DEPTH + 2 < 4096, `the deepest path fits PATH_MAX (tmpdir ${tmpdir()})`)
    const entries = await walked(root, {})
    assert.equal(entries.length, DEPTH + 1)
    assert.deepEqual(
      entries,
      Array.from({ length: DEPTH + 1 }, (_, i) => [`${'d/'.repeat(DEPTH - i)}f`, undefined]),
    )
  })
})

describe('walkDirectory: early exit', () => {
  test('return() with directories open at several depths ends the walk: next() then says done', TEST, async () => {
    const root = tree({ 'a/b/c/x.txt': 'x', 'a/b/y.txt': 'y', 'a/z.txt': 'z', 'w.txt': 'w' })
    try {
      const walk = walkDirectory(root)
      assert.equal((await walk.next()).value?.key, 'a/b/c/x.txt')
      assert.deepEqual(await walk.return(undefined), { done: true, value: undefined })
      assert.deepEqual(await walk.next(), { done: true, value: undefined })
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})

describe('walkDirectory: followSymlinks', () => {
  test('a link back up the tree (a cycle) and a second link to a directory: each directory is walked once', TEST, async () => {
    const root = tree({ 'a/x.txt': 'x', 'b.txt': 'b' })
    try {
      symlinkSync(root, join(root, 'a', 'up'))
      symlinkSync(join(root, 'a'), join(root, 'c'))
      assert.deepEqual(await walked(root, { followSymlinks: true }), [
        ['a/x.txt', undefined],
        ['b.txt', undefined],
      ])
      assert.deepEqual(await walked(root, {}), [
        ['a/x.txt', undefined],
        ['b.txt', undefined],
      ])
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  test('a link that cannot be followed (dangling, a loop) fails alone, named, unless a path filter excludes it; without followSymlinks it is skipped', TEST, async () => {
    // They were skipped without a word, the files they name never uploaded.
    const root = tree({ 'a.txt': 'a', 'd/e.txt': 'e' })
    try {
      symlinkSync(join(root, 'nowhere'), join(root, 'dangling'))
      symlinkSync(join(root, 'd', 'loop'), join(root, 'd', 'loop'))
      assert.deepEqual(await walked(root, { followSymlinks: true }), [
        ['dangling', 'ERR_PARTSTREAM_INVALID_ARGUMENT'],
        ['a.txt', undefined],
        ['d/loop', 'ERR_PARTSTREAM_INVALID_ARGUMENT'],
        ['d/e.txt', undefined],
      ])
      const entries: Array<{ key: string; error?: Error | undefined }> = []
      for await (const e of walkDirectory(root, { followSymlinks: true })) entries.push(e)
      assert.match(String(entries[0]?.error?.message), /^Cannot read the target of the symbolic link at ".*dangling" \(ENOENT\): it was not uploaded\./)
      assert.match(String(entries[2]?.error?.message), /\(ELOOP\)/)
      assert.deepEqual(await walked(root, { followSymlinks: true, filter: (rel: string) => rel !== 'dangling' && rel !== 'd/loop' }), [
        ['a.txt', undefined],
        ['d/e.txt', undefined],
      ])
      assert.deepEqual(await walked(root, {}), [
        ['a.txt', undefined],
        ['d/e.txt', undefined],
      ])
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})
