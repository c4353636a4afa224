/**
 * Checks of what a caller of the low-level operations passes, before any request: a wrong value
 * would otherwise go to the server (RGW answers 200 to part number 0 and never lists it; a part
 * 10,001 fails every later Complete), or fail inside undici as a network error ("Request body
 * length does not match content-length header").
 * @module
 */
import { describeValue, InvalidArgumentError, isUint8Array, MAX_PARTS } from '@partstream/core'

/** An upload id: a non-empty string, as CreateMultipartUpload returned it. */
export function requireUploadId(uploadId: unknown): asserts uploadId is string {
  if (typeof uploadId !== 'string' || uploadId === '') {
    throw new InvalidArgumentError(`Expected \`uploadId\` to be the id CreateMultipartUpload returned (a non-empty string), got ${describeValue(uploadId)}.`)
  }
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
    // Fewer bytes than said, with a chunk gone empty or resizable: the source's chunk changed
    // under the part (toParts made byteLength from the chunks it was given).
    const changed = typeof b.byteLength === 'number' && total < b.byteLength && (chunks as Uint8Array[]).some((c) => c.byteLength === 0 || (c.buffer as { resizable?: boolean }).resizable === true)
    if (changed) {
      throw new InvalidArgumentError(
        `Expected the part's bytes to stay as they were, but a chunk of the part was detached or resized (its ArrayBuffer transferred or shrunk) after it was yielded: its chunks hold ${total} bytes, not ${String(b.byteLength)}. ` +
          'A source must not reuse, transfer or resize a chunk it has yielded.',
      )
    }
    throw new InvalidArgumentError(`Expected \`byteLength\` to be the length of \`chunks\` (${total} bytes), got ${describeValue(b.byteLength)}.`)
  }
}

/** Complete's list: `{ partNumber, etag }` entries, each part number once. */
export function requireCompletedParts(parts: unknown): void {
  if (!Array.isArray(parts) || parts.length === 0) {
    throw new InvalidArgumentError(`Expected \`parts\` to be a non-empty array of { partNumber, etag } (what uploadPart returned), got ${describeValue(parts)}.`)
  }
  const seen = new Set<number>()
  for (const part of parts as unknown[]) {
    const p = part as { partNumber?: unknown; etag?: unknown } | null
    if (typeof p !== 'object' || p === null || typeof p.etag !== 'string' || p.etag === '') {
      throw new InvalidArgumentError(`Expected each of \`parts\` to be { partNumber, etag } (what uploadPart returned), got ${describeValue(part)}.`)
    }
    requirePartNumber(p.partNumber, 'each `partNumber` in `parts`')
    if (seen.has(p.partNumber)) throw new InvalidArgumentError(`Expected each part once in \`parts\`, got part ${p.partNumber} twice.`)
    seen.add(p.partNumber)
  }
}
