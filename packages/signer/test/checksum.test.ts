// The checksum helpers without a server: the implementation chosen per algorithm equals the AWS
// SDK's, object checksums (FULL_OBJECT combined from part CRCs, COMPOSITE from part digests)
// equal what S3 computes from the bytes, and the option is validated with a hint.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, test } from 'node:test'
import { AwsCrc32 } from '@aws-crypto/crc32'
import { AwsCrc32c } from '@aws-crypto/crc32c'
import { Crc64Nvme } from '@aws-sdk/crc64-nvme'
import { createCrc32, InvalidArgumentError } from '@partstream/core'
import fc from 'fast-check'
import { IntegrityError, checksumHash, objectChecksumOf, type ChecksumAlgorithm, type HashFactory, type PartChecksum } from '../src/index.ts'
import {
  assertChecksumEchoed,
  checksumHeader,
  checksumTag,
  checksumTypeOf,
  fromBase64,
  partChecksum,
  toBase64,
  validateChecksumAlgorithm,
  zlibCrc32,
  zlibCrc32Hasher,
} from '../src/http/checksum.ts'
import { nodeMd5, nodeSha1, nodeSha256 } from '../src/http/hash.ts'
import { MAX_HASH_UPDATE_BYTES, updateInPieces } from '../src/http/hash-pieces.ts'
import zlib from 'node:zlib'

const ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC64NVME', 'CRC32C', 'CRC32', 'SHA1', 'SHA256']
const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64')

async function reference(algorithm: ChecksumAlgorithm, bytes: Uint8Array): Promise<Uint8Array> {
  if (algorithm === 'SHA1') return createHash('sha1').update(bytes).digest()
  if (algorithm === 'SHA256') return createHash('sha256').update(bytes).digest()
  const hasher = algorithm === 'CRC32' ? new AwsCrc32() : algorithm === 'CRC32C' ? new AwsCrc32c() : new Crc64Nvme()
  hasher.update(bytes)
  return await hasher.digest()
}

async function digestOf(make: HashFactory, ...chunks: Uint8Array[]): Promise<Uint8Array> {
  const hasher = make()
  for (const chunk of chunks) hasher.update(chunk)
  return await hasher.digest()
}

