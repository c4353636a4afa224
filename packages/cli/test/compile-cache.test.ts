// Where the bin keeps Node's compile cache (V8's compiled code of main.js, Node 22.1+): in the
// user's own cache directory, never in os.tmpdir(). There it was `$TMPDIR/node-compile-cache`,
// which another local user can create first, world-writable, and then swap the cache file of
// main.js (Node checks it with CRC32s anyone can compute): their code ran as whoever ran partstream.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import * as nodeModule from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, describe, test } from 'node:test'
import { command, runtime } from './bin.ts'

const dir = mkdtempSync(join(tmpdir(), 'partstream-compile-cache-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** Whether the bin turns the cache on here: Node 22.1+ (Node 20 has no such API; Deno and Bun are not Node). */
const cached = runtime === 'node' && typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache === 'function'

/** `partstream --version` with its own TMPDIR and XDG_CACHE_HOME (fresh unless given) and `env`. */
function version(name: string, env: Record<string, string> = {}, xdg = join(dir, name, 'xdg')): { tmp: string; xdg: string } {
  const tmp = join(dir, name, 'tmp')
  for (const d of [tmp, xdg]) mkdirSync(d, { recursive: true })
  const r = spawnSync(command[0] as string, [...command.slice(1), '--version'], {
    env: { PATH: process.env['PATH'] ?? '', HOME: join(dir, name, 'home'), TMPDIR: tmp, XDG_CACHE_HOME: xdg, ...env },
    encoding: 'utf8',
  })
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /^partstream \d/)
  return { tmp, xdg }
}

/** Every path under `dir`, relative (none when it does not exist). */
const contents = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String).sort() : [])

describe('the compile cache', { skip: process.platform === 'win32' && 'modes and owners are POSIX' }, () => {
  test(`${cached ? 'in $XDG_CACHE_HOME/partstream/compile-cache, mode 0700' : 'none'} on ${runtime} ${process.version}; nothing in TMPDIR`, () => {
    const { tmp, xdg } = version('fresh')
    assert.deepEqual(contents(tmp), [], 'TMPDIR is left alone')
    const cache = join(xdg, 'partstream', 'compile-cache')
    if (!cached) {
      // (Deno keeps its own cache in $XDG_CACHE_HOME/deno.)
      assert.deepEqual(contents(join(xdg, 'partstream')), [], 'no cache directory where there is no cache')
      return
    }
    for (const d of [join(xdg, 'partstream'), cache]) assert.equal(statSync(d).mode & 0o777, 0o700, d)
    assert.ok(contents(cache).length > 0, `V8's code was written to ${cache}`)
  })

  test("a cache directory other users can write to, or another user's, is not used (nor TMPDIR instead)", () => {
    for (const how of ['world-writable', 'another owner'] as const) {
      if (how === 'another owner' && process.getuid?.() !== 0) continue // chown needs root
      const name = how.replace(' ', '-')
      const xdg = join(dir, name, 'xdg')
      const cache = join(xdg, 'partstream', 'compile-cache')
      mkdirSync(cache, { recursive: true, mode: 0o700 })
      // As another user would leave it (mkdir's mode is cut by the umask).
      if (how === 'world-writable') chmodSync(cache, 0o777)
      else for (const d of [cache, dirname(cache)]) chownSync(d, 65534, 65534)
      const { tmp } = version(name, {}, xdg)
      assert.deepEqual(contents(cache), [], `${how}: nothing written into it`)
      assert.deepEqual(contents(tmp), [], how)
      assert.equal(statSync(cache).mode & 0o777, how === 'world-writable' ? 0o777 : 0o700, 'and left as it was')
    }
  })

  test('nor one inside a partstream directory other users can write to', () => {
    const xdg = join(dir, 'open-parent', 'xdg')
    mkdirSync(join(xdg, 'partstream'), { recursive: true })
    chmodSync(join(xdg, 'partstream'), 0o777)
    const { tmp } = version('open-parent', {}, xdg)
    assert.deepEqual(contents(join(xdg, 'partstream', 'compile-cache')), [], 'nothing written inside it')
    assert.deepEqual(contents(tmp), [])
  })

  test("NODE_COMPILE_CACHE is the user's choice; NODE_DISABLE_COMPILE_CACHE turns it off", () => {
    const chosen = join(dir, 'chosen')
    const a = version('env-chosen', { NODE_COMPILE_CACHE: chosen })
    assert.deepEqual(contents(join(a.xdg, 'partstream')), [], 'nothing made in the default place')
    assert.deepEqual(contents(a.tmp), [])
    if (cached) assert.ok(contents(chosen).length > 0, `the cache is in ${chosen}`)
    const b = version('env-disabled', { NODE_DISABLE_COMPILE_CACHE: '1' })
    assert.deepEqual(contents(join(b.xdg, 'partstream')), [])
    assert.deepEqual(contents(b.tmp), [])
  })
})
