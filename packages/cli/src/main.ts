import { close, closeSync, constants, fstatSync, open, openSync, readFileSync, statfsSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { homedir } from 'node:os'
import { basename, resolve as resolvePath } from 'node:path'
import {
  AbortFailedError,
  abortMultipartUpload,
  contentTypeFor,
  createS3Context,
  DEFAULT_CONCURRENCY,
  InvalidArgumentError,
  NetworkError,
  listMultipartUploads,
  PartstreamError,
  proxyAgent,
  resolveCaBundle,
  resolveChecksumCalculation,
  resolveMaxAttempts,
  resolveS3Config,
  S3ResponseError,
  upload,
  uploadDirectory,
  uploadFd,
  validateKey,
  walkDirectory,
  type FileResult,
  type UploadAllProgress,
  type UploadAllTotals,
  type OpenUpload,
  type UploadProgress,
  type UploadOptions,
  type UploadTarget,
} from '@partstream/signer'
import { inCliTerms, parseCommand, parseS3Url, usageErrorOf, UsageError, type CommonOptions, type CpCommand, type ObjectSettings, type UploadsCommand } from './args.ts'
import { cacheDir } from './checkpoint.ts'
import { directoryFilter, pathFilter } from './filters.ts'
import { HELP, VERSION } from './help.ts'
import { proxyFor, type ProxyRoute } from './proxy.ts'
import { jsonLine, printable } from './terminal.ts'
import { barRenderer, jsonRenderer, noRenderer, type ProgressOutput, type ProgressRenderer } from './progress.ts'
import { HintedError } from './hinted-error.ts'
import { uploadFileResumable, type ResumableResult } from './resume.ts'

/**
 * Everything the CLI touches outside itself, injected so tests can drive it in-process too. The
 * environment is not among them: the library resolves credentials, region and endpoint from
 * `process.env` and the shared AWS files itself (one implementation for both).
 */
export interface CliIO {
  readonly argv: readonly string[]
  /**
   * What `cp -` uploads: a file descriptor (the bin passes `0`), read straight into the part
   * buffers by `uploadFd`, or any byte stream (tests, embedders), given to `upload`.
   */
  readonly stdin: number | AsyncIterable<Uint8Array>
  readonly stdout: {
    write(text: string): void
    /**
     * Whether what was written so far reached stdout (`false`: a write failed, e.g. ENOSPC on
     * `>/dev/full`). Asked only by `--help` and `--version`, whose output is all they do.
     * @default undefined: not known, taken as written
     */
    written?(): Promise<boolean>
  }
  readonly stderr: ProgressOutput
  /** Calls `handler` on SIGINT, SIGTERM and SIGHUP; returns the unsubscribe. */
  onSignal(handler: (signal: Signal) => void): () => void
  /** Ends the process at once (a second Ctrl-C). */
  exit(code: number): never
  /**
   * Where `cp FILE` keeps its resume checkpoints.
   * @default `$XDG_CACHE_HOME/partstream`, else the platform's user cache directory (see `cacheDir`)
   */
  readonly cacheDir?: string | undefined
}

/** The signals that interrupt the CLI: each aborts the upload, and exits 128 + its number. */
export type Signal = 'SIGINT' | 'SIGTERM' | 'SIGHUP'

/**
 * Exit codes: 0 ok, 1 the upload failed, 2 usage (nothing sent), 128 + signal number when
 * interrupted (also when the object may have been written meanwhile: the CLI says so, and how to
 * check, but could not confirm it).
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const

/** The abort reason when a signal interrupts the CLI. */
class Interrupted extends Error {
  readonly signal: Signal
  constructor(signal: Signal) {
    super(`interrupted by ${signal}`)
    this.signal = signal
  }
}

/**
 * What an interrupted command did and left, when that is not "the upload was aborted, nothing is
 * left": `uploads abort` stopped part-way, or a tree's Aborts failed.
 */
class InterruptOutcome extends Error {
  override readonly name = 'InterruptOutcome'
}

/** The `code` of a usage error in `--progress json`'s error line (exit 2: nothing was sent). */
const USAGE_CODE = 'ERR_PARTSTREAM_CLI_USAGE'

/** Runs one command line; resolves with the exit code. Never throws. */
export async function main(io: CliIO): Promise<number> {
  let command
  try {
    command = parseCommand(io.argv)
  } catch (error) {
    // The command line did not parse, but may still ask for JSON on stderr.
    return usage(io, error, reporter(io, asksJsonProgress(io.argv)))
  }
  if (command.command === 'help' || command.command === 'version') {
    io.stdout.write(command.command === 'version' ? `partstream ${VERSION}\n` : HELP[command.topic === 'cp' || command.topic === 'uploads' ? command.topic : 'main'])
    // The text is what these commands do: one that did not reach stdout is a failure (as GNU
    // tools exit non-zero for `--help >/dev/full`). An upload's output failing does not fail it.
    if ((await io.stdout.written?.()) === false) {
      io.stderr.write(`partstream: cannot write the ${command.command === 'help' ? 'help' : 'version'} to stdout\n`)
      return EXIT.failed
    }
    return EXIT.ok
  }
  const controller = new AbortController()
  let interrupted: Interrupted | undefined
  // What may be left open if the CLI exits at once: named by a second signal.
  let remaining: Remaining = () => undefined
  const report = reporter(io, command.command === 'cp' && command.progress === 'json')
  const off = io.onSignal((signal) => {
    // A terminal that closes sends SIGHUP twice: the kernel's hangup to the foreground job, then
    // the shell's to its jobs. The second is no one asking to hurry: it skipped the Abort and left
    // the upload behind. A second Ctrl-C or SIGTERM still exits at once.
    if (interrupted?.signal === 'SIGHUP' && signal === 'SIGHUP') return
    if (interrupted !== undefined) {
      const left = remaining()
      // Off the line of a progress bar that may be drawn.
      report.notice(`${signal} again, exiting now${left === undefined ? '' : `: ${left}`}`, '\n')
      io.exit(EXIT[signal])
    }
    interrupted = new Interrupted(signal)
    controller.abort(interrupted)
  })
  try {
    if (command.command === 'cp') await cp(io, command, controller.signal, (r) => (remaining = r))
    else await uploads(io, command, controller.signal)
    // The signal came once the object was being committed (CompleteMultipartUpload sent): the
    // library waited for that answer, and the object is written. Say so, and exit as done.
    if (interrupted !== undefined && command.command === 'cp') report.notice(`${interrupted.message}, too late to abort: the upload was being completed, and the object is written`)
    return EXIT.ok
  } catch (error) {
    if (error instanceof UsageError) return usage(io, error, report)
    // The library checks options and the target before any request: nothing was sent.
    if (error instanceof InvalidArgumentError) return usage(io, usageErrorOf(error), report)
    // What the interrupted command left when that is not "nothing": an upload it could not
    // abort, or an object that may have been written (the library's answer to an abort during
    // its commit is the abort's reason, as when nothing was sent: `one` tells them apart).
    if (interrupted !== undefined && error instanceof InterruptOutcome) {
      report.notice(`${interrupted.message}; ${error.message}`)
      return EXIT[interrupted.signal]
    }
    // Interrupted, and the upload could not be aborted (the network gone), or the one an
    // unanswered CreateMultipartUpload may have made could not be looked for: still the
    // signal's exit code (it was 1, unlike `cp -r`'s), with what may remain.
    const abortFailed = (error instanceof HintedError ? error.error : error) as { code?: unknown; uploadId?: unknown } | undefined
    if (interrupted !== undefined && command.command === 'cp' && abortFailed?.code === 'ERR_PARTSTREAM_ABORT_FAILED') {
      const left =
        typeof abortFailed.uploadId === 'string'
          ? `upload ${abortFailed.uploadId} could not be aborted and may remain${error instanceof HintedError ? ` (${error.hint})` : ''}`
          : `an upload may remain: CreateMultipartUpload had not answered, and it could not be looked for (\`partstream uploads ls ${command.dst}\` lists it, \`partstream uploads abort\` removes it)`
      report.notice(`${interrupted.message}; ${left}`)
      return EXIT[interrupted.signal]
    }
    if (interrupted !== undefined && error === interrupted) {
      const what = command.command !== 'cp' ? '' : command.recursive ? '; the uploads were aborted, nothing is left' : '; the upload was aborted, nothing is left'
      report.notice(`${interrupted.message}${what}`)
      return EXIT[interrupted.signal]
    }
    if (error instanceof HintedError) report.error(error.error, error.hint)
    else report.error(error)
    return EXIT.failed
  } finally {
    off()
  }
}

/**
 * Whether `path` is a procfs or sysfs file (`statfs` f_type), whose size says nothing of its
 * content; only a path under /proc or /sys is asked (`/proc/self/cwd/…` reaches ordinary files).
 */
function onPseudoFs(path: string): boolean {
  const absolute = resolvePath(path)
  if (!/^\/(?:proc|sys)\//.test(absolute)) return false
  try {
    return [0x9fa0, 0x62656572].includes(Number(statfsSync(absolute).type))
  } catch {
    return true
  }
}

/** The sentence a second signal prints about what may remain open, or `undefined` when nothing may. */
type Remaining = () => string | undefined

function usage(io: CliIO, error: unknown, report: Reporter): number {
  report.error(error)
  return EXIT.usage
}

/**
 * How the CLI's own lines reach stderr: as text, or, with `--progress json`, as one JSON object
 * per line like the events around them (a consumer parses every line): `{"type":"error",
 * "code","message","hint"}` for what failed the command, `{"type":"notice","message"}` for what
 * an interrupt did or left.
 */
interface Reporter {
  /** What failed the command (exit 1 or 2), and a hint, if any, on the next line. */
  error(error: unknown, hint?: string): void
  /** A sentence (the text's `before` comes first: a newline off a progress bar's line). */
  notice(text: string, before?: string): void
}

function reporter(io: CliIO, json: boolean): Reporter {
  if (json) {
    return {
      error: (error, hint) => io.stderr.write(jsonLine({ type: 'error', ...errorFields(error), ...(hint === undefined ? {} : { hint }) })),
      notice: (text) => io.stderr.write(jsonLine({ type: 'notice', message: text })),
    }
  }
  return {
    // Usage errors quote what was typed, and errors what the server said (see `describe`):
    // control characters shown, not sent to the terminal.
    error: (error, hint) => io.stderr.write(`partstream: ${error instanceof UsageError ? printable(error.message) : describe(error)}\n${hint === undefined ? '' : `partstream: hint: ${printable(hint)}\n`}`),
    notice: (text, before = '') => io.stderr.write(`${before}partstream: ${printable(text)}\n`),
  }
}

/**
 * Whether a command line that did not parse asks for `--progress json` (its usage error is then
 * a JSON line too): `--progress json` or `--progress=json` before a `--`.
 */
function asksJsonProgress(argv: readonly string[]): boolean {
  const end = argv.indexOf('--')
  const args = end === -1 ? argv : argv.slice(0, end)
  return args.some((a, i) => a === '--progress=json' || (a === '--progress' && args[i + 1] === 'json'))
}

/**
 * An error's code and message in the CLI's terms, as `--progress json` gives them (JSON escapes
 * them): a library error's code, the CLI's {@link USAGE_CODE} for a usage error, a system error's
 * (`ENOENT`); none for others. Library errors never carry secrets.
 */
function errorFields(error: unknown): { code?: string; message: string } {
  if (error instanceof HintedError) return errorFields(error.error)
  if (error instanceof UsageError) return { code: USAGE_CODE, message: error.message }
  if (error instanceof PartstreamError) {
    // Said once: the library's own message names the upload that may still hold parts.
    const left = error.code === 'ERR_PARTSTREAM_ABORT_FAILED' && error.uploadId !== undefined && !error.message.includes(error.uploadId) ? ` (upload ${error.uploadId} may remain)` : ''
    return { code: error.code, message: `${inCliTerms(error.message)}${left}` }
  }
  const code = (error as { code?: unknown } | null)?.code
  return { ...(typeof code === 'string' ? { code } : {}), message: error instanceof Error ? error.message : String(error) }
}

/**
 * `CODE: message`, and the upload left behind if there is one (see {@link errorFields}). Escaped
 * for the terminal (see `printable`): a message quotes what the server said (an S3 error's
 * <Message>, an UploadId), and file names and keys.
 */
function describe(error: unknown): string {
  const { code, message } = errorFields(error)
  return printable(error instanceof PartstreamError ? `${code}: ${message}` : message)
}

/**
 * The CAs to trust over TLS, as the AWS CLI finds them: `--ca-bundle`, else `AWS_CA_BUNDLE`, else
 * the profile's `ca_bundle` (the AWS SDK for JavaScript reads none of them). Nothing: the runtime's.
 */
function trustOf(c: CommonOptions): { ca?: string } {
  const named = c.caBundle !== undefined ? { path: c.caBundle, source: '--ca-bundle' } : resolveCaBundle({ profile: c.profile })
  if (named === undefined) return {}
  // A bundle set for every command (AWS_CA_BUNDLE, the profile's ca_bundle) means nothing to a
  // plain-http endpoint, and the AWS CLI does not read it there: a missing file must not fail
  // such an upload. One named on this command line is read, and an unreadable one refused.
  if (c.caBundle === undefined && endpointOf(c)?.toString().toLowerCase().startsWith('http:') === true) return {}
  let text: string
  try {
    text = readFileSync(named.path, 'utf8')
  } catch (error) {
    throw new UsageError(`cannot read the CA bundle ${named.path} (from ${named.source}): ${(error as Error).message}`)
  }
  // A file with no certificate (a key, a DER file, another file) would fail every request as "not
  // trusted", with advice to give the bundle that was given.
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new UsageError(`the CA bundle ${named.path} (from ${named.source}) holds no PEM certificate ("-----BEGIN CERTIFICATE-----"): give your CA's certificate in PEM form`)
  }
  return { ca: text }
}

/** Bun's fetch is the library's transport there, and it reads the proxy variables itself. */
const ON_BUN: boolean = typeof (globalThis as { Bun?: unknown }).Bun === 'object'

/** What reaches the library about the network: the CAs to trust, or a dispatcher through a proxy (which holds them). */
type NetworkOptions = Pick<UploadOptions, 'ca' | 'dispatcher' | 'retry' | 'idleTimeoutMs'>

/** How a command's requests leave (see {@link openNetwork}). */
interface Network {
  /** The options for the library; opened at the first call. */
  options(): Promise<NetworkOptions>
  /** The proxy in use, once {@link Network.options} ran: named in failures (without its credentials). */
  readonly route: ProxyRoute | undefined
  /** Closes the proxy's dispatcher, if one was made. */
  close(): Promise<void>
}

/**
 * How a command's requests leave, settled when the first one is about to (not for `--dryrun`, nor
 * before the command line was checked): the CA bundle (see {@link trustOf}), and the proxy that
 * HTTPS_PROXY / HTTP_PROXY name for the endpoint unless NO_PROXY exempts it (see `proxyFor`).
 * Through a proxy, the library gets a dispatcher from its `proxyAgent` (undici's
 * `EnvHttpProxyAgent`, loaded only then) with the connection settings it would give its own `Agent`, closed when the
 * command ends. On Bun the library's transport is fetch, which reads the same variables itself
 * (and takes the CA bundle through the tunnel too): nothing is passed there.
 */
function openNetwork(c: CommonOptions, endpoint: string | URL | undefined, connections: number | undefined): Network {
  let opened: Promise<NetworkOptions> | undefined
  let route: ProxyRoute | undefined
  let dispatcher: NonNullable<UploadOptions['dispatcher']> | undefined
  const open = async (): Promise<NetworkOptions> => {
    const trust = trustOf(c)
    // Attempts and the idle timeout as the AWS CLI takes them: AWS_MAX_ATTEMPTS or the profile's
    // max_attempts, and --cli-read-timeout.
    const attempts = resolveMaxAttempts({ profile: c.profile })?.value
    const tuning = { ...(attempts === undefined ? {} : { retry: { attempts } }), ...(c.readTimeoutMs === undefined ? {} : { idleTimeoutMs: c.readTimeoutMs }) }
    route = proxyFor(endpoint, process.env)
    if (route === undefined || ON_BUN) return { ...trust, ...tuning }
    const proxy = route.scheme === 'http:' ? { httpProxy: route.url } : { httpsProxy: route.url }
    dispatcher = await proxyAgent({ ...proxy, noProxy: route.noProxy, connections, ...trust })
    return { dispatcher, ...tuning }
  }
  return {
    options: () => (opened ??= open()),
    get route() {
      return route
    },
    async close() {
      await opened?.catch(() => undefined)
      await dispatcher?.close()
    },
  }
}

/** Whether `error` or one of its causes (up to 5 deep, as the library nests them) matches `test`. */
function inCauses(error: unknown, test: (e: Error) => boolean): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) if (test(e)) return true
  return false
}

