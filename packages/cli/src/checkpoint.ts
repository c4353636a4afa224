import { createHash, randomBytes } from 'node:crypto'
import { constants, lstatSync, mkdirSync, statSync } from 'node:fs'
import { open, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { hostname, userInfo } from 'node:os'
import { basename, dirname, join } from 'node:path'

/**
 * What a rerun of `partstream cp FILE s3://…` needs to resume an interrupted upload: written as
 * soon as the multipart upload exists, removed when it completes or is aborted. Holds no secret.
 */
export interface Checkpoint {
  readonly version: 1
  readonly endpoint: string
  readonly bucket: string
  readonly key: string
  readonly uploadId: string
  /** The part size the upload was started with: a resume must cut the file the same way. */
  readonly partSize: number
  /** Absolute path of the file. */
  readonly path: string
  readonly size: number
  readonly mtimeMs: number
  /** The object options the upload was created with (content type, metadata, checksum…): a rerun with others starts over. */
  readonly settings: string
  /** When the upload was created (ISO 8601), for people reading the file. */
  readonly created: string
}

/**
 * Whether the file is the one the checkpoint was written for: same size and modification time, to
 * the millisecond. Node and Bun report `mtimeMs` with a fraction, Deno in whole milliseconds: a
 * checkpoint written by one runtime must still match on another.
 */
export function sameFile(checkpoint: Pick<Checkpoint, 'size' | 'mtimeMs'>, stats: { readonly size: number; readonly mtimeMs: number }): boolean {
  return checkpoint.size === stats.size && Math.trunc(checkpoint.mtimeMs) === Math.trunc(stats.mtimeMs)
}

/** What names one checkpoint: the same command on the same file finds it again. */
export interface CheckpointId {
  readonly endpoint: string
  readonly bucket: string
  readonly key: string
  /** Absolute path of the file. */
  readonly path: string
}

/**
 * The user cache directory for partstream, by platform convention: `$XDG_CACHE_HOME/partstream`
 * (an absolute path only, as the XDG spec says) else `~/.cache/partstream`; macOS
 * `~/Library/Caches/partstream`; Windows `%LOCALAPPDATA%\partstream\cache`.
 * https://specifications.freedesktop.org/basedir-spec/latest/
 * @example
 * cacheDir(process.env, process.platform, os.homedir()) // '/home/me/.cache/partstream'
 */
export function cacheDir(env: Readonly<Record<string, string | undefined>>, platform: string, home: string): string {
  // Node's os.homedir() is `HOME` as set, even empty (Deno's and Bun's take the passwd entry
  // then): a relative home put checkpoints, their locks and the compile cache in the working
  // directory, where the same command run from elsewhere did not find them. The account's home
  // instead; none at all, a path that cannot be made (no checkpoint, the upload goes on).
  if (!isAbsolutePath(home)) home = accountHome() ?? '/nonexistent'
  const xdg = env['XDG_CACHE_HOME']
  if (xdg !== undefined && isAbsolutePath(xdg)) return join(xdg, 'partstream')
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'partstream')
  if (platform === 'win32') return join(env['LOCALAPPDATA'] ?? join(home, 'AppData', 'Local'), 'partstream', 'cache')
  return join(home, '.cache', 'partstream')
}

/** The home directory of this user's account (the passwd entry), when there is an absolute one. */
function accountHome(): string | undefined {
  try {
    const home = userInfo().homedir
    return isAbsolutePath(home) ? home : undefined
  } catch {
    return undefined
  }
}

function isAbsolutePath(p: string): boolean {
  return p.startsWith('/') || /^[a-zA-Z]:[\\/]/.test(p) || p.startsWith('\\\\')
}

/** `<dir>/uploads/<sha256 of endpoint, bucket, key and path>.json`. */
export function checkpointFile(dir: string, id: CheckpointId): string {
  const hash = createHash('sha256').update(JSON.stringify([id.endpoint, id.bucket, id.key, id.path])).digest('hex')
  return join(dir, 'uploads', `${hash}.json`)
}

/**
 * Why `dir` is no place for partstream's own files (checkpoints, their locks, V8's compiled code
 * of the CLI), or `undefined` when it is. Another user who can change what is in it could make a
 * run resume their upload, hold a lock that refuses every run, hang it on a FIFO, or (the compile
 * cache) run their code as this user. So, as ssh asks of ~/.ssh: `dir` and its parent (the ones
 * partstream makes, mode 0700: `<cache>/partstream` and the folder in it) must be this user's and
 * writable by no one else; the one above (XDG_CACHE_HOME, ~/.cache) must be this user's or root's,
 * and must not let other users rename what it holds: not writable by others, or sticky as /tmp is.
 * Group write is let pass there: with a group per user (umask 002 systems) ~/.cache is often 0775.
 * A link is followed only if this user made it. No check on Windows (no uid; the cache directory
 * is under the user's own profile there).
 * @param uid the user to check for (tests give another one).
 * @example
 * checkPrivateDir('/home/me/.cache/partstream/uploads') // undefined
 * checkPrivateDir('/tmp/shared/partstream/uploads') // '/tmp/shared/partstream/uploads belongs to uid 65534, not to this user (uid 1000)'
 */
