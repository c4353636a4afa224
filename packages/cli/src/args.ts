import { parseArgs, type ParseArgsConfig } from 'node:util'
import { MAX_OBJECT_SIZE_BYTES } from '@partstream/core'
import { InvalidArgumentError, resolveS3Config, validateObjectOptions, type ChecksumAlgorithm, type ObjectOptions } from '@partstream/signer'
import { globToRegExp, type PathRule } from './filters.ts'

/** A command line that cannot be run: exit 2, nothing sent. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** Options every command takes (where it sends, and how it reports). */
export interface CommonOptions {
  readonly endpointUrl: string | undefined
  readonly region: string | undefined
  readonly profile: string | undefined
  readonly forcePathStyle: boolean
  /** `--ca-bundle FILE`: the CAs to trust (else AWS_CA_BUNDLE, else the profile's ca_bundle). */
  readonly caBundle: string | undefined
  /** `--cli-read-timeout SECONDS` (the AWS CLI's): the library's `idleTimeoutMs`; 0 is none. */
  readonly readTimeoutMs: number | undefined
  readonly json: boolean
  readonly quiet: boolean
}

export interface CpCommand extends CommonOptions {
  readonly command: 'cp'
  readonly src: string
  readonly dst: string
  readonly recursive: boolean
  readonly concurrency: number | undefined
  /** `--hash-threads`: worker threads hashing the parts of a file or of stdin (`-r` hashes inline). */
  readonly hashThreads: number | 'auto'
  /** `--payload`: `unsigned` sends UNSIGNED-PAYLOAD (no SHA-256; for HTTPS, best with `--checksum`). */
  readonly payload: 'sha256' | 'unsigned' | undefined
  readonly partSize: number | undefined
  readonly sizeHint: number | undefined
  readonly contentType: string | undefined
  /**
   * `--cache-control`, `--content-disposition`, `--content-encoding`, `--storage-class`, `--acl`,
   * `--tag`, `--sse`, `--sse-kms-key-id`: the library's object options of those names, only the
   * ones given (what CreateMultipartUpload fixes for good).
   */
  readonly objectSettings: ObjectSettings
  readonly metadata: Readonly<Record<string, string>> | undefined
  readonly ifNoneMatch: boolean
  /** `--checksum`: S3's name, upper case. */
  readonly checksum: ChecksumAlgorithm | undefined
  readonly contentMd5: boolean
  readonly progress: 'bar' | 'json' | 'none' | undefined
  /** `--no-resume`: a file upload does not resume an interrupted one (that one is aborted); it starts over, with a new checkpoint. */
  readonly noResume: boolean
  /** `--exclude` / `--include` (with -r), in command-line order: the last rule matching a file decides. */
  readonly rules: readonly PathRule[]
  /** `--skip-existing size|etag` (with -r): files S3 already holds are not sent. */
  readonly skipExisting: 'size' | 'etag' | undefined
  /** `--dryrun`: print what would be uploaded; read nothing, send nothing. */
  readonly dryrun: boolean
  /** `--follow-symlinks` (with -r): upload what links point to, instead of skipping links. */
  readonly followSymlinks: boolean
}

/** The object options `cp` passes through from flags of the same names. */
export type ObjectSettings = Pick<ObjectOptions, 'cacheControl' | 'contentDisposition' | 'contentEncoding' | 'storageClass' | 'acl' | 'tagging' | 'serverSideEncryption' | 'sseKmsKeyId'>

export interface UploadsCommand extends CommonOptions {
  readonly command: 'uploads-ls' | 'uploads-abort'
  readonly url: string
  readonly olderThanMs: number | undefined
}

export type Command = CpCommand | UploadsCommand | { readonly command: 'help'; readonly topic: string | undefined } | { readonly command: 'version' }

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1000, kib: 1024, m: 1024 ** 2, mb: 1000 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1000 ** 3, gib: 1024 ** 3, t: 1024 ** 4, tb: 1000 ** 4, tib: 1024 ** 4 }

/** A table's own entry: `constructor` or `__proto__` are not units, flags or names. */
function ownValue<T>(table: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined
}

/** `8MiB`, `512KiB`, `1.5GiB`, `1048576` → bytes (binary units; `MB` is 10^6). */
export function parseSize(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim())
  const unit = m === null ? undefined : ownValue(UNITS, (m[2] ?? '').toLowerCase())
  if (m === null || unit === undefined) throw new UsageError(`${flag}: expected a size such as 8MiB, 512KiB or 1GiB, got "${text}"`)
  const bytes = Math.round(Number(m[1]) * unit)
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`${flag}: ${text} is too large`)
  return bytes
}