/**
 * A failure with no answer from S3 (refused, reset, timed out, a tunnel the proxy refused), or the
 * proxy's own 407 (Proxy Authentication Required) or gateway error, when the requests went
 * through a proxy: a line naming it, without its credentials, and the variables that chose it.
 */
function proxyHint(error: unknown, route: ProxyRoute | undefined): HintedError | undefined {
  if (route === undefined) return undefined
  const proxied = inCauses(
    error,
    (e) =>
      e instanceof NetworkError ||
      (e instanceof PartstreamError && e.code === 'ERR_PARTSTREAM_TIMEOUT') ||
      (e instanceof S3ResponseError && (e.statusCode === 0 || e.statusCode === 407 || ((e.statusCode === 502 || e.statusCode === 504) && e.s3Code === undefined))),
  )
  return proxied ? new HintedError(error, `requests go through the proxy ${route.shown} (${route.variable}); to reach ${route.host} without it, add ${route.host} to NO_PROXY`) : undefined
}

function bucketTarget(o: CommonOptions, bucket: string): Omit<UploadTarget, 'key'> {
  return {
    bucket,
    // One resolution for the library and the CLI: credentials, region and endpoint come from
    // the same chain (AWS_* variables, the profile's files, AWS_ENDPOINT_URL…); flags win.
    ...(o.profile === undefined ? {} : { profile: o.profile }),
    ...(o.endpointUrl === undefined ? {} : { endpoint: o.endpointUrl }),
    ...(o.region === undefined ? {} : { region: o.region }),
    ...(o.forcePathStyle ? { forcePathStyle: true } : {}),
  }
}

