import type { Dirent, Stats } from 'node:fs'
import { lstat, readdir, stat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describeValue, InvalidArgumentError, type PartstreamError } from '@partstream/core'
import { contentTypeFor } from './upload/content-type.ts'
import { optionNames } from './upload/option-names.ts'
import { requireBooleanOption } from './upload/options.ts'
import { compareKeys } from './upload/key-order.ts'
import { expectIdentity } from './upload/walk-identity.ts'
import { ALL_OPTION_NAMES, runUploadAll, type CountedTotals, type UploadAllOptions, type UploadAllResult, type UploadAllTarget } from './upload-all.ts'

/** Options of {@link walkDirectory}. */
export interface WalkDirectoryOptions {
  /**
   * Follow symbolic links (to files and directories; a directory reached twice is walked once).
   * @default false: symbolic links are skipped
   */
  readonly followSymlinks?: boolean | undefined
  /**
   * Keep a file only when this returns `true`. `relativePath` uses `/` separators. A filter
   * declared with one parameter (`filter.length === 1`, as `(rel) => !rel.endsWith('.tmp')`) is
   * asked with the path alone, before the file is stat-ed: a file it excludes is never stat-ed,
   * so one that vanished since the listing, or sits in a directory this user may list but not
   * enter, is not reported. Any other filter gets `stats` too, the file's (`lstat`, or `stat`
   * behind a followed link), read before it is asked: a file they cannot be read for comes out
   * as an entry with `error` (it fails alone), whatever the filter would have answered.
   * @default undefined: every regular file
   */
  readonly filter?: ((relativePath: string, stats: Stats) => boolean) | undefined
  /**
   * Walk into a directory only when this returns `true` (`relativePath` with `/`, no trailing
   * `/`): a tree that `filter` would reject whole (`node_modules`, `.git`) is then never listed
   * nor stat-ed. Not called for `dir` itself.
   * @default undefined: every directory
   */
  readonly filterDirectory?: ((relativePath: string) => boolean) | undefined
  /**
   * `Content-Type` of every entry. Unset: from the file's extension (a built-in table of the
   * common web, media, archive and data types), else none (S3 stores `binary/octet-stream`).
   * @default from the extension
   */
  readonly contentType?: string | undefined
}

/** Options of {@link uploadDirectory}: `uploadAll`'s and `walkDirectory`'s, plus these. */
export interface UploadDirectoryOptions extends UploadAllOptions, WalkDirectoryOptions {
  /**
   * Count the tree ahead of the upload, so progress events carry `totalFiles` and `totalBytes`
   * once the count is done: a second walk of the same tree, side by side with the upload, one
   * `stat` per file for its size, nothing kept but the two sums. It calls `filter` a second time
   * per file, so it is off by default when a `filter` is given.
   * @default true when `onProgress` is given and `filter` is not, else false
   */
  readonly countAhead?: boolean | undefined
  /**
   * `Content-Type` of every object. Unset: from the file's extension, else none.
   * @default from the extension
   */
  readonly contentType?: string | undefined
}

/**
 * Uploads every regular file under `dir` with {@link uploadAll}'s one budget, walked by
 * {@link walkDirectory}: lazily, in S3's key order, so a file is reached only when the budget can
 * take it and a tree of millions of files is never listed whole. Each key is `target.prefix` +
 * the path relative to `dir` with `/` separators. Files that are not regular (FIFOs, sockets,
 * devices) are skipped, and so are symbolic links unless `followSymlinks`.
 * @example
 * const { failed, files } = await uploadDirectory('./dist', { bucket: 'site', prefix: 'v2/' })
 */
export async function uploadDirectory(dir: string | URL, target: UploadAllTarget, options: UploadDirectoryOptions = {}): Promise<UploadAllResult> {
  const root = rootOf(dir, options)
  const o = options ?? {}
  requireBooleanOption(o, 'countAhead')
  const countAhead = o.countAhead ?? (o.onProgress !== undefined && o.filter === undefined)
  const counting = new AbortController()
  // A count is a hint: one that fails (the tree changed, a filter threw) leaves the totals unknown.
  const counted = countAhead ? countTree(root, o, counting.signal).catch(() => undefined) : undefined
  try {
    return await runUploadAll(walk(root, o), target, o, counted, DIRECTORY_NAMES)
  } finally {
    counting.abort()
  }
}

/**
 * One file found by {@link walkDirectory}: an {@link UploadEntry} with `path` on disk (a string),
 * or what the walk could not upload, with `error` set.
 */
