import type { Worker } from 'node:worker_threads'
import { HashWorkerError } from '../errors.ts'
import { builtinModule } from '../http/hash.ts'
import type { HashJobRequest, HashJobResponse, HashSpec, HashWorkerReady } from './hash-job.ts'

type WorkerThreads = typeof import('node:worker_threads')

/** A part's digests, as `digestChunks` returns them. */
export interface PartDigests {
  readonly sha256: Uint8Array | undefined
  readonly checksum: Uint8Array | undefined
  readonly md5: Uint8Array | undefined
}

/** A part's digests fed piece by piece: {@link HashPool.stream}. */
export interface DigestStream {
  /** The next range of the part (a view of a `SharedArrayBuffer`); its bytes must not change until `finish()` settles. */
  update(view: Uint8Array): void
  /** The digests of every range given; call once, after the last `update()`. */
  finish(): Promise<PartDigests>
}

/** {@link HashPool.stream} sends ranges to its worker once this many bytes have arrived (and at the end). */
export const STREAM_FLUSH_BYTES: number = 1024 * 1024

interface Job {
  readonly resolve: (digests: PartDigests) => void
  readonly reject: (error: unknown) => void
}

interface Thread {
  readonly worker: Worker
  readonly jobs: Map<number, Job>
  /** The worker said its modules are loaded. */
  ready: boolean
}

type NodeFs = typeof import('node:fs')

/**
 * The worker script next to this module: `hash-worker.js` in the built dist, `hash-worker.ts`
 * where the .ts sources run themselves (Node ≥ 22.18 type stripping, Deno, Bun). Resolved when a
 * pool starts a worker, never at load: an application that bundles the signer must load, and
 * upload with `hashThreads: 0`, wherever the script is. That is also why `import.meta.url` is
 * read apart from `new URL()`: webpack takes `new URL(<request>, import.meta.url)` for an asset to
 * bundle, and a request that is not a plain string for a "Critical dependency" it cannot resolve
 * at run time (`Cannot find module './hash-worker.js'` when the bundle loads).
 * @param moduleUrl this module's `import.meta.url`: `undefined` in a CommonJS bundle (esbuild
 *   `--format=cjs`, as AWS CDK's `NodejsFunction` builds by default, leaves `import.meta` empty).
 * @throws {HashWorkerError} when there is no `moduleUrl` to resolve the script against.
 */
export function hashWorkerUrl(moduleUrl: string | undefined = import.meta.url): URL {
  if (typeof moduleUrl !== 'string') {
    throw new HashWorkerError(
      'A hash worker could not start: the module holding the hash pool has no import.meta.url (a CommonJS bundle), so its worker script ' +
        "hash-worker.js cannot be found. Bundle as ESM (esbuild --format=esm) with a bundle of @partstream/signer's " +
        'dist/src/upload/hash-worker.js beside it.',
    )
  }
  return new URL(moduleUrl.endsWith('.ts') ? './hash-worker.ts' : './hash-worker.js', moduleUrl)
}

/**
 * The script new pools start (`undefined`: {@link hashWorkerUrl}, looked up when a worker starts),
 * and whether `uploadFile` hashes on the main thread until a worker is ready (tests swap in a
 * failing script, and wait for it, to check crash handling end to end).
 */
export const hashWorkerScript: { url: URL | undefined; inlineUntilReady: boolean } = { url: undefined, inlineUntilReady: true }

/** `true` where parts can be hashed in worker threads: node:worker_threads and `SharedArrayBuffer` exist. */
export function hashWorkersAvailable(): boolean {
  return builtinModule<WorkerThreads>('node:worker_threads')?.Worker !== undefined && typeof SharedArrayBuffer === 'function'
}

/**
 * Up to `threads` worker threads that hash parts held in `SharedArrayBuffer`s, in place: a job
 * posts (buffer, offset, length), never the bytes. Workers start on the first job that finds
 * none idle, and keep the process alive only while they hash (unref'd when idle), so a pool
 * that is never closed does not hold the process open; `close()` terminates them.
 *
 * A worker that fails to start, crashes or exits rejects its jobs with `HashWorkerError` and is
 * replaced on the next job. One that is lost before it ever loaded (a broken script, no thread to
 * be had) also marks the pool {@link HashPool.failed}: its next jobs reject with that error at once
 * instead of starting worker after worker. A script that cannot be found (no `import.meta.url` to
 * find it from, no file there) marks it failed when the worker would start, before any job.
 */
export class HashPool {
  readonly #threads: Thread[] = []
  readonly #max: number
  readonly #url: URL | undefined
  readonly #workerThreads: WorkerThreads
  /** Workers lost (crashed, exited, or unable to read a message) until they have stopped. */
  readonly #stopping = new Set<Promise<unknown>>()
  #nextId = 0
  #closed = false
  #startFailure: HashWorkerError | undefined