/** `24h`, `30m`, `7d`, `90s` → milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim())
  if (m === null) throw new UsageError(`${flag}: expected a duration such as 24h, 30m, 7d, got "${text}"`)
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd']
  return Math.round(Number(m[1]) * unit)
}

const COMMON = {
  'endpoint-url': { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  'force-path-style': { type: 'boolean' },
  'ca-bundle': { type: 'string' },
  'cli-read-timeout': { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  // The AWS CLI's name for --quiet, so its command lines run unchanged.
  'only-show-errors': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

function common(values: Record<string, unknown>): CommonOptions {
  const options: CommonOptions = {
    endpointUrl: values['endpoint-url'] as string | undefined,
    region: values['region'] as string | undefined,
    profile: values['profile'] as string | undefined,
    forcePathStyle: values['force-path-style'] === true,
    caBundle: values['ca-bundle'] as string | undefined,
    readTimeoutMs: readTimeoutOf(values['cli-read-timeout']),
    json: values['json'] === true,
    quiet: values['quiet'] === true || values['only-show-errors'] === true,
  }
  checkEndpointUrl(options)
  return options
}

/**
 * An endpoint URL with credentials in it (`http://user:pass@host`), a query or a fragment: a usage
 * error naming where the URL came from, `--endpoint-url` or what the library resolved it from
 * (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's endpoint_url and its file). The library
 * refuses it too, but its message can only say `endpoint`, which the CLI spells `--endpoint-url`:
 * a user who gave no such flag was sent looking for one. The URL itself is not quoted (a password).
 * A configuration the library cannot resolve is left to it (it names the source then).
 */
function checkEndpointUrl(c: CommonOptions): void {
  let endpoint: string | URL | undefined = c.endpointUrl
  let source = '--endpoint-url'
  if (endpoint === undefined) {
    try {
      const resolved = resolveS3Config({ region: c.region, profile: c.profile })
      endpoint = resolved.endpoint
      source = `the endpoint from ${resolved.endpointSource}`
    } catch {
      return
    }
  }
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    return
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new UsageError(`Expected ${source} without query, fragment or credentials in the URL; give credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or a profile (--profile).`)
  }
}

interface Parsed {
  readonly values: Record<string, unknown>
  readonly positionals: string[]
  /** The options in command-line order (for flags whose order matters: --exclude, --include). */
  readonly options: readonly { readonly name: string; readonly value: string | undefined }[]
}

function parse(command: string, args: readonly string[], options: NonNullable<ParseArgsConfig['options']>): Parsed {
  try {
    const { values, positionals, tokens } = parseArgs({ args: [...args], options, allowPositionals: true, strict: true, tokens: true })
    const ordered = tokens.flatMap((t) => (t.kind === 'option' ? [{ name: t.name, value: t.value }] : []))
    return { values, positionals, options: ordered }
  } catch (error) {
    // parseArgs' own advice for an unknown option is about positionals that start with '-' (with
    // an unbalanced quote); a typo or an AWS CLI flag we lack is likelier.
    const unknown = /^Unknown option '(-{1,2}[^']*)'/.exec((error as Error).message)?.[1]
    if (unknown !== undefined) {
      const flag = unknown.split('=')[0] as string
      if (AWS_CLI_ONLY.has(flag)) throw new UsageError(`${command}: ${flag} is an \`aws s3 ${command}\` flag partstream does not have; partstream ${command} --help lists what it takes`)
      const near = closestFlag(unknown, Object.keys(options))
      throw new UsageError(`${command}: unknown option ${unknown}${near === undefined ? '' : ` (did you mean --${near}?)`}; partstream ${command} --help lists them`)
    }
    // One line, as every usage error: parseArgs says some things in three (`--part-size -1`).
    throw new UsageError((error as Error).message.replace(/\s*\n\s*/g, ' '))
  }
}

/** The flag within two edits of `given` (`--metdata` → `metadata`), if one is. */
function closestFlag(given: string, names: readonly string[]): string | undefined {
  const word = given.replace(/^-+/, '')
  let best: { name: string; distance: number } | undefined
  for (const name of names) {
    const distance = editDistance(word, name)
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { name, distance }
  }
  return best?.name
}

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) row[j] = Math.min((previous[j] as number) + 1, (row[j - 1] as number) + 1, (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1))
    previous = row
  }
  return previous[b.length] as number
}

/** The longest idle timeout (setTimeout's limit, ~24.8 days): `--cli-read-timeout 0`, "none". */
const NO_READ_TIMEOUT_MS = 2_147_483_647

/** `--cli-read-timeout SECONDS`: whole seconds as the AWS CLI takes them, 0 for no timeout. */
function readTimeoutOf(text: unknown): number | undefined {
  const seconds = integer(text, '--cli-read-timeout', 0, Math.floor(NO_READ_TIMEOUT_MS / 1000))
  return seconds === undefined ? undefined : seconds === 0 ? NO_READ_TIMEOUT_MS : seconds * 1000
}

