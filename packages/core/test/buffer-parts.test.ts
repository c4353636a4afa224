import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import {
  bufferParts,
  createCrc32c,
  createCrc64Nvme,
  createSha256,
  digestChunks,
  fixedPartSize,
  planParts,
  partSizeForTotal,
  InvalidArgumentError,
  MAX_OBJECT_SIZE_BYTES,
  MAX_PARTS,
  ObjectTooLargeError,
  TooManyPartsError,
  type HashFactory,
  type Hasher,
} from '../src/index.ts'
import { MAX_HASH_UPDATE_BYTES, startPart } from '../src/internal/digests.ts'
import { MiB, nodeSha256, pseudoRandomBytes, resizableBuffer, sha256Of } from './helpers/sources.ts'

const data = pseudoRandomBytes(13 * MiB, 3)

/** A Uint8Array claiming a size nobody can allocate in a test, to reach the size checks. */
function claimingLength(byteLength: number): Uint8Array {
  return Object.defineProperty(new Uint8Array(0), 'byteLength', { value: byteLength })
}

describe('bufferParts', () => {
  test('splits into views of the buffer, sized for it by default', () => {
    const parts = bufferParts(data, { hash: null })
    assert.deepEqual(
      parts.map((p) => [p.partNumber, p.offset, p.byteLength, p.isLast]),
      [
        [1, 0, 6 * MiB, false],
        [2, 6 * MiB, 6 * MiB, false],
        [3, 12 * MiB, MiB, true],
      ],
    )
    for (const part of parts) {
      assert.equal(part.chunks.length, 1)
      assert.equal(part.chunks[0]!.buffer, data.buffer)
      assert.equal(part.chunks[0]!.byteOffset, part.offset)
      assert.equal(part.chunks[0]!.byteLength, part.byteLength)
    }
  })

  test('hashes nothing until toPart(), then each part once', async () => {
    let made = 0
    const counting: HashFactory = () => {
      made++
      return nodeSha256()
    }
    const parts = bufferParts(data, { hash: counting })
    assert.equal(made, 0)
    const [a, b] = await Promise.all([parts[2]!.toPart(), parts[2]!.toPart()])
    assert.equal(made, 1)
    assert.equal(a, b)
    assert.equal(parts[2]!.toPart(), parts[2]!.toPart(), 'memoized promise')
    assert.deepEqual(a.sha256, sha256Of(data.subarray(12 * MiB)))
    assert.equal(a.chunks, parts[2]!.chunks)
    assert.deepEqual([a.partNumber, a.offset, a.byteLength, a.isLast], [3, 12 * MiB, MiB, true])
  })

  test('the default hash is SHA-256', async () => {
    const small = data.subarray(0, 1000)
    const [only] = bufferParts(small)
    assert.deepEqual((await only!.toPart()).sha256, sha256Of(small))
  })

  test('hash: null → sha256 undefined', async () => {
    assert.equal((await bufferParts(data, { hash: null })[0]!.toPart()).sha256, undefined)
  })

  test('a failed hash is retried on the next toPart()', async () => {
    let calls = 0
    const flaky: HashFactory = () => {
      if (calls++ === 0) throw new Error('hasher unavailable')
      return nodeSha256()
    }
    const [part] = bufferParts(data.subarray(0, 10), { hash: flaky })
    await assert.rejects(part!.toPart(), /hasher unavailable/)
    assert.deepEqual((await part!.toPart()).sha256, sha256Of(data.subarray(0, 10)))
  })

  test('the empty buffer → one empty last part', async () => {
    const parts = bufferParts(new Uint8Array(0))
    assert.equal(parts.length, 1)
    const part = await parts[0]!.toPart()
    assert.deepEqual([part.partNumber, part.offset, part.byteLength, part.isLast], [1, 0, 0, true])
    assert.deepEqual(part.chunks, [])
    assert.deepEqual(part.sha256, sha256Of())
  })

  test('an explicit partSize', () => {
    const parts = bufferParts(data, { partSize: 5 * MiB, hash: null })
    assert.deepEqual(
      parts.map((p) => p.byteLength),
      [5 * MiB, 5 * MiB, 3 * MiB],
    )
  })

  test('exact multiples end with a full last part', () => {
    const parts = bufferParts(data.subarray(0, 12 * MiB), { hash: null })
    assert.deepEqual(
      parts.map((p) => [p.byteLength, p.isLast]),
      [
        [6 * MiB, false],
        [6 * MiB, true],
      ],
    )
  })

  test('more than 10,000 parts of an explicit partSize → TooManyPartsError before anything', () => {
    assert.throws(() => bufferParts(claimingLength(MAX_PARTS * 5 * MiB + 1), { partSize: 5 * MiB }), (error: unknown) => {
      assert.ok(error instanceof TooManyPartsError)
      assert.equal(error.partNumber, MAX_PARTS + 1)
      assert.equal(error.bytesSoFar, MAX_PARTS * 5 * MiB)
      return true
    })
    assert.equal(bufferParts(claimingLength(MAX_PARTS * 5 * MiB), { partSize: 5 * MiB, hash: null }).length, MAX_PARTS)
  })

  test('over 5 TiB → ObjectTooLargeError', () => {
    assert.throws(() => bufferParts(claimingLength(MAX_OBJECT_SIZE_BYTES + 1)), ObjectTooLargeError)
  })

  test('invalid input', () => {
    assert.throws(() => bufferParts('bytes' as never), /Expected `bytes` to be a Uint8Array, got a string of length 5/)
    assert.throws(() => bufferParts(new ArrayBuffer(4) as never), InvalidArgumentError)
    assert.throws(() => bufferParts(data, { partSize: 1024 }), /`partSize`/)
    assert.throws(() => bufferParts(data, { hash: 'sha256' as never }), /`hash`/)
    assert.throws(() => bufferParts(data, null as never), /`options`/)
  })
})

