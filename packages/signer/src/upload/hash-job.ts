import type { ChecksumAlgorithm } from '../http/checksum.ts'

/** The hashes a part needs, by name (a worker cannot receive hash factories). */
export interface HashSpec {
  /** The payload SHA-256 (`defaultHash`). */
  readonly hash: boolean
  readonly checksum: ChecksumAlgorithm | null
  readonly md5: boolean
}

/**
 * Main thread → hash worker: hash `length` bytes at `offset` of `buffer`. A job may come in
 * several requests of the same `id`, its bytes in order (`uploadFd` hashes a part as it is read):
 * each but the last has `more: true` and gets no answer; the last one is answered with the digests
 * of all of them.
 */
export interface HashJobRequest extends HashSpec {
  readonly id: number
  readonly buffer: SharedArrayBuffer
  readonly offset: number
  readonly length: number
  readonly more?: boolean | undefined
}

/** Hash worker → main thread: the digests of job `id`, or why it failed. */
export type HashJobResponse =
  | {
      readonly id: number
      readonly sha256: Uint8Array | undefined
      readonly checksum: Uint8Array | undefined
      readonly md5: Uint8Array | undefined
      readonly error?: undefined
    }
  | { readonly id: number; readonly error: string }

/** Hash worker → main thread, once: its modules are loaded, it hashes at full speed from now on. */
export interface HashWorkerReady {
  readonly ready: true
}
