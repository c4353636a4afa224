/**
 * The `@example` blocks of core's JSDoc, type-checked (by `tsc -p packages/core/test/types`, part
 * of `pnpm typecheck`): each block below is the example as written above its declaration, with its
 * free variables declared (core compiles without Node types, so the Node functions an example
 * calls are declared here too). An example that stops compiling fails the typecheck.
 */
import {
  adaptivePartSize,
  bufferParts,
  combineCrc,
  createCrc32,
  createCrc32c,
  createCrc64Nvme,
  createSha256,
  DEFAULT_MAX_VIEW_OVERHEAD_BYTES,
  DEFAULT_PART_SIZE_BYTES,
  describeValue,
  digestChunks,
  fixedPartSize,
  MAX_OBJECT_SIZE_BYTES,
  MAX_PART_SIZE_BYTES,
  MAX_PARTS,
  MAX_SINGLE_PUT_BYTES,
  maxObjectSize,
  MIN_PART_SIZE_BYTES,
  PartstreamError,
  partSizeForTotal,
  planParts,
  resolvePartSize,
  toParts,
  type Hasher,
  type InvalidChunkError,
  type Part,
  type PartSizePolicy,
} from '../../src/index.ts'

declare const source: AsyncIterable<Uint8Array>
declare const bytes: Uint8Array
declare const size: number
declare const path: string
declare const part: Part
declare const err: InvalidChunkError
declare const crcOfPart1: Uint8Array
declare const crcOfPart2: Uint8Array
declare const part2: { readonly byteLength: number }
declare const nodeSha256: () => Hasher
declare function send(part: Part): Promise<void>
// node:fs, node:fs/promises, node:crypto, process and @aws-crypto/sha256-js, as the examples use them.
declare function createReadStream(path: string): AsyncIterable<Uint8Array>
declare function stat(path: string): Promise<{ size: number }>
declare function createHash(algorithm: 'sha256'): { update(data: Uint8Array): void; digest(): Uint8Array }
declare const process: { stdin: AsyncIterable<Uint8Array> }
declare class Sha256 implements Hasher {
  update(data: Uint8Array): void
  digest(): Promise<Uint8Array>
}

export async function examples(): Promise<void> {
  // index.ts
  for await (const part of toParts(source, { sizeHint: size })) {
    console.log(part.partNumber, part.byteLength, part.isLast)
  }
  // errors.ts
  {
    const err: unknown = undefined
    if (err instanceof PartstreamError && err.code === 'ERR_PARTSTREAM_TOO_MANY_PARTS') {
      // raise partSize, or give sizeHint
    }
  }
  try {
    for await (const part of toParts(source)) await send(part)
  } catch (err) {
    if (err instanceof PartstreamError) console.error(err.code, err.message)
    throw err
  }
  toParts(source, { partSize: 1024 }) // throws: Expected `partSize` to be an integer from 5 MiB ...
  void err.chunkIndex // 0-based index of the offending chunk
  toParts(source, { partSize: fixedPartSize(5 * 1024 * 1024) }) // more than ~48.8 GiB → this error
  partSizeForTotal(6 * 1024 ** 4) // throws ObjectTooLargeError
  void describeValue(1024) // '`1024` (number)'
  void describeValue('secret') // 'a string of length 6'
  void describeValue(new ArrayBuffer(8)) // 'an instance of ArrayBuffer'
  // limits.ts
  fixedPartSize(MIN_PART_SIZE_BYTES) // the smallest valid fixed policy
  adaptivePartSize({ max: MAX_PART_SIZE_BYTES })
  {
    const capacity = MAX_PARTS * DEFAULT_PART_SIZE_BYTES // ~58.6 GiB with fixed 6 MiB parts
    void capacity
  }
  void (maxObjectSize(adaptivePartSize()) === MAX_OBJECT_SIZE_BYTES) // true: the default schedule reaches it
  fixedPartSize() // same as fixedPartSize(DEFAULT_PART_SIZE_BYTES)
  {
    const single = part.isLast && part.partNumber === 1 && part.byteLength <= MAX_SINGLE_PUT_BYTES
    void single
  }
  toParts(source, { maxViewOverhead: DEFAULT_MAX_VIEW_OVERHEAD_BYTES })
  // types.ts
  {
    const nodeSha256 = (): Hasher => {
      const hash = createHash('sha256')
      return { update: (data) => void hash.update(data), digest: () => hash.digest() }
    }
    void nodeSha256
  }
  toParts(source, { hash: () => new Sha256() }) // @aws-crypto/sha256-js
  for await (const part of toParts(source)) {
    const body = part.chunks // send as is, with content-length: part.byteLength
    void body
    if (part.isLast && part.partNumber === 1) {
      // the whole object: one PutObject
    }
  }
  {
    const policy: PartSizePolicy = {
      description: '8 MiB, then 64 MiB parts',
      maxPartSize: 64 * 1024 * 1024,
      sizeOf: (n) => (n <= 100 ? 8 : 64) * 1024 * 1024,
    }
    void policy
  }
  toParts(source, { sizeHint: size, signal: AbortSignal.timeout(60_000) })
  // part-size.ts
  toParts(source, { partSize: fixedPartSize(8 * 1024 * 1024) }) // same as { partSize: 8 MiB in bytes }
  {
    const { size } = await stat(path)
    toParts(createReadStream(path), { partSize: partSizeForTotal(size) }) // same as { sizeHint: size }
    void partSizeForTotal(100 * 1024 ** 3).sizeOf(1) // 11 MiB: 100 GiB in 9,310 parts
  }
  for await (const part of toParts(process.stdin, { partSize: adaptivePartSize() })) await send(part)
  void resolvePartSize(undefined, 100 * 1024 ** 3).sizeOf(1) // 11 MiB
  void resolvePartSize(8 * 1024 * 1024).description // 'fixed 8 MiB parts'
  void maxObjectSize(fixedPartSize()) // 62914560000 (≈ 58.6 GiB)
  void maxObjectSize(adaptivePartSize()) // 5497558138880 (5 TiB)
  // buffer-parts.ts
  {
    const part: Part = await bufferParts(bytes)[0]!.toPart()
    void part
  }
  bufferParts(bytes, { partSize: 8 * 1024 * 1024, hash: nodeSha256 })
  {
    const parts = bufferParts(bytes)
    await Promise.all(parts.map(async (p) => send(await p.toPart()))) // bound concurrency in real code
  }
  planParts(13 * 1024 * 1024, fixedPartSize()) // 6 MiB, 6 MiB, 1 MiB
  {
    const { sha256, checksum } = await digestChunks([bytes], { hash: createSha256, checksum: createCrc64Nvme })
    void [sha256, checksum]
  }
  // crc.ts
  {
    const crc = createCrc32()
    crc.update(new TextEncoder().encode('123456789'))
    void crc.digest() // cb f4 39 26
  }
  createCrc32c() // "123456789" → e3 06 92 83
  createCrc64Nvme() // "123456789" → ae 8b 14 86 0a 79 98 88
  {
    const whole = combineCrc('CRC64NVME', crcOfPart1, crcOfPart2, part2.byteLength)
    void whole
  }
  // sha256.ts
  {
    const hasher = createSha256()
    hasher.update(new TextEncoder().encode('abc'))
    void hasher.digest() // ba7816bf 8f01cfea 414140de 5dae2223 b00361a3 96177a9c b410ff61 f20015ad
  }
  // to-parts.ts
  for await (const part of toParts(createReadStream(path))) {
    console.log(part.partNumber, part.byteLength, part.isLast)
  }
}
