/**
 * Type tests: checked by `tsc -p packages/core/test/types`, never run. Each `@ts-expect-error`
 * must fail to compile without it, so a loosened type is caught as surely as a tightened one.
 */
import {
  adaptivePartSize,
  bufferParts,
  createSha256,
  PartstreamError,
  toParts,
  type BufferPart,
  type Hasher,
  type Part,
  type PartSizePolicy,
  type ToPartsOptions,
} from '../../src/index.ts'

declare const asyncSource: AsyncIterable<Uint8Array>
declare const bytes: Uint8Array

// Both source kinds; the result is an async iterable iterator of parts.
const parts: AsyncIterableIterator<Part> = toParts(asyncSource)
toParts([bytes, bytes])
// @ts-expect-error strings must be encoded first
toParts(['text'])
// @ts-expect-error bytes are not a source of chunks: use bufferParts
toParts(bytes)

// A web ReadableStream (fetch's `response.body`) as the DOM lib types it: without
// "dom.asynciterable" (the Next.js and Vite templates) it is not AsyncIterable, and toParts reads
// it through getReader() anyway. This file compiles with lib ["ES2022", "DOM"], so that is the case here.
declare const webStream: ReadableStream<Uint8Array>
toParts(webStream)
declare const response: Response
if (response.body !== null) toParts(response.body)
// @ts-expect-error a stream of strings is not bytes
toParts(new ReadableStream<string>())

// Every option accepts undefined (exactOptionalPropertyTypes callers).
const allUndefined: ToPartsOptions = {
  partSize: undefined,
  sizeHint: undefined,
  hash: undefined,
  signal: undefined,
  maxViewOverhead: undefined,
  startPartNumber: undefined,
  startOffset: undefined,
  closeGraceMs: undefined,
}
toParts(asyncSource, allUndefined)

// A real AbortSignal fits the structural AbortSignalLike; hash may be null; partSize a policy.
toParts(asyncSource, { signal: new AbortController().signal, hash: null, partSize: adaptivePartSize() })
toParts(asyncSource, { signal: AbortSignal.timeout(1000) })
// @ts-expect-error partSize is bytes or a policy, not a string
toParts(asyncSource, { partSize: '6MiB' })

// The @aws-crypto/sha256-js shape (async digest) plugs into `hash`.
declare class AwsCryptoSha256 {
  update(data: Uint8Array): void
  digest(): Promise<Uint8Array>
}
toParts(asyncSource, { hash: () => new AwsCryptoSha256() })
const portable: Hasher = createSha256()
portable.update(bytes)

// Parts are read-only.
for await (const part of parts) {
  const sha: Uint8Array | undefined = part.sha256
  void sha
  // @ts-expect-error readonly
  part.partNumber = 2
  // @ts-expect-error readonly chunks
  part.chunks.push(bytes)
}

// bufferParts: a read-only list, hashed on demand.
const list: readonly BufferPart[] = bufferParts(bytes, { partSize: 8 * 1024 * 1024, hash: null })
// @ts-expect-error read-only list
list.push(list[0]!)
const hashed: Promise<Part> | undefined = list[0]?.toPart()
void hashed

// A custom policy is a plain object.
const custom: PartSizePolicy = { description: 'custom', maxPartSize: 8 * 1024 * 1024, sizeOf: () => 8 * 1024 * 1024 }
toParts(asyncSource, { partSize: custom })

// Error codes narrow to a closed union.
declare const error: unknown
if (error instanceof PartstreamError) {
  const code: 'ERR_PARTSTREAM_INVALID_ARGUMENT' | (string & {}) = error.code
  void code
  // @ts-expect-error not a partstream code
  if (error.code === 'ERR_SOMETHING_ELSE') throw error
}
