// The resume checkpoint of `cp FILE`: where it lives, that it is written whole or not at all,
// and that a damaged one is ignored (a rerun starts over) instead of crashing the CLI.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { hostname, tmpdir, userInfo } from 'node:os'
import { basename, join } from 'node:path'
import { after, describe, test } from 'node:test'
import { cacheDir, checkpointFile, lockCheckpoint, readCheckpoint, removeCheckpoint, sameFile, writeCheckpoint, type Checkpoint } from '../src/checkpoint.ts'

const dir = mkdtempSync(join(tmpdir(), 'partstream-checkpoint-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const sample: Checkpoint = {
  version: 1,
  endpoint: 'http://127.0.0.1:8000/',
  bucket: 'b',
  key: 'k/file.bin',
  uploadId: '2~abc',
  partSize: 5 * 1024 * 1024,
  path: '/data/file.bin',
  size: 41_943_040,
  mtimeMs: 1_700_000_000_123.5,
  settings: '[null,null,null]',
  created: '2026-01-01T00:00:00.000Z',
}

describe('cacheDir', () => {
  test('$XDG_CACHE_HOME when absolute, else ~/.cache', () => {
    assert.equal(cacheDir({ XDG_CACHE_HOME: '/var/cache/me' }, 'linux', '/home/me'), join('/var/cache/me', 'partstream'))
    assert.equal(cacheDir({}, 'linux', '/home/me'), join('/home/me', '.cache', 'partstream'))
    // The XDG spec: a relative path is invalid and ignored.
    assert.equal(cacheDir({ XDG_CACHE_HOME: 'relative/cache' }, 'linux', '/home/me'), join('/home/me', '.cache', 'partstream'))
    assert.equal(cacheDir({ XDG_CACHE_HOME: '' }, 'freebsd', '/home/me'), join('/home/me', '.cache', 'partstream'))
  })

  test("a home that is empty or relative (Node's os.homedir() with HOME='') is the account's, not the working directory (checkpoints landed in ./.cache)", () => {
    for (const home of ['', 'relative/home']) {
      const dir = cacheDir({}, 'linux', home)
      assert.ok(dir.startsWith('/'), `${JSON.stringify(home)} gave ${dir}`)
      assert.equal(dir, join(userInfo().homedir, '.cache', 'partstream'))
    }
  })

  test('macOS ~/Library/Caches, Windows %LOCALAPPDATA% (XDG still wins when set)', () => {
    assert.equal(cacheDir({}, 'darwin', '/Users/me'), join('/Users/me', 'Library', 'Caches', 'partstream'))
    assert.equal(cacheDir({ XDG_CACHE_HOME: '/tmp/xdg' }, 'darwin', '/Users/me'), join('/tmp/xdg', 'partstream'))
    assert.equal(cacheDir({ LOCALAPPDATA: 'C:\\Users\\me\\AppData\\Local' }, 'win32', 'C:\\Users\\me'), join('C:\\Users\\me\\AppData\\Local', 'partstream', 'cache'))
    assert.equal(cacheDir({}, 'win32', 'C:\\Users\\me'), join('C:\\Users\\me', 'AppData', 'Local', 'partstream', 'cache'))
  })
})

describe('checkpointFile', () => {
  const id = { endpoint: 'http://127.0.0.1:8000/', bucket: 'b', key: 'k', path: '/data/f' }
  test('one file per endpoint, bucket, key and path, under <dir>/uploads', () => {
    const file = checkpointFile(dir, id)
    assert.equal(file, checkpointFile(dir, { ...id }), 'the same command finds the same file')
    assert.match(file, /[/\\]uploads[/\\][0-9a-f]{64}\.json$/)
    assert.ok(file.startsWith(dir))
    const others = [{ ...id, endpoint: 'https://s3.amazonaws.com/' }, { ...id, bucket: 'c' }, { ...id, key: 'k2' }, { ...id, path: '/data/g' }]
    assert.equal(new Set([file, ...others.map((o) => checkpointFile(dir, o))]).size, 5)
    // No ambiguity from concatenation: ("b", "k/x") and ("b/k", "x") differ.
    assert.notEqual(checkpointFile(dir, { ...id, bucket: 'b', key: 'k/x' }), checkpointFile(dir, { ...id, bucket: 'b/k', key: 'x' }))
  })
})

describe('writeCheckpoint / readCheckpoint', () => {
  test('round trip; mode 0600 in a 0700 directory; no temporary file left', async () => {
    const file = checkpointFile(join(dir, 'rt'), sample)
    await writeCheckpoint(file, sample)
    assert.deepEqual(await readCheckpoint(file), sample)
    if (process.platform !== 'win32') {
      assert.equal(statSync(file).mode & 0o777, 0o600)
      assert.equal(statSync(join(file, '..')).mode & 0o777, 0o700)
    }
    await writeCheckpoint(file, { ...sample, uploadId: 'second' })
    assert.equal((await readCheckpoint(file))?.uploadId, 'second', 'replaced')
    assert.deepEqual(readdirSync(join(file, '..')), [basename(file)], 'only the checkpoint, no .tmp')
    await removeCheckpoint(file)
    assert.equal(await readCheckpoint(file), undefined)
    await removeCheckpoint(file) // none is fine
  })

  test('a failed write throws and leaves the old checkpoint and no temporary file', async () => {
    const file = checkpointFile(join(dir, 'fail'), sample)
    await writeCheckpoint(file, sample)
    // A directory where the checkpoint should go: the rename fails after the temp file was written.
    const blocked = join(join(file, '..'), 'blocked.json')
    mkdirSync(join(blocked, 'inside'), { recursive: true })
    await assert.rejects(writeCheckpoint(blocked, sample))
    assert.deepEqual(readdirSync(join(file, '..')).sort(), [basename(file), 'blocked.json'].sort())
    assert.deepEqual(await readCheckpoint(file), sample)
  })

  test('a cache dir that cannot hold one: writing fails at once (no hang, even under /proc), removing is a no-op', async () => {
    // Node 20-24's mkdir(…, { recursive: true }) never returns for a path under /proc: it retried
    // the same parent for ever, and `cp FILE` with such an XDG_CACHE_HOME hung after its upload.
    const within = <T>(promise: Promise<T>): Promise<T> =>
      Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('still pending after 5 s')), 5000).unref())])
    const file = join(dir, 'a-file')
    writeFileSync(file, 'not a directory')
    const cases = [join(file, 'partstream', 'uploads', 'x.json'), ...(process.platform === 'linux' ? ['/proc/partstream-nope/partstream/uploads/x.json'] : [])]
    for (const path of cases) {
      await assert.rejects(within(writeCheckpoint(path, sample)), (error: NodeJS.ErrnoException) => error.code === 'ENOTDIR' || error.code === 'ENOENT', path)
      await within(removeCheckpoint(path)) // ENOTDIR from rm: there is nothing to remove
    }
  })

  test("removing it also removes the temporary files a killed writer left, not a live writer's or another checkpoint's", async () => {
    const file = checkpointFile(join(dir, 'leftover'), sample)
    await writeCheckpoint(file, sample)
    const folder = join(file, '..')
    // A pid that is not running: a child that has exited.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
    const left = `${basename(file)}.${dead.stdout}.0a1b2c3d.tmp` // kill -9 between writeFile and rename
    const live = `${basename(file)}.${process.pid}.0a1b2c3d.tmp` // a writer still at work
    const other = `${'f'.repeat(64)}.json.${dead.stdout}.0a1b2c3d.tmp` // another checkpoint's
    for (const name of [left, live, other]) writeFileSync(join(folder, name), '{"version":1,')
    await removeCheckpoint(file)
    assert.deepEqual(readdirSync(folder).sort(), [live, other].sort())
  })

  test('a corrupt, truncated, foreign or missing checkpoint reads as none (no crash)', async () => {
    const base = join(dir, 'corrupt')
    mkdirSync(base, { recursive: true })
    const cases: Record<string, string> = {
      empty: '',
      truncated: JSON.stringify(sample).slice(0, 40),
      garbage: '\u0000\u0001not json',
      array: '[1,2,3]',
      null: 'null',
      otherVersion: JSON.stringify({ ...sample, version: 2 }),
      noUploadId: JSON.stringify({ ...sample, uploadId: '' }),
      stringSize: JSON.stringify({ ...sample, size: '41943040' }),
      missingField: JSON.stringify({ ...sample, partSize: undefined }),
    }
    for (const [name, text] of Object.entries(cases)) {
      writeFileSync(join(base, name), text)
      assert.equal(await readCheckpoint(join(base, name)), undefined, name)
    }
    assert.equal(await readCheckpoint(join(base, 'missing')), undefined)
    assert.equal(await readCheckpoint(base), undefined, 'a directory')
  })
})

