/**
 * A FIFO counting semaphore: the send slots of a many-file call (`upload/budget.ts`), and the
 * request gate of a context that owns its connection pool (`send.ts`).
 * @module
 */

/** A FIFO counting semaphore of `size` slots. */
export class Slots {
  readonly size: number
  #free: number
  readonly #waiting: Array<() => void> = []
  constructor(size: number) {
    this.size = size
    this.#free = size
  }

  /** Slots taken now. */
  get inUse(): number {
    return this.size - this.#free
  }

  /** Takes a slot: at once when one is free and nobody waits, else in turn. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(signal.reason)
    if (this.#free > 0 && this.#waiting.length === 0) {
      this.#free--
      return Promise.resolve()
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const at = this.#waiting.indexOf(grant)
        if (at !== -1) this.#waiting.splice(at, 1)
        reject(signal?.reason)
      }
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      this.#waiting.push(grant)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Gives a slot back: to the first waiter, else to the pool. */
  release(): void {
    const next = this.#waiting.shift()
    if (next !== undefined) next()
    else if (this.#free < this.size) this.#free++
    else throw new Error('Slots.release() without a matching acquire()')
  }
}
