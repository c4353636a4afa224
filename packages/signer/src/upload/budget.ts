/**
 * The shared budget of a many-file call (`uploadAll`, `uploadDirectory`): one counting semaphore
 * for the sends in flight (`concurrency`) and one for the part buffers held (`concurrency + 1`),
 * handed to every `runUpload` of the call instead of each upload's own limit.
 *
 * - `Slots`: a FIFO counting semaphore. `acquire(signal)` resolves when a slot is free, or
 *   rejects with `signal.reason` (and leaves the queue) when the signal aborts first.
 * - `PartLease`: gates one file's part source on the buffer slots. A slot is taken before each
 *   `next()` (so a part is read only once a buffer is free) and given back when the part is
 *   released (acknowledged or failed), when `next()` ends or throws, or at `close()` for parts
 *   the upload never released (a failure between reading a part and sending it).
 * Invariants (unit-tested in test/budget.test.ts, with deferreds): never more than `size` slots
 * taken; waiters served in order; an aborted waiter takes nothing; every slot a lease took is
 * back once the lease is closed and its pending `next()` settled.
 * @module
 */
import { setMaxListeners } from 'node:events'
import type { Part } from '@partstream/core'
import { Slots } from '../http/slots.ts'

/** The budget of one many-file call. */
export interface UploadBudget {
  /** Sends (UploadPart, PutObject) in flight: `concurrency`. */
  readonly sends: Slots
  /** Part buffers held, read-ahead included: `concurrency + 1`. */
  readonly buffers: Slots
}

export function createBudget(concurrency: number): UploadBudget {
  return { sends: new Slots(concurrency), buffers: new Slots(concurrency + 1) }
}

/**
 * One file's part source gated on `buffers`. `prepaid`: the caller already holds one slot (taken
 * before pulling the entry), used by the first `next()`.
 */
export class PartLease {
  readonly #buffers: Slots
  readonly #signal: AbortSignal
  readonly #holding = new Set<Part>()
  #prepaid: boolean
  #ended = false
  #closed = false
  constructor(buffers: Slots, signal: AbortSignal, prepaid: boolean) {
    this.#buffers = buffers
    this.#signal = signal
    this.#prepaid = prepaid
    // Every file of the call waits on this signal: as many listeners as files open, by design.
    setMaxListeners(0, signal)
  }

  /** `inner`, taking a buffer slot before each read. `return()` is passed through. */
  wrap(inner: AsyncIterator<Part>): AsyncIterator<Part> {
    return {
      next: async () => {
        if (this.#ended || this.#closed) return { done: true, value: undefined }
        if (this.#prepaid) this.#prepaid = false
        else await this.#buffers.acquire(this.#signal)
        let step: IteratorResult<Part>
        try {
          step = await inner.next()
        } catch (error) {
          this.#buffers.release()
          throw error
        }
        if (step.done === true || this.#closed) {
          this.#buffers.release()
          if (step.done === true) this.#ended = true
          return step
        }
        if (step.value.isLast) this.#ended = true
        this.#holding.add(step.value)
        return step
      },
      return: async (value?: unknown) => (await inner.return?.(value)) ?? { done: true, value: undefined },
    }
  }

  /** The part is settled: its buffer slot is free. Idempotent. */
  release(part: Part): void {
    if (this.#holding.delete(part)) this.#buffers.release()
  }

  /** The file is done: every slot still held comes back (a pending `next()` gives its own back). */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    if (this.#prepaid) {
      this.#prepaid = false
      this.#buffers.release()
    }
    for (let held = this.#holding.size; held > 0; held--) this.#buffers.release()
    this.#holding.clear()
  }
}