/**
 * Whether stderr is a terminal that takes the bar's `\r` + erase-line redraws: not TERM=dumb
 * (Emacs' shell, some CI logs), which prints the escape sequences as text.
 */
function redraws(io: CliIO): boolean {
  return io.stderr.isTTY && process.env['TERM'] !== 'dumb'
}

function renderer(io: CliIO, c: CpCommand, label: string, sizeHint: number | undefined): ProgressRenderer {
  const mode = c.progress ?? (redraws(io) && !c.quiet && !c.json ? 'bar' : 'none')
  if (mode === 'bar') return barRenderer(io.stderr, label, sizeHint, !io.stderr.isTTY || redraws(io))
  if (mode === 'json') return jsonRenderer(io.stderr, label)
  return noRenderer
}

/**
 * What `cp` sends without `--payload`, as the AWS CLI does: to an https endpoint, UNSIGNED-PAYLOAD
 * with each part's CRC32 (`--checksum` picks another algorithm): TLS protects the bytes in transit
 * and S3 checks the CRC32 and keeps it, with no SHA-256 to compute (0.7 CPU s/GiB with SHA
 * instructions, several times that without); to a plain-http endpoint, each part's SHA-256
 * signed, since nothing else protects the bytes there. `--payload sha256` signs over HTTPS too,
 * and so does a user who told AWS tools `request_checksum_calculation = when_required` (the setting
 * for stores that reject `x-amz-checksum-*`), unless they give `--checksum`.
 */
