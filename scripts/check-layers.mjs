#!/usr/bin/env node
// Layering and cycle check for the packages' sources (part of `pnpm lint`). Each folder of a
// package's src/ is a layer; a file may import from its own layer and the layers below it, never
// from a layer above. Relative import cycles fail too, inside a layer as well, and so does an
// index.ts that re-exports from an internal/ folder (nothing public lives there).
//
//   packages/signer/src:  errors.ts < transport/ < http/ < operations/ < upload/ < entry files
//   packages/core/src:    errors.ts, limits.ts, types.ts < internal/ < the public modules (which
//                         depend on each other freely, but never in a cycle)
//
// Usage: node scripts/check-layers.mjs [--root DIR] [--explain]
//   exits 1 and lists every violation. --root checks another tree laid out like this repository
//   (the test builds fixtures that way); --explain also prints each file's layer.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const { values: args } = parseArgs({ options: { root: { type: 'string' }, explain: { type: 'boolean', default: false } } })
const root = args.root === undefined ? fileURLToPath(new URL('..', import.meta.url)) : resolve(args.root)

/** Layer rank of a file (path relative to its src/), per package; higher may import lower. */
const LAYERS = {
  'packages/signer/src': (file) => {
    if (file === 'errors.ts') return 0
    const top = file.split('/')[0]
    const ranks = { transport: 1, http: 2, operations: 3, upload: 4 }
    if (top in ranks) return ranks[top]
    if (file.includes('/')) return undefined // a folder nobody placed: reported below
    return 5 // entry files: index.ts, upload.ts, upload-file.ts, abort-stale-uploads.ts
  },
  'packages/core/src': (file) => (['errors.ts', 'limits.ts', 'types.ts'].includes(file) ? 0 : file.startsWith('internal/') ? 1 : 2),
}
const NAMES = {
  'packages/signer/src': ['errors.ts', 'transport/', 'http/', 'operations/', 'upload/', 'entry files'],
  'packages/core/src': ['errors.ts, limits.ts, types.ts', 'internal/', 'public modules'],
}

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) walk(p, out)
    else if (name.endsWith('.ts')) out.push(p)
  }
  return out
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"](\.{1,2}\/[^'"]+)['"]/g

const problems = []
const graph = new Map()
for (const [srcDir, rankOf] of Object.entries(LAYERS)) {
  const base = join(root, srcDir)
  if (!existsSync(base)) continue
  if (args.explain) console.log(`${srcDir}: ${NAMES[srcDir].join(' < ')}`)
  for (const file of walk(base)) {
    const rel = relative(base, file).split(sep).join('/')
    const rank = rankOf(rel)
    if (args.explain) console.log(`  ${rel}: ${rank === undefined ? 'no layer' : NAMES[srcDir][rank]}`)
    if (rank === undefined) problems.push(`${srcDir}/${rel}: in no layer (add its folder to scripts/check-layers.mjs)`)
    const text = readFileSync(file, 'utf8')
    const deps = []
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3]
      const target = resolve(dirname(file), spec)
      const targetRel = relative(base, target).split(sep).join('/')
      if (targetRel.startsWith('..')) {
        problems.push(`${srcDir}/${rel}: imports ${spec}, outside its package's src/ (use the package name)`)
        continue
      }
      deps.push(target)
      if (rel === 'index.ts' && /^\s*export\b/.test(m[0]) && targetRel.split('/').includes('internal')) {
        problems.push(`${srcDir}/index.ts exports from ${targetRel}: nothing public lives in an internal folder`)
      }
      const targetRank = rankOf(targetRel)
      if (rank !== undefined && targetRank !== undefined && targetRank > rank) {
        problems.push(`${srcDir}/${rel} (${NAMES[srcDir][rank]}) imports ${targetRel} (${NAMES[srcDir][targetRank]}): a lower layer must not import a higher one`)
      }
    }
    graph.set(file, deps)
  }
}

// Cycles: depth-first search with colours; each cycle is reported once, by its path.
const state = new Map()
const stack = []
function visit(node) {
  state.set(node, 'active')
  stack.push(node)
  for (const dep of graph.get(node) ?? []) {
    if (!graph.has(dep)) continue
    if (state.get(dep) === 'active') {
      const cycle = stack.slice(stack.indexOf(dep)).concat(dep).map((f) => relative(root, f).split(sep).join('/'))
      problems.push(`import cycle: ${cycle.join(' → ')}`)
    } else if (!state.has(dep)) visit(dep)
  }
  stack.pop()
  state.set(node, 'done')
}
for (const node of graph.keys()) if (!state.has(node)) visit(node)

if (graph.size === 0) problems.push(`no sources under ${root} (wrong --root?)`)
if (problems.length > 0) {
  console.error(`layer check: ${problems.length} problem(s)`)
  for (const p of problems) console.error(`  ${p}`)
  process.exit(1)
}
console.log(`layer check: ${graph.size} files, imports point down the layers, no cycles`)
