// How the CLI tests run the bin: the built bundle when the tests run from dist (Node 20), else
// the .ts sources with the @partstream/source condition (Node 22+, Deno, Bun).
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** This folder: the tests' own (src/../test or dist/test). */
export const here = fileURLToPath(new URL('.', import.meta.url))
/** Whether the tests run from dist (then the bin is the bundle). */
export const built = here.includes(`${'/dist/'}`)
export const bin = built ? join(here, '../bin/partstream.js') : join(here, '../src/bin.ts')

export const runtime: 'deno' | 'bun' | 'node' =
  typeof (globalThis as { Deno?: unknown }).Deno === 'object' ? 'deno' : typeof (globalThis as { Bun?: unknown }).Bun === 'object' ? 'bun' : 'node'

/** How this runtime runs the bin. */
export const command: readonly string[] = built
  ? [process.execPath, bin]
  : runtime === 'deno'
    ? [process.execPath, 'run', '-A', '--conditions=@partstream/source', bin]
    : [process.execPath, '--conditions=@partstream/source', bin]
