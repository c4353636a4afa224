// contentTypeFor: the built-in table by extension.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { contentTypeFor } from '../src/index.ts'

describe('contentTypeFor', () => {
  test('known extensions, any case; none for dotfiles and names without one', () => {
    assert.equal(contentTypeFor('site/index.HTML'), 'text/html; charset=utf-8')
    assert.equal(contentTypeFor('a.tar.gz'), 'application/gzip')
    assert.equal(contentTypeFor('.env'), undefined)
    assert.equal(contentTypeFor('README'), undefined)
  })

  test("an extension named after Object.prototype's members is unknown (it returned the Object function, and uploads failed)", () => {
    for (const name of ['Point.constructor', 'x.__proto__', 'a.toString', 'b.hasOwnProperty', 'c.valueOf', 'd.isPrototypeOf']) {
      assert.equal(contentTypeFor(name), undefined, name)
    }
  })

  test('a name that is not a string: a coded error, not a raw TypeError', () => {
    assert.throws(() => contentTypeFor(undefined as never), { code: 'ERR_PARTSTREAM_INVALID_ARGUMENT', message: /Expected a file name \(a string\), got undefined/ })
  })
})