export function checkPrivateDir(dir: string, uid: number | undefined = process.getuid?.()): string | undefined {
  if (uid === undefined) return undefined
  try {
    for (const path of [dir, dirname(dir)]) {
      const link = lstatSync(path)
      const stats = link.isSymbolicLink() ? statSync(path) : link
      if (!stats.isDirectory()) return `${path} is not a directory`
      for (const s of [link, stats]) if (s.uid !== uid) return `${path} belongs to uid ${s.uid}, not to this user (uid ${uid})`
      if ((stats.mode & 0o022) !== 0) return `${path} is writable by other users (mode ${octal(stats.mode)})`
    }
    const above = dirname(dirname(dir))
    const stats = statSync(above)
    if (stats.uid !== uid && stats.uid !== 0) return `${above} belongs to uid ${stats.uid} (neither this user, uid ${uid}, nor root), who can rename what it holds`
    if ((stats.mode & 0o002) !== 0 && (stats.mode & STICKY) === 0) return `${above} lets other users rename what it holds (mode ${octal(stats.mode)}, not sticky)`
    return undefined
  } catch (error) {
    return (error as Error).message
  }
}

const octal = (mode: number): string => `0${(mode & 0o7777).toString(8)}`

/** The sticky bit (S_ISVTX, not in `fs.constants`): in such a directory (/tmp) only an entry's owner can rename or remove it. */
const STICKY = 0o1000

/**
 * {@link checkPrivateDir} of `dir`, made first if missing (mode 0700, and so are its missing
 * parents): `undefined` when partstream may keep its files there, else why not (one sentence).
 * Never throws. Synchronous, for the bin, which sets up the compile cache before anything loads.
 */
export function makePrivateDir(dir: string): string | undefined {
  try {
    mkdirs(dir, 0o700)
  } catch (error) {
    return (error as Error).message
  }
  return checkPrivateDir(dir)
}

/** The largest checkpoint read, in bytes: one is ~500 bytes plus the path, the key and the object settings (S3 caps keys at 1 KiB, metadata at 2 KiB). */
const MAX_CHECKPOINT_BYTES = 1024 * 1024

/**
 * `file`'s text, if it is a regular file of at most `maxBytes`: opened non-blocking (a FIFO
 * planted there would make a plain open wait for a writer for ever, on a thread a signal does not
 * stop) and not through a link at the end (O_NOFOLLOW), then checked on the descriptor.
 */
async function readSmallFile(file: string, maxBytes: number): Promise<string | undefined> {
  const handle = await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0))
  try {
    const stats = await handle.stat()
    return stats.isFile() && stats.size <= maxBytes ? await handle.readFile('utf8') : undefined
  } finally {
    await handle.close()
  }
}

/**
 * The checkpoint in `file`, or `undefined` when there is none or it cannot be used (unreadable,
 * not a small regular file, not JSON, another version or shape: a corrupt cache file is ignored,
 * never fatal), or its directory is not private (see {@link checkPrivateDir}).
 */
export async function readCheckpoint(file: string): Promise<Checkpoint | undefined> {
  if (checkPrivateDir(dirname(file)) !== undefined) return undefined
  let text: string | undefined
  try {
    text = await readSmallFile(file, MAX_CHECKPOINT_BYTES)
  } catch {
    return undefined
  }
  if (text === undefined) return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  return isCheckpoint(value) ? value : undefined
}

function isCheckpoint(v: unknown): v is Checkpoint {
  if (typeof v !== 'object' || v === null) return false
  const c = v as Record<string, unknown>
  const strings = ['endpoint', 'bucket', 'key', 'uploadId', 'path', 'settings'] as const
  const numbers = ['partSize', 'size', 'mtimeMs'] as const
  return c['version'] === 1 && strings.every((k) => typeof c[k] === 'string' && c[k] !== '') && numbers.every((k) => typeof c[k] === 'number' && Number.isFinite(c[k]))
}

/**
 * Writes `checkpoint` to `file` atomically: a temporary file in the same directory (mode 0600,
 * the directory 0700), then `rename`, so a crash leaves the old file or the new one, never half
 * of one.
 * @throws when the directory cannot be made, or is not private (the message says why: see {@link checkPrivateDir}).
 */