export interface WalkEntry {
  /** The path relative to `dir`, `/`-separated (a directory that failed ends with `/`). */
  readonly key: string
  /** The file's path: `dir` joined with its name(s). */
  readonly path: string
  /** From `contentType`, else the extension (unset for one the table lacks, and on an entry with `error`). */
  readonly contentType?: string | undefined
  /** Set on what the walk found and cannot upload (see {@link walkDirectory}): the entry fails alone. */
  readonly error?: PartstreamError | undefined
}

/**
 * The regular files under `dir`, lazily, as `{ key, path, contentType }` entries for
 * {@link uploadAll} (`key`: the path relative to `dir`, `/`-separated). Depth first, one directory
 * read at a time, its entries sorted so that keys come out in S3's order (UTF-8 binary, the order
 * ListObjectsV2 answers in): a directory `d` sorts as `d/`. Holds the names of one directory per
 * level of depth, on a stack of its own (any depth the system's paths allow, not the call
 * stack's). Symbolic links are skipped unless `followSymlinks`; non-regular files always.
 * A directory below `dir` that cannot be read, a name that is not UTF-8, a link `followSymlinks`
 * cannot follow (dangling, a loop), and a file `filter` wants `stats` for that cannot be stat-ed
 * come out as entries with `error` set (they fail alone
 * in `uploadAll`); a missing `dir` rejects the first `next()`.
 * @example
 * const entries = walkDirectory('./dist', { filter: (rel) => !rel.endsWith('.map') })
 * await uploadAll(entries, { bucket: 'site', prefix: 'v2/' })
 */
export function walkDirectory(dir: string | URL, options: WalkDirectoryOptions = {}): AsyncGenerator<WalkEntry> {
  return walk(rootOf(dir, options), options ?? {})
}

function rootOf(dir: unknown, options: WalkDirectoryOptions | undefined): string {
  if (typeof dir !== 'string' && !(dir instanceof URL)) {
    throw new InvalidArgumentError(`Expected \`dir\` to be a path or a file URL, got ${describeValue(dir)}.`)
  }
  requireBooleanOption(options ?? {}, 'followSymlinks')
  for (const name of ['filter', 'filterDirectory'] as const) {
    if (options?.[name] !== undefined && typeof options[name] !== 'function') {
      throw new InvalidArgumentError(`Expected \`${name}\` to be a function, got ${describeValue(options[name])}.`)
    }
  }
  return typeof dir === 'string' ? dir : fileURLToPath(dir)
}

/**
 * Files and bytes under `root` (the same walk, a `stat` per file); `undefined` if aborted. A file
 * that cannot be stat-ed (gone since the listing, or in a directory this user may list but not
 * enter) counts as a file of no bytes, as an entry with `error` does: the upload fails it alone,
 * so the totals stay known instead of the whole count being lost to one file. Exported for its
 * tests only (not from `index.ts`).
 */
export async function countTree(root: string, options: WalkDirectoryOptions, signal: AbortSignal): Promise<CountedTotals | undefined> {
  let files = 0
  let bytes = 0
  for await (const entry of walk(root, options)) {
    if (signal.aborted) return undefined
    // An entry the walk could not read (a name that is not UTF-8, a directory that vanished) is
    // still started and settled as a file, failed: count it, with no bytes.
    files++
    if (entry.error !== undefined) continue
    // Nor one that cannot be stat-ed: the upload, which opens the file itself, reports it.
    const stats = await stat(entry.path).catch(() => undefined)
    bytes += stats?.size ?? 0
  }
  return { files, bytes }
}

/** One directory entry, typed (behind a followed link too), with the name it sorts by. */
interface Item {
  readonly name: string
  readonly full: string
  readonly isDir: boolean
  readonly stats: Stats | undefined
  readonly sortKey: string
}

/** A directory's listing: its names that fail alone, in listing order, then its files and directories, sorted. */
interface Listing {
  readonly failed: readonly WalkEntry[]
  readonly items: readonly Item[]
}

/**
 * The regular files under `root`, lazily, as `{ key, path }` (key relative, `/`-separated), in key order.
 *
 * Iterative: one frame per directory from `root` down to the current one (its sorted items and the
 * next to visit), on an explicit stack. A generator per level, delegating with `yield*`, went
 * through every level on each `next()` and overflowed the call stack at ~1,750 levels on Node (a
 * raw RangeError), on trees whose paths were well within PATH_MAX.
 */
