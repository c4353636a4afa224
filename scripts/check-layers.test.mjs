// Proof that the layer check fails CI on a wrong-way import and on a cycle (run by `pnpm lint`).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const script = fileURLToPath(new URL('check-layers.mjs', import.meta.url))

function check(...args) {
  const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' })
  return { status: r.status, out: r.stdout + r.stderr }
}

/** Writes `files` (path → source) under a fresh temp dir, runs the check on it, removes it. */
function checkTree(files) {
  const dir = mkdtempSync(join(tmpdir(), 'check-layers-'))
  try {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true })
      writeFileSync(join(dir, path), text)
    }
    return check('--root', dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const S = 'packages/signer/src'

test('the repository passes', () => {
  const r = check()
  assert.equal(r.status, 0, r.out)
  assert.match(r.out, /no cycles/)
})

test('a clean fixture passes', () => {
  const r = checkTree({
    [`${S}/errors.ts`]: 'export class E extends Error {}\n',
    [`${S}/http/send.ts`]: "import { E } from '../errors.ts'\nexport const send = () => new E()\n",
    [`${S}/index.ts`]: "export { send } from './http/send.ts'\n",
  })
  assert.equal(r.status, 0, r.out)
})

test('a lower layer importing a higher one fails, naming both files', () => {
  const r = checkTree({
    [`${S}/http/send.ts`]: "import { up } from '../upload/run.ts'\nexport const send = up\n",
    [`${S}/upload/run.ts`]: 'export const up = 1\n',
  })
  assert.equal(r.status, 1, r.out)
  assert.match(r.out, /packages\/signer\/src\/http\/send\.ts \(http\/\) imports upload\/run\.ts \(upload\/\): a lower layer must not import a higher one/)
})

test('an import cycle fails, naming its path', () => {
  const r = checkTree({
    [`${S}/operations/a.ts`]: "import { b } from './b.ts'\nexport const a = b\n",
    [`${S}/operations/b.ts`]: "export { a as b } from './a.ts'\n",
  })
  assert.equal(r.status, 1, r.out)
  assert.match(r.out, /import cycle: packages\/signer\/src\/operations\/a\.ts → packages\/signer\/src\/operations\/b\.ts → packages\/signer\/src\/operations\/a\.ts/)
})

test('a public export from an internal folder fails', () => {
  const r = checkTree({
    ['packages/core/src/internal/sha.ts']: 'export const sha = 1\n',
    ['packages/core/src/index.ts']: "export { sha } from './internal/sha.ts'\n",
  })
  assert.equal(r.status, 1, r.out)
  assert.match(r.out, /packages\/core\/src\/index\.ts exports from internal\/sha\.ts: nothing public lives in an internal folder/)
})

test('a file in no layer and an empty root fail', () => {
  assert.match(checkTree({ [`${S}/misc/x.ts`]: 'export {}\n' }).out, /misc\/x\.ts: in no layer/)
  const r = checkTree({})
  assert.equal(r.status, 1, r.out)
  assert.match(r.out, /no sources/)
})
