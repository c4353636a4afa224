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
import { parentPort } from 'node:worker_threads'
import type { HashFactory } from '@partstream/core'
import { updateInPieces } from '../http/hash-pieces.ts'
import type { HashJobRequest, HashJobResponse, HashWorkerReady } from './hash-job.ts'

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
    // A whole part may be 5 GiB: node:crypto refuses an update of 2 GiB or more (hash-pieces.ts).
    const { sha256, md5, checksum } = hashers
    updateInPieces((piece) => {
      sha256?.update(piece)
      md5?.update(piece)
      checksum?.update(piece)
    }, view)
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
