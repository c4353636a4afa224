// The checkpoint directory other users can change (XDG_CACHE_HOME on a shared, world-writable
// directory): a lock planted there refused `cp` ("another partstream (pid 1) is uploading"), a
// FIFO planted as the checkpoint hung it in readFile, ignoring SIGTERM. Such a directory is not
// used (the upload runs without resume and says why), as ssh refuses a ~/.ssh others can write
// to; and the checkpoint and its lock are read only when they are regular files of a bounded size.
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { chmodSync, chownSync, closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { checkPrivateDir, checkpointFile, lockCheckpoint, readCheckpoint, removeCheckpoint, writeCheckpoint, type Checkpoint } from '../src/checkpoint.ts'
import { command } from './bin.ts'
import { createBucket, getObject, randomData, s3Env, track } from './s3.ts'

const posix = process.platform !== 'win32'
const dir = mkdtempSync(join(tmpdir(), 'partstream-checkpoint-dir-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const sample: Checkpoint = {
  version: 1,
  endpoint: 'http://127.0.0.1:8000',
  bucket: 'b',
  key: 'k',
  uploadId: '2~abc',
  partSize: 5 * 1024 * 1024,
  path: '/data/file.bin',
  size: 41_943_040,
  mtimeMs: 1_700_000_000_123,
  settings: '[null,null,null]',
  created: '2026-01-01T00:00:00.000Z',
}

/** `<name>/partstream/uploads/<hash>.json`, its directories made as partstream makes them (0700). */
function layout(name: string): { cache: string; root: string; uploads: string; file: string } {
  const cache = join(dir, name)
  const root = join(cache, 'partstream')
  const file = checkpointFile(root, sample)
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
  return { cache, root, uploads: dirname(file), file }
}

/** Rejects if `promise` is still pending after 5 s, running `release` then (so a hung read ends). */
function within<T>(promise: Promise<T>, release: () => void = () => {}): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      release()
      reject(new Error('still pending after 5 s'))
    }, 5000)
  })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

/** Opens `fifo`'s write end for a moment: a reader waiting in open() goes on (and reads its end). */
const unblock = (fifo: string) => (): void => {
  try {
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK))
  } catch {
    // No reader waits.
  }
}

describe('a checkpoint directory other users can change is not used', { skip: !posix && 'owners and modes are POSIX' }, () => {
  test('checkPrivateDir: the directory and its parent must be this user\'s, writable by no one else; the one above must not let others rename them', () => {
    const { cache, root, uploads } = layout('check')
    const uid = process.getuid?.() as number
    assert.equal(checkPrivateDir(uploads), undefined)
    assert.match(checkPrivateDir(uploads, uid + 1) ?? '', /belongs to uid \d+, not to this user \(uid \d+\)/)
    chmodSync(uploads, 0o770)
    assert.match(checkPrivateDir(uploads) ?? '', /uploads is writable by other users \(mode 0770\)/)
    chmodSync(uploads, 0o700)
    chmodSync(root, 0o777)
    assert.match(checkPrivateDir(uploads) ?? '', /partstream is writable by other users \(mode 0777\)/)
    chmodSync(root, 0o700)
    // The directory above (XDG_CACHE_HOME): /tmp-like (sticky) is fine, writable by all without the sticky bit is not.
    chmodSync(cache, 0o1777)
    assert.equal(checkPrivateDir(uploads), undefined)
    chmodSync(cache, 0o777)
    assert.match(checkPrivateDir(uploads) ?? '', /lets other users rename/)
    chmodSync(cache, 0o700)
    // A file, or a link another user could point elsewhere later.
    const link = join(root, 'link')
    symlinkSync(uploads, link)
    assert.equal(checkPrivateDir(link), undefined, "this user's own link to this user's directory")
    assert.match(checkPrivateDir(join(dirname(uploads), 'nope')) ?? '', /ENOENT|no such/i)
    writeFileSync(join(root, 'a-file'), '')
    assert.match(checkPrivateDir(join(root, 'a-file')) ?? '', /not a directory/)
  })

  test('writable by others (or owned by another user): the planted lock and checkpoint are never read, nothing is written there, and writing says why', async () => {
    for (const how of ['world-writable', 'another owner'] as const) {
      if (how === 'another owner' && process.getuid?.() !== 0) continue // chown needs root
      const { root, uploads, file } = layout(how.replace(' ', '-'))
      writeFileSync(`${file}.lock`, JSON.stringify({ pid: 1, host: hostname() }))
      execFileSync('mkfifo', [file])
      if (how === 'world-writable') chmodSync(uploads, 0o777)
      else for (const d of [root, uploads]) chownSync(d, 65534, 65534)
      const before = readdirSync(uploads).sort()

      const lock = await within(lockCheckpoint(file), unblock(`${file}.lock`))
      assert.ok('release' in lock, `the planted lock does not hold this run (${JSON.stringify(lock)})`)
      await lock.release()
      assert.equal(await within(readCheckpoint(file), unblock(file)), undefined)
      await assert.rejects(within(writeCheckpoint(file, sample)), (error: Error) => {
        assert.match(error.message, how === 'world-writable' ? /uploads is writable by other users \(mode 0777\)/ : /belongs to uid 65534, not to this user/)
        return true
      })
      await within(removeCheckpoint(file))
      assert.deepEqual(readdirSync(uploads).sort(), before, 'nothing written or removed there')
    }
  })
})

