// The declarations the packages ship (`dist/src/**/*.d.ts`) load on every TypeScript a consumer may
// have, not only ours: typed arrays are generic (`Uint8Array<ArrayBuffer>`) only since TS 5.7, and an
// older TS with the default `skipLibCheck: false` fails on such a declaration with TS2315 ("Type
// 'Uint8Array' is not generic"). Runs from the built tests (dist/test: node20), where the
// declarations are the ones `tsc -b` has just written beside them.
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'

const fromDist = import.meta.url.includes('/dist/')

/** The repository's root: the first directory above this test holding pnpm-workspace.yaml. */
function repositoryRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dirname(dir) !== dir; dir = dirname(dir)) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir
  }
  throw new Error('no pnpm-workspace.yaml above this test')
}

function declarations(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) declarations(path, out)
    else if (entry.name.endsWith('.d.ts')) out.push(path)
  }
  return out
}

/** The text with its comments blanked out, newlines kept. */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, (comment) => comment.replace(/[^\n]/g, ' ')).replace(/^\s*\/\/.*$/gm, '')
}

/** A typed array or DataView with a type argument: TS ≥ 5.7 only. */
const GENERIC_BUFFER_VIEW = /\b(?:(?:Uint8|Uint8Clamped|Int8|Uint16|Int16|Uint32|Int32|Float16|Float32|Float64|BigInt64|BigUint64)Array|DataView)</

// Registered only where the tests run from dist (node20), so the other runtimes do not count it as skipped.
if (fromDist) describe('shipped declarations', () => {
  test('no dist/src/**/*.d.ts of any package names a typed array with a type argument (TS < 5.7: TS2315)', () => {
    const root = repositoryRoot()
    const files = readdirSync(join(root, 'packages')).flatMap((name) => {
      const src = join(root, 'packages', name, 'dist', 'src')
      return existsSync(src) ? declarations(src) : []
    })
    assert.ok(files.some((f) => f.endsWith(join('signer', 'dist', 'src', 'index.d.ts'))), 'the signer was built')
    const found: string[] = []
    for (const file of files) {
      // Comments (the JSDoc tsc copies over) may name the type; only declarations count. Each
      // comment keeps its newlines, so the line numbers stay the file's.
      withoutComments(readFileSync(file, 'utf8'))
        .split('\n')
        .forEach((line, i) => {
          if (GENERIC_BUFFER_VIEW.test(line)) found.push(`${relative(root, file)}:${i + 1}: ${line.trim()}`)
        })
    }
    assert.deepEqual(found, [], 'declare Uint8Array (or `Uint8Array & { readonly buffer: ArrayBuffer }`) instead')
  })
})