function integer(text: unknown, flag: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined
  // Decimal digits only: Number() also takes `0x2`, `1e1` and ` 4 `.
  const n = typeof text === 'string' && /^\d+$/.test(text) ? Number(text) : Number.NaN
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag}: expected an integer from ${min} to ${max}, got "${String(text)}"`)
  return n
}

/** Parses `argv` (without the node and script paths). */
export function parseCommand(argv: readonly string[]): Command {
  const [first, ...rest] = argv
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') return { command: 'help', topic: rest[0] }
  if (first === '--version' || first === '-V') return { command: 'version' }
  if (first === 'cp') return parseCp(rest)
  if (first === 'uploads') return parseUploads(rest)
  throw new UsageError(`unknown command "${first}": expected cp or uploads (partstream --help)`)
}

/**
 * The AWS CLI's spellings of flags partstream has under its own names, so that an `aws s3 cp`
 * line moved over runs (they were unknown options): `--checksum-algorithm X` is `--checksum X`,
 * `--no-follow-symlinks` is the default (dropped), and a bare `--sse` (no value, as its argparse
 * `nargs='?'` takes it: the next argument is its value unless it looks like a flag) is AES256.
 */
function awsCliSpellings(args: readonly string[]): { args: string[]; noFollow: boolean } {
  const out: string[] = []
  let noFollow = false
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string
    if (arg === '--') {
      out.push(...args.slice(i))
      break
    }
    if (arg === '--no-follow-symlinks') noFollow = true
    else if (arg === '--checksum-algorithm' || arg.startsWith('--checksum-algorithm=')) out.push(arg.replace('--checksum-algorithm', '--checksum'))
    else if (arg === '--sse' && (i + 1 >= args.length || (args[i + 1] as string).startsWith('-'))) out.push('--sse=AES256')
    else out.push(arg)
  }
  return { args: out, noFollow }
}

/** AWS CLI `s3 cp` flags partstream does not have: named as such, rather than as a typo. */
const AWS_CLI_ONLY = new Set(['--expires', '--content-language', '--website-redirect', '--grants', '--sse-c', '--sse-c-key', '--sse-c-copy-source', '--sse-c-copy-source-key', '--copy-props', '--no-guess-mime-type', '--request-payer', '--source-region', '--force-glacier-transfer', '--ignore-glacier-warnings', '--metadata-directive', '--cli-connect-timeout'])

function parseCp(given: readonly string[]): Command {
  const { args, noFollow } = awsCliSpellings(given)
  const { values, positionals, options } = parse('cp', args, {
    ...COMMON,
    recursive: { type: 'boolean', short: 'r' },
    exclude: { type: 'string', multiple: true },
    include: { type: 'string', multiple: true },
    'skip-existing': { type: 'string' },
    dryrun: { type: 'boolean' },
    'follow-symlinks': { type: 'boolean' },
    concurrency: { type: 'string' },
    'hash-threads': { type: 'string' },
    payload: { type: 'string' },
    'part-size': { type: 'string' },
    'size-hint': { type: 'string' },
    // The AWS CLI's names: --expected-size for --size-hint, --no-progress for --progress none.
    'expected-size': { type: 'string' },
    'no-progress': { type: 'boolean' },
    acl: { type: 'string' },
    tag: { type: 'string', multiple: true },
    'content-type': { type: 'string' },
    'cache-control': { type: 'string' },
    'content-disposition': { type: 'string' },
    'content-encoding': { type: 'string' },
    'storage-class': { type: 'string' },
    sse: { type: 'string' },
    'sse-kms-key-id': { type: 'string' },
    metadata: { type: 'string', multiple: true },
    'if-none-match': { type: 'boolean' },
    checksum: { type: 'string' },
    'content-md5': { type: 'boolean' },
    progress: { type: 'string' },
    'no-resume': { type: 'boolean' },
  })
  if (values['help'] === true) return { command: 'help', topic: 'cp' }
  if (positionals.length !== 2) throw new UsageError(`cp: expected <src> <dst>, got ${positionals.length} argument(s) (partstream cp --help)`)
  requireUtf8(positionals[0] as string, 'cp: the source', 'so the runtime cannot open it by this name: rename it (e.g. with convmv), or give its data on stdin (partstream cp - s3://bucket/key < FILE)')
  requireUtf8(positionals[1] as string, 'cp: the destination', 'and S3 keys are UTF-8 (the object would be written under another key): give the key in UTF-8')
  if (values['no-progress'] === true && values['progress'] !== undefined) throw new UsageError('--no-progress and --progress say the same thing twice: keep one')
  const progress = values['no-progress'] === true ? 'none' : (values['progress'] as string | undefined)
  if (progress !== undefined && progress !== 'bar' && progress !== 'json' && progress !== 'none') {
    throw new UsageError(`--progress: expected bar, json or none, got "${progress}"`)
  }
  // S3 lower-cases metadata names (x-amz-meta-K): K and k are the same one.
  const metadata = pairsOf(awsCliMap(values['metadata'], '--metadata'), '--metadata', (name) => name.toLowerCase())

  const recursive = values['recursive'] === true
  const rules = options.flatMap((o): PathRule[] => (o.name === 'exclude' || o.name === 'include' ? [{ kind: o.name, pattern: o.value ?? '' }] : []))
  for (const rule of rules) {
    if (!recursive) throw new UsageError(`--${rule.kind} selects files of a directory: add -r (cp -r <dir> s3://bucket/prefix/ --${rule.kind} '${rule.pattern}')`)
    try {
      globToRegExp(rule.pattern)
    } catch (error) {
      // The runtime's SyntaxError quotes the regular expression made of the pattern: keep only its reason.
      const message = (error as Error).message
      throw new UsageError(`--${rule.kind}: cannot use the pattern "${rule.pattern}": ${message.slice(message.lastIndexOf(': ') + 1).trim()}`)
    }
  }
  const skipExisting = values['skip-existing'] as string | undefined
  if (skipExisting !== undefined && skipExisting !== 'size' && skipExisting !== 'etag') {
    throw new UsageError(`--skip-existing: expected size or etag, got "${skipExisting}"`)
  }
  if (skipExisting !== undefined && !recursive) throw new UsageError('--skip-existing applies to a directory: add -r (a single file that was interrupted resumes by itself)')
  if (noFollow && values['follow-symlinks'] === true) throw new UsageError('--follow-symlinks and --no-follow-symlinks say opposite things: keep one')
  const followSymlinks = values['follow-symlinks'] === true
  if (followSymlinks && !recursive) throw new UsageError('--follow-symlinks applies to the links under a directory: add -r (a file given by a link is always read)')
  // Flags -r would ignore: a directory's files have known sizes, and a tree keeps no checkpoints.
  if (recursive) {
    for (const flag of ['size-hint', 'expected-size']) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} gives the size of stdin or a pipe; with -r every file's size is known: drop it`)
    }
    if (values['no-resume'] === true) throw new UsageError('--no-resume applies to a single file (cp FILE); -r keeps no checkpoints to resume from: drop it')
  }
  const dryrun = values['dryrun'] === true
  if (dryrun && skipExisting !== undefined) {
    throw new UsageError('--dryrun does not read the bucket, so it cannot tell which files --skip-existing would skip: drop one of them')
  }
  return {
    command: 'cp',
    ...common(values),
    src: positionals[0] as string,
    dst: positionals[1] as string,
    recursive,
    concurrency: integer(values['concurrency'], '--concurrency', 1, 1000),
    hashThreads: hashThreadsOf(values['hash-threads'] as string | undefined),
    payload: payloadOf(values['payload'] as string | undefined),
    partSize: values['part-size'] === undefined ? undefined : parseSize(values['part-size'] as string, '--part-size'),
    sizeHint: sizeHintOf(values),
    contentType: values['content-type'] as string | undefined,
    objectSettings: objectSettingsOf(values),
    metadata,
    ifNoneMatch: values['if-none-match'] === true,
    checksum: checksumOf(values['checksum'] as string | undefined),
    contentMd5: values['content-md5'] === true,
    progress,
    noResume: values['no-resume'] === true,
    rules,
    skipExisting,
    dryrun,
    followSymlinks,
  }
}

