/**
 * Views whose length can change, or whose bytes are gone, while they still pass `isUint8Array`.
 * A detached `ArrayBuffer` (transferred: `postMessage(chunk, [chunk.buffer])`, `structuredClone`
 * with `transfer`, `buffer.transfer()`) reads as 0 bytes, and so does a view past the end of a
 * resizable buffer that shrank: both would pass for empty chunks and be dropped without a word.
 */

const at = Uint8Array.prototype.at

/**
 * `bytes[start, start + length)` as a plain `Uint8Array` view of the same memory, no copy. Not
 * `bytes.subarray()`, which builds the view through the chunk's own constructor (Symbol.species):
 * a `Uint8Array` subclass whose constructor takes other arguments (a length, a label) gave views
 * of its whole buffer, so wrong bytes were hashed and sent.
 */
export function viewOf(bytes: Uint8Array, start: number, length: number): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset + start, length)
}

/**
 * Why a view that reads as empty has no bytes: its buffer was detached, or it is out of the bounds
 * of a shrunk resizable buffer; `undefined` when it is merely empty. Only for views of byteLength 0
 * (a rare path: it may throw and catch). `%TypedArray%.prototype.at` validates its view first and
 * throws a TypeError for a detached buffer or an out-of-bounds view (ValidateTypedArray), where the
 * getters just read 0: the same on V8, JavaScriptCore (Bun) and Deno, Node 20 included, which has
 * no `ArrayBuffer.prototype.detached`.
 */
export function goneBytes(view: Uint8Array): 'detached' | 'out of bounds' | undefined {
  try {
    at.call(view, 0)
    return undefined
  } catch {
    return isDetached(view.buffer) ? 'detached' : 'out of bounds'
  }
}

function isDetached(buffer: ArrayBufferLike): boolean {
  const detached = (buffer as { readonly detached?: unknown }).detached
  if (typeof detached === 'boolean') return detached
  // Without `detached` (Node 20): a view of a detached buffer cannot be made, even an empty one.
  try {
    new Uint8Array(buffer, 0, 0)
    return false
  } catch {
    return true
  }
}

/**
 * Whether a view's buffer can change length: a resizable `ArrayBuffer` or a growable
 * `SharedArrayBuffer`. A length-tracking view of one (`new Uint8Array(rab)`) grows and shrinks
 * with it; a fixed-length view of it (`new Uint8Array(rab, offset, length)`) keeps its length, or
 * reads as 0 bytes once out of bounds.
 */
export function isResizable(buffer: ArrayBufferLike): boolean {
  // Per kept chunk: an ArrayBuffer answers with `resizable` alone; only a SharedArrayBuffer (no
  // `resizable`) is asked for `growable`.
  const resizable = (buffer as { readonly resizable?: unknown }).resizable
  return resizable === true || (resizable === undefined && (buffer as { readonly growable?: unknown }).growable === true)
}
