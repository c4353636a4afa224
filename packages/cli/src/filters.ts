/**
 * `cp -r --exclude/--include`, with the AWS CLI's rules, so a command line moves over unchanged:
 * every file is included unless a rule says otherwise; the rules are tried in command-line order
 * and the last one that matches a file decides. A pattern is matched against the file's path
 * relative to the source directory, with `/` between names, as Python's `fnmatch` matches it
 * (what the AWS CLI uses): `*` any run of characters, `/` included (`*.log` matches
 * `a/b/c.log`); `?` one character; `[abc]`, `[a-z]` one of; `[!abc]` none of. There is no escape
 * character (`\` is itself); `[` with no closing `]` is itself. Case-sensitive on every platform.
 * @module
 */

/** One `--exclude` or `--include`, in command-line order. */
export interface PathRule {
  readonly kind: 'exclude' | 'include'
  readonly pattern: string
}

/** The regular expression `fnmatch.translate` makes of `pattern`: the whole path must match. */
export function globToRegExp(pattern: string): RegExp {
  let source = ''
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i++] as string
    if (c === '*') {
      source += '.*'
      while (pattern[i] === '*') i++
    } else if (c === '?') {
      source += '.'
    } else if (c === '[') {
      // A `]` right after `[` or `[!` belongs to the set; the set ends at the next one.
      let j = i
      if (pattern[j] === '!') j++
      if (pattern[j] === ']') j++
      while (j < pattern.length && pattern[j] !== ']') j++
      if (j >= pattern.length) {
        source += '\\['
        continue
      }
      let set = pattern.slice(i, j)
      i = j + 1
      const negated = set.startsWith('!')
      if (negated) set = set.slice(1)
      // Inside a class only `\`, `]`, `^` (first) and `[` need care; `-` keeps its range meaning.
      set = set.replace(/[\\\]^[]/g, '\\$&')
      source += negated ? `[^${set}]` : `[${set}]`
    } else {
      source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
    }
  }
  // `s`: `.` matches a newline too, as fnmatch's translation does.
  return new RegExp(`^(?:${source})$`, 's')
}

/**
 * The filter the rules make: `true` for a path to upload. `undefined` when there are no rules
 * (everything is uploaded, and the walk needs no filter).
 */
export function pathFilter(rules: readonly PathRule[]): ((relativePath: string) => boolean) | undefined {
  if (rules.length === 0) return undefined
  const compiled = rules.map((r) => ({ include: r.kind === 'include', re: globToRegExp(r.pattern) }))
  return (path) => {
    let included = true
    for (const rule of compiled) if (rule.re.test(path)) included = rule.include
    return included
  }
}
