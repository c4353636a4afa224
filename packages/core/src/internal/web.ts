// The web-platform pieces core uses and the ES lib lacks. `AbortSignalLike` is public, in types.ts.

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
