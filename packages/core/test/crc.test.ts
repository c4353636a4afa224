import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, test } from 'node:test'
import { AwsCrc32 } from '@aws-crypto/crc32'
import { AwsCrc32c } from '@aws-crypto/crc32c'
import { Crc64Nvme } from '@aws-sdk/crc64-nvme'
import fc from 'fast-check'
import {
  bufferParts,
  combineCrc,
  createCrc32,
  createCrc32c,
  createCrc64Nvme,
  digestChunks,
  InvalidArgumentError,
  toParts,
  type CrcAlgorithm,
  type Hasher,
  type HashFactory,
} from '../src/index.ts'
import { crcEngine, jsCrcEngine, wasmCrcEngine, type CrcEngine } from '../src/internal/crc.ts'
import { INPUT_BYTES } from '../src/internal/crc-wasm-module.ts'

const MiB = 1024 * 1024
const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const ALGORITHMS: readonly CrcAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME']
const FACTORIES: Readonly<Record<CrcAlgorithm, HashFactory>> = { CRC32: createCrc32, CRC32C: createCrc32c, CRC64NVME: createCrc64Nvme }
/** The AWS SDK's own implementations, the reference our values must equal. */
const REFERENCES: Readonly<Record<CrcAlgorithm, () => { update(d: Uint8Array): void; digest(): Promise<Uint8Array> }>> = {
  CRC32: () => new AwsCrc32(),
  CRC32C: () => new AwsCrc32c(),
  CRC64NVME: () => new Crc64Nvme(),
}

function crcOf(make: HashFactory, ...chunks: Uint8Array[]): Uint8Array {
  const hasher = make()
  for (const chunk of chunks) hasher.update(chunk)
  return hasher.digest() as Uint8Array
}

async function referenceOf(algorithm: CrcAlgorithm, data: Uint8Array): Promise<Uint8Array> {
  const hasher = REFERENCES[algorithm]()
  hasher.update(data)
  return new Uint8Array(await hasher.digest())
}

/** A hasher over one engine, to test both the WebAssembly and the pure-JS engine. */
function engineHasher(engine: CrcEngine, algorithm: CrcAlgorithm): Hasher {
  let r32 = -1
  let r64 = -1n
  return {
    update(data) {
      if (algorithm === 'CRC64NVME') r64 = engine.update64(r64, data)
      else r32 = engine.update32(algorithm, r32, data)
    },
    digest() {
      const out = Buffer.alloc(algorithm === 'CRC64NVME' ? 8 : 4)
      if (algorithm === 'CRC64NVME') out.writeBigUInt64BE(BigInt.asUintN(64, ~r64))
      else out.writeUInt32BE(~r32 >>> 0)
      return new Uint8Array(out)
    },
  }
}

const data = new Uint8Array(3 * INPUT_BYTES + 77).map((_, i) => (i * 2654435761) >>> 24)
const wasm = wasmCrcEngine()
const engines: CrcEngine[] = [jsCrcEngine(), ...(wasm === undefined ? [] : [wasm])]

describe('CRC32, CRC32C, CRC64NVME', () => {
  test('the check values of the CRC catalogue ("123456789") and the empty input', () => {
    assert.equal(hex(crcOf(createCrc32, text('123456789'))), 'cbf43926')
    assert.equal(hex(crcOf(createCrc32c, text('123456789'))), 'e3069283')
    assert.equal(hex(crcOf(createCrc64Nvme, text('123456789'))), 'ae8b14860a799888')
    assert.equal(hex(crcOf(createCrc32)), '00000000')
    assert.equal(hex(crcOf(createCrc32c)), '00000000')
    assert.equal(hex(crcOf(createCrc64Nvme)), '0000000000000000')
    assert.equal(hex(crcOf(createCrc32, new Uint8Array(0), new Uint8Array(0))), '00000000')
  })

  test('the WebAssembly engine loads on this runtime, and is the one used', () => {
    assert.ok(wasm !== undefined, 'WebAssembly engine failed to load')
    assert.equal(crcEngine().kind, 'wasm')
  })

  for (const algorithm of ALGORITHMS) {
    test(`${algorithm}: equal to the AWS SDK's implementation for every length 0–300 and across input windows, on every engine`, async () => {
      for (let length = 0; length <= 300; length++) {
        const slice = data.subarray(0, length)
        const expected = hex(await referenceOf(algorithm, slice))
        for (const engine of engines) assert.equal(hex(crcOf(() => engineHasher(engine, algorithm), slice)), expected, `${engine.kind}, length ${length}`)
      }
      // Longer than the WebAssembly input window (copied in slices), at an odd offset.
      const long = data.subarray(3)
      const expected = hex(await referenceOf(algorithm, long))
      for (const engine of engines) assert.equal(hex(crcOf(() => engineHasher(engine, algorithm), long)), expected, engine.kind)
      assert.equal(hex(crcOf(FACTORIES[algorithm], long)), expected)
    })

    test(`${algorithm}: any chunking gives the digest of the whole; digest() leaves the hasher usable`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat({ max: 600 }), { maxLength: 6 }), (bytes, cuts) => {
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
          const chunks: Uint8Array[] = []
          let from = 0
          for (const p of points) {
            chunks.push(bytes.subarray(from, p))
            from = p
          }
          chunks.push(bytes.subarray(from))
          const hasher = FACTORIES[algorithm]()
          for (const chunk of chunks) {
            hasher.update(chunk)
            assert.ok((hasher.digest() as Uint8Array).length >= 4)
          }
          assert.deepEqual(hasher.digest(), crcOf(FACTORIES[algorithm], bytes))
        }),
      )
    })

    test(`${algorithm}: combine(crc(a), crc(b), len(b)) = crc(a‖b) for random splits`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat(), (bytes, cut) => {
          const at = cut % (bytes.length + 1)
          const a = bytes.subarray(0, at)
          const b = bytes.subarray(at)
          const combined = combineCrc(algorithm, crcOf(FACTORIES[algorithm], a), crcOf(FACTORIES[algorithm], b), b.length)
          assert.deepEqual(combined, crcOf(FACTORIES[algorithm], bytes))
        }),
      )
    })

    test(`${algorithm}: combining part CRCs of a multi-MiB object gives the whole object's CRC`, async () => {
      const object = new Uint8Array(13 * MiB + 5).map((_, i) => (i * 40503) >>> 8)
      const sizes = [5 * MiB, 5 * MiB, 3 * MiB + 5]
      let whole: Uint8Array | undefined
      let offset = 0
      for (const size of sizes) {
        const crc = crcOf(FACTORIES[algorithm], object.subarray(offset, offset + size))
        whole = whole === undefined ? crc : combineCrc(algorithm, whole, crc, size)
        offset += size
      }
      assert.equal(hex(whole as Uint8Array), hex(await referenceOf(algorithm, object)))
    })
  }

  test('combineCrc with an empty second part returns the first CRC', () => {
    const first = crcOf(createCrc64Nvme, text('abc'))
    assert.deepEqual(combineCrc('CRC64NVME', first, crcOf(createCrc64Nvme), 0), first)
  })

  test('combineCrc refuses an unknown algorithm, a digest of the wrong size, a bad length', () => {
    const four = new Uint8Array(4)
    assert.throws(() => combineCrc('CRC16' as CrcAlgorithm, four, four, 1), InvalidArgumentError)
    assert.throws(() => combineCrc('CRC64NVME', four, four, 1), /8-byte CRC digest/)
    assert.throws(() => combineCrc('CRC32', four, four, -1), /secondLength/)
    assert.throws(() => combineCrc('CRC32', four, four, 1.5), /secondLength/)
  })
})

