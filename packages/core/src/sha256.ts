/**
 * A small portable SHA-256 (FIPS 180-4) in plain TypeScript: core's default part hash, because
 * core may not import `node:crypto` and WebCrypto cannot hash incrementally.
 *
 * Speed matters only where nothing faster exists: signer passes `node:crypto` (~10× faster,
 * measured in DESIGN.md). Still, whole 64-byte blocks are compressed straight from the caller's
 * bytes (no copy into a block buffer), the working state lives in locals for a whole `update`,
 * and nothing is allocated per block.
 * @module
 */

import { InvalidArgumentError } from './errors.ts'
import type { Hasher } from './types.ts'

// Round constants: first 32 bits of the fractional parts of the cube roots of the first 64 primes.
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
])

// Initial hash value: first 32 bits of the fractional parts of the square roots of the first 8 primes.
const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]

/**
 * Compress every 64-byte block of `data[start, end)` into `state`. `end - start` is a multiple of 64.
 * `w` is the caller's 64-word message schedule, reused so no block allocates. Words are loaded
 * through a DataView (big-endian by default): about 10% faster than assembling bytes on V8, and
 * one DataView per call, not per block. `ch` and `maj` use the one-operation-shorter forms
 * `g ^ (e & (f ^ g))` and `(a & b) | (c & (a | b))`.
 */
function compress(state: Int32Array, w: Int32Array, data: Uint8Array, start: number, end: number): void {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  let h0 = state[0]!
  let h1 = state[1]!
  let h2 = state[2]!
  let h3 = state[3]!
  let h4 = state[4]!
  let h5 = state[5]!
  let h6 = state[6]!
  let h7 = state[7]!
  for (let p = start; p < end; p += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getInt32(p + i * 4)
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15]!
      const y = w[i - 2]!
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0
    }
    let a = h0
    let b = h1
    let c = h2
    let d = h3
    let e = h4
    let f = h5
    let g = h6
    let h = h7
    for (let i = 0; i < 64; i++) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))
      const t1 = (h + s1 + (g ^ (e & (f ^ g))) + K[i]! + w[i]!) | 0
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))
      const t2 = (s0 + ((a & b) | (c & (a | b)))) | 0
      h = g
      g = f
      f = e
      e = (d + t1) | 0
      d = c
      c = b
      b = a
      a = (t1 + t2) | 0
    }
    h0 = (h0 + a) | 0
    h1 = (h1 + b) | 0
    h2 = (h2 + c) | 0
    h3 = (h3 + d) | 0
    h4 = (h4 + e) | 0
    h5 = (h5 + f) | 0
    h6 = (h6 + g) | 0
    h7 = (h7 + h) | 0
  }
  state[0] = h0
  state[1] = h1
  state[2] = h2
  state[3] = h3
  state[4] = h4
  state[5] = h5
  state[6] = h6
  state[7] = h7
}

class Sha256 implements Hasher {
  private readonly state = Int32Array.from(IV)
  private readonly w = new Int32Array(64)
  /** Bytes of an incomplete block carried between `update` calls. */
  private readonly block = new Uint8Array(64)
  private blockLength = 0
  /** Total bytes hashed; a number stays exact up to 2^53 bytes, far past the 5 TiB object limit. */
  private length = 0
  private result: Uint8Array | undefined

  update(data: Uint8Array): void {
    if (this.result !== undefined) {
      throw new InvalidArgumentError('This SHA-256 hasher is finished (digest() was called): make a new one with createSha256().')
    }
    const end = data.byteLength
    this.length += end
    let p = 0
    if (this.blockLength > 0) {
      // Top up the carried partial block first; byte copies are fine for at most 63 bytes.
      const block = this.block
      let filled = this.blockLength
      while (filled < 64 && p < end) block[filled++] = data[p++]!
      this.blockLength = filled
      if (filled < 64) return
      compress(this.state, this.w, block, 0, 64)
      this.blockLength = 0
    }
    const whole = end - ((end - p) % 64)
    if (whole > p) {
      compress(this.state, this.w, data, p, whole)
      p = whole
    }
    if (p < end) {
      // Byte copies (under 64 bytes), not `data.subarray()`: see viewOf on subclasses.
      const block = this.block
      this.blockLength = end - p
      for (let i = 0; p < end; ) block[i++] = data[p++]!
    }
  }

  digest(): Uint8Array {
    if (this.result !== undefined) return this.result.slice()
    const block = this.block
    let filled = this.blockLength
    block[filled++] = 0x80
    if (filled > 56) {
      block.fill(0, filled)
      compress(this.state, this.w, block, 0, 64)
      filled = 0
    }
    block.fill(0, filled, 56)
    // Message length in bits as a 64-bit big-endian integer. length * 8 is exact in a double
    // (multiplying by a power of two), and both halves stay below 2^32.
    const bits = this.length * 8
    const high = Math.floor(bits / 0x1_0000_0000)
    const low = bits % 0x1_0000_0000
    block[56] = high >>> 24
    block[57] = high >>> 16
    block[58] = high >>> 8
    block[59] = high
    block[60] = low >>> 24
    block[61] = low >>> 16
    block[62] = low >>> 8
    block[63] = low
    compress(this.state, this.w, block, 0, 64)
    const out = new Uint8Array(32)
    for (let i = 0; i < 8; i++) {
      const word = this.state[i]!
      out[i * 4] = word >>> 24
      out[i * 4 + 1] = word >>> 16
      out[i * 4 + 2] = word >>> 8
      out[i * 4 + 3] = word
    }
    this.result = out
    return out.slice()
  }
}

/**
 * Make an incremental SHA-256 {@link Hasher} in portable TypeScript: no `node:crypto`, no
 * WebCrypto, so it runs anywhere core runs. It is core's default `hash`. It hashes at about
 * 200 MB/s on V8 (about twice `@aws-crypto/sha256-js`); where `node:crypto` exists (Node, Deno,
 * Bun) a wrapper over `createHash('sha256')` is about five times faster, which is what signer uses.
 *
 * `update` accepts any chunking, and `digest()` finishes the hash: later `update` calls throw,
 * later `digest` calls return the same 32 bytes again.
 * @example
 * const hasher = createSha256()
 * hasher.update(new TextEncoder().encode('abc'))
 * hasher.digest() // ba7816bf 8f01cfea 414140de 5dae2223 b00361a3 96177a9c b410ff61 f20015ad
 */
export function createSha256(): Hasher {
  return new Sha256()
}
