import type { Stats } from 'node:fs'
import { opendir, stat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describeValue, InvalidArgumentError } from '@partstream/core'
import { contentTypeFor } from './upload/content-type.ts'
import { uploadAll, type UploadAllOptions, type UploadAllResult, type UploadAllTarget, type UploadEntry } from './upload-all.ts'

/** Options of {@link uploadDirectory}: `uploadAll`'s, plus these. */
export interface UploadDirectoryOptions extends UploadAllOptions {
  /**
   * Follow symbolic links (to files and directories; a directory reached twice is walked once).
   * @default false: symbolic links are skipped
   */
  readonly followSymlinks?: boolean | undefined
  /**
   * Upload a file only when this returns `true`. `relativePath` uses `/` separators; `stats` are
   * the file's (`lstat`, or `stat` behind a followed link).
   * @default undefined: every regular file
   */
  readonly filter?: ((relativePath: string, stats: Stats) => boolean) | undefined
  /**
   * `Content-Type` of every object. Unset: from the file's extension (a built-in table of the
   * common web, media, archive and data types), else none (S3 stores `application/octet-stream`).
   * @default from the extension
   */
  readonly contentType?: string | undefined
}

/**
 * Uploads every regular file under `dir` with {@link uploadAll}'s one budget. The tree is walked
 * lazily, depth first, one directory handle open per level: a file is reached only when the
 * budget can take it, so a tree of millions of files is never listed whole. Each key is
 * `target.prefix` + the path relative to `dir` with `/` separators. Files that are not regular
 * (FIFOs, sockets, devices) are skipped, and so are symbolic links unless `followSymlinks`.
 * @example
 * const { failed, files } = await uploadDirectory('./dist', { bucket: 'site', prefix: 'v2/' })
 */
export async function uploadDirectory(dir: string | URL, target: UploadAllTarget, options: UploadDirectoryOptions = {}): Promise<UploadAllResult> {
  if (typeof dir !== 'string' && !(dir instanceof URL)) {
    throw new InvalidArgumentError(`Expected \`dir\` to be a path or a file URL, got ${describeValue(dir)}.`)
  }
  if (options?.filter !== undefined && typeof options.filter !== 'function') {
    throw new InvalidArgumentError(`Expected \`filter\` to be a function, got ${describeValue(options.filter)}.`)
  }
  const root = typeof dir === 'string' ? dir : fileURLToPath(dir)
  return await uploadAll(walk(root, options ?? {}), target, options)
}

/** The regular files under `root`, lazily, as `{ key, path }` (key relative, `/`-separated). */
async function* walk(root: string, options: UploadDirectoryOptions): AsyncGenerator<UploadEntry> {
  const follow = options.followSymlinks === true
  const seen = new Set<string>() // dev:ino of the directories walked, when following links
  const rootStats = await stat(root)
  if (!rootStats.isDirectory()) throw new InvalidArgumentError(`Expected \`dir\` to be a directory: ${JSON.stringify(root)} is not.`)
  seen.add(`${rootStats.dev}:${rootStats.ino}`)
  async function* walkDir(path: string): AsyncGenerator<UploadEntry> {
    const handle = await opendir(path)
    try {
      for await (const dirent of handle) {
        const full = join(path, dirent.name)
        const rel = relative(root, full).split(sep).join('/')
        let isDir = dirent.isDirectory()
        let isFile = dirent.isFile()
        let stats: Stats | undefined
        if (dirent.isSymbolicLink()) {
          if (!follow) continue
          stats = await stat(full).catch(() => undefined) // a dangling link is skipped
          if (stats === undefined) continue
          isDir = stats.isDirectory()
          isFile = stats.isFile()
          if (isDir) {
            const id = `${stats.dev}:${stats.ino}`
            if (seen.has(id)) continue // a cycle, or a directory already walked
            seen.add(id)
          }
        }
        if (isDir && follow && stats === undefined) {
          // Following links: a plain directory is recorded too, so a link to it is not walked again.
          const own = await stat(full)
          const id = `${own.dev}:${own.ino}`
          if (seen.has(id)) continue
          seen.add(id)
        }
        if (isDir) {
          yield* walkDir(full)
        } else if (isFile) {
          if (options.filter !== undefined && !options.filter(rel, stats ?? (await stat(full)))) continue
          yield { key: rel, path: full, contentType: options.contentType ?? contentTypeFor(dirent.name) }
        }
      }
    } finally {
      await handle.close().catch(() => {}) // for await closes it already at the end; a second close throws
    }
  }
  yield* walkDir(root)
}