export function integrityDefaults(
  c: CpCommand,
  endpoint: string | URL | undefined,
  checksumCalculation: () => 'WHEN_SUPPORTED' | 'WHEN_REQUIRED' = () => 'WHEN_SUPPORTED',
): CpCommand {
  if (c.payload !== undefined || endpoint === undefined || !String(endpoint).toLowerCase().startsWith('https:')) return c
  if (c.checksum === undefined && checksumCalculation() === 'WHEN_REQUIRED') return c
  return { ...c, payload: 'unsigned', checksum: c.checksum ?? 'CRC32' }
}

/** The endpoint the library will use (flag, AWS_ENDPOINT_URL*, profile, AWS regional); undefined when the configuration is invalid (the library reports it). */
function endpointOf(c: CommonOptions): string | URL | undefined {
  try {
    return resolveS3Config({ endpoint: c.endpointUrl, region: c.region, profile: c.profile }).endpoint
  } catch {
    return undefined
  }
}


/**
 * A store that does not support S3 checksums answers 400 or 501 to the CRC32 the https default
 * added: say so, and how to send without it.
 */
function checksumHint(error: unknown): HintedError | undefined {
  if (!inCauses(error, (e) => e instanceof S3ResponseError && (e.statusCode === 400 || e.statusCode === 501))) return undefined
  return new HintedError(
    error,
    'to an https endpoint cp sends each part with a CRC32 checksum (x-amz-checksum-crc32) unless told otherwise; ' +
      'if this store does not support S3 checksums, rerun with --payload sha256 (or set AWS_REQUEST_CHECKSUM_CALCULATION=when_required)',
  )
}

/**
 * A server that refuses `--storage-class` with a bare 400 (Ceph RGW answers `InvalidArgument`
 * with no message; AWS says `InvalidStorageClass`): name the flag, the likely cause.
 */
function storageClassHint(error: unknown, storageClass: string | undefined): HintedError | undefined {
  const refused = (e: Error): boolean =>
    e instanceof S3ResponseError &&
    e.statusCode === 400 &&
    (e.s3Code === 'InvalidStorageClass' || e.s3Code === 'InvalidArgument') &&
    (e.operation === 'PutObject' || e.operation === 'CreateMultipartUpload')
  if (storageClass === undefined || !inCauses(error, refused)) return undefined
  return new HintedError(
    error,
    `--storage-class ${printable(storageClass)} may be a class this server does not have: AWS has STANDARD, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE and REDUCED_REDUNDANCY; ` +
      'Ceph RGW and MinIO have the classes their administrator configured (STANDARD at least)',
  )
}

async function cp(io: CliIO, command: CpCommand, signal: AbortSignal, onOpen: (remaining: Remaining) => void): Promise<void> {
  const endpoint = endpointOf(command)
  const c = integrityDefaults(command, endpoint, () => resolveChecksumCalculation({ profile: command.profile }).value)
  // Sockets per origin: what upload/uploadFile/uploadDirectory give their own Agent.
  const net = openNetwork(c, endpoint, c.concurrency ?? DEFAULT_CONCURRENCY)
  try {
    await cpWith(io, c, net, signal, onOpen)
  } catch (error) {
    // Only where the checksum is the CLI's default, not the user's --checksum.
    throw storageClassHint(error, c.objectSettings.storageClass) ?? (c.checksum !== command.checksum ? checksumHint(error) : undefined) ?? proxyHint(error, net.route) ?? error
  } finally {
    await net.close()
  }
}

async function cpWith(io: CliIO, c: CpCommand, net: Network, signal: AbortSignal, onOpen: (remaining: Remaining) => void): Promise<void> {
  const { bucket, key } = parseS3Url(c.dst)
  const isPrefix = key === '' || key.endsWith('/')
  if (c.src === '-') {
    refuseTreeFlags(c)
    if (isPrefix) throw new UsageError(`cp: stdin has no name: give the object key, e.g. s3://${bucket}/${key}data.bin`)
    // A key S3 cannot take is the upload's usage error (the library's check): the dry run's too.
    if (c.dryrun) dryrunLine(io, c, { src: '-', bucket, key: validateKey(key) })
    else await one(io, c, net, signal, onOpen, { label: 'stdin', key, bucket })
    return
  }
  let stats
  try {
    stats = await stat(c.src)
  } catch (error) {
    // An S3 URL as the source (a download, or a copy between buckets): said as such, not ENOENT.
    if (/^s3:\/\//i.test(c.src)) throw new UsageError(`cp: the source ${c.src} is an S3 URL: partstream uploads local data (a file, a directory with -r, or - for stdin); it does not download or copy between buckets`)
    throw new UsageError(`cp: cannot read ${c.src}: ${(error as Error).message}`)
  }
  if (stats.isDirectory()) {
    if (!c.recursive) throw new UsageError(`cp: ${c.src} is a directory: add -r to upload the files under it`)
    // A directory's destination is a prefix, "/" or not: `s3://b/backup` is `s3://b/backup/`, as
    // `aws s3 cp --recursive` takes it (it was a usage error, which broke a command moved over).
    const prefix = isPrefix ? key : `${key}/`
    if (c.dryrun) await dryrunTree(io, c, signal, { bucket, prefix })
    else await tree(io, c, net, signal, onOpen, { bucket, prefix })
    return
  }
  refuseTreeFlags(c)
  // A named pipe or a device (`cp <(pg_dump …) s3://…`, `cp /dev/stdin …`, a disk): read to its
  // end like stdin, with no size known ahead (give --size-hint past ~58 GiB) and no resume. So is
  // a file that says it holds 0 bytes: a /proc or /sys file makes its content as it is read (an
  // empty file gives an empty object either way).
  // A /sys file reports 4096 bytes whatever it holds: read to its end as well.
  const streamed = stats.isFIFO() || stats.isCharacterDevice() || stats.isBlockDevice() || (stats.isFile() && (stats.size === 0 || onPseudoFs(c.src)))
  if (stats.isSocket()) throw new UsageError(`cp: ${c.src} is a socket, which cannot be opened by its path: for what arrives on stdin, use - as the source`)
  // `<(cmd)` is /dev/fd/63 and `/dev/stdin` a descriptor: their names are not the data's (the key
  // would be `63`), so, as for `cp -`, the key must be given. A named FIFO or a device keeps its name.
  if (isPrefix && /^\/(?:dev\/(?:fd\/\d+|stdin)|proc\/[^/]+\/fd\/\d+)$/.test(c.src)) {
    throw new UsageError(`cp: ${c.src} has no name to give the object: give the object key, e.g. s3://${bucket}/${key}data.bin`)
  }
  const file = { label: c.src, path: c.src, bucket, key: isPrefix ? key + basename(c.src) : key, streamed, ...(streamed ? {} : { size: stats.size }) }
  if (c.dryrun) dryrunLine(io, c, { src: c.src, bucket, key: validateKey(file.key), ...(streamed ? {} : { size: stats.size }) })
  else await one(io, c, net, signal, onOpen, file)
}

/**
 * `-r` with a source that is not a directory (a file, a pipe, stdin) uploads that one source, as
 * `cp` without `-r` does; the flags that pick among a directory's files have nothing to pick from
 * there. Ignoring them silently uploaded what `--exclude '*'` excluded, and sent again what
 * `--skip-existing` would have skipped; the AWS CLI's `cp --recursive FILE` uploads nothing (it
 * warns that `FILE/` does not exist, exit 2). So each is a usage error, naming the flag.
 */
function refuseTreeFlags(c: CpCommand): void {
  const source = c.src === '-' ? 'stdin (-)' : printable(c.src)
  const rule = c.rules[0]
  if (rule !== undefined) {
    throw new UsageError(`--${rule.kind} picks files under a directory, and ${source} is not a directory: drop --${rule.kind}, or give the directory`)
  }
  if (c.skipExisting !== undefined) {
    throw new UsageError(`--skip-existing applies to the files under a directory, and ${source} is not a directory: drop it (a single file that was interrupted resumes by itself)`)
  }
  if (c.followSymlinks) {
    throw new UsageError(`--follow-symlinks applies to the links under a directory, and ${source} is not a directory: drop it (a file given by a link is always read)`)
  }
}

/**
 * Opens a named pipe or a device for reading, as `cat` does: a named pipe's open waits for its
 * writer. That wait is a blocking open() on a libuv thread, which nothing can cancel and which
 * Node's exit waits for; so an abort meanwhile opens the pipe's write end for a moment, which ends
 * the wait (the write end is closed again at once).
 */
async function openStreamed(path: string, signal: AbortSignal): Promise<number> {
  signal.throwIfAborted()
  const release = (): void => {
    try {
      closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK))
    } catch {
      // The open already returned (ENXIO: no reader waits any more), or it is not a pipe.
    }
  }
  signal.addEventListener('abort', release, { once: true })
  try {
    const fd = await new Promise<number>((resolve, reject) => open(path, 'r', (error, fd) => (error === null ? resolve(fd) : reject(error))))
    if (signal.aborted) {
      close(fd, () => {})
      throw signal.reason
    }
    return fd
  } finally {
    signal.removeEventListener('abort', release)
  }
}