export async function writeCheckpoint(file: string, checkpoint: Checkpoint): Promise<void> {
  const dir = join(file, '..')
  mkdirs(dir, 0o700)
  const unsafe = checkPrivateDir(dir)
  if (unsafe !== undefined) throw new Error(unsafe)
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    await writeFile(temp, `${JSON.stringify(checkpoint, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
    await rename(temp, file)
  } catch (error) {
    await rm(temp, { force: true })
    throw error
  }
}

/**
 * Removes the checkpoint (none is fine), and the temporary files of it that a writer killed
 * between `writeFile` and `rename` left behind (`<name>.<pid>.<hex>.tmp`, the pid no longer running).
 */
export async function removeCheckpoint(file: string): Promise<void> {
  // Not in a directory other users can change: this run never wrote there.
  if (checkPrivateDir(dirname(file)) !== undefined) return
  // Best-effort: a cache path that cannot hold a checkpoint (a file where a directory should be:
  // ENOTDIR) never had one, and a checkpoint left behind only makes a rerun check S3 and start over.
  try {
    await rm(file, { force: true })
  } catch {
    return
  }
  const dir = join(file, '..')
  const prefix = `${basename(file)}.`
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue
    const pid = Number(/^(\d+)\.[0-9a-f]+\.tmp$/.exec(name.slice(prefix.length))?.[1])
    if (pid > 0 && !isRunning(pid)) await rm(join(dir, name), { force: true })
  }
}

/** The run that holds a checkpoint's lock (see {@link lockCheckpoint}). */
export interface LockOwner {
  readonly pid: number
  readonly host: string
}

/** A checkpoint's lock, taken: `release()` removes it if it is still this run's. */
export interface CheckpointLock {
  release(): Promise<void>
}

/** The locks this process holds: a lock naming this pid that is not here is a dead run's (pid reuse). */
const held = new Set<string>()

/**
 * Takes the lock beside a checkpoint, `<file>.lock` (created exclusively, holding this process's
 * pid and host name), for as long as this run uploads the file: a second `partstream cp` of the
 * same file to the same key (a cron job overlapping the last one) would otherwise resume the
 * first one's upload while it still runs, overwrite its checkpoint, or abort its upload. A lock
 * whose process is gone (killed) is taken over, even when this run got its pid again; one held on another host (a shared home) counts
 * as held. A cache dir that cannot hold a lock cannot hold a checkpoint either: the run goes on
 * without one (as `writeCheckpoint` does); nor can one that is not private (see
 * {@link checkPrivateDir}): a lock another user put there is never read.
 * @returns the lock, or the live run that holds it.
 */
export async function lockCheckpoint(file: string): Promise<CheckpointLock | { readonly heldBy: LockOwner }> {
  const lock = `${file}.lock`
  const mine = JSON.stringify({ pid: process.pid, host: hostname() })
  const none: CheckpointLock = { release: async () => {} }
  // A lock is a few dozen bytes: anything else is not one this code wrote.
  const read = (): Promise<string> => readSmallFile(lock, 4096).then((text) => text ?? '', () => '')
  try {
    mkdirs(dirname(lock), 0o700)
  } catch {
    return none
  }
  if (checkPrivateDir(dirname(lock)) !== undefined) return none
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(lock, mine, { flag: 'wx', mode: 0o600 })
      held.add(lock)
      return {
        async release() {
          held.delete(lock)
          if ((await read()) === mine) await rm(lock, { force: true }).catch(() => {})
        },
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return none
    }
    const owner = lockOwner(await read())
    // Our own pid in a lock we do not hold: a killed run whose pid this one got again (a
    // container's CLI is pid 1 after every restart).
    const alive = (o: LockOwner): boolean => (o.pid === process.pid ? held.has(lock) : isRunning(o.pid))
    if (owner !== undefined && (owner.host !== hostname() || alive(owner))) return { heldBy: owner }
    // Its run is gone (or the file is not a lock we wrote): take it over. Two runs that both
    // find it stale race on the exclusive create above; the loser finds the winner alive.
    await rm(lock, { force: true }).catch(() => {})
  }
  return none
}

function lockOwner(text: string): LockOwner | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockOwner>
    return typeof v.pid === 'number' && Number.isInteger(v.pid) && v.pid > 0 && typeof v.host === 'string' ? { pid: v.pid, host: v.host } : undefined
  } catch {
    return undefined
  }
}

/**
 * `mkdir -p`, one level at a time. Node's `mkdir(…, { recursive: true })` (20, 22 and 24; 26 is
 * fixed) never returns, sync or async, for a path under a filesystem that answers ENOENT to a
 * mkdir whose parent exists (`/proc`): it retries the same parent for ever, so a cache dir there
 * hung the CLI at exit. Here each level is made once, and that ENOENT is the error. Synchronous:
 * the bin makes the compile cache's directory before it loads the rest (a few syscalls).
 */
function mkdirs(dir: string, mode: number): void {
  const exists = (error: unknown): boolean => (error as NodeJS.ErrnoException).code === 'EEXIST'
  try {
    mkdirSync(dir, { mode })
  } catch (error) {
    if (exists(error)) return
    const parent = dirname(dir)
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === dir) throw error
    mkdirs(parent, mode)
    try {
      mkdirSync(dir, { mode })
    } catch (again) {
      if (!exists(again)) throw again
    }
  }
}

function isRunning(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' // alive, someone else's
  }
}
