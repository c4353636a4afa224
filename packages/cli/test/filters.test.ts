// `--exclude` / `--include`: the AWS CLI's rules (Python's fnmatch on the relative path, the last
// matching rule decides). Unit tests: no server.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { globToRegExp, pathFilter } from '../src/filters.ts'

describe('globToRegExp: fnmatch patterns', () => {
  // [pattern, path, matches], each checked against Python 3's fnmatch.fnmatchcase.
  const cases: readonly [string, string, boolean][] = [
    ['*.log', 'a.log', true],
    ['*.log', 'a/b/c.log', true], // * crosses /
    ['*.log', 'a.log.gz', false], // the whole path must match
    ['logs/*', 'logs/x/y.txt', true],
    ['logs/*', 'old/logs/x', false],
    ['*/logs/*', 'old/logs/x', true],
    ['?.txt', 'a.txt', true],
    ['?.txt', 'ab.txt', false],
    ['?', '/', true], // ? matches / too
    ['[abc].bin', 'b.bin', true],
    ['[a-c].bin', 'd.bin', false],
    ['[!a-c].bin', 'd.bin', true],
    ['[!a-c].bin', 'a.bin', false],
    ['[]]', ']', true], // ] first in a set is a member
    ['[!]]', 'a', true],
    ['[^a]', '^', true], // ^ first is a member, not a negation
    ['[^a]', 'b', false],
    ['a[', 'a[', true], // [ with no ] is itself
    ['[!]', '[!]', true],
    ['a.b', 'axb', false], // regular-expression characters are themselves
    ['(a)+{1}$|^', '(a)+{1}$|^', true],
    ['a\\*', 'a\\bc', true], // no escape character: \ is itself, * still a wildcard
    ['**', 'x/y/z', true],
    ['', '', true],
    ['*', '', true],
    ['*', 'a\nb', true], // a newline is a character like any other
    ['File.TXT', 'file.txt', false], // case-sensitive
  ]
  for (const [pattern, path, matches] of cases) {
    test(`${JSON.stringify(pattern)} ${matches ? 'matches' : 'does not match'} ${JSON.stringify(path)}`, () => {
      assert.equal(globToRegExp(pattern).test(path), matches)
    })
  }

  test('a range out of order is an error (a usage error for the CLI), not a pattern that never matches', () => {
    assert.throws(() => globToRegExp('[z-a]'), SyntaxError)
  })
})

describe('pathFilter: the last matching rule decides', () => {
  test('no rules: no filter at all', () => {
    assert.equal(pathFilter([]), undefined)
  })

  test('everything is included unless a rule says otherwise', () => {
    const keep = pathFilter([{ kind: 'exclude', pattern: '*.tmp' }]) as (p: string) => boolean
    assert.deepEqual(['a.txt', 'b.tmp', 'd/c.tmp', 'd/e'].filter(keep), ['a.txt', 'd/e'])
  })

  test("--exclude '*' --include '*.txt' --exclude 'tmp/*': order matters, as with the AWS CLI", () => {
    const keep = pathFilter([
      { kind: 'exclude', pattern: '*' },
      { kind: 'include', pattern: '*.txt' },
      { kind: 'exclude', pattern: 'tmp/*' },
    ]) as (p: string) => boolean
    assert.deepEqual(['a.txt', 'b.bin', 'tmp/c.txt', 'd/e.txt', 'tmp'].filter(keep), ['a.txt', 'd/e.txt'])
    // The same rules in another order say something else.
    const reordered = pathFilter([
      { kind: 'exclude', pattern: 'tmp/*' },
      { kind: 'exclude', pattern: '*' },
      { kind: 'include', pattern: '*.txt' },
    ]) as (p: string) => boolean
    assert.deepEqual(['a.txt', 'b.bin', 'tmp/c.txt'].filter(reordered), ['a.txt', 'tmp/c.txt'])
  })
})
