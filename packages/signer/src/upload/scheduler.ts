/**
 * The part scheduler: pulls items from one iterator and runs `send` on up to `concurrency` of them
 * at once. It knows nothing about S3; `runUpload` gives it parts and an UploadPart call.
 *
 * Invariants (each unit-tested in test/scheduler.test.ts):
 * - never more than `concurrency` sends in flight;
 * - `items.next()` is never called while another `next()` is pending, and only one item is read
 *   ahead of the sends in flight: with `concurrency` sends running, the next `next()` waits until
 *   a slot frees (that read-ahead is the "+ 1" of the memory bound (concurrency + 1) × partSize);
 * - the first failure (a send rejects, or `items.next()` rejects) aborts `controller` with that
 *   error, which cancels the sends in flight (they get `controller.signal`) and interrupts a
 *   pending read of a source that listens to it; nothing new is pulled or started; `schedule`
 *   rejects with that first error once every send in flight has settled;
 * - aborting `controller` from outside stops it the same way, rejecting with the abort reason
 *   (or the error a send rejected with first).
 * The scheduler never closes `items`: its owner does (it may want to close it while a read is
 * still pending, or not at all).
 * @module
 */
import type { Slots } from '../http/slots.ts'

/** Options of {@link schedule}. */
export interface ScheduleOptions<T> {
  /** Most sends in flight at once (≥ 1). */
  readonly concurrency: number
  /** Passed to every send as its signal; aborted with the first failure. */
  readonly controller: AbortController
  /**
   * An item already pulled from `items` (the uploader reads part 1 to choose PutObject), in a box
   * the scheduler empties as it starts it: these options live as long as the schedule, and part 1
   * held here stayed in memory until the last part was sent.
   */
  readonly first?: { value: T | undefined } | undefined
  /**
   * A budget shared with other uploads (`uploadAll`): a slot is taken before each send and given
   * back when it settles, on top of `concurrency`.
   */
  readonly slots?: Slots | undefined
}

/** Sends every item of `items`, at most `concurrency` at once. See the module comment. */
export async function schedule<T>(
  items: AsyncIterator<T>,
  send: (item: T, signal: AbortSignal) => Promise<void>,
  options: ScheduleOptions<T>,
): Promise<void> {
  const { concurrency, controller } = options
  const inFlight = new Set<Promise<void>>()
  let failure: { readonly error: unknown } | undefined
  const fail = (error: unknown): void => {
    if (failure !== undefined) return
    failure = { error }
    controller.abort(error)
  }
  const onAbort = (): void => fail(controller.signal.reason)
  controller.signal.addEventListener('abort', onAbort, { once: true })
  const start = (item: T): void => {
    const task: Promise<void> = send(item, controller.signal)
      .then(undefined, fail)
      .finally(() => {
        options.slots?.release()
        inFlight.delete(task)
      })
    inFlight.add(task)
  }
  try {
    if (controller.signal.aborted) fail(controller.signal.reason)
    const box = options.first
    let next: IteratorResult<T> | undefined = failure !== undefined ? undefined : box?.value !== undefined ? { done: false, value: box.value } : await items.next()
    // No name holds the first item past here (an async function keeps its locals).
    if (box !== undefined) box.value = undefined
    while (next !== undefined && next.done !== true && failure === undefined) {
      if (options.slots !== undefined) {
        await options.slots.acquire(controller.signal)
        if (failure !== undefined) {
          options.slots.release()
          break
        }
      }
      start(next.value)
      // Only the started send refers to the item now: an acknowledged part is garbage at once.
      next = undefined
      // Read one item ahead while the sends run, then wait for a slot. A source that fails
      // meanwhile fails the schedule at once, cancelling the sends in flight.
      const ahead = items.next()
      ahead.then(undefined, fail)
      while (inFlight.size >= concurrency && failure === undefined) await Promise.race(inFlight)
      if (failure !== undefined) break
      next = await ahead
    }
  } catch (error) {
    fail(error)
  } finally {
    await Promise.all(inFlight)
    controller.signal.removeEventListener('abort', onAbort)
  }
  if (failure !== undefined) throw failure.error
}