/** What `--dryrun` prints per file: the line `cp` would print, marked, or a JSON line with `dryrun: true`. */
function dryrunLine(io: CliIO, c: CpCommand, f: { src: string; bucket: string; key: string; size?: number }): void {
  if (c.json) io.stdout.write(jsonLine({ src: f.src, bucket: f.bucket, key: f.key, ...(f.size === undefined ? {} : { size: f.size }), dryrun: true }))
  else if (!c.quiet) io.stdout.write(`(dryrun) upload: ${printable(f.src)} to s3://${f.bucket}/${printable(f.key)}${f.size === undefined ? '' : ` (${f.size} bytes)`}\n`)
}

/**
 * `cp -r --dryrun`: the same walk as the upload (`walkDirectory`: the same order, symlinks, and
 * --exclude/--include), each file's size from one `stat`; no request is made.
 */
async function dryrunTree(io: CliIO, c: CpCommand, signal: AbortSignal, t: { bucket: string; prefix: string }): Promise<void> {
  for await (const entry of walkDirectory(c.src, walkRules(c))) {
    signal.throwIfAborted()
    const path = (entry as { path: string }).path
    const key = t.prefix + entry.key
    const checked = await sizeOrFailure(path, key, (entry as { error?: unknown }).error)
    if ('size' in checked) dryrunLine(io, c, { src: path, bucket: t.bucket, key, size: checked.size })
    else if (c.progress === 'json') io.stderr.write(jsonLine({ type: 'file-failed', dryrun: true, file: path, key, error: errorFields(checked.failure) }))
    else io.stderr.write(`partstream: (dryrun) ${printable(path)}: would fail: ${describe(checked.failure)}\n`)
  }
}

/**
 * A walked file's size, or what the upload would report as failed and go on past, checked in the
 * upload's order (uploadDirectory's, so the error and its message are the upload's): a key S3
 * cannot take (over 1,024 bytes: the library's `validateKey`), then what the walk met (a
 * directory it cannot read, a name that is not UTF-8), then a file gone since it was listed.
 */
async function sizeOrFailure(path: string, key: string, walkError: unknown): Promise<{ readonly size: number } | { readonly failure: unknown }> {
  try {
    validateKey(key)
    if (walkError !== undefined) throw walkError
    return { size: (await stat(path)).size }
  } catch (error) {
    return { failure: error }
  }
}

/** `--exclude`/`--include` and `--follow-symlinks` as the walk's options: which files, which directories need no walk at all, and links. */
function walkRules(c: CpCommand): { filter?: (relativePath: string) => boolean; filterDirectory?: (relativeDir: string) => boolean; followSymlinks?: true } {
  const filter = pathFilter(c.rules)
  const filterDirectory = directoryFilter(c.rules)
  return {
    ...(filter === undefined ? {} : { filter }),
    ...(filterDirectory === undefined ? {} : { filterDirectory }),
    ...(c.followSymlinks ? { followSymlinks: true } : {}),
  }
}

/**
 * The flags every `cp` takes to the library the same way, stdin, a file or a tree: one list, so
 * a flag cannot reach one path and miss another (`-r` once dropped `--checksum` and `--content-md5`).
 */
function sharedOptions(c: CpCommand, network: NetworkOptions): Pick<UploadOptions, 'concurrency' | 'partSize' | 'metadata' | 'ifNoneMatch' | 'checksum' | 'contentMd5' | 'payload'> & NetworkOptions & ObjectSettings {
  return {
    ...network,
    ...c.objectSettings,
    ...(c.concurrency === undefined ? {} : { concurrency: c.concurrency }),
    ...(c.partSize === undefined ? {} : { partSize: c.partSize }),
    ...(c.metadata === undefined ? {} : { metadata: c.metadata }),
    ...(c.ifNoneMatch ? { ifNoneMatch: true } : {}),
    ...(c.checksum === undefined ? {} : { checksum: c.checksum }),
    ...(c.contentMd5 ? { contentMd5: true } : {}),
    ...(c.payload === undefined ? {} : { payload: c.payload }),
  }
}

/**
 * `cp -r`: the library's `uploadDirectory`, so the whole tree shares one budget (parts in flight,
 * part buffers, one connection pool) and a failed file does not stop the others (exit 1 at the
 * end, each failure on stderr).
 */
