import { setMaxListeners } from 'node:events'
import type { FileHandle } from 'node:fs/promises'
import { bufferParts, describeValue, InvalidArgumentError, isUint8Array, PartstreamError, planParts, resolvePartSize, toParts, type Part, type ReadableStreamLike } from '@partstream/core'
import { AbortFailedError, CredentialsError, S3ResponseError } from './errors.ts'
import type { ObjectChecksum } from './http/checksum.ts'
import { closeOwnContext, createS3Context, type BucketTarget, type S3Context } from './http/context.ts'
import { validateKey } from './http/endpoint.ts'
import { objectHeaders, pickObjectOptions } from './operations/object-options.ts'
import { Slots } from './http/slots.ts'
import { createBudget, PartLease, type UploadBudget } from './upload/budget.ts'
import { BufferRecycler } from './upload/buffer-pool.ts'
import { closeSource, SOURCE_CLOSE_GRACE_MS } from './upload/cleanup.ts'
import { untilAborted } from './http/sleep.ts'
import { isBlob, partHashes, requireBooleanOption, UPLOAD_OPTION_NAMES, validateUploadOptions, type UploadOptions, type UploadSource } from './upload/options.ts'
import { optionNames } from './upload/option-names.ts'
import type { UploadProgress } from './upload/progress.ts'
import { runUpload } from './upload/run-upload.ts'
import { HeadLookup, ListedObjects, type ExistingObjects } from './upload/existing-objects.ts'
import { alreadyUploaded, resolveSkipExisting, type SkipBy, type SkipExisting } from './upload/skip-existing.ts'
import { assertUnchanged, openRegularFile, readParts } from './upload-file.ts'
import { identityOf } from './upload/walk-identity.ts'

/** Files up to this size are read into views of recycled buffers of this size (see `#smallRecycler`). */
const SMALL_FILE_BUFFER_BYTES = 1024 * 1024

/** One file of {@link uploadAll}: a path on disk, or any source `upload` takes. */
export type UploadEntry =
  | {
      readonly key: string
      readonly path: string | URL
      readonly contentType?: string | undefined
      /**
       * Set by {@link walkDirectory} for what it found and cannot upload: a directory it could not
       * read (gone, or no permission) or a name that is not UTF-8. The entry fails with this error
       * and nothing is sent for it; the other entries go on.
       */
      readonly error?: PartstreamError | undefined
    }
  | { readonly key: string; readonly source: UploadSource; readonly sizeHint?: number | undefined; readonly contentType?: string | undefined }

/** Where {@link uploadAll} writes: a bucket, and a prefix put before every entry's key. */
export interface UploadAllTarget extends BucketTarget {
  /**
   * Put before every key as is (add the trailing `/` yourself).
   * @default ''
   */
  readonly prefix?: string | undefined
}

/** The outcome of one entry. */
export interface FileResult {
  /** The full key (prefix included). */
  readonly key: string
  /** The entry's path, for `{ key, path }` entries. */
  readonly path?: string | undefined
  /**
   * Bytes of the object written, or of the file; for a stream that failed, of the parts it had
   * filled (a part still filling when it failed is not counted).
   */
  readonly size: number
  /** The object's ETag, when it was written. */
  readonly etag?: string | undefined
  /**
   * With `checksum`, when it was written: the object's checksum, as `upload`'s result has it
   * (`{ algorithm, type, value }`, what S3 reports for the object). `undefined` without `checksum`,
   * and for a file skipped or failed.
   */
  readonly checksum?: ObjectChecksum | undefined
  /** `true`: S3 already held it (`skipExisting`); nothing was sent. */
  readonly skipped?: boolean | undefined
  /** Why this file failed (a `PartstreamError`, or the abort reason); its upload was aborted. */
  readonly error?: unknown
}

/** What {@link uploadAll} resolves with. */
export interface UploadAllResult {
  /** One result per entry, in completion order; empty with `collect: false`. */
  readonly files: readonly FileResult[]
  /** Bytes of the objects written (failed files not counted). */
  readonly uploadedBytes: number
  /** Files that ended well: written, or skipped by `skipExisting` (also counted in `skipped`). */
  readonly succeeded: number
  /** Files that failed. */
  readonly failed: number
  /** Files skipped by `skipExisting` (counted in `succeeded` too). */
  readonly skipped: number
}