describe('sameFile', () => {
  test('a checkpoint written on Node or Bun (mtimeMs with a fraction) matches the same file on Deno (whole ms), and back', () => {
    assert.equal(sameFile(sample, { size: sample.size, mtimeMs: 1_700_000_000_123 }), true)
    assert.equal(sameFile({ ...sample, mtimeMs: 1_700_000_000_123 }, { size: sample.size, mtimeMs: 1_700_000_000_123.0369 }), true)
  })

  test('another size or another millisecond is another file', () => {
    assert.equal(sameFile(sample, { size: sample.size + 1, mtimeMs: sample.mtimeMs }), false)
    assert.equal(sameFile(sample, { size: sample.size, mtimeMs: sample.mtimeMs + 1 }), false)
  })
})

describe('lockCheckpoint: one run at a time uploads a file to a key', () => {
  test('taken, then held for a second run (this live process), then free again once released', async () => {
    const file = join(dir, 'lock-a', 'uploads', 'x.json')
    const lock = await lockCheckpoint(file)
    assert.ok('release' in lock)
    assert.deepEqual(await lockCheckpoint(file), { heldBy: { pid: process.pid, host: hostname() } })
    await lock.release()
    const again = await lockCheckpoint(file)
    assert.ok('release' in again)
    await again.release()
    assert.deepEqual(readdirSync(join(dir, 'lock-a', 'uploads')), [])
  })

  test('a lock whose run is gone (killed: its pid is not running) is taken over', async () => {
    const file = join(dir, 'lock-b', 'x.json')
    mkdirSync(join(dir, 'lock-b'))
    const gone = spawnSync(process.execPath, ['-e', '0']).pid as number
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: gone, host: hostname() }))
    const lock = await lockCheckpoint(file)
    assert.ok('release' in lock)
    await lock.release()
  })

  test("a lock naming this very pid that this process does not hold is a killed run's (pid reuse: a container's pid 1): taken over", async () => {
    // It was refused for ever: "another partstream (pid N) is uploading", N being the refusing run.
    const file = join(dir, 'lock-reuse', 'x.json')
    mkdirSync(join(dir, 'lock-reuse'))
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: process.pid, host: hostname() }))
    const lock = await lockCheckpoint(file)
    assert.ok('release' in lock, `taken over, got ${JSON.stringify(lock)}`)
    assert.deepEqual(await lockCheckpoint(file), { heldBy: { pid: process.pid, host: hostname() } }, 'while this process holds it, it is held')
    await lock.release()
  })

  test('a lock held on another host (a shared home) counts as held; an unreadable one is taken over', async () => {
    const file = join(dir, 'lock-c', 'x.json')
    mkdirSync(join(dir, 'lock-c'))
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: 1, host: 'elsewhere.example' }))
    assert.deepEqual(await lockCheckpoint(file), { heldBy: { pid: 1, host: 'elsewhere.example' } })
    writeFileSync(`${file}.lock`, 'not json')
    const lock = await lockCheckpoint(file)
    assert.ok('release' in lock)
    await lock.release()
  })

  test('a cache dir that cannot hold a lock (a file where the directory should be): the run goes on without one', async () => {
    writeFileSync(join(dir, 'lock-d'), 'a file')
    const lock = await lockCheckpoint(join(dir, 'lock-d', 'uploads', 'x.json'))
    assert.ok('release' in lock)
    await lock.release()
  })
})
