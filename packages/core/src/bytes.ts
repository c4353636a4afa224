/**
 * `isUint8Array`: the byte check core and signer share, true across realms.
 * @module
 */

/**
 * `%TypedArray%.prototype[Symbol.toStringTag]` is a getter that returns the element type name for
 * real typed arrays and `undefined` for anything else, and cannot be faked by an own property.
 * It recognizes a `Uint8Array` from another realm (a vm context, an iframe), where `instanceof` fails.
 */
const typedArrayTag = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype) as object, Symbol.toStringTag)
  ?.get as ((this: unknown) => string | undefined) | undefined

/** A `Uint8Array` (a Node `Buffer` is one), from any realm. */
export function isUint8Array(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array || typedArrayTag?.call(value) === 'Uint8Array'
}
