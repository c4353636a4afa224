import {
  combineCrc,
  createCrc32,
  createCrc32c,
  createCrc64Nvme,
  describeValue,
  InvalidArgumentError,
  MAX_PARTS,
  type CrcAlgorithm,
  type HashFactory,
  type Hasher,
  type Part,
} from '@partstream/core'
import { IntegrityError } from '../errors.ts'
import { builtinModule, defaultHash, nodeSha1 } from './hash.ts'
import { MAX_HASH_UPDATE_BYTES, updateInPieces } from './hash-pieces.ts'
import { redact } from './redact.ts'

/** The checksums S3 accepts (`x-amz-checksum-*`), by S3's names. */
export type ChecksumAlgorithm = 'CRC64NVME' | 'CRC32C' | 'CRC32' | 'SHA1' | 'SHA256'

/**
 * How S3 makes a multipart object's checksum from its parts: `FULL_OBJECT` is the CRC of the
 * whole object (combined from the part CRCs), `COMPOSITE` the checksum of the concatenated part
 * checksums, suffixed `-<part count>`. A single PutObject's checksum is always `FULL_OBJECT`.
 */
export type ChecksumType = 'FULL_OBJECT' | 'COMPOSITE'

/** An object's checksum, as S3 reports it (`GetObjectAttributes`, `HeadObject` with checksum mode). */
export interface ObjectChecksum {
  readonly algorithm: ChecksumAlgorithm
  readonly type: ChecksumType
  /** Base64 of the big-endian digest; a COMPOSITE value ends in `-<part count>`. */
  readonly value: string
}

export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC64NVME', 'CRC32C', 'CRC32', 'SHA1', 'SHA256']

const CRCS: readonly ChecksumAlgorithm[] = ['CRC64NVME', 'CRC32C', 'CRC32']

/**
 * The checksum option, validated: one of the five names exactly (S3 spells them in upper case).
 * @throws {InvalidArgumentError} for anything else, or SHA1 where the runtime has no node:crypto.
 */
export function validateChecksumAlgorithm(value: unknown, name: string): ChecksumAlgorithm | undefined {
  if (value === undefined) return undefined
  if (!(CHECKSUM_ALGORITHMS as readonly unknown[]).includes(value)) {
    const upper = typeof value === 'string' ? value.toUpperCase() : undefined
    const hint =
      upper === undefined ? ''
      : (CHECKSUM_ALGORITHMS as readonly string[]).includes(upper) ? ` Did you mean '${upper}'?`
      : upper === 'MD5' ? ' MD5 is not an S3 checksum algorithm: it goes as Content-MD5 (`contentMd5: true` for upload, a part made with `md5` for uploadPart and putObject).'
      : ''
    // A short name is shown as given (an algorithm's name, never a secret).
    const got = typeof value === 'string' && value.length <= 32 ? JSON.stringify(value) : describeValue(value)
    throw new InvalidArgumentError(`Expected \`${name}\` to be one of ${CHECKSUM_ALGORITHMS.map((a) => `'${a}'`).join(', ')}, got ${got}.${hint}`)
  }
  const algorithm = value as ChecksumAlgorithm
  if (checksumHash(algorithm) === undefined) {
    throw new InvalidArgumentError(`\`${name}: '${algorithm}'\` needs node:crypto, which this runtime lacks: use 'CRC64NVME' (portable).`)
  }
  return algorithm
}

/** FULL_OBJECT for the CRCs (S3 combines their part CRCs into the object's CRC), COMPOSITE for SHA-1 and SHA-256. */
export function checksumTypeOf(algorithm: ChecksumAlgorithm): ChecksumType {
  return CRCS.includes(algorithm) ? 'FULL_OBJECT' : 'COMPOSITE'
}

