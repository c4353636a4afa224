#!/usr/bin/env node
// `pnpm build`: `tsc -b` (every package's dist/), then the CLI's bin as one bundled file.
//
// Why the CLI ships bundled (packages/cli/dist/bin/partstream.js, with the hash worker beside it):
// a CLI pays its start-up on every run, and Node's ESM loader pays per module (resolve, stat,
// read, compile, link). The CLI is ~100 of our modules plus ~40 of its dependencies'. Measured on
// Node 20 here, `partstream --version`: 0.36 s and 70 MiB from tsc's files, 0.22 s and 52 MiB
// from the bundle (bare `node -e 0`: 0.11 s, 40 MiB); for `cp` of 1 GiB the difference is the
// same 0.14 s of one core, a tenth of the whole run. The library packages stay unbundled (their
// users bundle, or not, themselves).
//
// Usage: node scripts/build.mjs [--no-tsc]
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const SHEBANG = '#!/usr/bin/env node'

if (!process.argv.includes('--no-tsc')) {
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b'], { cwd: root, stdio: 'inherit' })
  if (tsc.status !== 0) process.exit(tsc.status ?? 1)
}

const outdir = join(root, 'packages/cli/dist/bin')
rmSync(outdir, { recursive: true, force: true })
const { metafile } = await build({
  entryPoints: {
    // The bin is two files: `partstream.js` (bin.ts: V8 flags, Node's compile cache) loads
    // `main.js` (everything else) only after them, so that the cache covers the big one.
    partstream: join(root, 'packages/cli/dist/src/bin.js'),
    main: join(root, 'packages/cli/dist/src/main.js'),
    // hash-pool.ts starts workers from `new URL('./hash-worker.js', import.meta.url)`: beside the bin.
    'hash-worker': join(root, 'packages/signer/dist/src/upload/hash-worker.js'),
  },
  outdir,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.18',
  // The dependencies' ES module builds, which esbuild can tree-shake: @smithy/signature-v4 imports
  // three helpers from @smithy/core, whose CommonJS build brings 138 kB of it (5 kB this way).
  mainFields: ['module', 'main'],
  conditions: ['module'],
  // undici and the smithy packages are CommonJS and `require` Node's modules: give the bundle a require.
  banner: { js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);" },
  // Minified: V8 keeps each script's source in the heap (1.15 MB unminified, 0.46 MB minified here). Names kept, since
  // messages and `error.name` use class names.
  minify: true,
  keepNames: true,
  // Their license comments go to one file beside the bin, with the packages' LICENSE texts (below).
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
  plugins: [
    {
      name: 'partstream-cli',
      setup(b) {
        // bin.ts's `import('./main.js')` stays an import of the `main.js` built beside it.
        b.onResolve({ filter: /^\.\/main\.js$/ }, (args) => (args.importer.endsWith('bin.js') ? { path: './main.js', external: true } : undefined))
        // undici's HTTP/2 client loads node:http2 at start-up (10 ms here) for its constants;
        // the CLI never allows HTTP/2 (undici's `allowH2` is off), and undici itself falls back
        // to `{ constants: {} }` where node:http2 is missing: the bundle gets that fallback.
        b.onResolve({ filter: /^node:http2$/ }, () => ({ path: 'http2', namespace: 'partstream-no-http2' }))
        b.onLoad({ filter: /.*/, namespace: 'partstream-no-http2' }, () => ({ contents: 'module.exports = { constants: {} }', loader: 'js' }))
      },
    },
  ],
})

// The bin's first line, whatever esbuild kept of bin.ts's: see packages/cli/src/bin.ts for why.
const bin = join(outdir, 'partstream.js')
const text = readFileSync(bin, 'utf8').replace(/^#!.*\n/, '')
writeFileSync(bin, `${SHEBANG}\n${text}`, { mode: 0o755 })

// The bundle carries code of other packages: their names, versions, licenses and license texts go
// beside it (THIRD-PARTY-LICENSES.txt), as their licenses (MIT, Apache-2.0, 0BSD) ask of copies.
const packages = new Map()
for (const input of Object.keys(metafile.inputs)) {
  const at = input.lastIndexOf('node_modules/')
  if (at === -1) continue
  const rest = input.slice(at + 'node_modules/'.length).split('/')
  const dir = join(root, input.slice(0, at), 'node_modules', ...rest.slice(0, rest[0].startsWith('@') ? 2 : 1))
  if (packages.has(dir)) continue
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  const licenseFile = readdirSync(dir).find((name) => /^(licen[cs]e|copying)(\.|$)/i.test(name))
  packages.set(dir, { name: manifest.name, version: manifest.version, license: manifest.license, text: licenseFile === undefined ? undefined : readFileSync(join(dir, licenseFile), 'utf8').trim() })
}
const notices = [...packages.values()]
  .sort((a, b) => a.name.localeCompare(b.name))
  .map((p) => `${p.name}@${p.version} (${p.license})\n\n${p.text ?? `License: ${p.license}; the package ships no license file.`}\n`)
writeFileSync(
  join(outdir, 'THIRD-PARTY-LICENSES.txt'),
  `partstream.js and hash-worker.js bundle code from these packages:\n\n${notices.join(`\n${'-'.repeat(72)}\n\n`)}`,
)
