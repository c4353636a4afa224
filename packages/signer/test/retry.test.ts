// The `retry` option: a small closed object, checked whole before any request.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InvalidArgumentError } from '@partstream/core'
import { resolveRetry } from '../src/http/retry.ts'

const refused = (pattern: RegExp) => (e: unknown) => e instanceof InvalidArgumentError && pattern.test(e.message)

describe('resolveRetry', () => {
  test("an unknown key is refused, naming the known ones (the AWS SDK's maxAttempts made 5 attempts without a word)", () => {
    assert.throws(() => resolveRetry({ maxAttempts: 1 } as never), refused(/`retry` has no `maxAttempts`: its keys are attempts, baseDelayMs, maxDelayMs \(the AWS SDK's maxAttempts is `attempts` here, the first attempt included\)/))
    assert.throws(() => resolveRetry({ retries: 0 } as never), refused(/`retry` has no `retries`/))
  })

  test('an array or a Date is not a retry object', () => {
    assert.throws(() => resolveRetry([] as never), refused(/`retry` to be an object or false, got an instance of Array/))
    assert.throws(() => resolveRetry(new Date() as never), refused(/`retry` to be an object or false/))
  })

  test('delays past what a timer can wait (2^31 - 1 ms) are refused: setTimeout made them 1 ms', () => {
    assert.throws(() => resolveRetry({ attempts: 4, baseDelayMs: 1e10 }), refused(/`retry.baseDelayMs` to be a number from 0 to 2147483647/))
    assert.throws(() => resolveRetry({ maxDelayMs: 2 ** 31 }), refused(/`retry.maxDelayMs`/))
    assert.equal(resolveRetry({ maxDelayMs: 2 ** 31 - 1 }).maxDelayMs, 2 ** 31 - 1)
  })

  test('the known shapes still work', () => {
    assert.equal(resolveRetry(false).attempts, 1)
    assert.equal(resolveRetry(undefined).attempts, 5)
    assert.deepEqual({ ...resolveRetry({ attempts: 3, baseDelayMs: 10, maxDelayMs: 20 }), random: undefined }, { attempts: 3, baseDelayMs: 10, maxDelayMs: 20, random: undefined })
    assert.equal(resolveRetry({ attempts: undefined }).attempts, 5)
  })
})
