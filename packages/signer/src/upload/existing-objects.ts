/**
 * Where `skipExisting` learns what S3 holds at a key, within the call's budget of sends.
 *
 * - `HeadLookup`: one HeadObject per file (under a send slot). Memory: nothing kept.
 * - `ListedObjects`: one paginated ListObjectsV2 of the call's prefix, shared by every file,
 *   read lazily: a lookup of `key` fetches pages (one at a time, each under a send slot, never two
 *   at once) only until the listing has passed `key` in S3's order (UTF-8 binary, `compareKeys`),
 *   then answers from what was listed. Listed objects wait in a Map (key → size, ETag) until their
 *   key is looked up, then leave it. When the keys are looked up in S3's order (uploadDirectory
 *   walks in that order), the listing runs just ahead of the walk and the Map holds about a page,
 *   plus the objects under the prefix that no file matches. In any other order, the first lookup
 *   of a large key lists everything before it: up to the whole prefix is held, about 150 bytes
 *   plus twice the key length per object (measured: see the README's *Many files*).
 * @module
 */
import { S3ResponseError } from '../errors.ts'
import type { S3Context } from '../http/context.ts'
import { headObject } from '../operations/head-object.ts'
import { LIST_MAX_KEYS, listObjectsV2 } from '../operations/list-objects-v2.ts'
import type { Slots } from '../http/slots.ts'
import { compareKeys } from './key-order.ts'
import type { RemoteObject } from './skip-existing.ts'

/** Finds the object S3 holds at a key (`undefined`: none). */
export interface ExistingObjects {
  find(key: string, signal: AbortSignal): Promise<RemoteObject | undefined>
}

export class HeadLookup implements ExistingObjects {
  readonly #ctx: S3Context
  readonly #sends: Slots
  constructor(ctx: S3Context, sends: Slots) {
    this.#ctx = ctx
    this.#sends = sends
  }

  async find(key: string, signal: AbortSignal): Promise<RemoteObject | undefined> {
    await this.#sends.acquire(signal)
    try {
      return await headObject(this.#ctx, { key, signal })
    } catch (error) {
      if (error instanceof S3ResponseError && error.statusCode === 404) return undefined
      throw error
    } finally {
      this.#sends.release()
    }
  }
}

export class ListedObjects implements ExistingObjects {
  readonly #ctx: S3Context
  readonly #prefix: string
  readonly #sends: Slots
  readonly #maxKeys: number
  /** Listed, not yet looked up. */
  readonly #waiting = new Map<string, RemoteObject>()
  /** The last key listed so far. */
  #last: string | undefined
  #token: string | undefined
  #done = false
  #page: Promise<void> | undefined
  /** A page that failed: every later lookup fails with it (no page is asked for twice). */
  #failed: { readonly error: unknown } | undefined
  /** Pages fetched (for tests and the README's figures). */
  pages = 0

  constructor(ctx: S3Context, prefix: string, sends: Slots, maxKeys: number = LIST_MAX_KEYS) {
    this.#ctx = ctx
    this.#prefix = prefix
    this.#sends = sends
    this.#maxKeys = maxKeys
  }

  /** Objects listed and not looked up yet (the memory held). */
  get held(): number {
    return this.#waiting.size
  }

  async find(key: string, signal: AbortSignal): Promise<RemoteObject | undefined> {
    while (!this.#done && (this.#last === undefined || compareKeys(this.#last, key) < 0)) {
      if (this.#failed !== undefined) throw this.#failed.error
      this.#page ??= this.#nextPage(signal).finally(() => {
        this.#page = undefined
      })
      await this.#page
    }
    const found = this.#waiting.get(key)
    this.#waiting.delete(key)
    return found
  }

  async #nextPage(signal: AbortSignal): Promise<void> {
    await this.#sends.acquire(signal)
    try {
      const page = await listObjectsV2(this.#ctx, { prefix: this.#prefix, continuationToken: this.#token, maxKeys: this.#maxKeys, signal })
      this.pages++
      for (const o of page.objects) this.#waiting.set(o.key, { size: o.size, etag: o.etag })
      const last = page.objects.at(-1)
      if (last !== undefined) this.#last = last.key
      this.#token = page.nextContinuationToken
      if (this.#token === undefined) this.#done = true
    } catch (error) {
      if (!signal.aborted) this.#failed = { error }
      throw error
    } finally {
      this.#sends.release()
    }
  }
}
