import { randomFillSync } from 'node:crypto'
import { rmSync } from 'node:fs'
import { open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MiB } from './units.ts'

/**
 * Fills `buffer` with pseudo-random bytes, fast: one random 64 KiB block, then doubling copies.
 * Touches every page, so the memory is resident before the baseline RSS is read.
 */
export function fillPattern(buffer: Uint8Array): Uint8Array {
  const seed = Math.min(buffer.byteLength, 64 * 1024)
  randomFillSync(buffer, 0, seed)
  for (let filled = seed; filled < buffer.byteLength; filled *= 2) {
    buffer.copyWithin(filled, 0, Math.min(filled, buffer.byteLength - filled))
  }
  return buffer
}

/**
 * Source (a): `chunkBytes` views cycling through one preallocated `pool`: no allocation per
 * chunk, the memory-bandwidth best case. The pool is allocated (and resident) before the
 * baseline, so the views retain nothing new.
 */
export async function* viewChunks(pool: Uint8Array, totalBytes: number, chunkBytes: number): AsyncGenerator<Uint8Array, void, undefined> {
  let sent = 0
  let offset = 0
  while (sent < totalBytes) {
    const n = Math.min(chunkBytes, totalBytes - sent)
    if (offset + n > pool.byteLength) offset = 0
    yield pool.subarray(offset, offset + n)
    offset += n
    sent += n
  }
}

/**
 * Source (b): a fresh `Buffer.allocUnsafe` per chunk (what a parser or a socket hands over), with
 * one byte written per 4 KiB page so none of it is a lazily mapped zero page.
 */
export async function* freshChunks(totalBytes: number, chunkBytes: number): AsyncGenerator<Uint8Array, void, undefined> {
  let sent = 0
  let i = 0
  while (sent < totalBytes) {
    const n = Math.min(chunkBytes, totalBytes - sent)
    const chunk = Buffer.allocUnsafe(n)
    for (let o = 0; o < n; o += 4096) chunk[o] = (i + o) & 0xff
    yield chunk
    sent += n
    i++
  }
}

/** Writes a file of `sizeBytes` pattern bytes in the temp directory and returns its path. */
export async function makeFile(sizeBytes: number, name = `partstream-bench-${process.pid}.bin`): Promise<string> {
  const path = join(tmpdir(), name)
  const block = fillPattern(new Uint8Array(8 * MiB))
  const file = await open(path, 'w')
  try {
    for (let written = 0; written < sizeBytes; ) {
      const n = Math.min(block.byteLength, sizeBytes - written)
      await file.write(block, 0, n, written)
      written += n
    }
  } finally {
    await file.close()
  }
  return path
}

export async function removeFile(path: string | undefined): Promise<void> {
  if (path !== undefined) await rm(path, { force: true })
}

/** For signal handlers, which cannot wait for a promise before the process exits. */
export function removeFileSync(path: string | undefined): void {
  if (path !== undefined) rmSync(path, { force: true })
}
