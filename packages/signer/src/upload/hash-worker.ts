/**
 * The script of a hash worker (`hashThreads`, see `hash-pool.ts`): hashes ranges of a
 * `SharedArrayBuffer` in place (no copy) and answers with the digests. Requests are handled one at
 * a time, in the order they arrive; a job sent in pieces (`more: true`) keeps its hashers here
 * between them.
 *
 * It loads as little as it can, since its start-up is paid by every upload that uses workers:
 * the SHA-256 and MD5 come from node:crypto (what the main thread's `defaultHash` and `nodeMd5`
 * are wherever worker threads exist); the checksum module (core's CRCs, `checksumHash`, the same
 * implementation the main thread picks) is imported on the first job that asks for a checksum.
 * @module
 */
import { createHash, type Hash } from 'node:crypto'
import { readSync } from 'node:fs'
import { parentPort } from 'node:worker_threads'
import type { HashFactory } from '@partstream/core'
import { updateInPieces } from '../http/hash-pieces.ts'
import type { HashJobRequest, HashJobResponse, HashWorkerReady, ReadFailure } from './hash-job.ts'

const port = parentPort
if (port === null) throw new Error('hash-worker.ts runs as a worker thread (new Worker), not as a main module')

let checksums: Promise<(algorithm: NonNullable<HashJobRequest['checksum']>) => HashFactory | undefined> | undefined

/** A job's hashers between its pieces; `null` once it failed (its later pieces are dropped). */
const open = new Map<number, Hashers | null>()
let queue: Promise<void> = Promise.resolve()

port.on('message', (request: HashJobRequest) => {
  // In order: a piece must not overtake the one before it while that one awaits the checksum module.
  queue = queue.then(() => step(request))
})
// Loaded: the pool may send jobs here instead of hashing them on the main thread.
port.postMessage({ ready: true } satisfies HashWorkerReady)

interface Hashers {
  readonly sha256: Hash | undefined
  readonly md5: Hash | undefined
  readonly checksum: ReturnType<HashFactory> | undefined
}

async function step(request: HashJobRequest): Promise<void> {
  let hashers = open.get(request.id)
  if (hashers === null) {
    if (request.more !== true) open.delete(request.id)
    return
  }
  try {
    hashers ??= await start(request)
    const view = new Uint8Array(request.buffer, request.offset, request.length)
    const { sha256, md5, checksum } = hashers
    const update = (piece: Uint8Array): void => {
      sha256?.update(piece)
      md5?.update(piece)
      checksum?.update(piece)
    }
    if (request.read === undefined) {
      // A whole part may be 5 GiB: node:crypto refuses an update of 2 GiB or more (hash-pieces.ts).
      updateInPieces(update, view)
    } else {
      const failure = readInto(view, request.read.fd, request.read.position, update)
      if (failure !== undefined) {
        open.delete(request.id)
        port?.postMessage({ id: request.id, error: failure.message, readFailure: failure } satisfies HashJobResponse)
        return
      }
    }
    if (request.more === true) {
      open.set(request.id, hashers)
      return
    }
    open.delete(request.id)
    port?.postMessage({
      id: request.id,
      sha256: bytesOf(hashers.sha256),
      checksum: await hashers.checksum?.digest(),
      md5: bytesOf(hashers.md5),
    } satisfies HashJobResponse)
  } catch (error) {
    if (request.more === true) open.set(request.id, null)
    else open.delete(request.id)
    port?.postMessage({ id: request.id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) } satisfies HashJobResponse)
  }
}

/** Positional reads of `READ_PIECE_BYTES` at most. */
const READ_PIECE_BYTES = 1024 * 1024

/**
 * Fills `view` from `fd` at `position`, a piece at a time, handing each piece to `update` as it
 * lands (hashed while it is in this core's cache). Returns why it could not, or `undefined`.
 */
function readInto(view: Uint8Array, fd: number, position: number, update: (piece: Uint8Array) => void): ReadFailure | undefined {
  let filled = 0
  while (filled < view.byteLength) {
    let bytesRead: number
    try {
      bytesRead = readSync(fd, view, filled, Math.min(READ_PIECE_BYTES, view.byteLength - filled), position + filled)
    } catch (error) {
      const e = error as { message?: unknown; code?: unknown; errno?: unknown; syscall?: unknown }
      return {
        message: typeof e?.message === 'string' ? e.message : String(error),
        code: typeof e?.code === 'string' ? e.code : undefined,
        errno: typeof e?.errno === 'number' ? e.errno : undefined,
        syscall: typeof e?.syscall === 'string' ? e.syscall : undefined,
      }
    }
    if (bytesRead === 0) return { message: `the file ended at byte ${position + filled}`, endedAt: position + filled }
    update(view.subarray(filled, filled + bytesRead))
    filled += bytesRead
  }
  return undefined
}

async function start(request: HashJobRequest): Promise<Hashers> {
  let checksum: ReturnType<HashFactory> | undefined
  if (request.checksum !== null) {
    checksums ??= import('../http/checksum.ts').then((m) => m.checksumHash)
    const make = (await checksums)(request.checksum)
    if (make === undefined) throw new Error(`no ${request.checksum} implementation in this worker`)
    checksum = make()
  }
  return { sha256: request.hash ? createHash('sha256') : undefined, md5: request.md5 ? createHash('md5') : undefined, checksum }
}

function bytesOf(hash: Hash | undefined): Uint8Array | undefined {
  if (hash === undefined) return undefined
  const bytes = hash.digest()
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
