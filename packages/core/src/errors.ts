/**
 * One error base for every partstream package. Match on `err.code`, never on the class name or
 * message: codes are stable, messages may improve.
 *
 * `instanceof PartstreamError` works across realms and duplicated package copies through a
 * `Symbol.for` brand (the undici #4472 pattern).
 * @module
 */

import { MAX_OBJECT_SIZE_BYTES, MAX_PARTS } from './limits.ts'

const BRAND: symbol = Symbol.for('partstream.error')

/**
 * Every code a partstream error can carry.
 * @example
 * if (err instanceof PartstreamError && err.code === 'ERR_PARTSTREAM_TOO_MANY_PARTS') {
 *   // raise partSize, or give sizeHint
 * }
 */
export type PartstreamErrorCode =
  | 'ERR_PARTSTREAM_INVALID_ARGUMENT'
  | 'ERR_PARTSTREAM_INVALID_CHUNK'
  | 'ERR_PARTSTREAM_TOO_MANY_PARTS'
  | 'ERR_PARTSTREAM_OBJECT_TOO_LARGE'
  | 'ERR_PARTSTREAM_S3'
  | 'ERR_PARTSTREAM_INTEGRITY'
  | 'ERR_PARTSTREAM_UPLOAD_FAILED'
  | 'ERR_PARTSTREAM_SOURCE_CHANGED'
  | 'ERR_PARTSTREAM_SOURCE_READ'
  | 'ERR_PARTSTREAM_TIMEOUT'
  | 'ERR_PARTSTREAM_NETWORK'
  | 'ERR_PARTSTREAM_OBJECT_EXISTS'
  | 'ERR_PARTSTREAM_ABORT_FAILED'
  | 'ERR_PARTSTREAM_CREDENTIALS'
  | 'ERR_PARTSTREAM_HASH_WORKER'

/**
 * Base class of every error thrown by partstream. Aborts are not wrapped: they surface as
 * `signal.reason` unchanged.
 * @example
 * try {
 *   for await (const part of toParts(source)) await send(part)
 * } catch (err) {
 *   if (err instanceof PartstreamError) console.error(err.code, err.message)
 *   throw err
 * }
 */
export class PartstreamError extends Error {
  /** Stable machine-readable code. */
  readonly code: PartstreamErrorCode
  /**
   * The multipart upload this error belongs to, set by the uploader (`@partstream/signer`) on
   * every error it rejects with once the upload exists, so it can be resumed or aborted;
   * `undefined` otherwise.
   */
  uploadId: string | undefined

  constructor(code: PartstreamErrorCode, message: string, options?: { cause?: unknown; uploadId?: string | undefined }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.name = new.target.name
    this.uploadId = options?.uploadId
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== PartstreamError) return Function.prototype[Symbol.hasInstance].call(this, value)
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true
  }
}

// The brand is defined outside the class body: a computed `get [BRAND]()` member cannot be
// declared under isolatedDeclarations. A prototype getter keeps it off instances' own keys.
Object.defineProperty(PartstreamError.prototype, BRAND, { get: () => true, enumerable: false, configurable: false })

/**
 * A bad option or argument: fix the call. Thrown synchronously, before anything is read.
 * @example
 * toParts(source, { partSize: 1024 }) // throws: Expected `partSize` to be an integer from 5 MiB ...
 */
export class InvalidArgumentError extends PartstreamError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_PARTSTREAM_INVALID_ARGUMENT', message, options)
  }
}

/**
 * The source yielded something that is not a usable `Uint8Array` (a `Buffer` is one): another
 * value, a `Uint8Array` whose bytes are gone (its `ArrayBuffer` detached, or the view out of the
 * bounds of a shrunk resizable buffer), or its iterator's `next()` gave no iterator result object.
 * The source is closed (its `return()` is called) before this error is thrown.
 * @example
 * err.chunkIndex // 0-based index of the offending chunk
 */