describe('checksum implementations', () => {
  test('each algorithm, as signer computes it, equals the AWS SDK / node:crypto for random chunked input', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), fc.nat({ max: 3000 }), async (bytes, cut) => {
        const at = cut % (bytes.length + 1)
        for (const algorithm of ALGORITHMS) {
          const make = checksumHash(algorithm) as HashFactory
          assert.equal(b64(await digestOf(make, bytes.subarray(0, at), bytes.subarray(at))), b64(await reference(algorithm, bytes)), algorithm)
        }
      }),
      { numRuns: 50 },
    )
  })

  test("CRC32 uses node's zlib.crc32 where the runtime has it, with core's as the fallback; both agree", async () => {
    const crc32 = zlibCrc32()
    assert.ok(crc32 !== undefined, 'zlib.crc32 missing: Node ≥ 20.15, Deno and Bun all have it')
    assert.equal(checksumHash('CRC32'), crc32)
    assert.equal(zlibCrc32(), crc32, 'one factory, looked up once')
    const data = new Uint8Array(300_001).map((_, i) => (i * 131) >>> 3)
    assert.deepEqual(await digestOf(crc32, data.subarray(0, 7), data.subarray(7)), await digestOf(createCrc32, data))
    assert.equal(b64(await digestOf(crc32)), 'AAAAAA==')
  })

  test('hashes get at most MAX_HASH_UPDATE_BYTES (1 GiB) per update(): node:crypto refuses 2^31 bytes, zlib.crc32 counts mod 2^32 (Node ≥ 22)', () => {
    assert.equal(MAX_HASH_UPDATE_BYTES, 1024 ** 3)
  })

  test('updateInPieces: views of at most the limit, in order; node:crypto hashes and every checksum give the digest of one update()', async () => {
    const makers: ReadonlyArray<[string, HashFactory]> = [
      ['node:crypto SHA-256', nodeSha256 as HashFactory],
      ['node:crypto SHA-1', nodeSha1 as HashFactory],
      ['node:crypto MD5', nodeMd5 as HashFactory],
      ...ALGORITHMS.map((algorithm): [string, HashFactory] => [algorithm, checksumHash(algorithm) as HashFactory]),
    ]
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), fc.integer({ min: 1, max: 300 }), async (bytes, max) => {
        for (const [name, make] of makers) {
          const hasher = make()
          const pieces: Uint8Array[] = []
          updateInPieces(
            (piece) => {
              pieces.push(piece)
              hasher.update(piece)
            },
            bytes,
            max,
          )
          assert.ok(pieces.every((piece) => piece.byteLength <= max && piece.buffer === bytes.buffer), `${name}: views of at most ${max} bytes, got ${pieces.map((p) => p.byteLength).join(', ')}`)
          assert.deepEqual(Buffer.concat(pieces), Buffer.from(bytes))
          assert.equal(b64(await hasher.digest()), b64(await digestOf(make, bytes)), name)
        }
      }),
      { numRuns: 50 },
    )
  })

  test('zlib.crc32 is given at most the limit per call, the running value carried: the CRC32 of one call', async () => {
    const crc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32
    assert.ok(crc32 !== undefined, 'zlib.crc32 missing: Node ≥ 20.15, Deno and Bun all have it')
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 700 }), { maxLength: 4 }), fc.integer({ min: 1, max: 200 }), async (chunks, max) => {
        const calls: number[] = []
        const hasher = zlibCrc32Hasher((data, value) => {
          calls.push(data.byteLength)
          return crc32(data, value)
        }, max)
        for (const chunk of chunks) hasher.update(chunk)
        assert.ok(calls.every((n) => n <= max), `zlib.crc32 called on ${calls.join(', ')} bytes, over ${max}`)
        assert.equal(b64(await hasher.digest()), b64(await digestOf(createCrc32, ...chunks)))
      }),
      { numRuns: 100 },
    )
  })

  test('names, headers and types', () => {
    assert.equal(checksumHeader('CRC64NVME'), 'x-amz-checksum-crc64nvme')
    assert.equal(checksumTag('SHA256'), 'ChecksumSHA256')
    assert.deepEqual(ALGORITHMS.map(checksumTypeOf), ['FULL_OBJECT', 'FULL_OBJECT', 'FULL_OBJECT', 'COMPOSITE', 'COMPOSITE'])
    assert.equal(toBase64(new Uint8Array([0xae, 0x8b, 0x14, 0x86, 0x0a, 0x79, 0x98, 0x88])), 'rosUhgp5mIg=')
    assert.deepEqual(fromBase64('rosUhgp5mIg='), new Uint8Array([0xae, 0x8b, 0x14, 0x86, 0x0a, 0x79, 0x98, 0x88]))
    assert.equal(fromBase64('not base64!'), undefined)
  })

  test('validation: the five names exactly, with a hint for the wrong case', () => {
    for (const algorithm of ALGORITHMS) assert.equal(validateChecksumAlgorithm(algorithm, 'checksum'), algorithm)
    assert.equal(validateChecksumAlgorithm(undefined, 'checksum'), undefined)
    assert.throws(() => validateChecksumAlgorithm('sha256', 'checksum'), /got "sha256"\. Did you mean 'SHA256'\?/)
    // MD5 is no x-amz-checksum algorithm: the message says where it goes instead.
    assert.throws(() => validateChecksumAlgorithm('MD5', 'checksum'), (e) => e instanceof InvalidArgumentError && !/Did you mean/.test(e.message) && /MD5 is not an S3 checksum algorithm: it goes as Content-MD5/.test(e.message))
    assert.throws(() => validateChecksumAlgorithm(32, 'checksum'), InvalidArgumentError)
  })

  test("partChecksum: the part's checksum, or its SHA-256 for SHA256; none is an InvalidArgumentError", () => {
    const sha256 = new Uint8Array(32).fill(1)
    const checksum = new Uint8Array(8).fill(2)
    assert.equal(partChecksum({ sha256, checksum }, 'CRC64NVME'), checksum)
    assert.equal(partChecksum({ sha256, checksum: undefined }, 'SHA256'), sha256)
    assert.throws(() => partChecksum({ sha256, checksum: undefined }, 'CRC32'), /has no CRC32 checksum/)
  })

  test('an echoed checksum must be ours; none (a server that ignores checksums) is fine', () => {
    assertChecksumEchoed(undefined, 'abc=', 'CRC32', 'part 1')
    assertChecksumEchoed('abc=', 'abc=', 'CRC32', 'part 1')
    assert.throws(() => assertChecksumEchoed('xyz=', 'abc=', 'CRC32', 'part 1', 'u1'), (e) => e instanceof IntegrityError && e.uploadId === 'u1' && /CRC32 xyz= for part 1/.test(e.message))
    // A server echoing a credential in the header it answers with: redacted like any server text.
    const token = 'IQoJb3JpZ2luX2VjEPARTSTREAMTESTTOKEN' + 'A'.repeat(60)
    assert.throws(() => assertChecksumEchoed(token, 'abc=', 'CRC32', 'part 1'), (e) => e instanceof IntegrityError && !e.message.includes(token) && /CRC32 \[redacted\] for part 1/.test(e.message))
  })
})

