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

/**
 * Which directories the walk may skip: `false` only when no file under the directory can pass the
 * rules, so skipping it changes nothing but time (a `node_modules` of 100,000 files is neither
 * listed nor stat-ed). That holds when an exclude ending in `*` matches `dir/` (it then matches
 * every path under it: its `*` takes any rest) and no include after it can match a path under
 * `dir/`: an include's matches all start with its literal head (up to its first `*`, `?` or `[`),
 * so one whose head and `dir/` differ before either ends cannot.
 */
export function directoryFilter(rules: readonly PathRule[]): ((relativeDir: string) => boolean) | undefined {
  if (!rules.some((r) => r.kind === 'exclude' && r.pattern.endsWith('*'))) return undefined
  const compiled = rules.map((r) => ({ ...r, re: globToRegExp(r.pattern), head: literalHead(r.pattern) }))
  return (relativeDir) => {
    const dir = `${relativeDir}/`
    for (let i = compiled.length - 1; i >= 0; i--) {
      const rule = compiled[i] as (typeof compiled)[number]
      if (rule.kind === 'include') {
        if (dir.startsWith(rule.head) || rule.head.startsWith(dir)) return true // it may match a file under dir
      } else if (rule.pattern.endsWith('*') && rule.re.test(dir)) {
        return false // every path under dir is excluded, and no later include takes one back
      }
    }
    return true
  }
}

/** The characters every match of `pattern` starts with. */
function literalHead(pattern: string): string {
  const end = pattern.search(/[*?[]/)
  return end === -1 ? pattern : pattern.slice(0, end)
}