  /** @param url the worker script (tests pass a failing one); by default {@link hashWorkerUrl}, resolved at the first start. */
  constructor(threads: number, url: URL | undefined = hashWorkerScript.url) {
    const workerThreads = builtinModule<WorkerThreads>('node:worker_threads')
    if (workerThreads === undefined) throw new HashWorkerError('This runtime has no node:worker_threads.')
    this.#workerThreads = workerThreads
    this.#max = Math.max(1, threads)
    this.#url = url
  }

  /**
   * `true` once a worker has loaded its modules. Starting a worker costs tens of milliseconds
   * (hundreds on a loaded machine): until one is ready, the caller can hash on the main thread.
   */
  get ready(): boolean {
    return this.#threads.some((t) => t.ready)
  }

  /**
   * `true` when a worker was lost before it loaded, or its script could not be found, and none is
   * ready: a caller that hashes on the main thread until {@link ready} must send its next job here,
   * to get the error, rather than hash inline for the rest of the upload without saying so.
   */
  get failed(): boolean {
    return this.#startFailure !== undefined && !this.ready
  }

  /**
   * Whether a caller that hashes on the main thread until a worker is ready should send its next
   * job here: a worker is ready, or none could start (the job gets that error, rather than every
   * part being hashed inline unannounced), or `hashWorkerScript.inlineUntilReady` is off (tests).
   */
  get takesJobs(): boolean {
    return this.ready || this.failed || !hashWorkerScript.inlineUntilReady
  }

  /** Starts every worker now (rather than on the first jobs), so they load while the file is opened and read. */
  start(): void {
    try {
      while (!this.#closed && this.#threads.length < this.#max) this.#spawn()
    } catch {
      // The first digest() spawns again and rejects with the HashWorkerError.
    }
  }

  /** The digests of `view` (backed by a `SharedArrayBuffer`); the bytes must not change until it settles. */
  digest(view: Uint8Array, spec: HashSpec): Promise<PartDigests> {
    if (!(view.buffer instanceof SharedArrayBuffer)) {
      return Promise.reject(new TypeError('HashPool.digest() takes a view of a SharedArrayBuffer'))
    }
    const job = this.#job()
    job.post({ id: job.id, buffer: view.buffer, offset: view.byteOffset, length: view.byteLength, ...spec })
    return job.settled
  }

  /**
   * A part hashed as its bytes arrive (`uploadFd`): `update()` with each range once it is filled, in
   * order (views of `SharedArrayBuffer`s, unchanged until `finish()` settles), then `finish()`.
   * Ranges that follow each other in one buffer go to the worker together, in messages of at least
   * {@link STREAM_FLUSH_BYTES}, so the worker hashes a part while the rest of it is being read and
   * its digests come ~1 MiB of hashing after the last byte. One worker takes the whole part.
   */
  stream(spec: HashSpec): DigestStream {
    const job = this.#job()
    let pending: { buffer: SharedArrayBuffer; offset: number; length: number } | undefined
    let last: SharedArrayBuffer | undefined
    let finished = false
    const post = (more: boolean): void => {
      const range = pending ?? { buffer: (last ??= new SharedArrayBuffer(0)), offset: 0, length: 0 }
      pending = undefined
      job.post({ id: job.id, ...range, ...spec, more })
    }
    return {
      update(view) {
        if (finished) throw new Error('DigestStream.update() after finish()')
        if (!(view.buffer instanceof SharedArrayBuffer)) throw new TypeError('DigestStream.update() takes a view of a SharedArrayBuffer')
        last = view.buffer
        if (view.byteLength === 0) return
        if (pending !== undefined && pending.buffer === view.buffer && pending.offset + pending.length === view.byteOffset) {
          pending.length += view.byteLength
        } else {
          if (pending !== undefined) post(true)
          pending = { buffer: view.buffer, offset: view.byteOffset, length: view.byteLength }
        }
        if (pending.length >= STREAM_FLUSH_BYTES) post(true)
      },
      finish() {
        if (!finished) {
          finished = true
          post(false)
        }
        return job.settled
      },
    }
  }

  /**
   * A new job on the thread {@link #pick} chooses: `post` sends it a request (dropped once the job
   * has settled: its worker was lost); `settled` is its digests, or the `HashWorkerError` it failed
   * with, at once when the pool is closed or failed. A rejection nobody awaits is not unhandled.
   */
  #job(): { id: number; settled: Promise<PartDigests>; post(request: HashJobRequest): void } {
    const id = this.#nextId++
    const refused = this.#closed ? new HashWorkerError('The hash pool is closed.') : this.failed ? this.#startFailure : undefined
    let thread: Thread | undefined
    let settled: Promise<PartDigests>
    if (refused === undefined) {
      try {
        const picked = this.#pick()
        thread = picked
        settled = new Promise<PartDigests>((resolve, reject) => {
          if (picked.jobs.size === 0) picked.worker.ref()
          picked.jobs.set(id, { resolve, reject })
        })
      } catch (error) {
        settled = Promise.reject(error)
      }
    } else {
      settled = Promise.reject(refused)
    }
    settled.catch(() => {})
    return {
      id,
      settled,
      post(request) {
        if (thread?.jobs.has(id) === true) thread.worker.postMessage(request)
      },
    }
  }

