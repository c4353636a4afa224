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

  test('a pre-compressed file stored with its Content-Encoding is typed by the name inside (app.js.gz as gzip was application/gzip, which a browser then saves)', () => {
    assert.equal(contentTypeFor('dist/app.js.gz', 'gzip'), 'text/javascript; charset=utf-8')
    assert.equal(contentTypeFor('img.SVG.GZ', 'GZIP'), 'image/svg+xml')
    assert.equal(contentTypeFor('page.html.br', 'br'), 'text/html; charset=utf-8')
    assert.equal(contentTypeFor('data.json.gz', 'identity, gzip'), contentTypeFor('data.json'))
    // The encoding must match the extension, and the inner name be known.
    assert.equal(contentTypeFor('app.js.gz', 'br'), 'application/gzip')
    assert.equal(contentTypeFor('app.js.gz'), 'application/gzip')
    assert.equal(contentTypeFor('blob.unknownext.gz', 'gzip'), 'application/gzip')
  })

  test('a name that is not a string: a coded error, not a raw TypeError', () => {
    assert.throws(() => contentTypeFor(undefined as never), { code: 'ERR_PARTSTREAM_INVALID_ARGUMENT', message: /Expected a file name \(a string\), got undefined/ })
  })
})
