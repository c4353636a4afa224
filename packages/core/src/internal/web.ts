/**
 * The few web-platform types core needs, declared structurally so core compiles with `types: []`
 * and no DOM lib (aws4fetch does the same). Any runtime's `AbortSignal` satisfies this shape.
 */
export interface AbortSignalLike {
  readonly aborted: boolean
  readonly reason: unknown
  throwIfAborted(): void
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void
  removeEventListener(type: 'abort', listener: () => void): void
}

/** The timer functions every runtime has (they are not in the ES lib core compiles with). */
interface Timers {
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export const timers: Timers = globalThis as unknown as Timers

/** The part of the WebAssembly JS API core uses (not in the ES lib); absent in some embeddings. */
export interface WebAssemblyLike {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> }
}

/** `globalThis.WebAssembly`, or `undefined` where the runtime has none (e.g. `node --jitless`). */
export const webAssembly: WebAssemblyLike | undefined = (globalThis as { WebAssembly?: WebAssemblyLike }).WebAssembly