/** Aggregate counters carried by every {@link UploadAllProgress} event. */
export interface UploadAllTotals {
  /** Bytes S3 acknowledged so far, all files together. */
  readonly bytesAcked: number
  readonly filesStarted: number
  /** Files settled (written or failed). */
  readonly filesDone: number
  readonly filesFailed: number
  /**
   * Entries in total, when known: an array of entries, or `uploadDirectory` once its count-ahead
   * walk is done (see `countAhead`); `undefined` before that, and for other iterators.
   */
  readonly totalFiles: number | undefined
  /** Bytes of all files, when known (`uploadDirectory`'s count-ahead walk); `undefined` otherwise. */
  readonly totalBytes: number | undefined
  /** Bytes of the files skipped by `skipExisting` so far (not sent, so not in `bytesAcked`). */
  readonly bytesSkipped: number
}

/** One step of {@link uploadAll}, delivered to `onProgress` in order. */
export type UploadAllProgress = UploadAllTotals &
  (
    | { readonly type: 'file-started'; readonly key: string; readonly path: string | undefined; readonly size: number | undefined }
    | { readonly type: 'part-started' | 'part-acked'; readonly key: string; readonly partNumber: number; readonly partBytes: number }
    /** A file's multipart upload exists (its first part was read and is not its last): until its `file-done`, this upload may be left open if the process dies. */
    | { readonly type: 'upload-created'; readonly key: string; readonly uploadId: string }
    /** A file's object is being written (its Complete, or its single PutObject's whole body, handed to S3): see `UploadProgress`. */
    | { readonly type: 'committing'; readonly key: string }
    | { readonly type: 'file-done'; readonly file: FileResult }
  )

/** Options of {@link uploadAll}: `upload`'s, for the whole call, plus these. */
export interface UploadAllOptions extends Omit<UploadOptions, 'onProgress' | 'resumeUploadId' | 'sizeHint'> {
  /**
   * Parts in flight at once, **all files together** (small files are one PutObject each, sent side
   * by side within it). Retained part memory for the whole call is at most
   * (concurrency + 1) × partSize.
   * @default 4
   */
  readonly concurrency?: number | undefined
  /**
   * Stop at the first failed file: everything in flight is cancelled, open multipart uploads are
   * aborted, and the call rejects with that file's error.
   * @default false: a failed file is reported and the others go on, unless its error is one
   * every other file would meet too: credentials that could not be resolved, or S3's
   * `InvalidAccessKeyId`, `InvalidToken`, `ExpiredToken`, `NoSuchBucket`, `PermanentRedirect`,
   * `AuthorizationHeaderMalformed`, `RequestTimeTooSkewed`, `InvalidStorageClass` (and the like); before any file has
   * succeeded, also `SignatureDoesNotMatch` and a request that got no answer after its retries.
   * Such an error stops the call as `failFast` does.
   */
  readonly failFast?: boolean | undefined
  /**
   * Keep each file's result in `files`. `false`: only the counts; take results from `onFile`
   * (a million files never build a million-entry array).
   * @default true
   */
  readonly collect?: boolean | undefined
  /**
   * Called once per file as it settles, in completion order. A throw (or a returned promise that
   * rejects) fails the whole call with that error.
   * @default undefined
   */
  readonly onFile?: ((file: FileResult) => unknown) | undefined
  /**
   * One progress stream for the whole call. A throw fails the whole call with that error.
   * @default undefined
   */
  readonly onProgress?: ((event: UploadAllProgress) => unknown) | undefined
  /**
   * Skip a `{ key, path }` file S3 already holds. `by: 'size'`: same size; `by: 'etag'`: same size
   * and the ETag this upload would produce (reads the file once more; an object written with
   * another part size is uploaded again). `using: 'list'`: one paginated ListObjectsV2 of
   * `target.prefix` for the whole call (one request per 1,000 objects, read lazily, in step
   * with the keys looked up); `using: 'head'`: one HeadObject per file. Both run within the
   * budget's sends. `'size'` and `'etag'` alone mean `{ by, using: 'list' }`. Stream entries are
   * always uploaded. A rerun after a crash then sends only what is missing.
   * Prefer `'head'` when the prefix holds far more objects than you upload (over ~1,000 per
   * file), or when entries come in random order into a huge prefix (the listing is then held).
   * A listing that fails fails the whole call.
   * @default undefined: upload every file
   */
  readonly skipExisting?: SkipExisting | undefined
}

