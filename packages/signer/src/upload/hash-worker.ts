/**
 * The script of a hash worker (`hashThreads`, see `hash-pool.ts`): hashes a range of a
 * `SharedArrayBuffer` in place (no copy) with the same hash implementations as the main thread,
 * and answers with the digests. One job at a time, in the order they arrive.
 * @module
 */
import { parentPort } from 'node:worker_threads'
import { digestChunks } from '@partstream/core'
import { checksumHash } from '../http/checksum.ts'
import { defaultHash, nodeMd5 } from '../http/hash.ts'
import type { HashJobRequest, HashJobResponse, HashWorkerReady } from './hash-job.ts'

const port = parentPort
if (port === null) throw new Error('hash-worker.ts runs as a worker thread (new Worker), not as a main module')

port.on('message', (request: HashJobRequest) => {
  void answer(request).then((response) => port.postMessage(response))
})
// Imports done: the pool may send jobs here instead of hashing them on the main thread.
port.postMessage({ ready: true } satisfies HashWorkerReady)

async function answer(request: HashJobRequest): Promise<HashJobResponse> {
  try {
    const view = new Uint8Array(request.buffer, request.offset, request.length)
    const digests = await digestChunks([view], {
      hash: request.hash ? defaultHash : null,
      checksum: request.checksum === null ? null : (checksumHash(request.checksum) ?? null),
      md5: request.md5 ? (nodeMd5 ?? null) : null,
    })
    return { id: request.id, ...digests }
  } catch (error) {
    return { id: request.id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }
  }
}
