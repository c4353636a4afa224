/**
 * The script of a hash worker (`hashThreads`, see `hash-pool.ts`): hashes a range of a
 * `SharedArrayBuffer` in place (no copy) and answers with the digests. One job at a time, in the
 * order they arrive.
 *
 * It loads as little as it can, since its start-up is paid by every upload that uses workers:
 * the SHA-256 and MD5 come from node:crypto (what the main thread's `defaultHash` and `nodeMd5`
 * are wherever worker threads exist); the checksum module (core's CRCs, `checksumHash`, the same
 * implementation the main thread picks) is imported on the first job that asks for a checksum.
 * @module
 */
import { createHash } from 'node:crypto'
import { parentPort } from 'node:worker_threads'
import type { HashFactory } from '@partstream/core'
import type { HashJobRequest, HashJobResponse, HashWorkerReady } from './hash-job.ts'

const port = parentPort
if (port === null) throw new Error('hash-worker.ts runs as a worker thread (new Worker), not as a main module')

let checksums: Promise<(algorithm: NonNullable<HashJobRequest['checksum']>) => HashFactory | undefined> | undefined

port.on('message', (request: HashJobRequest) => {
  void answer(request).then((response) => port.postMessage(response))
})
// Loaded: the pool may send jobs here instead of hashing them on the main thread.
port.postMessage({ ready: true } satisfies HashWorkerReady)

async function answer(request: HashJobRequest): Promise<HashJobResponse> {
  try {
    const view = new Uint8Array(request.buffer, request.offset, request.length)
    let checksum: Uint8Array | undefined
    if (request.checksum !== null) {
      checksums ??= import('../http/checksum.ts').then((m) => m.checksumHash)
      const make = (await checksums)(request.checksum)
      if (make === undefined) throw new Error(`no ${request.checksum} implementation in this worker`)
      const hasher = make()
      hasher.update(view)
      checksum = await hasher.digest()
    }
    return {
      id: request.id,
      sha256: request.hash ? digest('sha256', view) : undefined,
      checksum,
      md5: request.md5 ? digest('md5', view) : undefined,
    }
  } catch (error) {
    return { id: request.id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }
  }
}

function digest(algorithm: 'sha256' | 'md5', view: Uint8Array): Uint8Array {
  const bytes = createHash(algorithm).update(view).digest()
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
