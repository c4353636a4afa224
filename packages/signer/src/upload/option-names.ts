import { InvalidArgumentError } from '@partstream/core'
import type { BucketTarget } from '../http/context.ts'

// Each entry point lists its option names as a record typed by its options' interface (see
// `UPLOAD_OPTION_NAMES` in options.ts): the compiler fails when an option is added to the
// interface and not to its list. Here: the check of a call's option names against such a list.

/** Option names as one set: of lists (`{ name: true, … }`, typed against an interface) and sets of them. */
export function optionNames(...parts: ReadonlyArray<object | ReadonlySet<string>>): ReadonlySet<string> {
  return new Set(parts.flatMap((part) => (part instanceof Set ? [...(part as ReadonlySet<string>)] : Object.keys(part))))
}

const TARGET: Record<keyof BucketTarget | 'key' | 'prefix', true> = {
  bucket: true,
  key: true,
  prefix: true,
  region: true,
  endpoint: true,
  forcePathStyle: true,
  credentials: true,
  profile: true,
  legacyBucketName: true,
}

/**
 * Names other libraries give these options (`@aws-sdk/lib-storage`'s `Upload`, the AWS SDK's
 * commands, the AWS CLI's config), for a migrant's first call.
 */
const ELSEWHERE: Readonly<Record<string, string>> = {
  queuesize: '`concurrency` (parts in flight)',
  abortcontroller: '`signal` (an AbortSignal: `controller.signal`)',
  abortsignal: '`signal`',
  checksumalgorithm: "`checksum` (e.g. 'CRC32')",
  maxattempts: '`retry: { attempts }`',
  tags: '`tagging` (a URL-encoded query string, e.g. "team=ops")',
  multipartchunksize: '`partSize`',
  multipartthreshold: '`partSize` (an upload that fits in one part is one PutObject)',
  maxconcurrentrequests: '`concurrency`',
  requesthandler: '`dispatcher` or `transport`',
  client: 'the target (`{ bucket, key, endpoint?, region?, credentials? }`): partstream sends its own requests, with no AWS SDK client',
  params: 'the target (`bucket`, `key`) and the object options (`contentType`, `metadata`, …) as options of their own',
}

/**
 * Refuses an option name that is surely a mistake, which would otherwise be ignored without a
 * word: a near miss of a real one (`concurency`, `partsize`: case aside, at most 2 edits), a
 * target field given as an option (`endpoint` in the options: the request would go to AWS), and
 * another library's name for one of ours (`queueSize`). Any other unknown name is let through: an
 * options object may carry the caller's own fields.
 */
export function checkOptionNames(options: object, known: ReadonlySet<string>, fn: string, target?: unknown): void {
  for (const name of Object.keys(options)) {
    if (known.has(name)) continue
    const lower = name.toLowerCase()
    if (Object.hasOwn(TARGET, name)) {
      const value = (options as Record<string, unknown>)[name]
      // One object for both (`upload(src, config, config)`), or the same value in both: no doubt.
      if (value === undefined || (typeof target === 'object' && target !== null && (target as Record<string, unknown>)[name] === value)) continue
      throw new InvalidArgumentError(`\`${name}\` is given in the options of ${fn}(), where it is ignored: it belongs in the target (the argument before the options).`)
    }
    const elsewhere = ELSEWHERE[lower]
    if (elsewhere !== undefined) throw new InvalidArgumentError(`Unknown option \`${name}\` of ${fn}() (another library's name): partstream's is ${elsewhere}.`)
    const near = nearest(lower, known)
    if (near !== undefined) throw new InvalidArgumentError(`Unknown option \`${name}\` of ${fn}(): did you mean \`${near}\`? A misspelled option would be ignored.`)
  }
}

/** The known name within 2 edits of `lower` (case aside; a third of its length at most), if one is. */
function nearest(lower: string, known: ReadonlySet<string>): string | undefined {
  const limit = Math.min(2, Math.floor(lower.length / 3))
  let best: { name: string; distance: number } | undefined
  for (const name of known) {
    const distance = editDistance(lower, name.toLowerCase(), limit)
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { name, distance }
  }
  return best?.name
}

/**
 * Optimal string alignment distance (insertions, deletions, substitutions, adjacent swaps), or
 * `limit + 1` once it must exceed `limit`.
 */
export function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1
  let before: number[] = []
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    let rowMin = i
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let d = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (before[j - 2] as number) + 1)
      current[j] = d
      rowMin = Math.min(rowMin, d)
    }
    if (rowMin > limit) return limit + 1
    before = previous
    previous = current
  }
  return previous[b.length] as number
}
