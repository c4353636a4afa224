import type { Stats } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describeValue, InvalidArgumentError } from '@partstream/core'
import { contentTypeFor } from './upload/content-type.ts'
import { compareKeys } from './upload/key-order.ts'
import { runUploadAll, type CountedTotals, type UploadAllOptions, type UploadAllResult, type UploadAllTarget, type UploadEntry } from './upload-all.ts'

/** Options of {@link walkDirectory}. */
export interface WalkDirectoryOptions {
  /**
   * Follow symbolic links (to files and directories; a directory reached twice is walked once).
   * @default false: symbolic links are skipped
   */
  readonly followSymlinks?: boolean | undefined
  /**
   * Keep a file only when this returns `true`. `relativePath` uses `/` separators; `stats` are
   * the file's (`lstat`, or `stat` behind a followed link).
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
   * common web, media, archive and data types), else none (S3 stores `application/octet-stream`).
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
  const countAhead = o.countAhead ?? (o.onProgress !== undefined && o.filter === undefined)
  const counting = new AbortController()
  // A count is a hint: one that fails (the tree changed, a filter threw) leaves the totals unknown.
  const counted = countAhead ? countTree(root, o, counting.signal).catch(() => undefined) : undefined
  try {
    return await runUploadAll(walk(root, o), target, o, counted)
  } finally {
    counting.abort()
  }
}

/**
 * The regular files under `dir`, lazily, as `{ key, path, contentType }` entries for
 * {@link uploadAll} (`key`: the path relative to `dir`, `/`-separated). Depth first, one directory
 * read at a time, its entries sorted so that keys come out in S3's order (UTF-8 binary, the order
 * ListObjectsV2 answers in): a directory `d` sorts as `d/`. Holds the names of one directory per
 * level of depth. Symbolic links are skipped unless `followSymlinks`; non-regular files always.
 * @example
 * const entries = walkDirectory('./dist', { filter: (rel) => !rel.endsWith('.map') })
 * await uploadAll(entries, { bucket: 'site', prefix: 'v2/' })
 */
export function walkDirectory(dir: string | URL, options: WalkDirectoryOptions = {}): AsyncGenerator<UploadEntry> {
  return walk(rootOf(dir, options), options ?? {})
}

function rootOf(dir: unknown, options: WalkDirectoryOptions | undefined): string {
  if (typeof dir !== 'string' && !(dir instanceof URL)) {
    throw new InvalidArgumentError(`Expected \`dir\` to be a path or a file URL, got ${describeValue(dir)}.`)
  }
  for (const name of ['filter', 'filterDirectory'] as const) {
    if (options?.[name] !== undefined && typeof options[name] !== 'function') {
      throw new InvalidArgumentError(`Expected \`${name}\` to be a function, got ${describeValue(options[name])}.`)
    }
  }
  return typeof dir === 'string' ? dir : fileURLToPath(dir)
}

/** Files and bytes under `root` (the same walk, a `stat` per file); `undefined` if aborted. */
async function countTree(root: string, options: WalkDirectoryOptions, signal: AbortSignal): Promise<CountedTotals | undefined> {
  let files = 0
  let bytes = 0
  for await (const entry of walk(root, options)) {
    if (signal.aborted) return undefined
    files++
    bytes += (await stat((entry as { path: string }).path)).size
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

/** The regular files under `root`, lazily, as `{ key, path }` (key relative, `/`-separated), in key order. */
async function* walk(root: string, options: WalkDirectoryOptions): AsyncGenerator<UploadEntry> {
  const follow = options.followSymlinks === true
  const seen = new Set<string>() // dev:ino of the directories walked, when following links
  const rootStats = await stat(root)
  if (!rootStats.isDirectory()) throw new InvalidArgumentError(`Expected \`dir\` to be a directory: ${JSON.stringify(root)} is not.`)
  seen.add(`${rootStats.dev}:${rootStats.ino}`)
  async function* walkDir(path: string): AsyncGenerator<UploadEntry> {
    const items: Item[] = []
    for (const dirent of await readdir(path, { withFileTypes: true })) {
      const full = join(path, dirent.name)
      let isDir = dirent.isDirectory()
      let isFile = dirent.isFile()
      let stats: Stats | undefined
      if (dirent.isSymbolicLink()) {
        if (!follow) continue
        stats = await stat(full).catch(() => undefined) // a dangling link is skipped
        if (stats === undefined) continue
        isDir = stats.isDirectory()
        isFile = stats.isFile()
      }
      if (isDir || isFile) items.push({ name: dirent.name, full, isDir, stats, sortKey: isDir ? `${dirent.name}/` : dirent.name })
    }
    items.sort((a, b) => compareKeys(a.sortKey, b.sortKey))
    for (const item of items) {
      if (item.isDir) {
        if (options.filterDirectory !== undefined && !options.filterDirectory(relative(root, item.full).split(sep).join('/'))) continue
        if (follow) {
          // A directory reached twice (a cycle, or a link to one already walked) is walked once.
          const own = item.stats ?? (await stat(item.full))
          const id = `${own.dev}:${own.ino}`
          if (seen.has(id)) continue
          seen.add(id)
        }
        yield* walkDir(item.full)
      } else {
        const rel = relative(root, item.full).split(sep).join('/')
        if (options.filter !== undefined && !options.filter(rel, item.stats ?? (await stat(item.full)))) continue
        yield { key: rel, path: item.full, contentType: options.contentType ?? contentTypeFor(item.name) }
      }
    }
  }
  yield* walkDir(root)
}