/** `x-amz-checksum-crc64nvme`, … */
export function checksumHeader(algorithm: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algorithm.toLowerCase()}`
}

/** `ChecksumCRC64NVME`, …: the element in Complete, ListParts and their answers. */
export function checksumTag(algorithm: ChecksumAlgorithm): string {
  return `Checksum${algorithm}`
}

type ZlibCrc32 = (data: Uint8Array, value?: number) => number
type Zlib = { crc32?: ZlibCrc32 }
let zlibCrc32Factory: HashFactory | undefined | null = null

/**
 * A CRC32 {@link Hasher} over `zlib.crc32`, carrying the running value from call to call. Each
 * call gets at most `maxUpdateBytes` (1 GiB): on Node ≥ 22 `zlib.crc32` takes the length mod 2^32,
 * so a part over 4 GiB in one call got the CRC32 of its first bytes.
 */
export function zlibCrc32Hasher(crc32: ZlibCrc32, maxUpdateBytes: number = MAX_HASH_UPDATE_BYTES): Hasher {
  let value = 0
  const step = (piece: Uint8Array): void => {
    value = crc32(piece, value)
  }
  return {
    update: (data) => updateInPieces(step, data, maxUpdateBytes),
    digest: () => new Uint8Array([value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255]),
  }
}

/**
 * CRC32 by `zlib.crc32` (Node ≥ 20.15 / 22.2, Deno, Bun): native, the fastest CRC32 on each.
 * Looked up on first use, not at import: node:zlib is not otherwise loaded by an upload (~0.25
 * MiB of heap and ~9 ms at start-up on Node 20, measured). The same factory every call.
 */
export function zlibCrc32(): HashFactory | undefined {
  if (zlibCrc32Factory !== null) return zlibCrc32Factory
  const crc32 = builtinModule<Zlib>('node:zlib')?.crc32
  zlibCrc32Factory = typeof crc32 !== 'function' ? undefined : () => zlibCrc32Hasher(crc32)
  return zlibCrc32Factory
}

/**
 * The implementation of each checksum, chosen by measurement (`bench:micro --filter Checksum`,
 * bench/results/checksums-{node,deno,bun}/micro-latest.md: MiB/s of 64 KiB chunks, medians on a
 * shared 2-core VM):
 * - CRC32: node's `zlib.crc32` where present (Node 20: 3642 MiB/s; Deno and Bun: 25,000+), else
 *   core's WebAssembly (1671); @aws-crypto/crc32 (lib-storage's) runs at 96.
 * - CRC32C and CRC64NVME: core's WebAssembly slicing-by-16 (Node 20: 1541 and 1356 MiB/s), ahead
 *   of every maintained pure-JS or WebAssembly package (@aws-crypto/crc32c 46, hash-wasm 1070;
 *   @aws-sdk/crc64-nvme 1119, hash-wasm 534). Only native bindings are faster (@node-rs/crc32's
 *   crc32c 2684), and they would be runtime dependencies with a binary per platform.
 * - SHA1: node:crypto (no portable fallback: validation refuses it without node:crypto).
 * - SHA256: the payload hash (`defaultHash`); with `payload: 'sha256'` the part's SHA-256 is
 *   reused and nothing is hashed twice.
 * `undefined` when the runtime cannot compute it.
 * @example
 * toParts(source, { checksum: checksumHash('CRC32') }) // zlib.crc32 where the runtime has it
 */
export function checksumHash(algorithm: ChecksumAlgorithm): HashFactory | undefined {
  switch (algorithm) {
    case 'CRC32':
      return zlibCrc32() ?? createCrc32
    case 'CRC32C':
      return createCrc32c
    case 'CRC64NVME':
      return createCrc64Nvme
    case 'SHA1':
      return nodeSha1
    case 'SHA256':
      return defaultHash
  }
}

export function toBase64(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}

/** The bytes of a base64 digest; `undefined` when it is not base64. */
export function fromBase64(text: string): Uint8Array | undefined {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0))
  } catch {
    return undefined
  }
}

/**
 * A part's digest under `algorithm`: its `checksum`, or for SHA256 its `sha256` where core was
 * asked only for the payload hash (the same digest, computed once).
 * @throws {InvalidArgumentError} when the part carries neither (it was made without the checksum hook).
 */
export function partChecksum(part: Pick<Part, 'checksum' | 'sha256'>, algorithm: ChecksumAlgorithm): Uint8Array {
  const digest = part.checksum ?? (algorithm === 'SHA256' ? part.sha256 : undefined)
  if (digest === undefined) {
    throw new InvalidArgumentError(
      `The part has no ${algorithm} checksum: make its parts with \`checksum\` (e.g. toParts(source, { checksum: createCrc64Nvme })).`,
    )
  }
  return digest
}

/** One part's checksum (base64) and size, as acknowledged. */
export interface PartChecksum {
  readonly partNumber: number
  readonly size: number
  readonly checksum?: string | undefined
}

/** Bytes of each algorithm's digest: a part checksum of another width is another algorithm's. */
const DIGEST_BYTES: Readonly<Record<ChecksumAlgorithm, number>> = { CRC64NVME: 8, CRC32C: 4, CRC32: 4, SHA1: 20, SHA256: 32 }