async function tree(io: CliIO, c: CpCommand, net: Network, signal: AbortSignal, onOpen: (remaining: Remaining) => void, t: { bucket: string; prefix: string }): Promise<void> {
  const progress = renderer(io, c, c.src, undefined)
  let totals: UploadAllTotals | undefined
  let firstError: unknown
  // The files started and not settled (key → path, and the multipart upload once it exists),
  // which a second signal names: uploadDirectory settles a file only once its upload completed or
  // was aborted.
  const inFlight = new Map<string, { readonly path: string | undefined; uploadId?: string; committing?: boolean }>()
  // Files an interrupt caught in their commit (the library's `committing`) with no answer: written or not.
  const maybeWritten: string[] = []
  // Files whose Abort failed too (interrupted with the network gone): their uploads remain.
  let leftOpen = 0
  onOpen(() => {
    if (inFlight.size === 0) return undefined
    const keys = [...inFlight].map(([key, f]) => `s3://${t.bucket}/${printable(key)}${f.uploadId === undefined ? '' : ` (upload ${f.uploadId})`}`).join(', ')
    return `the uploads of ${inFlight.size} file(s) in progress may remain: ${keys}; \`partstream uploads ls s3://${t.bucket}/${t.prefix}\` lists them, \`partstream uploads abort\` removes them`
  })
  // The text of each error printed for a file (up to SAID_ERRORS of them): the same error again is
  // one short line (its code), as files in flight all meet a wrong secret or a missing bucket.
  const said = new Set<string>()
  // A file's line: its result, or why it failed.
  function printFile(f: FileResult): void {
    // --progress json: a failed file is an event of its own, stderr staying one JSON object per line.
    if (f.error !== undefined && c.progress === 'json') io.stderr.write(jsonLine({ type: 'file-failed', file: f.path ?? f.key, key: f.key, error: errorFields(f.error) }))
    else if (f.error !== undefined) {
      const text = describe(f.error)
      // Shortened to its code: an error without one is said in full each time.
      const again = said.has(text) && errorFields(f.error).code !== undefined
      if (!again && said.size < SAID_ERRORS) said.add(text)
      io.stderr.write(`partstream: ${printable(f.path ?? f.key)}: ${again ? `${shortCode(f.error)} (the same error as above)` : text}\n`)
    }
    else if (c.json) io.stdout.write(jsonLine({ src: f.path, bucket: t.bucket, key: f.key, size: f.size, ...(f.skipped === true ? { skipped: true } : { etag: f.etag, checksum: f.checksum }) }))
    else if (f.skipped === true) io.stdout.write(`skip: ${printable(f.path ?? '')}: s3://${t.bucket}/${printable(f.key)} has the same ${c.skipExisting === 'etag' ? 'size and ETag' : 'size'}\n`)
    else io.stdout.write(`upload: ${printable(f.path ?? '')} to s3://${t.bucket}/${printable(f.key)} (${f.size} bytes)\n`)
  }
  const rules = walkRules(c)
  const result = await uploadDirectory(c.src, { ...bucketTarget(c, t.bucket), prefix: t.prefix }, {
    signal,
    collect: false,
    ...sharedOptions(c, await net.options()),
    ...(c.contentType === undefined ? {} : { contentType: c.contentType }),
    // The rules are a pure function of the path, cheap to call twice: the count-ahead walk (the
    // progress total) stays on with them.
    ...rules,
    ...(rules.filter === undefined ? {} : { countAhead: true }),
    ...(c.skipExisting === undefined ? {} : { skipExisting: c.skipExisting }),
    onProgress: (e: UploadAllProgress) => {
      totals = e
      if (e.type === 'file-started') inFlight.set(e.key, { path: e.path })
      if (e.type === 'upload-created') inFlight.get(e.key)!.uploadId = e.uploadId
      if (e.type === 'committing') inFlight.get(e.key)!.committing = true
      if (e.type === 'file-done' && e.file.error !== undefined && inFlight.get(e.file.key)?.committing === true) maybeWritten.push(e.file.key)
      if (e.type === 'file-done') inFlight.delete(e.file.key)
      if (e.type === 'file-done' && e.file.skipped === true) progress.skipped?.(e.file.size)
      // The renderer counts bytes acknowledged across all files, and parts in flight; the total
      // arrives once uploadDirectory's count-ahead walk is done (percentage and ETA from then on).
      // `--progress json` names each event's file (part numbers are per file).
      if (e.type === 'part-started' || e.type === 'part-acked') {
        progress.event({ type: e.type, partNumber: e.partNumber, partBytes: e.partBytes, bytesAcked: e.bytesAcked, totalBytes: e.totalBytes }, inFlight.get(e.key)?.path ?? e.key)
      }
    },
    onFile: (f) => {
      // A file the interrupt stopped: the interrupt's own line says it once, for all of them.
      // (`--progress json` keeps its file-failed event for each.)
      if (f.error !== undefined && signal.aborted && f.error === signal.reason && c.progress !== 'json') return
      if (f.error !== undefined) firstError ??= f.error
      if ((f.error as { code?: unknown } | undefined)?.code === 'ERR_PARTSTREAM_ABORT_FAILED') leftOpen++
      // Above the progress bar, if one is drawn (on the same terminal, stdout's lines too).
      if (f.error !== undefined || c.json || !c.quiet) progress.above(() => printFile(f))
    },
  }).catch((error: unknown) => {
    progress.finish(signal.aborted ? 'interrupted' : 'failed', { ...treeTotals(totals), ...(signal.aborted ? {} : { error: errorFields(error) }) })
    // The library stopped the tree at a file's error that every other file would meet (wrong
    // credentials, no such bucket): that error is above, in the file's line; say what it did.
    if (!signal.aborted && c.progress !== 'json' && said.has(describe(error))) {
      const uploaded = totals === undefined ? 0 : totals.filesDone - totals.filesFailed
      throw new Error(`stopped: every other file would fail with the same error (${shortCode(error)}, above); ${uploaded === 0 ? 'none was uploaded' : `${uploaded} file(s) were uploaded`}`, { cause: error })
    }
    if (signal.aborted) {
      for (const [key, f] of inFlight) if (f.committing === true) maybeWritten.push(key)
      const said = [
        ...(maybeWritten.length === 0
          ? []
          : [
              `${maybeWritten.map((key) => `s3://${t.bucket}/${printable(key)}`).join(', ')} was being committed and no answer came in time: it may or may not have been written ` +
                `(to check: \`aws s3api head-object --bucket ${t.bucket} --key KEY\`; the same command again uploads it anyway)`,
            ]),
        ...(leftOpen === 0 ? [] : [`the uploads of ${leftOpen} file(s) could not be aborted and may remain (above); \`partstream uploads abort\` removes them`]),
      ]
      if (said.length > 0) throw new InterruptOutcome(said.join('; '))
    }
    throw error
  })
  // A tree walked to its end with no event at all is empty: its counts are zeros, not absent.
  progress.finish(result.failed > 0 ? 'failed' : 'done', treeTotals(totals ?? { bytesAcked: 0, filesStarted: 0, totalBytes: 0, filesDone: 0, filesFailed: 0, totalFiles: 0, bytesSkipped: 0 }))
  if (result.failed > 0) {
    const others = result.succeeded === 0 ? 'none was uploaded' : result.succeeded === 1 ? 'the other was uploaded' : 'the others were uploaded'
    throw new Error(`${result.failed} of ${result.failed + result.succeeded} files failed (see above); ${others}`, { cause: firstError })
  }
}