  /** Terminates every worker and waits until each has stopped (lost ones too); jobs still running reject with `HashWorkerError`. */
  async close(): Promise<void> {
    this.#closed = true
    const threads = this.#threads.splice(0)
    for (const thread of threads) this.#fail(thread, new HashWorkerError('The hash pool was closed while hashing a part.'))
    await Promise.all([...threads.map((t) => t.worker.terminate().catch(() => {})), ...this.#stopping])
  }

  /** The idle thread (a ready one first), else a new one while under the limit, else the least busy. */
  #pick(): Thread {
    let best: Thread | undefined
    for (const thread of this.#threads) {
      if (best === undefined || thread.jobs.size < best.jobs.size || (thread.jobs.size === best.jobs.size && thread.ready && !best.ready)) best = thread
    }
    if (best !== undefined && (best.jobs.size === 0 || this.#threads.length >= this.#max)) return best
    return this.#spawn()
  }

  #spawn(): Thread {
    const url = this.#script()
    let worker: Worker
    try {
      worker = new this.#workerThreads.Worker(url)
    } catch (cause) {
      // Refused at once (Node's permission model without --allow-worker, no thread to be had):
      // the pool is failed, as when a worker is lost before it loads.
      const error = new HashWorkerError(`Cannot start a hash worker (${url.href}): set hashThreads: 0, or allow worker threads.`, { cause })
      this.#startFailure ??= error
      throw error
    }
    worker.unref()
    const thread: Thread = { worker, jobs: new Map(), ready: false }
    this.#threads.push(thread)
    worker.on('message', (response: HashJobResponse | HashWorkerReady) => {
      if ('ready' in response) {
        thread.ready = true
        return
      }
      const job = thread.jobs.get(response.id)
      if (job === undefined) return
      thread.jobs.delete(response.id)
      if (thread.jobs.size === 0) worker.unref()
      if (response.error !== undefined) job.reject(new HashWorkerError(`A hash worker failed: ${response.error}.`))
      else job.resolve({ sha256: response.sha256, checksum: response.checksum, md5: response.md5 })
    })
    const lost = (cause: unknown): void => {
      const index = this.#threads.indexOf(thread)
      if (index !== -1) this.#threads.splice(index, 1)
      if (!thread.ready && !this.#closed) {
        this.#startFailure ??= new HashWorkerError(
          `A hash worker could not start (${url.href}). If a bundler moved this module, put a bundle of @partstream/signer's dist/src/upload/hash-worker.js (its imports bundled in) there.`,
          { cause },
        )
      }
      this.#fail(thread, new HashWorkerError('A hash worker crashed or exited while hashing a part.', { cause }))
      // A worker lost by 'messageerror' still runs, maybe hashing a buffer its job's caller has
      // taken back: close() waits until it has stopped.
      const stopped = worker.terminate().catch(() => {})
      this.#stopping.add(stopped)
      void stopped.then(() => this.#stopping.delete(stopped))
    }
    worker.on('error', lost)
    worker.on('messageerror', lost)
    worker.on('exit', (code: number) => lost(new Error(`exit code ${code}`)))
    return thread
  }

  /**
   * The script to start, checked to be there. None (a CommonJS bundle, a bundle without
   * hash-worker.js where it is looked for) fails the pool now, before its first part, rather than
   * when the worker's 'error' event comes: by then a small file can have had every part hashed on
   * the main thread, and the same upload would succeed or fail from run to run.
   */
  #script(): URL {
    try {
      const url = this.#url ?? hashWorkerUrl()
      assertScriptExists(url)
      return url
    } catch (cause) {
      const error = cause instanceof HashWorkerError ? cause : new HashWorkerError('A hash worker could not start: its script cannot be found.', { cause })
      this.#startFailure ??= error
      throw error
    }
  }

  #fail(thread: Thread, error: HashWorkerError): void {
    const jobs = [...thread.jobs.values()]
    thread.jobs.clear()
    thread.worker.unref()
    for (const job of jobs) job.reject(error)
  }
}

/**
 * Throws `HashWorkerError` when `url` is a file that is not there, which the worker would only
 * report with its 'error' event, tens of milliseconds after the start (hundreds on a loaded machine).
 */
function assertScriptExists(url: URL): void {
  if (url.protocol !== 'file:') return
  const fs = builtinModule<NodeFs>('node:fs')
  if (fs === undefined || fs.existsSync(url)) return
  throw new HashWorkerError(
    `A hash worker could not start (${url.href}): no such file. If a bundler moved this module, put a bundle of @partstream/signer's ` +
      'dist/src/upload/hash-worker.js (its imports bundled in) there.',
  )
}