/**
 * Uploads many files (or sources) with one budget: `concurrency` parts in flight across all of
 * them, (concurrency + 1) × partSize of part memory at most, one S3 context (one keep-alive pool
 * of `connections` sockets, one credential and endpoint resolution) for the whole call.
 *
 * `entries` is pulled only when a part buffer is free, so a walker over millions of files never
 * holds them all. A failed file is reported (`error`, coded) with its upload aborted, and the
 * others go on unless `failFast` or the error is one no other file can escape (wrong credentials,
 * no such bucket: see `failFast`), which rejects the call with that error. Aborting `signal` stops pulling, cancels everything in flight,
 * aborts every open multipart upload, closes `entries` and rejects with `signal.reason`.
 * @example
 * const { failed } = await uploadAll([{ key: 'a.txt', path: './a.txt' }], { bucket: 'site', prefix: 'v2/' })
 */
export async function uploadAll(
  entries: AsyncIterable<UploadEntry> | Iterable<UploadEntry>,
  target: UploadAllTarget,
  options: UploadAllOptions = {},
): Promise<UploadAllResult> {
  return await runUploadAll(entries, target, options, undefined)
}

/** `uploadAll`'s option names: `upload`'s and its own (typed: see `UPLOAD_OPTION_NAMES`). */
const ALL_OPTIONS: Record<Exclude<keyof UploadAllOptions, keyof UploadOptions>, true> = { failFast: true, collect: true, onFile: true, skipExisting: true }
/** `uploadAll`'s option names, which `uploadDirectory` adds to. */
export const ALL_OPTION_NAMES: ReadonlySet<string> = optionNames(UPLOAD_OPTION_NAMES, ALL_OPTIONS)
const ALL_NAMES = { fn: 'uploadAll', known: ALL_OPTION_NAMES } as const

/** What a count-ahead walk found (uploadDirectory). */
export interface CountedTotals {
  readonly files: number
  readonly bytes: number
}

/**
 * `uploadAll`, with totals that may arrive later: `counted` resolves once a count-ahead walk is
 * done (`undefined`: none; it never rejects); the progress events carry them from then on.
 * Internal: for uploadDirectory.
 */
export async function runUploadAll(
  entries: AsyncIterable<UploadEntry> | Iterable<UploadEntry>,
  target: UploadAllTarget,
  options: UploadAllOptions,
  counted: Promise<CountedTotals | undefined> | undefined,
  names: { readonly fn: string; readonly known: ReadonlySet<string> } = ALL_NAMES,
): Promise<UploadAllResult> {
  const totalFiles = Array.isArray(entries) ? entries.length : undefined
  const iterator = entriesIterator(entries)
  let ctx: S3Context
  let concurrency: number
  let prefix: string
  try {
    concurrency = validateUploadOptions({ ...options, onProgress: undefined }, target, names)
    validateAllOptions(options)
    prefix = target?.prefix ?? ''
    if (typeof prefix !== 'string') throw new InvalidArgumentError(`Expected \`prefix\` to be a string, got ${describeValue(prefix)}.`)
    // A `key` (an UploadTarget reused, or a prefix given under the wrong name) was dropped
    // silently: every file then landed at the bucket's root.
    const key = (target as { key?: unknown } | null | undefined)?.key
    if (key !== undefined) {
      throw new InvalidArgumentError(
        `Expected no \`key\` in the target: each file's key is \`prefix\` + its own key. Got key ${typeof key === 'string' ? JSON.stringify(key) : describeValue(key)}; for keys under it, pass { prefix: ${typeof key === 'string' ? JSON.stringify(key.endsWith('/') || key === '' ? key : `${key}/`) : "'dir/'"} }.`,
      )
    }
    objectHeaders(options, true) // invalid object options fail now, before any request
    ctx = createS3Context({ ...target, key: undefined }, { ...options, connections: options.connections ?? concurrency })
  } catch (error) {
    await closeSource(iterator as AsyncIterator<UploadEntry>)
    throw error
  }
  const run = new ManyUploads(ctx, iterator, prefix, concurrency, options, totalFiles)
  void counted?.then((totals) => run.setTotals(totals))
  let resolved = false
  try {
    const result = await run.run()
    resolved = true
    return result
  } finally {
    await closeOwnContext(ctx, resolved)
  }
}