/**
 * The object checksum S3 computes for these parts: for FULL_OBJECT the CRC of the whole object,
 * combined from the part CRCs in part order (CRC combination, no pass over the bytes); for
 * COMPOSITE the checksum of the concatenated part digests, then `-<part count>`.
 * @throws {InvalidArgumentError} for what S3 would never hold: no parts (a multipart object has
 *   at least one), a part number listed twice (S3 keeps one part per number, so two would be
 *   combined into a checksum no object has), a part number outside 1–10,000, a size that is not a
 *   byte count, a checksum that is not base64 or not `algorithm`'s width (4 bytes for CRC32 and
 *   CRC32C, 8 for CRC64NVME, 20 for SHA1, 32 for SHA256), or an unknown `algorithm`.
 * @throws {IntegrityError} for a part without a checksum.
 * @example
 * // parts: what uploadPart(ctx, uploadId, part, { checksumAlgorithm: 'CRC64NVME' }) returned
 * const { value } = await objectChecksumOf('CRC64NVME', parts)
 * await completeMultipartUpload(ctx, uploadId, parts, { checksumAlgorithm: 'CRC64NVME', objectChecksum: value })
 */
export async function objectChecksumOf(algorithm: ChecksumAlgorithm, parts: readonly PartChecksum[]): Promise<ObjectChecksum> {
  validateChecksumAlgorithm(algorithm, 'algorithm')
  if (!Array.isArray(parts) || parts.length === 0) {
    const got = Array.isArray(parts) ? 'an empty array' : describeValue(parts)
    throw new InvalidArgumentError(`Expected \`parts\` to hold at least one part, got ${got}. A multipart object has at least one part: give the parts uploadPart acknowledged.`)
  }
  const seen = new Set<number>()
  for (const p of parts) {
    // Typed callers cannot pass these; JavaScript ones can, and would get a TypeError.
    if (typeof p !== 'object' || (p as PartChecksum | null) === null) throw new InvalidArgumentError(`Expected each of \`parts\` to be { partNumber, size, checksum }, got ${describeValue(p)}.`)
    if (typeof p.partNumber !== 'number' || !Number.isInteger(p.partNumber) || p.partNumber < 1 || p.partNumber > MAX_PARTS) {
      throw new InvalidArgumentError(`Expected \`partNumber\` to be an integer from 1 to ${MAX_PARTS}, got ${describeValue(p.partNumber)}.`)
    }
    if (seen.has(p.partNumber)) throw new InvalidArgumentError(`Part ${p.partNumber} is listed twice: each part number names one part. Give each acknowledged part once.`)
    seen.add(p.partNumber)
    if (!Number.isSafeInteger(p.size) || p.size < 0) {
      throw new InvalidArgumentError(`Expected part ${p.partNumber}'s \`size\` to be a byte count (an integer ≥ 0), got ${describeValue(p.size)}.`)
    }
  }
  const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber)
  const digests = sorted.map((p) => {
    if (p.checksum === undefined) throw new IntegrityError(`Part ${p.partNumber} has no ${algorithm} checksum to build the object's from.`)
    const digest = fromBase64(p.checksum)
    if (digest === undefined) throw new InvalidArgumentError(`Part ${p.partNumber}'s ${algorithm} checksum is not base64: \`${redact(p.checksum)}\`.`)
    const width = DIGEST_BYTES[algorithm]
    if (digest.byteLength !== width) {
      throw new InvalidArgumentError(
        `Part ${p.partNumber}'s ${algorithm} checksum is ${digest.byteLength} bytes (\`${redact(p.checksum)}\`), but a ${algorithm} digest is ${width} bytes: is it another algorithm's?`,
      )
    }
    return digest
  })
  const type = checksumTypeOf(algorithm)
  if (type === 'FULL_OBJECT') {
    let whole = digests[0] as Uint8Array
    for (let i = 1; i < digests.length; i++) whole = combineCrc(algorithm as CrcAlgorithm, whole, digests[i] as Uint8Array, (sorted[i] as PartChecksum).size)
    return { algorithm, type, value: toBase64(whole) }
  }
  const hasher = (checksumHash(algorithm) as HashFactory)()
  for (const digest of digests) hasher.update(digest)
  return { algorithm, type, value: `${toBase64(await hasher.digest())}-${digests.length}` }
}

/**
 * A checksum the server reports must be ours: one it computed differently means the bytes it
 * stored are not the bytes we hashed. Absent (a server that ignores checksums, such as Ceph RGW
 * 16) is not a contradiction.
 * @throws {IntegrityError}
 */
export function assertChecksumEchoed(reported: string | undefined, ours: string, algorithm: ChecksumAlgorithm, what: string, uploadId?: string): void {
  if (reported === undefined || reported === '' || reported === ours) return
  throw new IntegrityError(`The server reports ${algorithm} ${redact(reported)} for ${what}, but the bytes sent have ${ours}: the stored bytes differ from the source.`, uploadId)
}