/**
 * A map flag as the AWS CLI takes it, as `name=value` strings: its shorthand `a=1,b=2` (split at
 * each comma that a `name=` follows, so `list=1,2` keeps its commas) or JSON `{"a":"1"}`; and
 * repeated flags. `aws s3 cp --metadata a=1,b=2` stores two entries, and so must its command line here.
 */
function awsCliMap(given: unknown, flag: string): Pair[] | undefined {
  if (given === undefined) return undefined
  return (given as string[]).flatMap((text) => {
    if (!text.trimStart().startsWith('{')) return shorthandMap(text, flag)
    let map: unknown
    try {
      map = JSON.parse(text)
    } catch {
      map = undefined
    }
    const entries = map !== null && typeof map === 'object' && !Array.isArray(map) ? Object.entries(map) : undefined
    if (entries === undefined || entries.some(([, value]) => typeof value !== 'string')) {
      throw new UsageError(`${flag}: expected a JSON object of strings such as {"owner":"ops"}, or name=value[,name=value]`)
    }
    // Pairs, not `name=value` text: a JSON name may hold `=` (a tag key may), which a split would cut.
    return entries.map(([name, value]): Pair => [name, value as string])
  })
}

/** One `--metadata` or `--tag` entry: [name, value]. */
type Pair = readonly [name: string, value: string]

