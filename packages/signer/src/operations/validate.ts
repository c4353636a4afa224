/**
 * Checks of what a caller of the low-level operations passes, before any request: a wrong value
 * would otherwise go to the server (RGW answers 200 to part number 0 and never lists it; a part
 * 10,001 fails every later Complete), or fail inside undici as a network error ("Request body
 * length does not match content-length header").
 * @module
 */
import { describeValue, InvalidArgumentError, isUint8Array, MAX_PARTS } from '@partstream/core'
import { checksumTypeOf, validateChecksumAlgorithm, type ChecksumAlgorithm, type ChecksumType } from '../http/checksum.ts'
import { changedBodyError } from '../http/body-check.ts'
import { requireWellFormed } from '../http/endpoint.ts'
import { unquote } from './object-options.ts'

/** An upload id: a non-empty string, as CreateMultipartUpload returned it. */
export function requireUploadId(uploadId: unknown): asserts uploadId is string {
  if (typeof uploadId !== 'string' || uploadId === '') {
    throw new InvalidArgumentError(`Expected \`uploadId\` to be the id CreateMultipartUpload returned (a non-empty string), got ${describeValue(uploadId)}.`)
  }
  requireWellFormed(uploadId, '`uploadId`')
}

/** A part number S3 takes: an integer from 1 to 10,000. */
export function requirePartNumber(partNumber: unknown, name = '`partNumber`'): asserts partNumber is number {
  if (typeof partNumber !== 'number' || !Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
    throw new InvalidArgumentError(`Expected ${name} to be an integer from 1 to ${MAX_PARTS}, got ${describeValue(partNumber)}.`)
  }
}

/** A body: `chunks` of bytes whose lengths add up to `byteLength` (the content-length sent). */
export function requireBody(body: unknown): void {
  const b = body as { chunks?: unknown; byteLength?: unknown } | null
  const chunks = b?.chunks
  if (typeof b !== 'object' || b === null || !Array.isArray(chunks)) {
    throw new InvalidArgumentError(`Expected a part body { chunks: Uint8Array[], byteLength }, got ${describeValue(body)}.`)
  }
  let total = 0
  for (const chunk of chunks as unknown[]) {
    if (!isUint8Array(chunk)) throw new InvalidArgumentError(`Expected every one of \`chunks\` to be a Uint8Array, got ${describeValue(chunk)}.`)
    total += chunk.byteLength
  }
  if (b.byteLength !== total) {
    const changed = typeof b.byteLength === 'number' ? changedBodyError(chunks as Uint8Array[], b.byteLength) : undefined
    if (changed !== undefined) throw changed
    throw new InvalidArgumentError(`Expected \`byteLength\` to be the length of \`chunks\` (${total} bytes), got ${describeValue(b.byteLength)}.`)
  }
}

/**
 * Complete's list: `{ partNumber, etag, checksum? }` entries, each part number once. An ETag may
 * come quoted (`"<md5>"`, as the AWS SDK and ListParts elsewhere give it) or not (uploadPart's).
 */
export function requireCompletedParts(parts: unknown): void {
  if (!Array.isArray(parts) || parts.length === 0) {
    throw new InvalidArgumentError(`Expected \`parts\` to be a non-empty array of { partNumber, etag } (what uploadPart returned), got ${describeValue(parts)}.`)
  }
  const seen = new Set<number>()
  for (const part of parts as unknown[]) {
    const p = part as { partNumber?: unknown; etag?: unknown; checksum?: unknown } | null
    if (typeof p !== 'object' || p === null || typeof p.etag !== 'string' || unquote(p.etag) === '') {
      throw new InvalidArgumentError(`Expected each of \`parts\` to be { partNumber, etag } (what uploadPart returned), got ${describeValue(part)}.`)
    }
    requirePartNumber(p.partNumber, 'each `partNumber` in `parts`')
    if (seen.has(p.partNumber)) throw new InvalidArgumentError(`Expected each part once in \`parts\`, got part ${p.partNumber} twice.`)
    seen.add(p.partNumber)
    if (p.checksum !== undefined && (typeof p.checksum !== 'string' || p.checksum === '')) {
      throw new InvalidArgumentError(`Expected each \`checksum\` in \`parts\` to be a base64 string (what uploadPart returned with \`checksumAlgorithm\`), got ${describeValue(p.checksum)} for part ${p.partNumber}.`)
    }
  }
}

/**
 * A listing's `prefix` or `startAfter`: a string ('' for none) that could start or be a key, so
 * well-formed Unicode as `validateKey` requires of keys (a lone surrogate has no UTF-8 encoding:
 * it failed as a URIError while the query was encoded).
 */
export function requireKeyText(value: unknown, name: string): asserts value is string | undefined {
  if (value === undefined) return
  if (typeof value !== 'string') throw new InvalidArgumentError(`Expected \`${name}\` to be a string (the start of a key), got ${describeValue(value)}.`)
  requireWellFormed(value, `\`${name}\``)
}

const CHECKSUM_TYPES: readonly ChecksumType[] = ['FULL_OBJECT', 'COMPOSITE']

/**
 * A multipart upload's `checksumAlgorithm` and `checksumType` (CreateMultipartUpload's, and
 * Complete's, which must repeat them), checked before any request: the algorithm as `upload`'s
 * `checksum` is checked (S3's upper-case names), and a type S3 allows for it. CRC64NVME is
 * FULL_OBJECT only, SHA1 and SHA256 COMPOSITE only, CRC32 and CRC32C either; S3 answers 400 to
 * the others. A type without an algorithm would not be sent.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
 * @returns the algorithm, and the type (the algorithm's default when not given); both `undefined` without an algorithm.
 */
export function requireChecksumOptions(options: { readonly checksumAlgorithm?: unknown; readonly checksumType?: unknown }): {
  algorithm: ChecksumAlgorithm | undefined
  type: ChecksumType | undefined
} {
  const algorithm = validateChecksumAlgorithm(options.checksumAlgorithm, 'checksumAlgorithm')
  const type = options.checksumType
  if (type !== undefined && !(CHECKSUM_TYPES as readonly unknown[]).includes(type)) {
    throw new InvalidArgumentError(`Expected \`checksumType\` to be 'FULL_OBJECT' or 'COMPOSITE', got ${typeof type === 'string' ? JSON.stringify(type) : describeValue(type)}.`)
  }
  if (algorithm === undefined) {
    if (type !== undefined) throw new InvalidArgumentError(`\`checksumType\` needs \`checksumAlgorithm\` (the algorithm it combines): set both, or neither.`)
    return { algorithm: undefined, type: undefined }
  }
  const only = algorithm === 'CRC64NVME' ? 'FULL_OBJECT' : algorithm === 'SHA1' || algorithm === 'SHA256' ? 'COMPOSITE' : undefined
  if (type !== undefined && only !== undefined && type !== only) {
    throw new InvalidArgumentError(
      `${algorithm} checksums are ${only} only (S3 refuses ${algorithm} with ${type as string}): use \`checksumType: '${only}'\` (or leave it out)` +
        `${only === 'COMPOSITE' ? ", or a CRC ('CRC64NVME', 'CRC32C', 'CRC32') for a FULL_OBJECT checksum" : ''}.`,
    )
  }
  return { algorithm, type: (type as ChecksumType | undefined) ?? checksumTypeOf(algorithm) }
}