describe('planParts', () => {
  test('boundaries of a known size: equal parts, a short last one, one empty part for 0 bytes', () => {
    assert.deepEqual(planParts(13 * MiB, fixedPartSize()), [
      { partNumber: 1, offset: 0, byteLength: 6 * MiB, isLast: false },
      { partNumber: 2, offset: 6 * MiB, byteLength: 6 * MiB, isLast: false },
      { partNumber: 3, offset: 12 * MiB, byteLength: MiB, isLast: true },
    ])
    assert.deepEqual(planParts(0, fixedPartSize()), [{ partNumber: 1, offset: 0, byteLength: 0, isLast: true }])
    assert.equal(planParts(10_000 * 5 * MiB, fixedPartSize(5 * MiB)).length, 10_000)
    assert.throws(() => planParts(10_000 * 5 * MiB + 1, fixedPartSize(5 * MiB)), { code: 'ERR_PARTSTREAM_TOO_MANY_PARTS', partNumber: 10_001 })
  })

  test("too many parts for a known size: the advice is a known size's (leave partSize out), not a stream's (give sizeHint, which only led to another error)", () => {
    const total = 10_000 * 5 * MiB + 1
    assert.throws(
      () => planParts(total, fixedPartSize(5 * MiB)),
      (e: unknown) =>
        e instanceof TooManyPartsError &&
        e.message.endsWith(`The size is known (${total} bytes): leave \`partSize\` out (parts are then sized to fit: ${partSizeForTotal(total).sizeOf(1)} bytes each), or raise it to at least that.`) &&
        !e.message.includes('sizeHint'),
    )
  })
})

describe('hashing a part: every hasher gets at most MAX_HASH_UPDATE_BYTES per update()', () => {
  test('the limit is 1 GiB: node:crypto refuses an update() of 2^31 bytes or more, and a part may be 5 GiB', () => {
    assert.equal(MAX_HASH_UPDATE_BYTES, 1024 ** 3)
  })

  test('chunks of any size go in order, as views in pieces of at most the limit, with the digests of one update() (SHA-256, CRC32C, CRC64NVME)', async () => {
    const recording = (make: HashFactory, pieces: Uint8Array[]): HashFactory => () => {
      const inner: Hasher = make()
      return {
        update: (piece) => {
          pieces.push(piece)
          inner.update(piece)
        },
        digest: () => inner.digest(),
      }
    }
    const oneShot = (make: HashFactory, bytes: Uint8Array): Uint8Array | Promise<Uint8Array> => {
      const hasher = make()
      hasher.update(bytes)
      return hasher.digest()
    }
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 6 }), fc.integer({ min: 1, max: 64 }), fc.integer(), async (sizes, max, seed) => {
        const chunks = sizes.map((size, i) => pseudoRandomBytes(size, seed + i))
        const pieces: Uint8Array[][] = [[], [], []]
        const digester = startPart(
          { hash: recording(createSha256, pieces[0]!), checksum: recording(createCrc32c, pieces[1]!), md5: recording(createCrc64Nvme, pieces[2]!) },
          max,
        )
        for (const chunk of chunks) digester.update(chunk)
        const digests = await digester.finish()
        const whole = Buffer.concat(chunks)
        assert.deepEqual(digests.sha256, await oneShot(createSha256, whole))
        assert.deepEqual(digests.checksum, await oneShot(createCrc32c, whole))
        assert.deepEqual(digests.md5, await oneShot(createCrc64Nvme, whole))
        for (const fed of pieces) {
          for (const piece of fed) assert.ok(piece.byteLength <= max, `an update() of ${piece.byteLength} bytes, over the ${max}-byte limit`)
          assert.ok(fed.every((piece) => chunks.some((chunk) => piece.buffer === chunk.buffer)), 'pieces are views of the chunks, not copies')
          assert.deepEqual(Buffer.concat(fed), whole)
        }
      }),
    )
  })
})