/** The caller's entries, sync or async; never `next()`-ed concurrently. */
type EntryIterator = AsyncIterator<UploadEntry> | Iterator<UploadEntry>

function entriesIterator(entries: unknown): EntryIterator {
  // A string and bytes are iterable too (of characters and numbers): each would be a bad entry.
  if (typeof entries === 'string' || ArrayBuffer.isView(entries)) {
    throw new InvalidArgumentError(
      `Expected \`entries\` to be an iterable or async iterable of { key, path } or { key, source }, got ${describeValue(entries)}. ` +
        'For one object use upload() or uploadFile(), or pass [{ key, source }]',
    )
  }
  const e = entries as { [Symbol.asyncIterator]?: unknown; [Symbol.iterator]?: unknown } | null | undefined
  if (typeof e?.[Symbol.asyncIterator] === 'function') return (entries as AsyncIterable<UploadEntry>)[Symbol.asyncIterator]()
  if (typeof e?.[Symbol.iterator] === 'function') return (entries as Iterable<UploadEntry>)[Symbol.iterator]()
  throw new InvalidArgumentError(`Expected \`entries\` to be an iterable or async iterable of { key, path } or { key, source }, got ${describeValue(entries)}.`)
}

function validateAllOptions(options: UploadAllOptions): void {
  for (const name of ['onFile', 'onProgress'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new InvalidArgumentError(`Expected \`${name}\` to be a function, got ${describeValue(options[name])}.`)
    }
  }
  requireBooleanOption(options, 'failFast')
  requireBooleanOption(options, 'collect')
  resolveSkipExisting(options.skipExisting)
  if ((options as { resumeUploadId?: unknown }).resumeUploadId !== undefined) {
    throw new InvalidArgumentError('`resumeUploadId` names one upload: it cannot be given to uploadAll.')
  }
}

/** `skipExisting`, resolved: what decides, and where S3's objects are looked up. */
interface ExistingCheck {
  readonly by: SkipBy
  readonly lookup: ExistingObjects
  /** `using: 'list'`: a failed lookup fails the whole call. */
  readonly listing: boolean
}

/** One `uploadAll` call: the pull loop, the per-file uploads and the counters. */
class ManyUploads {
  readonly #ctx: S3Context
  readonly #entries: EntryIterator
  readonly #prefix: string
  readonly #concurrency: number
  readonly #options: UploadAllOptions
  readonly #budget: UploadBudget
  /** Part buffers of multipart files, reused from one file to the next. */
  readonly #recycler: BufferRecycler
  /** 1 MiB buffers for files of at most 1 MiB (each read into a view of one), reused the same way. */
  readonly #smallRecycler: BufferRecycler
  /**
   * Files open at once: `concurrency + 1` (bounds file descriptors, and the one look-ahead chunk
   * each stream source holds while its next part is read).
   */
  readonly #open: Slots
  /** Aborted by the user's signal, the first failed file with `failFast`, or a throwing listener. */
  readonly #controller = new AbortController()
  readonly #files: FileResult[] = []
  #fatal: { readonly error: unknown } | undefined
  /** The last entry of each key in progress: its turn, which a later entry of that key awaits. */
  readonly #keys = new Map<string, Promise<void>>()
  #bytesAcked = 0
  #uploadedBytes = 0
  #started = 0
  #done = 0
  #failed = 0
  #skipped = 0
  #bytesSkipped = 0
  #totalFiles: number | undefined
  #totalBytes: number | undefined
  /** How `skipExisting` finds what S3 holds; `undefined` when off. */
  readonly #existing: ExistingCheck | undefined

