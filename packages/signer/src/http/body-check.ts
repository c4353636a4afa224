import { InvalidArgumentError } from '@partstream/core'

/**
 * The error for a part body whose chunks no longer hold `byteLength` bytes because a chunk
 * changed under it after it was yielded: fewer bytes with a chunk gone empty (its ArrayBuffer
 * detached, or a shrunk buffer leaving it out of bounds), more or fewer with a chunk of a
 * resizable ArrayBuffer or growable SharedArrayBuffer (a length-tracking view follows its
 * buffer's length). `undefined` when they still add up, or when the difference has another cause.
 *
 * Checked before the first attempt (`requireBody`) and again before each retry (`sendS3`): a
 * detach while a request is in flight failed it as a network error, then the retry sent the
 * emptied chunks under the old content-length and signature, and came back as a 403
 * SignatureDoesNotMatch "Check the credentials" (Deno, Bun) or a content-length mismatch (Node).
 */
export function changedBodyError(chunks: readonly Uint8Array[], byteLength: number): InvalidArgumentError | undefined {
  let total = 0
  for (const chunk of chunks) total += chunk.byteLength
  if (total === byteLength) return undefined
  const changed = chunks.some(
    (c) => (total < byteLength && c.byteLength === 0) || (c.buffer as { resizable?: unknown }).resizable === true || (c.buffer as { growable?: unknown }).growable === true,
  )
  if (!changed) return undefined
  return new InvalidArgumentError(
    `Expected the part's bytes to stay as they were, but a chunk of the part was detached or resized (its ArrayBuffer transferred, shrunk or grown) after it was yielded: its chunks hold ${total} bytes, not ${byteLength}. ` +
      'A source must not reuse, transfer or resize a chunk it has yielded.',
  )
}