describe('the checksum and md5 hooks', () => {
  const md5: HashFactory = () => {
    const h = createHash('md5')
    return { update: (d) => void h.update(d), digest: () => new Uint8Array(h.digest()) }
  }
  const object = new Uint8Array(13 * MiB).map((_, i) => (i * 7919) >>> 4)
  function* chunked(): Generator<Uint8Array> {
    for (let o = 0; o < object.length; o += 64 * 1024 + 3) yield object.subarray(o, o + 64 * 1024 + 3)
  }

  test('toParts computes each part checksum and MD5 in the same pass as its SHA-256', async () => {
    let parts = 0
    for await (const part of toParts(chunked(), { partSize: 5 * MiB, checksum: createCrc64Nvme, md5 })) {
      const bytes = object.subarray(part.offset, part.offset + part.byteLength)
      assert.deepEqual(part.checksum, crcOf(createCrc64Nvme, bytes))
      assert.equal(hex(part.md5 as Uint8Array), createHash('md5').update(bytes).digest('hex'))
      assert.equal(hex(part.sha256 as Uint8Array), createHash('sha256').update(bytes).digest('hex'))
      parts++
    }
    assert.equal(parts, 3)
  })

  test('toParts without them leaves checksum and md5 undefined; hash: null with a checksum hashes only the checksum', async () => {
    for await (const part of toParts(chunked(), { partSize: 5 * MiB })) {
      assert.equal(part.checksum, undefined)
      assert.equal(part.md5, undefined)
    }
    for await (const part of toParts(chunked(), { partSize: 5 * MiB, hash: null, checksum: createCrc32c })) {
      assert.equal(part.sha256, undefined)
      assert.deepEqual(part.checksum, crcOf(createCrc32c, object.subarray(part.offset, part.offset + part.byteLength)))
    }
  })

  test('an async digest() works for the checksum too', async () => {
    const slow: HashFactory = () => {
      const inner = createCrc32()
      return { update: (d) => inner.update(d), digest: async () => await Promise.resolve(inner.digest()) }
    }
    const parts = toParts([text('123456789')], { checksum: slow })
    const first = await parts.next()
    assert.equal(hex((first.value as { checksum: Uint8Array }).checksum), 'cbf43926')
    assert.equal((await parts.next()).done, true)
  })

  test('bufferParts and digestChunks compute the same digests', async () => {
    const parts = bufferParts(object, { partSize: 5 * MiB, checksum: createCrc32, md5 })
    for (const planned of parts) {
      const part = await planned.toPart()
      const expected = await digestChunks(part.chunks, { checksum: createCrc32, md5, hash: null })
      assert.deepEqual(part.checksum, expected.checksum)
      assert.deepEqual(part.md5, expected.md5)
      assert.equal(expected.sha256, undefined)
    }
    assert.deepEqual(await digestChunks([], { checksum: createCrc64Nvme }), { sha256: undefined, checksum: new Uint8Array(8), md5: undefined })
  })

  test('a checksum or md5 that is not a function or null is refused before anything is read', () => {
    let pulled = 0
    function* source(): Generator<Uint8Array> {
      pulled++
      yield text('x')
    }
    assert.throws(() => toParts(source(), { checksum: 'CRC32' as unknown as HashFactory }), /Expected `checksum` to be a function returning a Hasher/)
    assert.throws(() => toParts(source(), { md5: 5 as unknown as HashFactory }), /Expected `md5`/)
    assert.throws(() => bufferParts(text('x'), { checksum: {} as unknown as HashFactory }), InvalidArgumentError)
    assert.equal(pulled, 0)
  })
})
