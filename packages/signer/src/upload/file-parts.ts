import type { FileHandle } from 'node:fs/promises'
import type { Part, PlannedPart } from '@partstream/core'
import { SourceChangedError } from '../errors.ts'
import type { BufferPool } from './buffer-pool.ts'
import { MAX_READ_BYTES } from './fd-reader.ts'
import type { PartDigests } from './hash-pool.ts'

/** What {@link FileParts} needs of a pool: `available` is optional (without it nothing is read ahead). */
export type PartBuffers = Pick<BufferPool, 'take' | 'release'> & { readonly available?: number }

/**
 * A file's planned parts, read with positional reads into pool buffers and hashed by `digest`
 * (inline, or in hash workers). Part `i` is read when the consumer asks for it; with
 * `lookahead` > 0, up to `lookahead` parts past the last one handed out are also read and
 * hashed ahead whenever the pool has a free buffer (`pump()`, called when a buffer is
 * released), so several hash workers run at once. The pool alone bounds memory.
 */
export class FileParts {
  readonly #file: FileHandle
  readonly #plan: readonly PlannedPart[]
  readonly #pool: PartBuffers
  readonly #digest: (view: Uint8Array) => Promise<PartDigests>
  readonly #lookahead: number
  readonly #maxReadBytes: number
  readonly #ready = new Map<number, Promise<Part>>()
  #started = 0
  #yielded = 0
  #closed = false

  /** `maxReadBytes`: the most one read asks for (1 GiB; tests lower it). */
  constructor(file: FileHandle, plan: readonly PlannedPart[], pool: PartBuffers, digest: (view: Uint8Array) => Promise<PartDigests>, lookahead = 0, maxReadBytes: number = MAX_READ_BYTES) {
    this.#maxReadBytes = maxReadBytes
    this.#file = file
    this.#plan = plan
    this.#pool = pool
    this.#digest = digest
    this.#lookahead = lookahead
  }

  /** Starts reading parts ahead while buffers are free and fewer than `lookahead` are. */
  pump(): void {
    while (
      !this.#closed &&
      this.#started < this.#plan.length &&
      this.#started - this.#yielded < this.#lookahead &&
      (this.#pool.available ?? 0) > 0
    ) {
      this.#start()
    }
  }

  /** The parts in order; stops (and waits for the reads running) when returned early or on abort. */
  async *parts(signal: AbortSignal): AsyncGenerator<Part> {
    try {
      for (let i = 0; i < this.#plan.length; i++) {
        signal.throwIfAborted()
        // Not read ahead: read it now. A buffer is free: the consumer holds at most
        // `concurrency` parts when it asks for the next one.
        if (this.#started === i) this.#start()
        const part = (await this.#ready.get(i)) as Part
        this.#ready.delete(i)
        this.#yielded = i + 1
        this.pump()
        yield part
      }
    } finally {
      await this.close()
    }
  }

  /** Reads nothing more and waits for the reads and hashes running (their buffers are then free to go). */
  async close(): Promise<void> {
    this.#closed = true
    await Promise.allSettled(this.#ready.values())
    // Parts read ahead and never handed out: dropped, with their buffers (something may keep
    // this reader alive after the upload, see BufferPool.clear).
    this.#ready.clear()
  }

  #start(): void {
    const index = this.#started++
    const part = this.#read(this.#plan[index] as PlannedPart)
    part.catch(() => {}) // awaited by parts() or close(): never an unhandled rejection
    this.#ready.set(index, part)
  }

  async #read(planned: PlannedPart): Promise<Part> {
    const buffer = this.#pool.take().subarray(0, planned.byteLength)
    try {
      let filled = 0
      while (filled < planned.byteLength) {
        // At most 1 GiB per read: a part may be 5 GiB, and Node aborts on a read of 2 GiB (MAX_READ_BYTES).
        const length = Math.min(planned.byteLength - filled, this.#maxReadBytes)
        const { bytesRead } = await this.#file.read(buffer, filled, length, planned.offset + filled)
        if (bytesRead === 0) {
          throw new SourceChangedError(`The file ended at byte ${planned.offset + filled} while reading part ${planned.partNumber}.`)
        }
        filled += bytesRead
      }
      // Payload hash, checksum and MD5 in one pass over the buffer just read.
      const digests = await this.#digest(buffer)
      return { partNumber: planned.partNumber, offset: planned.offset, chunks: [buffer], byteLength: planned.byteLength, ...digests, isLast: planned.isLast }
    } catch (error) {
      this.#pool.release(buffer)
      throw error
    }
  }
}