/** An error's code, with S3's own for an S3 answer (`ERR_PARTSTREAM_S3 NoSuchBucket`). */
function shortCode(error: unknown): string {
  const code = errorFields(error).code ?? 'failed'
  return error instanceof S3ResponseError && error.s3Code !== undefined ? `${code} ${printable(error.s3Code)}` : code
}

/** How long an AbortMultipartUpload under way when `uploads abort` is interrupted may take to be answered. */
const ABORT_ANSWER_GRACE_MS = 2000

/** Distinct file errors whose text `cp -r` remembers to shorten a repeat (a bound on its memory). */
const SAID_ERRORS = 100

/** A tree's counts for the last `--progress json` line (none before the first event). */
function treeTotals(t: UploadAllTotals | undefined): Record<string, number | undefined> {
  if (t === undefined) return {}
  const { bytesAcked, totalBytes, filesDone, filesFailed, totalFiles, bytesSkipped } = t
  return { bytesAcked, totalBytes, filesDone, filesFailed, totalFiles, bytesSkipped }
}

async function one(
  io: CliIO,
  c: CpCommand,
  net: Network,
  signal: AbortSignal,
  onOpen: (remaining: Remaining) => void,
  f: { label: string; bucket: string; key: string; path?: string; streamed?: boolean; size?: number },
): Promise<void> {
  // A regular file's size is known (uploadFile plans its parts from it): --size-hint is for what
  // is read to its end, as the AWS CLI's --expected-size is for streams only.
  const sizeHint = f.path === undefined || f.streamed === true ? c.sizeHint : undefined
  // The bar's first frame, drawn before any event, shows a file's total too (it read "0 B").
  const progress = renderer(io, c, f.label, sizeHint ?? f.size)
  const contentType = c.contentType ?? (f.path === undefined ? undefined : contentTypeFor(f.path, c.objectSettings.contentEncoding))
  const url = `s3://${f.bucket}/${f.key}`
  // Until S3 answers CreateMultipartUpload, an upload may exist that nobody holds the id of yet:
  // the library waits for that answer to abort it, a second signal does not.
  onOpen(() => `an upload of ${url} may have been created (if CreateMultipartUpload was under way); \`partstream uploads ls ${url}\` lists it, \`partstream uploads abort\` removes it`)
  // Whether the object may have been committed when a signal came (see `commitWatch`).
  const commit = commitWatch()
  let committing = false
  const onAbort = (): void => void (committing = commit.mayHaveCommitted())
  signal.addEventListener('abort', onAbort, { once: true })
  const options: UploadOptions = {
    signal,
    ...sharedOptions(c, await net.options()),
    ...(sizeHint === undefined || c.partSize !== undefined ? {} : { sizeHint }),
    ...(contentType === undefined ? {} : { contentType }),
    // uploadFile and uploadFd ('auto': see UploadOptions.hashThreads); `upload` of a stream ignores it.
    hashThreads: c.hashThreads,
    onProgress: (e) => {
      commit.event(e)
      if (e.type === 'upload-created' || e.type === 'upload-resumed') {
        const { uploadId } = e
        onOpen(() => `upload ${uploadId} may remain; rerun the same command to resume it (a file), or remove it with \`partstream uploads abort\``)
      }
      // The object fits in one part: a single PutObject, no upload to leave; once its whole body
      // went out (committing), S3 may write it.
      if (e.type === 'committing' && commit.single()) onOpen(() => `${url} may have been written (its PutObject was under way)`)
      progress.event(e)
    },
  }
  const target: UploadTarget = { ...bucketTarget(c, f.bucket), key: f.key }
  let run: ResumableResult
  try {
    if (f.path === undefined) {
      const result = typeof io.stdin === 'number' ? await uploadFd(io.stdin, target, options).catch((error: unknown) => inStdinTerms(error, io.stdin as number)) : await upload(io.stdin, target, options)
      run = { result, resumed: undefined }
    } else if (f.streamed === true) {
      // uploadFd closes it (once a read still in flight returns).
      run = { result: await uploadFd(await openStreamed(f.path, signal), target, { ...options, close: true }), resumed: undefined }
    } else {
      run = await uploadFileResumable(f.path, target, options, {
        cacheDir: io.cacheDir ?? cacheDir(process.env, process.platform, homedir()),
        noResume: c.noResume,
        // What CreateMultipartUpload fixes for good: a rerun with other values starts over.
        // (The other object settings only when given: a checkpoint written before they existed still matches.)
        settings: JSON.stringify([contentType ?? null, c.metadata ?? null, c.checksum ?? null, ...(Object.keys(c.objectSettings).length === 0 ? [] : [c.objectSettings])]),
        // --progress json keeps stderr one JSON object per line; on a terminal the line first
        // erases a progress bar that may be drawn (the bar redraws below it).
        notice: (text) => {
          if (c.progress === 'json') io.stderr.write(jsonLine({ type: 'notice', file: f.label, message: text }))
          else if (!c.quiet) progress.above(() => io.stderr.write(`partstream: ${printable(f.label)}: ${printable(text)}\n`))
        },
      })
    }
  } catch (error) {
    if (signal.aborted && error === signal.reason && committing) {
      progress.finish('interrupted')
      throw new InterruptOutcome(mayBeWritten(url, f, commit))
    }
    progress.finish(signal.aborted ? 'interrupted' : 'failed', signal.aborted ? undefined : { error: errorFields(error) })
    throw error
  } finally {
    signal.removeEventListener('abort', onAbort)
    onOpen(() => undefined)
  }
  const { result, resumed } = run
  progress.finish('done')
  if (c.json) io.stdout.write(jsonLine({ src: f.path ?? '-', ...result, ...(resumed === undefined ? {} : { resumed }) }))
  else if (!c.quiet) {
    const notes = [
      `${result.size} bytes`,
      `${result.partCount} part${result.partCount === 1 ? '' : 's'}`,
      ...(resumed === undefined ? [] : [`resumed: ${resumed.partsReused} reused`]),
      ...(result.checksum === undefined ? [] : [`${result.checksum.algorithm} ${result.checksum.value}`]),
    ]
    io.stdout.write(`upload: ${printable(f.path ?? '-')} to s3://${result.bucket}/${printable(result.key)} (${notes.join(', ')})\n`)
  }
}

