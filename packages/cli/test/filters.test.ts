// `--exclude` / `--include`: the AWS CLI's rules (Python's fnmatch on the relative path, the last
// matching rule decides). Unit tests: no server.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { directoryFilter, globToRegExp, pathFilter, type PathRule } from '../src/filters.ts'

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

  test('it declares the path alone, so the walk asks it before any stat: an excluded file that vanished or cannot be stat-ed is never reported', () => {
    // walkDirectory asks a one-parameter filter first and stats only for a filter that declares `stats`.
    assert.equal(pathFilter([{ kind: 'exclude', pattern: '*.tmp' }])?.length, 1)
  })
})

describe('directoryFilter: a directory is skipped only when no file under it can pass', () => {
  const ex = (pattern: string): PathRule => ({ kind: 'exclude', pattern })
  const inc = (pattern: string): PathRule => ({ kind: 'include', pattern })

  test('no exclude ending in *: nothing to skip, no directory filter', () => {
    assert.equal(directoryFilter([]), undefined)
    assert.equal(directoryFilter([ex('*.log'), inc('*.txt')]), undefined)
  })

  const cases: readonly [string, readonly PathRule[], string, boolean][] = [
    ['an exclude of the directory', [ex('node_modules/*')], 'node_modules', false],
    ['an exclude of a nested one', [ex('*/node_modules/*')], 'src/node_modules', false],
    ['that exclude does not reach a top-level one', [ex('*/node_modules/*')], 'node_modules', true],
    ['an exclude without /', [ex('.git*')], '.git', false],
    ['everything excluded', [ex('*')], 'any/dir', false],
    ['an exclude of another directory', [ex('node_modules/*')], 'src', true],
    ['an exclude of files inside it only', [ex('logs/*.log')], 'logs', true],
    ['an include after the exclude may take a file back', [ex('*'), inc('*.txt')], 'docs', true],
    ['an include under another directory cannot', [ex('*'), inc('docs/*')], 'tmp', false],
    ['an include under it can', [ex('*'), inc('docs/*')], 'docs', true],
    ['an include of a deeper path can', [ex('*'), inc('docs/api/*.html')], 'docs', true],
    ['an include whose head is a shorter prefix can', [ex('*'), inc('do*')], 'docs', true],
    ['an include before the exclude cannot', [inc('*.txt'), ex('tmp/*')], 'tmp', false],
    ['the last matching exclude after an include', [ex('*'), inc('*.txt'), ex('tmp/*')], 'tmp', false],
  ]
  for (const [what, rules, dir, walked] of cases) {
    test(`${what}: ${JSON.stringify(dir)} is ${walked ? 'walked' : 'skipped'}`, () => {
      const walk = directoryFilter(rules)
      assert.equal(walk === undefined ? true : walk(dir), walked)
    })
  }

  test('skipping a directory never changes which files pass (every file under a skipped directory is excluded)', () => {
    const ruleSets: readonly PathRule[][] = cases.map(([, rules]) => [...rules])
    const files = ['a.txt', 'node_modules/x.js', 'src/node_modules/y.js', '.git/HEAD', 'logs/a.log', 'logs/b.txt', 'docs/a.txt', 'docs/api/i.html', 'tmp/c.txt', 'any/dir/f', 'src/z.ts']
    for (const rules of ruleSets) {
      const keep = pathFilter(rules) as (p: string) => boolean
      const walk = directoryFilter(rules)
      if (walk === undefined) continue
      for (const file of files) {
        const dirs = file.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))
        if (dirs.some((d) => !walk(d))) assert.equal(keep(file), false, `${JSON.stringify(rules)}: ${file} is under a skipped directory but would pass`)
      }
    }
  })
})
