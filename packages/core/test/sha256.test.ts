import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { createSha256, InvalidArgumentError } from '../src/index.ts'
import { sha256Of } from './helpers/sources.ts'

const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

function digestOf(...chunks: Uint8Array[]): Uint8Array {
  const hasher = createSha256()
  for (const chunk of chunks) hasher.update(chunk)
  return hasher.digest() as Uint8Array
}

describe('createSha256', () => {
  test('FIPS 180-4 vectors', () => {
    assert.equal(hex(digestOf()), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    assert.equal(hex(digestOf(text('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    assert.equal(
      hex(digestOf(text('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))),
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    )
    assert.equal(hex(digestOf(new Uint8Array(1_000_000).fill(0x61))), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0')
  })

  test('every length around the padding boundaries matches node:crypto', () => {
    const data = new Uint8Array(300).map((_, i) => (i * 31 + 7) & 0xff)
    for (let length = 0; length <= 300; length++) {
      assert.deepEqual(digestOf(data.subarray(0, length)), sha256Of(data.subarray(0, length)), `length ${length}`)
    }
  })

  test('property: any chunking of any bytes, at any byteOffset, matches node:crypto', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2000 }),
        fc.array(fc.nat({ max: 2000 }), { maxLength: 12 }),
        fc.nat({ max: 7 }),
        (bytes, cuts, shift) => {
          // Put the bytes at an odd offset inside a bigger buffer, as stream chunks often are.
          const backing = new Uint8Array(bytes.length + shift + 3)
          backing.set(bytes, shift)
          const view = backing.subarray(shift, shift + bytes.length)
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
          const chunks: Uint8Array[] = []
          let from = 0
          for (const point of [...points, bytes.length]) {
            chunks.push(view.subarray(from, point))
            from = point
          }
          assert.deepEqual(digestOf(...chunks), sha256Of(bytes))
        },
      ),
      { numRuns: 400 },
    )
  })

  test('a large input in odd chunks', () => {
    const data = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i ^ (i >>> 8)) & 0xff)
    const hasher = createSha256()
    for (let at = 0; at < data.length; at += 65_537) hasher.update(data.subarray(at, at + 65_537))
    assert.deepEqual(hasher.digest(), sha256Of(data))
  })

  test('digest() finishes: it repeats, update() after it throws', () => {
    const hasher = createSha256()
    hasher.update(text('abc'))
    const first = hasher.digest() as Uint8Array
    const second = hasher.digest() as Uint8Array
    assert.deepEqual(second, first)
    first.fill(0)
    assert.equal(hex(hasher.digest() as Uint8Array), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'each call returns a fresh copy')
    assert.throws(() => hasher.update(text('more')), InvalidArgumentError)
  })
})