// The AWS CLI's shorthand (awscli/shorthand.py), for a map of strings: the characters a key may
// have, a value may start with, and an unquoted value may go on with (a first one: `=` and `[`
// allowed; a later one of a comma-separated list: not `=`, which ends the list at the next key).
const SHORTHAND_KEY = /^[A-Za-z0-9\-_.#/:]*/
const FIRST_VALUE = /^(?:\\,|[!#-&(-+\--<>-Z\\-z|-\uffff])(?:\\,|[\s!#-&(-+\--\\^-|~-\uffff])*/
const SECOND_VALUE = /^(?:\\,|[!#-&(-+\--<>-Z\\-z|-\uffff])(?:\\,|[\s!#-&(-+\--<>-\uffff])*/
const QUOTED = { "'": /^'(?:\\'|[^'])*'/, '"': /^"(?:\\"|[^"])*"/ } as const

/**
 * `name=value[,name=value…]` as the AWS CLI parses it, as [name, value] pairs: a value may be
 * quoted (`a="x,y"` is `x,y`, quotes dropped, `\"` inside), `\,` is a comma, spaces around commas
 * are skipped, a value ends at a comma that a `name=` follows, and an empty item is skipped
 * (`a=1,,b=2`). A trailing comma, a missing `=`, or a nested list or map is a usage error. One
 * difference, on purpose: where the AWS CLI refuses `list=1,2,3` (a list where a string is
 * expected), the value is kept as typed.
 */
export function shorthandMap(text: string, flag: string): Pair[] {
  let at = 0
  const fail = (expected: string): never => {
    throw new UsageError(`${flag}: cannot parse "${text}" at character ${at + 1}: expected ${expected} (name=value[,name=value], as the AWS CLI takes it; quote a value with a comma: name="a,b")`)
  }
  const skipSpaces = (): void => {
    while (at < text.length && /\s/.test(text[at] as string)) at++
  }
  const expect = (char: string): void => {
    skipSpaces()
    if (text[at] !== char) fail(`"${char}"`)
    at++
    skipSpaces()
  }
  /** A quoted value at `at`, or an unquoted one matching `plain`; `undefined` when none starts here. */
  const value = (plain: RegExp): string | undefined => {
    const quote = text[at]
    if (quote === "'" || quote === '"') {
      const m = QUOTED[quote].exec(text.slice(at))
      if (m === null) return fail(`a closing ${quote}`)
      at += m[0].length
      return m[0].slice(1, -1).replaceAll(`\\${quote}`, quote).replaceAll('\\\\', '\\')
    }
    const m = plain.exec(text.slice(at))
    if (m === null) return undefined
    at += m[0].length
    return m[0].replaceAll('\\,', ',').trimEnd()
  }
  const pairs: Pair[] = []
  for (;;) {
    const key = (SHORTHAND_KEY.exec(text.slice(at)) as RegExpExecArray)[0]
    at += key.length
    expect('=')
    const start = at
    if (text[at] === '[' || text[at] === '{') fail('a string (not a list or a map)')
    const first = at >= text.length ? '' : (value(FIRST_VALUE) ?? '')
    let listed = false
    // Later items of a comma-separated list: each up to the next comma, until one is a `name=`.
    for (;;) {
      skipSpaces()
      if (at >= text.length || text[at] !== ',') break
      at++
      skipSpaces()
      if (at >= text.length) fail('a value after the comma')
      const item = value(SECOND_VALUE)
      skipSpaces()
      if (item === undefined || (at < text.length && text[at] !== ',')) {
        // Not an item: back to the last comma (this one, or an empty item's), which starts the next name=value.
        at = text.lastIndexOf(',', at)
        break
      }
      listed = true
    }
    pairs.push([key, listed ? text.slice(start, at).trimEnd() : first])
    if (at >= text.length) return pairs
    expect(',')
  }
}

/**
 * Repeated `name=value` flags (`--metadata`, `--tag`) as an object; `undefined` when none. A name
 * given twice (as `same` sees names) is a usage error: only one value could be sent.
 */
function pairsOf(given: readonly Pair[] | undefined, flag: string, same: (name: string) => string = (name) => name): Record<string, string> | undefined {
  let out: Record<string, string> | undefined
  const seen = new Map<string, string>()
  for (const [name, value] of given ?? []) {
    if (name === '') throw new UsageError(`${flag}: expected name=value, got "=${value}" (no name)`)
    const earlier = seen.get(same(name))
    if (earlier === name) throw new UsageError(`${flag}: "${name}" is given twice: keep one`)
    if (earlier !== undefined) throw new UsageError(`${flag}: "${earlier}" and "${name}" are the same name (S3 lower-cases it): keep one`)
    seen.set(same(name), name)
    // defineProperty: `__proto__` is a name S3 takes, which an assignment would drop.
    Object.defineProperty((out ??= {}), name, { value, enumerable: true, writable: true, configurable: true })
  }
  return out
}

/**
 * `--size-hint`, or the AWS CLI's `--expected-size` (bytes there; units here too). Past S3's
 * object size limit it is a usage error (the library's ObjectTooLargeError would fail the run
 * with exit 1); a regular file's own size replaces it (see `one`).
 */
function sizeHintOf(values: Record<string, unknown>): number | undefined {
  const hint = values['size-hint'] as string | undefined
  const expected = values['expected-size'] as string | undefined
  if (hint !== undefined && expected !== undefined) throw new UsageError('--size-hint and --expected-size are the same flag: keep one')
  const [text, flag] = hint !== undefined ? [hint, '--size-hint'] : [expected, '--expected-size']
  if (text === undefined) return undefined
  const bytes = parseSize(text, flag)
  if (bytes > MAX_OBJECT_SIZE_BYTES) throw new UsageError(`${flag}: ${text} is over S3's object size limit of 5 TiB (${MAX_OBJECT_SIZE_BYTES} bytes): split the data into several objects`)
  return bytes
}

/** The library's option (and target) names that a message may quote, as the CLI spells them. */
const FLAG_OF: Readonly<Record<string, string>> = {
  partSize: '--part-size',
  sizeHint: '--size-hint',
  concurrency: '--concurrency',
  hashThreads: '--hash-threads',
  checksum: '--checksum',
  contentMd5: '--content-md5',
  payload: '--payload',
  contentType: '--content-type',
  metadata: '--metadata',
  ifNoneMatch: '--if-none-match',
  endpoint: '--endpoint-url',
  forcePathStyle: '--force-path-style',
  idleTimeoutMs: '--cli-read-timeout',
  region: '--region',
  profile: '--profile',
  ca: '--ca-bundle',
  key: 'the object key',
  bucket: 'the bucket',
  cacheControl: '--cache-control',
  contentDisposition: '--content-disposition',
  contentEncoding: '--content-encoding',
  storageClass: '--storage-class',
  acl: '--acl',
  tagging: '--tag',
  serverSideEncryption: '--sse',
  sseKmsKeyId: '--sse-kms-key-id',
}

/**
 * The object settings flags, checked by the library's own rules (`validateObjectOptions`) here,
 * so that a bad one is a usage error (exit 2, nothing sent), not a failed upload.
 */
function objectSettingsOf(values: Record<string, unknown>): ObjectSettings {
  const text = (flag: string): string | undefined => values[flag] as string | undefined
  const given: Record<string, unknown> = {
    cacheControl: text('cache-control'),
    contentDisposition: text('content-disposition'),
    contentEncoding: text('content-encoding'),
    storageClass: text('storage-class'),
    acl: text('acl'),
    tagging: pairsOf(awsCliMap(values['tag'], '--tag'), '--tag'),
    serverSideEncryption: text('sse'),
    sseKmsKeyId: text('sse-kms-key-id'),
  }
  const settings = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as ObjectSettings
  try {
    validateObjectOptions(settings)
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error
    throw usageErrorOf(error)
  }
  return settings
}

/**
 * The library's advice that a CLI user cannot follow (options the CLI does not offer), as what
 * they can do instead; tried before the option names are mapped.
 */
const ADVICE_OF: readonly (readonly [RegExp, string])[] = [
  [/Invalid `bucket` name/g, 'Invalid bucket name'],
  [/for a server that accepts other names \(upper case, "_"\), set `legacyBucketName: true` in the target\./g, 'partstream cannot write to a bucket of another name (upper case, "_"), which only some servers accept.'],
  [/Pass `credentials` in the target, set /g, 'Set '],
  [/pass credentials in `credentials`/g, 'give them in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or a profile (--profile)'],
  // A part size over 5 GiB: lower it (the advice below is for too many parts).
  [/S3 rejects larger parts \(EntityTooLarge\); for huge streams use `partSize: adaptivePartSize\(\)`/g, 'S3 rejects larger parts (EntityTooLarge): give at most 5GiB'],
  // The CLI has no adaptive part size: raising it, or a size hint (which sizes the parts to fit), is what it offers.
  [/, or use `partSize: adaptivePartSize\(\)`/g, ''],
  [/use `partSize: adaptivePartSize\(\)`/g, 'raise --part-size, or give --size-hint with the expected total'],
  // The bin loads the AWS SDK's provider from where it is itself installed, not from the working
  // directory: for a global partstream, `npm install` in a project changed nothing.
  [/\(npm install @aws-sdk\/credential-provider-node\)/g, '(install @aws-sdk/credential-provider-node where partstream is installed: `npm install -g @aws-sdk/credential-provider-node` for a global partstream)'],
  [/npm install @aws-sdk\/credential-provider-node/g, 'install @aws-sdk/credential-provider-node where partstream is installed (`npm install -g @aws-sdk/credential-provider-node` for a global partstream)'],
  // Library options the CLI has no flag for, or spells otherwise.
  [/ \(or check the `now` option\)/g, ''],
  [/(pass|set) `?hashThreads: 0`?/g, '$1 --hash-threads 0'],
  // An upload an unanswered CreateMultipartUpload may have made, that could not be looked for.
  [
    /an empty upload of "((?:[^"\\]|\\.)*)" in bucket "([^"]*)" may remain; listMultipartUploads or abortStaleUploads with that prefix finds it/g,
    'an empty upload of "$1" in bucket "$2" may remain; `partstream uploads ls s3://$2/$1` lists it, `partstream uploads abort` removes it',
  ],
  // The CLI resumes from its checkpoint, not from an id the user gives.
  [/The upload id is unknown or was aborted or completed: check `resumeUploadId`, or start a new upload\./g, 'The upload was aborted or completed by someone else meanwhile (`partstream uploads abort`, or another run): run the command again to upload afresh.'],
]

/**
 * A library message as the CLI's user reads it: the options it quotes (`partSize`,
 * `metadata.owner`) named as the CLI's flags (`--part-size`, `--metadata owner`), and advice
 * about options the CLI does not have replaced (see `ADVICE_OF`).
 */
export function inCliTerms(message: string): string {
  let text = message
  for (const [pattern, replacement] of ADVICE_OF) text = text.replace(pattern, replacement)
  return text.replace(/`([\w.-]+)`/g, (quoted, option: string) => {
    if (option.startsWith('metadata.')) return `--metadata ${option.slice('metadata.'.length)}`
    return ownValue(FLAG_OF, option) ?? quoted
  })
}

/**
 * A library `InvalidArgumentError` (a bad option or target, raised before any request) as the
 * CLI's usage error: the same message, in the CLI's terms (`inCliTerms`).
 */
export function usageErrorOf(error: InvalidArgumentError): UsageError {
  return new UsageError(inCliTerms(error.message))
}

/** `--payload`, in any case (as `--checksum`: `UNSIGNED` is S3's own spelling, `UNSIGNED-PAYLOAD`). */
function payloadOf(text: string | undefined): 'sha256' | 'unsigned' | undefined {
  const lower = text?.toLowerCase()
  if (lower === undefined || lower === 'sha256' || lower === 'unsigned') return lower
  throw new UsageError(`--payload: expected sha256 or unsigned, got "${text}"`)
}

/** `--hash-threads auto` (the default) or `0`…`64`. */
function hashThreadsOf(text: string | undefined): number | 'auto' {
  if (text === undefined || text === 'auto') return 'auto'
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN
  if (!Number.isInteger(n) || n < 0 || n > 64) throw new UsageError(`--hash-threads: expected auto or an integer from 0 to 64, got "${text}"`)
  return n
}

const CHECKSUMS: readonly ChecksumAlgorithm[] = ['CRC64NVME', 'CRC32C', 'CRC32', 'SHA1', 'SHA256']

/** `--checksum crc64nvme` → 'CRC64NVME' (any case, as the AWS CLI takes it). */
function checksumOf(text: string | undefined): ChecksumAlgorithm | undefined {
  if (text === undefined) return undefined
  const name = text.toUpperCase() as ChecksumAlgorithm
  if (!CHECKSUMS.includes(name)) throw new UsageError(`--checksum: expected one of ${CHECKSUMS.join(', ')}, got "${text}"`)
  return name
}

function parseUploads(args: readonly string[]): Command {
  const [sub, ...rest] = args
  if (sub !== 'ls' && sub !== 'abort') {
    if (sub === '--help' || sub === '-h' || sub === undefined) return { command: 'help', topic: 'uploads' }
    throw new UsageError(`uploads: expected ls or abort, got "${sub}"`)
  }
  const { values, positionals } = parse(`uploads ${sub}`, rest, { ...COMMON, 'older-than': { type: 'string' } })
  if (values['help'] === true) return { command: 'help', topic: 'uploads' }
  if (positionals.length !== 1) throw new UsageError(`uploads ${sub}: expected one s3://bucket[/prefix] argument`)
  requireUtf8(positionals[0] as string, `uploads ${sub}: the prefix`, 'and S3 keys are UTF-8 (it would match other keys): give the prefix in UTF-8')
  const olderThan = values['older-than'] as string | undefined
  if (sub === 'abort' && olderThan === undefined) throw new UsageError('uploads abort: --older-than is required (e.g. --older-than 24h; 0s aborts every open upload under the prefix)')
  return {
    command: sub === 'ls' ? 'uploads-ls' : 'uploads-abort',
    ...common(values),
    url: positionals[0] as string,
    olderThanMs: olderThan === undefined ? undefined : parseDuration(olderThan, '--older-than'),
  }
}

/**
 * Node, Deno and Bun decode the command line as UTF-8, each byte sequence that is not UTF-8
 * becoming U+FFFD: such an argument no longer names what was typed (`cp - s3://b/caf$'\xe9'`
 * wrote the key `caf\uFFFD`; a file so named was "not found"). Refused, as `cp -r` refuses such
 * names and the AWS CLI fails such a key. A U+FFFD given as such reads the same and is refused too
 * (rare; the library writes such keys).
 */
function requireUtf8(arg: string, what: string, consequence: string): void {
  if (arg.includes('\uFFFD')) throw new UsageError(`${what} ${JSON.stringify(arg)} is not valid UTF-8 (U+FFFD shows where its bytes are not), ${consequence}`)
}

/** `s3://bucket/key` → its parts; `key` is `''` for `s3://bucket` or `s3://bucket/`. */
export function parseS3Url(url: string): { bucket: string; key: string } {
  const arn = url.startsWith('s3://arn:') ? S3_URL_ARN.exec(url.slice('s3://'.length))?.[0] : undefined
  if (arn !== undefined) throw new UsageError(arnRefusal(arn, url.slice('s3://'.length + arn.length).replace(/^\//, '')))
  // `s`: a key may hold line breaks (\n, U+2028), which `.` does not match otherwise.
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/s.exec(url)
  if (m === null) throw new UsageError(`expected an S3 URL such as s3://bucket/key, got "${url}"${url.startsWith('s3://') ? '' : ' (partstream uploads to S3: the destination is an s3:// URL; it does not download)'}`)
  return { bucket: m[1] as string, key: m[2] ?? '' }
}

/**
 * An ARN where the bucket goes, as the AWS CLI takes it (`s3://arn:aws:s3:us-west-2:123456789012:accesspoint/myap/key`;
 * awscli's find_bucket_key): an access point's resource (`accesspoint/<name>`, Outposts'
 * `outpost/<id>/accesspoint/<name>`) holds "/", which must not be read as the key's start
 * (`arn:…:accesspoint` as the bucket and `myap/key` as the key).
 */
const S3_URL_ARN = /^arn:[^:/]*:[^:/]*:[^:/]*:[^:/]*:(?:outpost[/:][^/:]+[/:]accesspoint[/:][^/]+|accesspoint[/:][^/]+|[^/]*)/

/**
 * The library's refusal of an ARN as the bucket (endpoint.ts validateBucketName), said with the
 * URL to use instead: what the ARN names, and what to give in its place.
 */
function arnRefusal(arn: string, key: string): string {
  const [, , service, region = '', account = '', ...rest] = arn.split(':')
  const accessPoint = /^accesspoint[/:](.+)$/.exec(rest.join(':'))?.[1]
  const quoted = JSON.stringify(arn)
  if (service === 's3' && accessPoint !== undefined && region === '') {
    return `${quoted} is a Multi-Region Access Point ARN, which partstream does not support: its requests need SigV4A signing. Use a bucket, or a single-Region access point's alias.`
  }
  if (service === 's3' && accessPoint !== undefined) {
    return (
      `${quoted} is an access point ARN, which partstream does not support as the bucket: use its alias (a name ending in "-s3alias") as the bucket (s3://<alias>/${key}), ` +
      `which S3 takes wherever it takes a bucket name; \`aws s3control get-access-point --account-id ${account} --region ${region} --name ${accessPoint}\` prints it as Alias.`
    )
  }
  if (service === 's3-object-lambda' && accessPoint !== undefined) {
    return `${quoted} is an Object Lambda access point ARN, which partstream does not support as the bucket: use its alias (a name ending in "--ol-s3") as the bucket (s3://<alias>/${key}).`
  }
  if (service === 's3-outposts') return `${quoted} is an S3 on Outposts ARN, which partstream does not support (Outposts take requests at their own endpoints).`
  const resource = rest.join(':')
  if (service === 's3' && region === '' && account === '' && resource !== '') return `${quoted} is a bucket ARN: give the bucket's name (s3://${resource}/${key}).`
  return `${quoted} is an ARN, which partstream does not support as the bucket: give a bucket name or an access point alias (s3://bucket/key).`
}