export class InvalidChunkError extends PartstreamError {
  /** 0-based index of the offending chunk in the source. */
  readonly chunkIndex: number
  /**
   * @param got What the source gave, as `describeValue` renders it.
   * @param detail `expected` replaces "chunk N of the source to be a Uint8Array", `hint` the fix
   *   appended (by default: how to turn strings and ArrayBuffers into chunks).
   */
  constructor(chunkIndex: number, got: string, detail?: { readonly expected?: string | undefined; readonly hint?: string | undefined }) {
    super(
      'ERR_PARTSTREAM_INVALID_CHUNK',
      `Expected ${detail?.expected ?? `chunk ${chunkIndex} of the source to be a Uint8Array`}, got ${got}. ` +
        (detail?.hint ?? 'Encode strings first (new TextEncoder().encode(s)) and wrap ArrayBuffers (new Uint8Array(buf)).'),
    )
    this.chunkIndex = chunkIndex
  }
}

/**
 * The data needs more parts than S3 allows (10,000) under the chosen part-size policy.
 *
 * `toParts` raises it when part 10,000 fills up and more data follows: part 10,000 itself is held
 * back, so the uploader can abort without sending anything that cannot be completed.
 * @example
 * toParts(source, { partSize: fixedPartSize(5 * 1024 * 1024) }) // more than ~48.8 GiB → this error
 */
export class TooManyPartsError extends PartstreamError {
  /** The part number that would have been created (always `MAX_PARTS + 1`). */
  readonly partNumber: number
  /** Bytes that fill parts 1 to `partNumber - 1`; more data follows them. */
  readonly bytesSoFar: number
  /** @param advice how to fix it; by default a stream's (its size unknown). */
  constructor(partNumber: number, bytesSoFar: number, partSizeDescription: string, advice = 'Raise `partSize`, give `sizeHint` with the expected total, or use `partSize: adaptivePartSize()`.') {
    super(
      'ERR_PARTSTREAM_TOO_MANY_PARTS',
      `The data needs more than ${partNumber - 1} parts (S3 allows ${MAX_PARTS}) at ${partSizeDescription}: ` +
        `${bytesSoFar} bytes fill parts 1 to ${partNumber - 1} and more follows. Nothing of part ${partNumber} was produced. ${advice}`,
    )
    this.partNumber = partNumber
    this.bytesSoFar = bytesSoFar
  }
}

/**
 * The object is larger than S3 allows (`MAX_OBJECT_SIZE_BYTES`, 5 TiB): from a size hint at the
 * call, or from a stream as soon as it passes the limit (nothing past it is produced).
 * @example
 * partSizeForTotal(6 * 1024 ** 4) // throws ObjectTooLargeError
 */
export class ObjectTooLargeError extends PartstreamError {
  /** The object size, or with `atLeast` a lower bound of it (a stream is not read past the limit). */
  readonly byteLength: number
  /** The limit that was exceeded, in bytes. */
  readonly limit: number
  constructor(byteLength: number, options?: { readonly atLeast?: boolean | undefined }) {
    const atLeast = options?.atLeast === true
    super(
      'ERR_PARTSTREAM_OBJECT_TOO_LARGE',
      `The ${atLeast ? 'source holds at least' : 'object is'} ${byteLength} bytes, over the S3 object size limit ` +
        `of 5 TiB (${MAX_OBJECT_SIZE_BYTES} bytes).${atLeast ? ' Nothing past the limit was produced.' : ''} ` +
        'Split the data into several objects.',
    )
    this.byteLength = byteLength
    this.limit = MAX_OBJECT_SIZE_BYTES
  }
}

/**
 * Render a value for an error message without leaking large or secret content: strings by
 * length only, objects by constructor name.
 * @example
 * describeValue(1024) // '`1024` (number)'
 * describeValue('secret') // 'a string of length 6'
 * describeValue(new ArrayBuffer(8)) // 'an instance of ArrayBuffer'
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (typeof value === 'string') return `a string of length ${value.length}`
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `\`${String(value)}\` (${typeof value})`
  }
  if (typeof value === 'function') return 'a function'
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name
  return typeof name === 'string' && name !== '' ? `an instance of ${name}` : typeof value
}
