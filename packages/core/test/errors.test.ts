import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  describeValue,
  InvalidArgumentError,
  InvalidChunkError,
  ObjectTooLargeError,
  PartstreamError,
  TooManyPartsError,
} from '../src/index.ts'

describe('errors', () => {
  test('codes, names and fields', () => {
    const cause = new Error('root')
    const invalid = new InvalidArgumentError('bad', { cause })
    assert.equal(invalid.code, 'ERR_PARTSTREAM_INVALID_ARGUMENT')
    assert.equal(invalid.name, 'InvalidArgumentError')
    assert.equal(invalid.cause, cause)

    const chunk = new InvalidChunkError(3, describeValue('abc'))
    assert.equal(chunk.code, 'ERR_PARTSTREAM_INVALID_CHUNK')
    assert.equal(chunk.name, 'InvalidChunkError')
    assert.equal(chunk.chunkIndex, 3)
    assert.match(chunk.message, /^Expected chunk 3 of the source to be a Uint8Array, got a string of length 3\. Encode strings first/)

    const tooMany = new TooManyPartsError(10_001, 62_914_560_000, 'fixed 6 MiB parts')
    assert.equal(tooMany.code, 'ERR_PARTSTREAM_TOO_MANY_PARTS')
    assert.equal(tooMany.partNumber, 10_001)
    assert.equal(tooMany.bytesSoFar, 62_914_560_000)
    assert.match(tooMany.message, /more than 10000 parts \(S3 allows 10000\) at fixed 6 MiB parts/)
    assert.match(tooMany.message, /Raise `partSize`, give `sizeHint`/)

    const tooLarge = new ObjectTooLargeError(5 * 1024 ** 4 + 1, { atLeast: true })
    assert.equal(tooLarge.code, 'ERR_PARTSTREAM_OBJECT_TOO_LARGE')
    assert.equal(tooLarge.byteLength, 5 * 1024 ** 4 + 1)
    assert.equal(tooLarge.limit, 5 * 1024 ** 4)
    assert.match(tooLarge.message, /^The source holds at least 5497558138881 bytes/)
    assert.match(new ObjectTooLargeError(6e12).message, /^The object is 6000000000000 bytes/)
  })

  test('instanceof: the base matches every subclass, subclasses match only themselves', () => {
    const errors = [
      new InvalidArgumentError('x'),
      new InvalidChunkError(0, 'null'),
      new TooManyPartsError(10_001, 0, 'p'),
      new ObjectTooLargeError(1),
    ]
    for (const error of errors) {
      assert.ok(error instanceof PartstreamError)
      assert.ok(error instanceof Error)
    }
    assert.ok(!(errors[0] instanceof InvalidChunkError))
    assert.ok(errors[1] instanceof InvalidChunkError)
    assert.ok(!(new Error('plain') instanceof PartstreamError))
    for (const value of [null, undefined, 42, 'ERR_PARTSTREAM_S3', { code: 'ERR_PARTSTREAM_S3' }]) {
      assert.ok(!(value instanceof PartstreamError))
    }
  })

  test('the brand works across a second copy of the package', () => {
    // What a duplicated install (or another realm) produces: an unrelated class with the same brand.
    class PartstreamErrorCopy extends Error {
      readonly code = 'ERR_PARTSTREAM_S3'
      get [Symbol.for('partstream.error')](): true {
        return true
      }
    }
    const foreign = new PartstreamErrorCopy('from the other copy')
    assert.ok(foreign instanceof PartstreamError)
    assert.ok(!(foreign instanceof InvalidArgumentError), 'subclasses use ordinary instanceof')
  })

  test('the brand stays off own keys and out of JSON', () => {
    const error = new InvalidArgumentError('x')
    assert.deepEqual(Object.getOwnPropertySymbols(error), [])
    assert.ok(!JSON.stringify({ ...error }).includes('partstream.error'))
  })

  test('describeValue never prints string contents', () => {
    assert.equal(describeValue('AKIA-secret'), 'a string of length 11')
    assert.equal(describeValue(1024), '`1024` (number)')
    assert.equal(describeValue(Number.NaN), '`NaN` (number)')
    assert.equal(describeValue(null), 'null')
    assert.equal(describeValue(undefined), 'undefined')
    assert.equal(describeValue(new ArrayBuffer(1)), 'an instance of ArrayBuffer')
    assert.equal(describeValue(() => 1), 'a function')
    assert.equal(describeValue(Object.create(null)), 'object')
  })
})
