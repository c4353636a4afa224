/**
 * Reusable part buffers for uploaders that fill their own parts (`uploadFile`, `uploadFd`): at
 * most `max` buffers exist at once, which is what bounds memory to `max × size`. A buffer goes
 * back to the pool once S3 has acknowledged its part (`runUpload`'s `release`), never before: a
 * retried part still owns its bytes.
 *
 * The size may change between parts (an adaptive part-size policy): `take(size)` drops free
 * buffers of another size, and a buffer of another size given back is dropped, so the count still
 * holds. With `shared`, buffers live on `SharedArrayBuffer`s, which hash workers read in place.
 */
export class BufferPool {
  readonly #free: Uint8Array[] = []
  #made = 0
  readonly #max: number
  #size: number
  readonly #shared: boolean
  constructor(max: number, size: number, shared = false) {
    this.#max = max
    this.#size = size
    this.#shared = shared
  }
  /** Buffers `take()` can hand out now. */
  get available(): number {
    return this.#free.length + this.#max - this.#made
  }
  /** A buffer of `size` bytes (default: the pool's size); throws when all `max` are taken. */
  take(size: number = this.#size): Uint8Array {
    if (size !== this.#size) {
      this.#made -= this.#free.length
      this.#free.length = 0
      this.#size = size
    }
    const buffer = this.#free.pop()
    if (buffer !== undefined) return buffer
    if (this.#made >= this.#max) throw new Error('BufferPool exhausted: more parts in flight than buffers')
    this.#made++
    return new Uint8Array(this.#shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size))
  }
  /** Gives back the buffer under `view` (a part's chunk). */
  release(view: Uint8Array | undefined): void {
    if (view === undefined) return
    if (view.buffer.byteLength === this.#size) this.#free.push(new Uint8Array(view.buffer))
    else this.#made--
  }
}