async function* walk(root: string, options: WalkDirectoryOptions): AsyncGenerator<WalkEntry> {
  const follow = options.followSymlinks === true
  const { filter, filterDirectory } = options
  const seen = new Set<string>() // dev:ino of the directories walked, when following links
  let rootStats: Stats
  try {
    rootStats = await stat(root)
  } catch (cause) {
    throw cannotRead('`dir`', root, cause)
  }
  if (!rootStats.isDirectory()) throw new InvalidArgumentError(`Expected \`dir\` to be a directory: ${JSON.stringify(root)} is not.`)
  seen.add(`${rootStats.dev}:${rootStats.ino}`)
  const keyOf = (full: string): string => relative(root, full).split(sep).join('/')
  /** An entry that fails alone (see `WalkEntry.error`): the rest of the tree goes on. */
  const failed = (full: string, isDir: boolean, error: PartstreamError): WalkEntry => ({ key: keyOf(full) + (isDir ? '/' : ''), path: full, error })

  /** The entries of `path`; one that cannot be read is one entry that fails (the root, a throw). */
  async function list(path: string): Promise<Listing> {
    const failures: WalkEntry[] = []
    const items: Item[] = []
    let dirents: Dirent[]
    try {
      dirents = await readdir(path, { withFileTypes: true })
    } catch (cause) {
      // The root unreadable fails the call; a directory below it (removed meanwhile, or no
      // permission) fails alone, as a file that cannot be opened does.
      if (path === root) throw cannotRead('`dir`', root, cause)
      return { failed: [failed(path, true, cannotRead('a directory', path, cause, 'none of its files were uploaded'))], items: [] }
    }
    // Names readdir decoded with U+FFFD for bytes that are not UTF-8, counted by that decoding.
    const notUtf8 = dirents.some((d) => d.name.includes('\uFFFD')) ? await namesNotUtf8(path, dirents) : undefined
    for (const dirent of dirents) {
      const full = join(path, dirent.name)
      const bad = notUtf8?.get(dirent.name) ?? 0
      if (bad > 0) {
        // Each such name fails alone; a name that is U+FFFD itself (valid UTF-8) beside it decodes
        // alike, and is the one its path names.
        notUtf8?.set(dirent.name, bad - 1)
        // readdir decoded a name that is not UTF-8 (each bad byte became U+FFFD), so that path
        // names nothing; an S3 key is UTF-8 anyway.
        failures.push(
          failed(
            full,
            dirent.isDirectory(),
            new InvalidArgumentError(
              `Cannot upload ${JSON.stringify(full)}: its name is not valid UTF-8 (shown with U+FFFD for the bad bytes) and S3 keys are UTF-8. Rename it (e.g. with convmv) and run again.`,
            ),
          ),
        )
        continue
      }
      // Two names that decode alike share one dirent name: the path's own type, not the dirent's.
      const own = notUtf8?.has(dirent.name) === true ? await lstat(full).catch(() => undefined) : dirent
      if (own === undefined) continue
      let isDir = own.isDirectory()
      let isFile = own.isFile()
      let stats: Stats | undefined
      if (own.isSymbolicLink()) {
        if (!follow) continue
        try {
          stats = await stat(full)
        } catch (cause) {
          // Asked to follow it, and it leads nowhere (dangling, a loop, no permission): it fails
          // alone, as a directory that cannot be read does, unless a path filter excludes it. It
          // was skipped without a word.
          if (filter !== undefined && filter.length === 1 && !(filter as (relativePath: string) => unknown)(keyOf(full))) continue
          failures.push(failed(full, false, cannotRead('the target of the symbolic link', full, cause, 'it was not uploaded')))
          continue
        }
        isDir = stats.isDirectory()
        isFile = stats.isFile()
      }
      if (isDir || isFile) items.push({ name: dirent.name, full, isDir, stats, sortKey: isDir ? `${dirent.name}/` : dirent.name })
    }
    items.sort((a, b) => compareKeys(a.sortKey, b.sortKey))
    return { failed: failures, items }
  }

  /** Whether `filter` keeps the file, or the entry that fails instead (its `stats` could not be read). */
  async function kept(item: Item, rel: string): Promise<boolean | WalkEntry> {
    if (filter === undefined) return true
    // A filter declared with the path alone (as the CLI's --exclude) is asked first: a file it
    // excludes is never stat-ed, so one gone since the listing, or in a directory that may be
    // listed but not entered, is not reported. Only a filter that takes `stats` waits for them.
    if (filter.length === 1) return Boolean((filter as (relativePath: string) => unknown)(rel))
    let stats: Stats
    try {
      stats = item.stats ?? (await stat(item.full))
    } catch (cause) {
      return failed(item.full, false, cannotRead('a file', item.full, cause))
    }
    return Boolean(filter(rel, stats))
  }

  /** The directories being walked, `root` first: each one's items, and the index of the next. */
  const stack: Array<{ readonly items: readonly Item[]; next: number }> = []
  /** Walks into `path`: what fails in its listing comes out first, then its items, one per turn of the loop. */
  const enter = async (path: string): Promise<readonly WalkEntry[]> => {
    const listing = await list(path)
    stack.push({ items: listing.items, next: 0 })
    return listing.failed
  }
  for (const entry of await enter(root)) yield entry
  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as (typeof stack)[number]
    const item = frame.items[frame.next++]
    if (item === undefined) {
      stack.pop()
      continue
    }
    if (item.isDir) {
      if (filterDirectory !== undefined && !filterDirectory(keyOf(item.full))) continue
      // Not following links: a directory swapped for a link since its parent was listed is a
      // link now, and skipped as links are (readdir would follow it out of the tree).
      if (!follow && (await lstat(item.full).catch(() => undefined))?.isSymbolicLink() === true) continue
      if (follow) {
        // A directory reached twice (a cycle, or a link to one already walked) is walked once.
        let own: Stats
        try {
          own = item.stats ?? (await stat(item.full))
        } catch (cause) {
          yield failed(item.full, true, cannotRead('a directory', item.full, cause, 'none of its files were uploaded'))
          continue
        }
        const id = `${own.dev}:${own.ino}`
        if (seen.has(id)) continue
        seen.add(id)
      }
      for (const entry of await enter(item.full)) yield entry
    } else {
      const rel = keyOf(item.full)
      const keep = await kept(item, rel)
      if (keep === false) continue
      if (keep !== true) {
        yield keep
        continue
      }
      // uploadDirectory's options carry the objects' contentEncoding (walkDirectory's, none).
      const encoding = (options as { contentEncoding?: unknown }).contentEncoding
      const entry: WalkEntry = { key: rel, path: item.full, contentType: options.contentType ?? contentTypeFor(item.name, typeof encoding === 'string' ? encoding : undefined) }
      if (!follow) {
        // The file as it is now, which is what uploadAll must open (see walk-identity.ts): a link
        // swapped in since the listing is skipped, as links are; one gone fails when opened.
        const now = await lstat(item.full).catch(() => undefined)
        if (now?.isSymbolicLink() === true) continue
        if (now !== undefined) expectIdentity(entry, { dev: now.dev, ino: now.ino })
      }
      yield entry
    }
  }
}