describe('bufferParts: bytes that are not a plain, readable Uint8Array', () => {
  test('a detached Uint8Array (its ArrayBuffer transferred) → InvalidArgumentError, not one empty part', () => {
    const bytes = new Uint8Array(300 * 1024).fill(5)
    structuredClone(bytes.buffer, { transfer: [bytes.buffer] })
    assert.throws(() => bufferParts(bytes), (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentError, String(error))
      assert.match(error.message, /Expected `bytes` to be a Uint8Array holding the object, got one whose ArrayBuffer was detached/)
      return true
    })
  })

  test('a view out of the bounds of its shrunk resizable buffer → InvalidArgumentError; an empty in-bounds one is the empty object', () => {
    const buffer = resizableBuffer(1024, 2048)
    const view = new Uint8Array(buffer, 512, 512)
    buffer.resize(256)
    assert.throws(() => bufferParts(view), /got one out of the bounds of its resizable ArrayBuffer/)
    assert.deepEqual(
      bufferParts(new Uint8Array(buffer, 256, 0)).map((p) => [p.byteLength, p.isLast]),
      [[0, true]],
    )
  })

  test('a subclass whose constructor takes other arguments is split by offset (not through Symbol.species)', async () => {
    class Labelled extends Uint8Array {
      readonly label: string
      constructor(length: number, label: string) {
        super(length)
        this.label = label
      }
    }
    const bytes = new Labelled(11 * MiB, 'x')
    bytes.set(data.subarray(0, 11 * MiB))
    const parts = bufferParts(bytes, { partSize: 5 * MiB, hash: nodeSha256 })
    assert.deepEqual(
      parts.map((p) => [p.offset, p.byteLength, p.chunks[0]?.byteLength]),
      [
        [0, 5 * MiB, 5 * MiB],
        [5 * MiB, 5 * MiB, 5 * MiB],
        [10 * MiB, MiB, MiB],
      ],
    )
    assert.deepEqual((await parts[1]!.toPart()).sha256, sha256Of(data.subarray(5 * MiB, 10 * MiB)))
  })
})

describe('hashing a part: a Uint8Array subclass chunk over the update limit', () => {
  test('is cut into views by offset, not through its constructor (Symbol.species)', async () => {
    class Labelled extends Uint8Array {
      readonly label: string
      constructor(length: number, label: string) {
        super(length)
        this.label = label
      }
    }
    const chunk = new Labelled(1000, 'x')
    chunk.set(data.subarray(0, 1000))
    const digester = startPart({ hash: createSha256, checksum: null, md5: null }, 64)
    digester.update(chunk)
    assert.deepEqual((await digester.finish()).sha256, sha256Of(data.subarray(0, 1000)))
  })
})

describe('planParts and digestChunks: arguments checked as partSizeForTotal checks them', () => {
  for (const [name, total] of [
    ['negative', -1],
    ['NaN', Number.NaN],
    ['fractional', 1.5],
    ['a string', '12'],
    ['Infinity', Number.POSITIVE_INFINITY],
  ] as const) {
    test(`planParts(${name}) → InvalidArgumentError`, () => {
      assert.throws(() => planParts(total as number, fixedPartSize()), (error: unknown) => {
        assert.ok(error instanceof InvalidArgumentError, String(error))
        assert.match(error.message, /Expected `totalBytes` to be an integer from 0 bytes to 5 TiB/)
        return true
      })
    })
  }

  test('planParts over 5 TiB → ObjectTooLargeError', () => {
    assert.throws(() => planParts(MAX_OBJECT_SIZE_BYTES + 1, fixedPartSize()), ObjectTooLargeError)
  })

  test('planParts without a policy, or with a custom one that breaks the S3 limits → InvalidArgumentError', () => {
    assert.throws(() => planParts(10, undefined as never), /Expected `policy` to be a PartSizePolicy/)
    assert.throws(() => planParts(10, 6 * MiB as never), /Expected `policy` to be a PartSizePolicy/)
    const tiny = { description: '1 MiB', maxPartSize: MiB, sizeOf: () => MiB }
    assert.throws(() => planParts(3 * MiB, tiny), (error: unknown) => error instanceof InvalidArgumentError && /`policy.maxPartSize`/.test(error.message))
    const lying = { description: 'lying', maxPartSize: 6 * MiB, sizeOf: () => MiB }
    assert.throws(() => planParts(3 * MiB, lying), /`policy.sizeOf\(1\)` of the policy "lying"/)
    const custom = { description: 'custom 5 MiB', maxPartSize: 5 * MiB, sizeOf: () => 5 * MiB }
    assert.deepEqual(
      planParts(11 * MiB, custom).map((p) => p.byteLength),
      [5 * MiB, 5 * MiB, MiB],
    )
  })

  test('digestChunks without options, or with chunks that are not Uint8Arrays → InvalidArgumentError', async () => {
    await assert.rejects(digestChunks([new Uint8Array(3)], undefined as never), /Expected `options` to be an object/)
    await assert.rejects(digestChunks(new Uint8Array(3) as never, {}), /Expected `chunks` to be an array of Uint8Array/)
    await assert.rejects(digestChunks(['abc'] as never, { hash: createSha256 }), /Expected `chunks` to be an array of Uint8Array, got a string of length 3 at index 0/)
    assert.deepEqual(await digestChunks([new Uint8Array(3)], {}), { sha256: undefined, checksum: undefined, md5: undefined })
  })
})