  constructor(ctx: S3Context, entries: EntryIterator, prefix: string, concurrency: number, options: UploadAllOptions, totalFiles: number | undefined) {
    this.#ctx = ctx
    this.#entries = entries
    this.#prefix = prefix
    this.#concurrency = concurrency
    this.#options = options
    this.#budget = createBudget(concurrency)
    this.#recycler = new BufferRecycler(concurrency + 1)
    this.#smallRecycler = new BufferRecycler(concurrency + 1)
    this.#open = new Slots(concurrency + 1)
    this.#totalFiles = totalFiles
    const skip = resolveSkipExisting(options.skipExisting)
    this.#existing =
      skip === undefined
        ? undefined
        : {
            by: skip.by,
            listing: skip.using === 'list',
            lookup: skip.using === 'list' ? new ListedObjects(ctx, prefix, this.#budget.sends) : new HeadLookup(ctx, this.#budget.sends),
          }
    setMaxListeners(0, this.#controller.signal) // one listener per file open and per waiter
  }

  #fail(error: unknown): void {
    if (this.#fatal !== undefined) return
    this.#fatal = { error }
    this.#controller.abort(error)
  }

  async run(): Promise<UploadAllResult> {
    const userSignal = this.#options.signal
    const onUserAbort = (): void => this.#fail(userSignal?.reason)
    userSignal?.addEventListener('abort', onUserAbort, { once: true })
    const running = new Set<Promise<void>>()
    const signal = this.#controller.signal
    let finished = false
    try {
      for (;;) {
        // Pull the next entry only once a file slot and a part buffer are free: its first part
        // will use that buffer.
        await this.#open.acquire(signal)
        try {
          await this.#budget.buffers.acquire(signal)
        } catch (error) {
          this.#open.release()
          throw error
        }
        let next: IteratorResult<UploadEntry>
        try {
          // Raced with the abort: an iterator fed by a queue may not yield for a long time (or
          // ever). The entry it yields after that is closed unread.
          const pending = Promise.resolve(this.#entries.next())
          pending.then(
            async (late) => {
              if (signal.aborted && late.done !== true) await closeUnread(late.value)
            },
            () => {},
          )
          next = await untilAborted(pending, signal)
        } catch (error) {
          this.#budget.buffers.release()
          this.#open.release()
          throw error
        }
        if (next.done === true || this.#fatal !== undefined) {
          this.#budget.buffers.release()
          this.#open.release()
          if (next.done !== true) await closeUnread(next.value)
          finished = next.done === true
          break
        }
        const task: Promise<void> = this.#uploadOne(next.value).finally(() => {
          this.#open.release()
          running.delete(task)
        })
        running.add(task)
      }
    } catch (error) {
      this.#fail(error)
    } finally {
      if (!finished) await closeSource(this.#entries as AsyncIterator<UploadEntry>)
      await Promise.all(running)
      userSignal?.removeEventListener('abort', onUserAbort)
    }
    if (userSignal?.aborted === true) throw userSignal.reason
    if (this.#fatal !== undefined) throw this.#fatal.error
    return { files: this.#files, uploadedBytes: this.#uploadedBytes, succeeded: this.#done - this.#failed, failed: this.#failed, skipped: this.#skipped }
  }

  #totals(): UploadAllTotals {
    return {
      bytesAcked: this.#bytesAcked,
      filesStarted: this.#started,
      filesDone: this.#done,
      filesFailed: this.#failed,
      totalFiles: this.#totalFiles,
      totalBytes: this.#totalBytes,
      bytesSkipped: this.#bytesSkipped,
    }
  }

  /** Totals counted ahead (uploadDirectory): events carry them from now on. */
  setTotals(totals: CountedTotals | undefined): void {
    if (totals === undefined) return
    this.#totalFiles = totals.files
    this.#totalBytes = totals.bytes
  }

  /** Calls a user listener; a throw or a rejected promise fails the whole call. */
  #call<T>(listener: ((value: T) => unknown) | undefined, value: T): void {
    if (listener === undefined) return
    try {
      const returned: unknown = listener(value)
      if (typeof returned === 'object' && returned !== null && typeof (returned as PromiseLike<void>).then === 'function') {
        ;(returned as PromiseLike<void>).then(undefined, (error: unknown) => this.#fail(error))
      }
    } catch (error) {
      this.#fail(error)
    }
  }

  /** Uploads one entry with a buffer slot already taken for it; never rejects. */
  async #uploadOne(entry: UploadEntry): Promise<void> {
    const signal = this.#controller.signal
    const lease = new PartLease(this.#budget.buffers, signal, true)
    const fileController = new AbortController()
    const path = typeof entry === 'object' && entry !== null && 'path' in entry ? String(entry.path) : undefined
    let key = this.#prefix + String((entry as { key?: unknown } | null)?.key ?? '')
    let size: number | undefined
    let file: FileHandle | undefined
    let parts: AsyncIterator<Part> | undefined
    // Once per file, before its `file-done`: a `{ key, path }` file's after its stat (so with its
    // size), or in the catch below when it failed before that (missing, not a regular file, aborted).
    let announced = false
    // Bytes of the parts read from the source: a failed stream entry's size.
    let read = 0
    // This entry's turn at its key (see below): settled once it is done with it.
    let turn: Promise<void> | undefined
    let endTurn: (() => void) | undefined
    const announce = (size: number | undefined): void => {
      announced = true
      this.#started++
      this.#call(this.#options.onProgress, { type: 'file-started', key, path, size, ...this.#totals() })
    }
    try {
      assertEntryShape(entry)
      key = validateKey(typeof entry?.key === 'string' ? this.#prefix + entry.key : entry?.key)
      // Two entries of one key at once would race (either Complete may land last, and the other
      // entry's check of the object then fails): a later one waits for the earlier, so the last
      // entry of a key wins, as one after the other. Taken in entry order (no await before this).
      const earlier = this.#keys.get(key)
      turn = new Promise<void>((resolve) => (endTurn = resolve))
      this.#keys.set(key, turn)
      if (earlier !== undefined) await untilAborted(earlier, signal)
      const options = this.#options
      // A Blob source's type is its default content type (as with upload()).
      const blobType = 'source' in entry && isBlob(entry.source) && entry.source.type !== '' ? entry.source.type : undefined
      const contentType = entry.contentType ?? blobType
      const objectOptions = pickObjectOptions(contentType === undefined ? options : { ...options, contentType })
      objectHeaders(objectOptions, true)
      // The payload hash, the checksum and the MD5, each computed in the one pass over each part.
      const hashes = partHashes(options)
      let fileRecycler: BufferRecycler | undefined
      let beforeComplete: (() => Promise<void>) | undefined
      if ('path' in entry) {
        signal.throwIfAborted()
        if (entry.error !== undefined) throw entry.error
        const fh = (file = await openRegularFile(entry.path, identityOf(entry)))
        const stats = await fh.stat()
        size = stats.size
        announce(size)
        const plan = planParts(size, resolvePartSize(options.partSize, options.partSize === undefined ? size : undefined))
        if (this.#existing !== undefined && (await this.#skip(key, fh, plan))) {
          this.#skipped++
          this.#bytesSkipped += size
          this.#settle({ key, path, size, skipped: true })
          return
        }
        const partBytes = plan.reduce((max, p) => Math.max(max, p.byteLength), 0)
        // The buffer slots bound the buffers live; they come from (and go back to) the call's
        // recyclers: part-sized ones for multipart files, 1 MiB ones for files up to 1 MiB (read
        // into a view), so a tree leaves no garbage buffers behind. A file between 1 MiB and one
        // part gets a buffer of its own size.
        const small = plan.length === 1 && partBytes <= SMALL_FILE_BUFFER_BYTES
        const recycler = plan.length > 1 ? this.#recycler : small ? this.#smallRecycler : undefined
        const bufferBytes = small ? SMALL_FILE_BUFFER_BYTES : partBytes
        fileRecycler = recycler
        parts = readParts(fh, plan, { take: () => recycler?.take(bufferBytes) ?? new Uint8Array(partBytes), release: (view) => recycler?.release(view) }, hashes, fileController.signal)
        beforeComplete = () => assertUnchanged(fh, stats)
      } else {
        const source = entry.source
        const blob = isBlob(source) ? source : undefined
        size = isUint8Array(source) ? source.byteLength : blob?.size
        announce(size)
        // A Blob's size with an explicit partSize: too many parts is refused before any request.
        if (blob !== undefined && options.partSize !== undefined && entry.sizeHint === undefined) planParts(blob.size, resolvePartSize(options.partSize))
        parts = isUint8Array(source)
          ? viewParts(source, options, hashes)
          : toParts(blob?.stream() ?? (source as Exclude<UploadSource, Uint8Array | Blob>), {
              partSize: options.partSize,
              sizeHint: entry.sizeHint ?? (options.partSize === undefined ? blob?.size : undefined),
              ...hashes,
              signal: fileController.signal,
              maxViewOverhead: options.maxViewOverhead,
              closeGraceMs: SOURCE_CLOSE_GRACE_MS,
            })
      }
      const result = await runUpload(this.#ctx, lease.wrap(parts), {
        key,
        concurrency: this.#concurrency,
        controller: fileController,
        signal,
        slots: this.#budget.sends,
        leavePartsOnError: options.leavePartsOnError,
        checksum: options.checksum,
        objectOptions,
        totalBytes: size,
        release: (part) => {
          lease.release(part)
          fileRecycler?.release(part.chunks[0])
        },
        beforeComplete,
        onProgress: (event) => {
          if (event.type === 'part-started' || event.type === 'part-skipped') read += event.partBytes
          this.#onPartProgress(key, event)
        },
      })
      this.#uploadedBytes += result.size
      this.#settle({ key, path, size: result.size, etag: result.etag, ...(result.checksum === undefined ? {} : { checksum: result.checksum }) })
    } catch (error) {
      if (!announced) announce(undefined)
      if (parts === undefined) await closeUnread(entry)
      this.#settle({ key, path, size: size ?? read, error: signal.aborted ? error : coded(error) })
    } finally {
      lease.close()
      await file?.close()
      endTurn?.()
      if (turn !== undefined && this.#keys.get(key) === turn) this.#keys.delete(key)
    }
  }

  /**
   * Whether S3 already holds this file: the lookup sends its requests (HeadObject, or a page of
   * the listing) under a send slot like any request of the call; the ETag read holds none. A
   * listing that fails fails the whole call (it is shared by every file, like `entries`).
   */
  async #skip(key: string, file: FileHandle, plan: Parameters<typeof alreadyUploaded>[3]): Promise<boolean> {
    const existing = this.#existing as ExistingCheck
    const signal = this.#controller.signal
    let remote
    try {
      remote = await existing.lookup.find(key, signal)
    } catch (error) {
      if (existing.listing) this.#fail(error)
      throw error
    }
    return await alreadyUploaded(remote, existing.by, file, plan, signal)
  }

  #onPartProgress(key: string, event: UploadProgress): void {
    if (event.type === 'part-acked' || event.type === 'part-skipped') this.#bytesAcked += event.partBytes
    if (event.type === 'part-started' || event.type === 'part-acked') {
      this.#call(this.#options.onProgress, { type: event.type, key, partNumber: event.partNumber, partBytes: event.partBytes, ...this.#totals() })
    } else if (event.type === 'upload-created') {
      this.#call(this.#options.onProgress, { type: 'upload-created', key, uploadId: event.uploadId, ...this.#totals() })
    } else if (event.type === 'committing') {
      this.#call(this.#options.onProgress, { type: 'committing', key, ...this.#totals() })
    }
  }

  #settle(file: FileResult): void {
    this.#done++
    if (file.error !== undefined) this.#failed++
    if (this.#options.collect !== false) this.#files.push(file)
    this.#call(this.#options.onProgress, { type: 'file-done', file, ...this.#totals() })
    this.#call(this.#options.onFile, file)
    // An error every other file would meet too (credentials, the bucket, the region, the clock)
    // stops the call as `failFast` does: a tree of 90,000 files otherwise fails 90,000 times, and a
    // server that refuses connections makes each file wait out its retries.
    if (file.error !== undefined && (this.#options.failFast === true || stopsTheCall(file.error, this.#done > this.#failed))) this.#fail(file.error)
  }
}

/**
 * S3 error codes that say nothing about the key or the file: the credentials, the account, the
 * bucket, its region or the clock are wrong, so every other file of the call would fail the same.
 */
const CALL_WIDE_S3_CODES: ReadonlySet<string> = new Set([
  'InvalidAccessKeyId',
  'InvalidToken',
  'ExpiredToken',
  'AccountProblem',
  'AllAccessDisabled',
  'NoSuchBucket',
  'InvalidBucketName',
  'PermanentRedirect',
  'AuthorizationHeaderMalformed',
  'RequestTimeTooSkewed',
  'InvalidStorageClass',
])

/**
 * Whether a file's error ends the whole call (see `UploadAllOptions.failFast`): always for the
 * {@link CALL_WIDE_S3_CODES} and credentials that could not be resolved; until a file of the call
 * has succeeded, also for `SignatureDoesNotMatch` (a wrong secret) and a request that got no
 * answer after its retries (a wrong endpoint, a server that is down). Once one file went through,
 * the secret and the endpoint work: such an error is then about its own key or a passing outage,
 * and the others go on. An `AbortFailedError` is judged by the error that started it.
 */
export function stopsTheCall(error: unknown, anySucceeded: boolean): boolean {
  const first = error instanceof AbortFailedError ? error.cause : error
  if (first instanceof CredentialsError) return true
  if (!(first instanceof S3ResponseError)) return false
  if (first.s3Code !== undefined && CALL_WIDE_S3_CODES.has(first.s3Code)) return true
  return !anySucceeded && (first.s3Code === 'SignatureDoesNotMatch' || first.statusCode === 0)
}

/** A buffer's parts are views of it, hashed when the upload asks for them. */
async function* viewParts(source: Uint8Array, options: UploadAllOptions, hashes: ReturnType<typeof partHashes>): AsyncGenerator<Part> {
  for (const part of bufferParts(source, { partSize: options.partSize, ...hashes })) yield await part.toPart()
}

/** Every per-file error is a `PartstreamError`: anything else (a source that threw before any request) is wrapped. */
function coded(error: unknown): unknown {
  if (error instanceof PartstreamError) return error
  return new PartstreamError('ERR_PARTSTREAM_UPLOAD_FAILED', `The upload failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
}

/**
 * An entry that failed before its source was handed to `toParts`: close the source (we own it).
 * Never throws: it runs while the entry's own error is reported (and in a detached reaction for an
 * entry yielded after an abort), where its error would go unhandled and the entry's result would
 * be lost. A locked ReadableStream is left alone: its lock holder (a reader, a pipe, another entry
 * of this call given the same stream) reads it, and getting an iterator of it would throw.
 */
async function closeUnread(entry: unknown): Promise<void> {
  try {
    const source = (entry as { source?: unknown } | null)?.source as { [Symbol.asyncIterator]?: unknown; [Symbol.iterator]?: unknown } | null | undefined
    if (typeof source !== 'object' || source === null || isUint8Array(source)) return
    const web = source as { getReader?: unknown; locked?: unknown }
    // A web ReadableStream (as core tells one), cancelled through a reader as toParts reads it: it may have no Symbol.asyncIterator.
    if (typeof web.getReader === 'function' && typeof web.locked === 'boolean') {
      if (web.locked === false) await closeSource({ return: () => (source as ReadableStreamLike<unknown>).getReader().cancel() } as unknown as AsyncIterator<unknown>)
    } else if (typeof source[Symbol.asyncIterator] === 'function') await closeSource((source as AsyncIterable<unknown>)[Symbol.asyncIterator]())
    else if (typeof source[Symbol.iterator] === 'function') await closeSource((source as Iterable<unknown>)[Symbol.iterator]() as unknown as AsyncIterator<unknown>)
    // A Node Readable's iterator closed before its first next() never runs the body that destroys
    // the stream (see core's source.ts): destroy it, or its file descriptor or socket stays open.
    const stream = source as { destroy?: unknown; destroyed?: unknown }
    if (typeof stream.destroy === 'function' && stream.destroyed === false) (stream.destroy as (this: unknown) => void).call(source)
  } catch {
    // Dropped on purpose (a user's [Symbol.asyncIterator]() or destroy() that throws): the entry's own error is the one reported.
  }
}

/** An entry is `{ key, path }` or `{ key, source }`: anything else (both, neither, not an object) is refused by name. */
function assertEntryShape(entry: unknown): asserts entry is UploadEntry {
  const shaped = typeof entry === 'object' && entry !== null && ('path' in entry ? !('source' in entry) : 'source' in entry)
  if (!shaped) {
    const both = typeof entry === 'object' && entry !== null && 'path' in entry && 'source' in entry
    throw new InvalidArgumentError(`Expected an entry of { key, path } or { key, source }${both ? ', not both' : ''}, got ${describeValue(entry)}.`)
  }
}