/**
 * The names in `path` that are not UTF-8, as readdir shows them (each bad byte sequence as
 * U+FFFD), with how many entries show each. A name shown with U+FFFD names a file only if it is
 * that character itself (valid UTF-8), and a directory holds one such: of `k` entries shown alike,
 * `k - 1` are not UTF-8 when the path exists, all `k` when it does not. (Counted from the decoded
 * names: Deno's readdir gives no raw bytes, not even with `encoding: 'buffer'`.)
 */
async function namesNotUtf8(path: string, dirents: readonly Dirent[]): Promise<Map<string, number>> {
  const shown = new Map<string, number>()
  for (const d of dirents) if (d.name.includes('\uFFFD')) shown.set(d.name, (shown.get(d.name) ?? 0) + 1)
  const counts = new Map<string, number>()
  for (const [name, k] of shown) counts.set(name, (await exists(join(path, name))) ? k - 1 : k)
  return counts
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  )
}

/** `what` at `path` could not be read: the system's code and message, and what to check. */
function cannotRead(what: string, path: string, cause: unknown, consequence?: string): InvalidArgumentError {
  const code = (cause as { code?: unknown } | null)?.code
  return new InvalidArgumentError(
    `Cannot read ${what} at ${JSON.stringify(path)}${typeof code === 'string' ? ` (${code})` : ''}${consequence === undefined ? '' : `: ${consequence}`}. ` +
      'Check that it exists and that its permissions let this user list it.',
    { cause },
  )
}

/** `uploadDirectory`'s option names: `uploadAll`'s and the walk's (typed: see `UPLOAD_OPTION_NAMES`). */
const DIRECTORY_OPTIONS: Record<Exclude<keyof UploadDirectoryOptions, keyof UploadAllOptions>, true> = {
  countAhead: true,
  followSymlinks: true,
  filter: true,
  filterDirectory: true,
}
const DIRECTORY_NAMES = { fn: 'uploadDirectory', known: optionNames(ALL_OPTION_NAMES, DIRECTORY_OPTIONS) } as const
