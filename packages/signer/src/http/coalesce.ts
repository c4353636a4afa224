/**
 * Chunks below this size are gathered into one write. undici writes each chunk of an iterable
 * body with its own `socket.write`; 200,000 ten-byte chunks (a line-per-chunk generator) cost
 * ~5 s of syscalls for 2 MB. Gathering copies only small chunks, ≤ 64 KiB at a time, into a
 * fresh block per write (the socket may still hold the previous one); large chunks pass through
 * untouched, so a part of 64 KiB views is sent with zero copies.
 */
export const SMALL_CHUNK_BYTES: number = 16 * 1024
export const GATHER_BYTES: number = 64 * 1024

/** `true` when `chunks` has runs of small chunks worth gathering. */
export function worthGathering(chunks: readonly Uint8Array[]): boolean {
  let small = 0
  for (const chunk of chunks) if (chunk.byteLength < SMALL_CHUNK_BYTES && ++small > 1) return true
  return false
}

/** The same bytes, with runs of small chunks gathered into ≤ 64 KiB blocks. */
export function* gatherSmallChunks(chunks: readonly Uint8Array[]): Generator<Uint8Array> {
  let block: Uint8Array | undefined
  let filled = 0
  for (const chunk of chunks) {
    if (chunk.byteLength >= SMALL_CHUNK_BYTES) {
      if (filled > 0) {
        yield (block as Uint8Array).subarray(0, filled)
        block = undefined
        filled = 0
      }
      yield chunk
      continue
    }
    if (block !== undefined && filled + chunk.byteLength > GATHER_BYTES) {
      yield block.subarray(0, filled)
      block = undefined
      filled = 0
    }
    block ??= new Uint8Array(GATHER_BYTES)
    block.set(chunk, filled)
    filled += chunk.byteLength
  }
  if (filled > 0) yield (block as Uint8Array).subarray(0, filled)
}

/**
 * The same bytes with each run of adjacent views (one buffer, each starting where the previous
 * ended) joined into one view of at most `max` bytes: no copy, fewer writes. A source that yields
 * consecutive slices of one buffer (a file read into a big buffer, `upload(Uint8Array)`, a
 * generator of `subarray`s) sends a 6 MiB part of 64 KiB views as six 1 MiB writes, not 96.
 */
export function* joinAdjacentViews(chunks: Iterable<Uint8Array>, max: number): Generator<Uint8Array> {
  // The run is its first chunk and its length; one view is made per run, when it is yielded.
  let first: Uint8Array | undefined
  let length = 0
  const run = (head: Uint8Array): Uint8Array => (length === head.byteLength ? head : new Uint8Array(head.buffer, head.byteOffset, length))
  for (const chunk of chunks) {
    if (first !== undefined && chunk.buffer === first.buffer && chunk.byteOffset === first.byteOffset + length && length + chunk.byteLength <= max) {
      length += chunk.byteLength
      continue
    }
    if (first !== undefined) yield run(first)
    first = chunk
    length = chunk.byteLength
  }
  if (first !== undefined) yield run(first)
}
