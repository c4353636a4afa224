#!/usr/bin/env node
// Checks that every package's `exports` points at files the build produced (unstorage's
// validatePkg, hono's validate-exports): a broken export map fails CI, not a user's install.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
let bad = 0
for (const pkg of ['packages/core', 'packages/signer', 'packages/cli']) {
  const manifest = JSON.parse(readFileSync(join(root, pkg, 'package.json'), 'utf8'))
  for (const [subpath, conditions] of Object.entries(manifest.exports)) {
    for (const [condition, file] of Object.entries(conditions)) {
      // The .ts sources are this workspace's own condition: `development` is the community's,
      // which consumers' tools set (webpack's development mode, `node --conditions=development`
      // in their monorepo), and they were handed our .ts files (ERR_UNKNOWN_FILE_EXTENSION).
      if (condition === 'development' || condition === 'production') {
        console.log(`${manifest.name}${subpath.slice(1)} [${condition}]: a condition consumers' tools set; scope it (@partstream/source)`)
        bad++
      }
      const ok = existsSync(join(root, pkg, file))
      if (!ok) bad++
      console.log(`${ok ? 'ok  ' : 'MISSING'} ${manifest.name}${subpath.slice(1)} [${condition}] -> ${file}`)
    }
  }
  if (manifest.type !== 'module' || manifest.sideEffects !== false) {
    console.log(`${manifest.name}: expected "type": "module" and "sideEffects": false`)
    bad++
  }
}
process.exit(bad === 0 ? 0 : 1)