/**
 * Where one upload stands, from its events: whether the library may have committed the object
 * when a signal came, and its size. The library says so itself (`committing`: Complete, or the
 * single PutObject's whole body, handed to S3): an abort from there waits for S3's answer a grace
 * only, and without one the library rejects with the abort's reason, as when nothing was sent
 * (README, `signal`), while the object may or may not exist. Before it (a part still to read or
 * in flight, a PutObject body still going out) the abort wins and nothing is written.
 */
function commitWatch(): { event(e: UploadProgress): void; single(): boolean; mayHaveCommitted(): boolean; readonly bytes: number } {
  let multipart = false
  let inFlight = 0
  let committing = false
  let bytesAcked = 0
  let total: number | undefined
  return {
    event(e) {
      if (e.type === 'upload-created' || e.type === 'upload-resumed') multipart = true
      if (e.type === 'part-started') inFlight++
      if (e.type === 'part-acked') inFlight--
      if (e.type === 'committing') committing = true
      if ('bytesAcked' in e) bytesAcked = e.bytesAcked
      if ('totalBytes' in e && e.totalBytes !== undefined) total = e.totalBytes
    },
    single: () => !multipart && inFlight > 0,
    mayHaveCommitted: () => committing,
    get bytes() {
      return total ?? bytesAcked
    },
  }
}

/**
 * What an interrupt during the commit left: an object that may or may not have been written (and
 * no multipart upload: the library aborted it, or Complete used it up), and how to tell. partstream
 * reads nothing back, so the check is the AWS CLI's `head-object`.
 */
function mayBeWritten(url: string, f: { bucket: string; key: string }, commit: ReturnType<typeof commitWatch>): string {
  const quote = (text: string): string => (/^[\w./=:@+-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`)
  return (
    `the object was being committed (${commit.single() ? 'its PutObject' : 'CompleteMultipartUpload'} under way) and no answer came in time: ` +
    `${url} may or may not have been written; no upload is left open. To check: \`aws s3api head-object --bucket ${quote(f.bucket)} --key ${quote(f.key)}\` ` +
    `(written: ContentLength ${commit.bytes} and a LastModified of now); running the same command again uploads it anyway`
  )
}

/**
 * The library's words for a descriptor as the CLI's for stdin (`cp -`, the descriptor 0): a
 * directory given as stdin (`cp - < DIR`) is a usage error saying what to give instead.
 */
function inStdinTerms(error: unknown, fd: number): never {
  // Told by what stdin is, not by the message's words.
  const directory = (): boolean => {
    try {
      return fstatSync(fd).isDirectory()
    } catch {
      return false
    }
  }
  if (error instanceof InvalidArgumentError && directory()) {
    throw new UsageError('cp -: stdin is a directory, not data: give a file or a pipe as stdin (`< FILE`, `cmd |`), or the file itself as the source')
  }
  throw error
}

async function uploads(io: CliIO, c: UploadsCommand, signal: AbortSignal): Promise<void> {
  const { bucket, key: prefix } = parseS3Url(c.url)
  const endpoint = endpointOf(c)
  // One request at a time: the library's own Agent here has no cap either.
  const net = openNetwork(c, endpoint, undefined)
  let ctx
  try {
    ctx = createS3Context(bucketTarget(c, bucket), await net.options())
  } catch (error) {
    await net.close()
    throw error
  }
  const print = (u: OpenUpload): void => {
    const initiated = u.initiated?.toISOString() ?? ''
    if (c.json) io.stdout.write(jsonLine({ key: u.key, uploadId: u.uploadId, initiated, ...(c.command === 'uploads-abort' ? { aborted: true } : {}) }))
    // The upload id is the server's text, as the key is: escaped for the terminal.
    else if (!c.quiet) io.stdout.write(`${c.command === 'uploads-abort' ? 'aborted ' : ''}${initiated}\t${printable(u.uploadId)}\t${printable(u.key)}\n`)
  }
  let selected: OpenUpload[] | undefined
  let aborted = 0
  try {
    // --older-than selects the same uploads for ls as for abort, as abortStaleUploads does: age on
    // the server's clock, and an upload S3 gives no start time for is never old enough.
    selected = await listMultipartUploads(ctx, { prefix, olderThanMs: c.olderThanMs, signal })
    if (c.command === 'uploads-ls') {
      for (const u of selected) print(u)
      return
    }
    // One at a time, each printed once S3 said it is gone (abortStaleUploads answers only at the
    // end): an interrupt or a failure leaves an exact account of what was aborted. One that fails
    // does not stop the others.
    const done: OpenUpload[] = []
    const failed: { upload: OpenUpload; error: unknown }[] = []
    // An Abort under way when the signal comes may be done on the server already: it gets
    // ABORT_ANSWER_GRACE_MS for its answer, so the account stays exact (it was cut at once, and
    // an upload gone was then counted among those that "may remain"). A second signal exits at once.
    const grace = new AbortController()
    let graceTimer: ReturnType<typeof setTimeout> | undefined
    const onSignal = (): void => void (graceTimer = setTimeout(() => grace.abort(signal.reason), ABORT_ANSWER_GRACE_MS))
    signal.addEventListener('abort', onSignal, { once: true })
    try {
      for (const u of selected) {
        signal.throwIfAborted()
        try {
          await abortMultipartUpload(ctx, u.uploadId, { key: u.key, signal: grace.signal })
        } catch (error) {
          if (signal.aborted) throw signal.reason
          failed.push({ upload: u, error }) // the library's own: the proxy hint is added below, through `cause`
          continue
        }
        aborted++
        done.push(u)
        print(u)
      }
      // Interrupted during the last Abort, which was answered: all are gone (each printed), exit 0.
    } finally {
      signal.removeEventListener('abort', onSignal)
      clearTimeout(graceTimer)
    }
    if (failed.length > 0) throw AbortFailedError.forStaleUploads(failed, done)
  } catch (error) {
    if (c.command === 'uploads-abort' && signal.aborted) {
      throw new InterruptOutcome(
        selected === undefined
          ? 'no upload was aborted (interrupted while listing them)'
          : `${aborted} of ${selected.length} uploads were aborted${c.quiet ? '' : ' (printed above)'}; the other ${selected.length - aborted} may remain: run the same command again`,
      )
    }
    throw proxyHint(error, net.route) ?? error
  } finally {
    await ctx.close()
    await net.close()
  }
}