describe('objectChecksumOf: what S3 reports for a multipart object', () => {
  for (const algorithm of ALGORITHMS) {
    test(`${algorithm}: from random part sizes, equal to the checksum S3 computes from the bytes`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 1, maxLength: 500 }), { minLength: 1, maxLength: 6 }), async (parts) => {
          const make = checksumHash(algorithm) as HashFactory
          const acked = await Promise.all(parts.map(async (p, i) => ({ partNumber: i + 1, size: p.length, checksum: toBase64(await digestOf(make, p)) })))
          // Any order: S3 sorts by part number.
          const result = await objectChecksumOf(algorithm, [...acked].reverse())
          if (algorithm.startsWith('CRC')) {
            assert.deepEqual(result, { algorithm, type: 'FULL_OBJECT', value: b64(await reference(algorithm, Buffer.concat(parts))) })
          } else {
            const digests = await Promise.all(parts.map((p) => reference(algorithm, p)))
            assert.deepEqual(result, { algorithm, type: 'COMPOSITE', value: `${b64(await reference(algorithm, Buffer.concat(digests)))}-${parts.length}` })
          }
        }),
        { numRuns: 25 },
      )
    })
  }

  test('a part without a checksum is an IntegrityError', async () => {
    await assert.rejects(objectChecksumOf('CRC32', [{ partNumber: 1, size: 1 }]), (e) => e instanceof IntegrityError && /Part 1 has no CRC32 checksum/.test(e.message))
  })

  const refused = (pattern: RegExp) => (e: unknown) => e instanceof InvalidArgumentError && e.code === 'ERR_PARTSTREAM_INVALID_ARGUMENT' && pattern.test(e.message)

  for (const algorithm of ALGORITHMS) {
    test(`${algorithm}: no parts is an InvalidArgumentError (a multipart object has at least one part), not a TypeError or a "-0" checksum`, async () => {
      await assert.rejects(objectChecksumOf(algorithm, []), refused(/^Expected `parts` to hold at least one part, got an empty array\./))
    })
  }

  test("a digest of another algorithm's width (8 bytes under CRC32) is refused, alone or among others, naming the part and both widths", async () => {
    const crc64 = { partNumber: 1, size: 3, checksum: 'AAAAAAAAAAA=' }
    const crc32 = { partNumber: 2, size: 3, checksum: 'AAAAAA==' }
    const wrongWidth = /^Part 1's CRC32 checksum is 8 bytes \(`AAAAAAAAAAA=`\), but a CRC32 digest is 4 bytes: is it another algorithm's\?/
    await assert.rejects(objectChecksumOf('CRC32', [crc64]), refused(wrongWidth))
    await assert.rejects(objectChecksumOf('CRC32', [crc64, crc32]), refused(wrongWidth))
    await assert.rejects(objectChecksumOf('SHA256', [{ partNumber: 1, size: 3, checksum: 'AAAAAA==' }]), refused(/^Part 1's SHA256 checksum is 4 bytes .* a SHA256 digest is 32 bytes/))
  })

  test('a part number listed twice is refused (S3 keeps one part per number), not combined', async () => {
    const part = { partNumber: 1, size: 3, checksum: 'AAAAAA==' }
    await assert.rejects(objectChecksumOf('CRC32', [part, { ...part }]), refused(/^Part 1 is listed twice: each part number names one part\./))
  })

  test('a checksum that is not base64, a bad part number or size, an unknown algorithm: InvalidArgumentErrors naming them', async () => {
    await assert.rejects(objectChecksumOf('CRC32', [{ partNumber: 1, size: 3, checksum: 'not base64!' }]), refused(/^Part 1's CRC32 checksum is not base64: `not base64!`\./))
    await assert.rejects(objectChecksumOf('CRC32', [{ partNumber: 0, size: 3, checksum: 'AAAAAA==' }]), refused(/^Expected `partNumber` to be an integer from 1 to 10000, got `0` \(number\)\./))
    await assert.rejects(objectChecksumOf('CRC32', [{ partNumber: 1, size: -1, checksum: 'AAAAAA==' }]), refused(/^Expected part 1's `size` to be a byte count \(an integer ≥ 0\), got `-1` \(number\)\./))
    await assert.rejects(objectChecksumOf('CRC32', [null as unknown as PartChecksum]), refused(/^Expected each of `parts` to be \{ partNumber, size, checksum \}, got null\./))
    await assert.rejects(objectChecksumOf('crc32' as ChecksumAlgorithm, [{ partNumber: 1, size: 3, checksum: 'AAAAAA==' }]), refused(/^Expected `algorithm` to be one of .*Did you mean 'CRC32'\?/))
  })
})