describe('the checkpoint and its lock are read only when they are small regular files', { skip: !posix && 'FIFOs are POSIX' }, () => {
  test('a FIFO as the checkpoint or the lock: no hang', async () => {
    const { file } = layout('fifo')
    execFileSync('mkfifo', [file])
    assert.equal(await within(readCheckpoint(file), unblock(file)), undefined)
    execFileSync('mkfifo', [`${file}.lock`])
    // Not a lock this code wrote: taken over (as an unreadable one is).
    const lock = await within(lockCheckpoint(file), unblock(`${file}.lock`))
    assert.ok('release' in lock)
    await within(lock.release())
  })

  test('a symbolic link as the checkpoint, and a checkpoint past 1 MiB, read as none', async () => {
    const { uploads, file } = layout('link')
    const elsewhere = join(uploads, 'elsewhere.json')
    await writeCheckpoint(elsewhere, sample)
    assert.deepEqual(await readCheckpoint(elsewhere), sample)
    symlinkSync(elsewhere, file)
    assert.equal(await readCheckpoint(file), undefined)
    rmSync(file)
    writeFileSync(file, JSON.stringify({ ...sample, settings: 'x'.repeat(1024 * 1024) }))
    assert.equal(await readCheckpoint(file), undefined)
  })
})

describe('cp FILE with XDG_CACHE_HOME where others planted a lock and a FIFO', { skip: !posix && 'FIFOs are POSIX' }, () => {
  let bucket: string
  before(async () => {
    bucket = await createBucket('cli-checkpoint-dir')
  })

  test('uploads without resume, and says why in one line on stderr', async () => {
    const { cache, uploads } = layout('cli')
    const path = join(dir, 'file.bin')
    const data = randomData(6 * 1024 * 1024, 41)
    writeFileSync(path, data)
    const { endpoint, region, credentials } = s3Env()
    const key = 'planted/file.bin'
    // The checkpoint's name for this command (as resume.ts spells the endpoint: origin and path, no trailing /).
    const url = new URL(endpoint)
    const file = checkpointFile(join(cache, 'partstream'), { endpoint: url.origin + url.pathname.replace(/\/+$/, ''), bucket, key, path })
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: 1, host: hostname() }))
    execFileSync('mkfifo', [file])
    chmodSync(uploads, 0o777)
    track(bucket, key)
    const child = spawn(command[0] as string, [...command.slice(1), 'cp', path, `s3://${bucket}/${key}`, '--part-size', '5MiB', '--endpoint-url', endpoint], {
      env: { PATH: process.env['PATH'] ?? '', HOME: dir, XDG_CACHE_HOME: cache, AWS_REGION: region, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    const code = await within(new Promise<number | null>((resolve) => child.on('close', resolve)), () => {
      unblock(file)()
      child.kill('SIGKILL')
    })
    assert.equal(code, 0, stderr)
    assert.match(stdout, /^upload: .* \(6291456 bytes, 2 parts\)\n$/)
    const lines = stderr.split('\n').filter((l) => l !== '')
    assert.equal(lines.length, 1, stderr)
    assert.match(lines[0] as string, /uploads is writable by other users \(mode 0777\).*a rerun will start over/)
    assert.deepEqual(await getObject(bucket, key), Buffer.from(data))
    assert.ok(existsSync(file) && statSync(file).isFIFO(), 'the planted files are left as they were')
  })
})
