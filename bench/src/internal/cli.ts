import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { KiB, MiB } from './units.ts'

/** Parses `1,4,16` into positive integers. */
export function intList(value: string, name: string): number[] {
  const list = value.split(',').map((s) => Number(s.trim()))
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--${name}: expected positive integers like 1,4,16, got "${value}"`)
  return list
}

/** Parses `a,b` into members of `allowed`. */
export function enumList<T extends string>(value: string, name: string, allowed: readonly T[]): T[] {
  const list = value.split(',').map((s) => s.trim())
  for (const item of list) {
    if (!(allowed as readonly string[]).includes(item)) throw new Error(`--${name}: expected some of ${allowed.join(',')}, got "${item}"`)
  }
  return list as T[]
}

export function positiveNumber(value: string, name: string): number {
  const n = Number(value)
  if (!(n > 0) || !Number.isFinite(n)) throw new Error(`--${name}: expected a positive number, got "${value}"`)
  return n
}

/**
 * The node:util `parseArgs` options the upload benchmarks (e2e, memory) share; each passes the
 * defaults that differ and adds its own flags. `matrixSettings` reads them.
 */
export function matrixOptions(defaults: { readonly modes: string; readonly sources: string; readonly libs: string }) {
  return {
    quick: { type: 'boolean', default: false },
    pin: { type: 'boolean', default: false },
    concurrency: { type: 'string' },
    modes: { type: 'string', default: defaults.modes },
    sources: { type: 'string', default: defaults.sources },
    libs: { type: 'string', default: defaults.libs },
    'part-size': { type: 'string', default: '6' },
    chunk: { type: 'string', default: '64' },
    out: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    tag: { type: 'string' },
  } as const
}

/** `--concurrency` (default 1,4,16; 1,4 with `--quick`), `--part-size <MiB>`, `--chunk <KiB>` and where results go. */
export function matrixSettings(args: {
  readonly quick: boolean
  readonly concurrency?: string | undefined
  readonly 'part-size': string
  readonly chunk: string
  readonly out?: string | undefined
  readonly 'no-write': boolean
}): { concurrencies: number[]; partSizeBytes: number; chunkBytes: number; write: boolean; outDir: string | undefined } {
  return {
    concurrencies: intList(args.concurrency ?? (args.quick ? '1,4' : '1,4,16'), 'concurrency'),
    partSizeBytes: Math.round(positiveNumber(args['part-size'], 'part-size') * MiB),
    chunkBytes: Math.round(positiveNumber(args.chunk, 'chunk') * KiB),
    ...resultsDestination(args),
  }
}

/**
 * Whether and where results are written: `--quick` writes nothing unless `--out <dir>` is given,
 * `--no-write` never writes; `outDir` undefined means bench/results/.
 */
export function resultsDestination(args: { readonly quick: boolean; readonly out?: string | undefined; readonly 'no-write': boolean }): {
  write: boolean
  outDir: string | undefined
} {
  return {
    write: !args['no-write'] && (!args.quick || args.out !== undefined),
    outDir: args.out === undefined ? undefined : args.out.replace(/\/?$/, '/'),
  }
}

/** bench/results/, next to the package (the compiled scripts live in bench/dist/src/). */
export const RESULTS_DIR: string = fileURLToPath(new URL('../../../results/', import.meta.url))

/** `2025-11-25T17-02-11Z`: sortable and safe in file names. */
export function stamp(iso: string): string {
  return iso.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-')
}

/**
 * Writes `<prefix><stamp>.json` and `<prefix>latest.md` under bench/results/ (`-<tag>` appended
 * to both names when a run covers part of the matrix); returns the paths.
 */
export function writeResults(prefix: string, date: string, json: unknown, markdown: string, dir = RESULTS_DIR, tag?: string): string[] {
  mkdirSync(dir, { recursive: true })
  const suffix = tag === undefined ? '' : `-${tag.replace(/[^\w.-]+/g, '_')}`
  const jsonPath = `${dir}${prefix}${stamp(date)}${suffix}.json`
  const mdPath = `${dir}${prefix}latest${suffix}.md`
  writeFileSync(jsonPath, `${JSON.stringify(json, null, 2)}\n`)
  writeFileSync(mdPath, `${markdown}\n`)
  return [jsonPath, mdPath]
}

/** Removes the temp file on Ctrl-C too. */
export function onInterrupt(cleanup: () => void): void {
  const handler = (): void => {
    cleanup()
    process.exit(130)
  }
  process.once('SIGINT', handler)
  process.once('SIGTERM', handler)
}
