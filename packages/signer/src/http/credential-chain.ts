/**
 * Where credentials come from when the target gives none: the AWS SDK for JavaScript v3's order
 * (@aws-sdk/credential-provider-node `defaultProvider`), with the first two links built in.
 *
 * 1. `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, skipped when a profile
 *    is named (`profile` option or `AWS_PROFILE`), as the SDK skips `fromEnv` then;
 * 2. the profile in the shared files: static keys, or `credential_process` (run here); a profile
 *    that assumes a role, uses SSO, web identity or a login session is handed to the SDK;
 * 3. the SDK's own chain, when its package is installed (an optional peer dependency): its
 *    profile links again, then web identity from the environment, container credentials, IMDSv2.
 * @module
 */
import { InvalidArgumentError, describeValue } from '@partstream/core'
import { CredentialsError } from '../errors.ts'
import {
  AWS_SDK_INSTALL_HINT,
  AWS_SDK_PROVIDER_PACKAGES,
  importModule,
  loadAwsSdk,
  runAwsSdkChain,
  sanitizeError,
  type ModuleImporter,
} from './aws-sdk-credentials.ts'
import { cacheCredentials } from './credential-cache.ts'
import { CredentialProcessFailure, runCredentialProcess } from './credential-process.ts'
import { checkCredentials, checkKeyText, toIdentity, type Credentials, type CredentialsProvider, type SigningIdentity } from './credentials.ts'
import { describeFiles, envValue, processEnv, profileNameOf, profileOf, readSharedConfigFiles, type Env, type IniSection, type SharedConfigFiles } from './shared-config.ts'
import { redact } from './redact.ts'
import { untilAborted } from './sleep.ts'

/** Options of {@link resolveCredentials} and {@link createCredentialsProvider}. */
export interface ResolveCredentialsOptions {
  /**
   * The shared-config profile. Naming one (here or with `AWS_PROFILE`) skips the `AWS_*` key
   * variables, as the AWS SDK does, and a named profile that exists in neither file is an error.
   * @default process.env.AWS_PROFILE, else 'default'
   */
  readonly profile?: string | undefined
  /**
   * The environment to read instead of `process.env` (`AWS_*`, `HOME`, the file paths); a
   * `credential_process` runs with it. The AWS SDK's chain, when it is used, reads `process.env`.
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
}

/** Where each credentials field comes from, by source (for {@link checkKeyText}'s messages). */
const ENV_NAMES = { accessKeyId: 'AWS_ACCESS_KEY_ID', secretAccessKey: 'AWS_SECRET_ACCESS_KEY', sessionToken: 'AWS_SESSION_TOKEN' } as const
const FILE_KEYS = { accessKeyId: 'aws_access_key_id', secretAccessKey: 'aws_secret_access_key', sessionToken: 'aws_session_token' } as const
const PROCESS_KEYS = { accessKeyId: '"AccessKeyId"', secretAccessKey: '"SecretAccessKey"', sessionToken: '"SessionToken"' } as const

/** Variables that only the AWS SDK's chain can use, named in the error when it is missing. */
const SDK_ONLY_VARIABLES = ['AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_WEB_IDENTITY_TOKEN_FILE']

const FIX_HINT = 'Pass `credentials` in the target, set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or configure a profile (`aws configure`)'
const INSTALL_HINT = `; on EC2, ECS, EKS, or with SSO or roles, install the AWS SDK's credential provider (${AWS_SDK_INSTALL_HINT})`

/** What a profile's settings make of it, in the SDK's order of precedence (resolveProfileData). */
type ProfileKind = 'assume-role' | 'static' | 'web-identity' | 'process' | 'sso' | 'login' | 'none'

function kindOf(p: IniSection): ProfileKind {
  const has = (key: string): boolean => p[key] !== undefined
  // isAssumeRoleProfile: role_arn with exactly one of source_profile / credential_source.
  if (has('role_arn') && has('source_profile') !== has('credential_source')) return 'assume-role'
  if (has('aws_access_key_id') && has('aws_secret_access_key')) return 'static'
  if (has('web_identity_token_file') && has('role_arn')) return 'web-identity'
  if (has('credential_process')) return 'process'
  if (['sso_start_url', 'sso_account_id', 'sso_session', 'sso_region', 'sso_role_name'].some(has)) return 'sso'
  if (has('login_session')) return 'login'
  return 'none'
}

const SDK_KINDS: Partial<Record<ProfileKind, string>> = {
  'assume-role': 'role_arn (an STS AssumeRole)',
  'web-identity': 'web_identity_token_file (an STS AssumeRoleWithWebIdentity)',
  sso: 'IAM Identity Center (sso_* settings)',
  login: 'login_session (aws login)',
}

/** Which file holds a profile's `key` (the credentials file wins, as in parseKnownFiles). */
function fileOf(files: SharedConfigFiles, profile: string, key: string): string {
  return files.credentialsProfiles[profile]?.[key] !== undefined ? files.credentialsPath : files.configPath
}

function checkOptions(options: ResolveCredentialsOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`Expected \`options\` to be an object, got ${describeValue(options)}.`)
  }
  if (options.profile !== undefined && (typeof options.profile !== 'string' || options.profile === '')) {
    throw new InvalidArgumentError(`Expected \`profile\` to be a non-empty string, got ${describeValue(options.profile)}.`)
  }
  if (options.env !== undefined && (typeof options.env !== 'object' || options.env === null)) {
    throw new InvalidArgumentError(`Expected \`env\` to be an object of strings, got ${describeValue(options.env)}.`)
  }
}

/**
 * Resolves credentials once, the way the AWS SDK v3 and CLI do, with no client to configure:
 * the `AWS_*` key variables (unless a profile is named), the profile in `~/.aws/credentials`
 * and `~/.aws/config` (static keys, `credential_process`), then the AWS SDK's own Node.js
 * chain if `@aws-sdk/credential-provider-node` (or `@aws-sdk/credential-providers`) is
 * installed: SSO, `role_arn`, web identity, container credentials, EC2 instance metadata.
 *
 * The result may carry an `expiration`; {@link createCredentialsProvider} caches and refreshes it.
 * @throws {CredentialsError} (`ERR_PARTSTREAM_CREDENTIALS`) naming the profile and every source
 *   tried, never a secret.
 * @example
 * const { accessKeyId, expiration } = await resolveCredentials({ profile: 'backup' })
 */
export function resolveCredentials(options: ResolveCredentialsOptions = {}): Promise<Credentials> {
  return resolveCredentialChain(options, importModule)
}

/** {@link resolveCredentials} for the signer's own loads: `stop` (their deadline) kills a `credential_process` still running. */
function loadCredentials(profile: string | undefined, stop: AbortSignal): Promise<Credentials> {
  return resolveCredentialChain({ profile }, importModule, stop)
}

/**
 * {@link resolveCredentials} with the module importer as a seam (tests simulate a missing SDK).
 * @throws {CredentialsError}
 */
export async function resolveCredentialChain(options: ResolveCredentialsOptions, importer: ModuleImporter, stop?: AbortSignal): Promise<Credentials> {
  checkOptions(options)
  const env: Env = options.env ?? processEnv()
  const { name: profile, explicit } = profileNameOf(options.profile, env)
  const tried: string[] = []
  const failure = (message: string, cause?: unknown): CredentialsError => new CredentialsError(message, { profile, tried, cause })
  const namedBy = explicit === 'option' ? 'the `profile` option' : 'AWS_PROFILE'

  // 1. The key variables. The SDK skips them when a profile is named (defaultProvider, first link).
  const accessKeyId = envValue(env, 'AWS_ACCESS_KEY_ID')
  const secretAccessKey = envValue(env, 'AWS_SECRET_ACCESS_KEY')
  if (explicit !== undefined) {
    const unused = accessKeyId !== undefined && secretAccessKey !== undefined ? '; AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set and not used' : ''
    tried.push(`environment: skipped, profile "${profile}" is named by ${namedBy}${unused}`)
  } else if (accessKeyId !== undefined && secretAccessKey !== undefined) {
    const sessionToken = envValue(env, 'AWS_SESSION_TOKEN')
    return checkKeyText({ accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) }, (field) => ENV_NAMES[field])
  } else {
    tried.push(
      accessKeyId === undefined && secretAccessKey === undefined
        ? 'environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set'
        : `environment: ${accessKeyId === undefined ? 'AWS_ACCESS_KEY_ID' : 'AWS_SECRET_ACCESS_KEY'} is not set (the other one is)`,
    )
  }

  // 2. The profile in the shared files.
  const files = readSharedConfigFiles(env)
  const settings = profileOf(files, profile, 'credentials')
  let needsSdk: string | undefined
  if (settings === undefined) {
    tried.push(`shared files: no profile "${profile}" in ${describeFiles(files)}`)
    if (explicit !== undefined) {
      // A header of it left unclosed (`[name` with no `]`): the SDK, as here, skips the lines after it.
      const broken = files.brokenHeaders.find((b) => b.text.slice(1).trim().replace(/^profile\s+/, '') === profile)
      throw failure(
        `Profile "${profile}" (named by ${namedBy}) exists in neither shared file. ` +
          (broken === undefined
            ? 'Check its name (`aws configure list-profiles`), or point AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE at the right files.'
            : `Line ${broken.line} of ${broken.path} starts its section without the closing "]" (${JSON.stringify(broken.text)}), so the lines after it belong to no profile: add the "]".`),
      )
    }
  } else {
    const kind = kindOf(settings)
    if (kind === 'static') {
      const sessionToken = settings['aws_session_token']
      return checkKeyText(
        {
          accessKeyId: settings['aws_access_key_id'] as string,
          secretAccessKey: settings['aws_secret_access_key'] as string,
          ...(sessionToken === undefined ? {} : { sessionToken }),
        },
        (field) => `${FILE_KEYS[field]} of profile "${profile}" (${fileOf(files, profile, FILE_KEYS[field])})`,
      )
    }
    if (kind === 'process') {
      tried.push(`shared files: profile "${profile}" has a credential_process (${fileOf(files, profile, 'credential_process')})`)
      try {
        const answer = await runCredentialProcess(settings['credential_process'] as string, env, Date.now(), stop)
        return checkKeyText(answer, (field) => `the ${PROCESS_KEYS[field]} the credential_process of profile "${profile}" printed`)
      } catch (error) {
        if (error instanceof CredentialProcessFailure) throw failure(`The credential_process of profile "${profile}" ${error.message}.`)
        throw error
      }
    }
    needsSdk = SDK_KINDS[kind]
    if (needsSdk !== undefined) {
      tried.push(`shared files: profile "${profile}" uses ${needsSdk}, which the AWS SDK's chain resolves`)
    } else {
      const half = settings['aws_access_key_id'] !== undefined ? '; it has aws_access_key_id but no aws_secret_access_key' : settings['aws_secret_access_key'] !== undefined ? '; it has aws_secret_access_key but no aws_access_key_id' : ''
      tried.push(`shared files: profile "${profile}" has no credentials in ${describeFiles(files)}${half}`)
    }
  }

  // 3. The AWS SDK's chain, if installed.
  const sdk = await loadAwsSdk(importer)
  if (sdk.kind === 'missing') {
    tried.push(`the AWS SDK's chain: not installed (${AWS_SDK_PROVIDER_PACKAGES.map((p) => p.specifier).join(' or ')})`)
    if (needsSdk !== undefined) {
      throw failure(`Profile "${profile}" uses ${needsSdk}: install the AWS SDK's credential provider to use it (${AWS_SDK_INSTALL_HINT}).`)
    }
    const sdkOnly = SDK_ONLY_VARIABLES.find((name) => envValue(env, name) !== undefined)
    if (sdkOnly !== undefined) {
      throw failure(`No credentials: ${sdkOnly} is set, and only the AWS SDK's credential provider reads it: ${AWS_SDK_INSTALL_HINT}.`)
    }
    throw failure(`No credentials found for profile "${profile}". ${FIX_HINT}${INSTALL_HINT}.`)
  }
  if (sdk.kind === 'broken') {
    tried.push(`the AWS SDK's chain: ${sdk.specifier} is installed but could not be loaded`)
    throw failure(`No credentials: ${sdk.specifier} could not be loaded (reinstall it).`, sdk.error)
  }
  let answer: unknown
  try {
    answer = await runAwsSdkChain(sdk, explicit !== undefined ? profile : undefined)
  } catch (error) {
    const cause = sanitizeError(error)
    tried.push(`the AWS SDK's chain (${sdk.specifier}): ${cause.message.split('\n')[0]}`)
    throw failure(
      needsSdk !== undefined
        ? `Profile "${profile}" uses ${needsSdk}, and the AWS SDK's chain could not resolve it.`
        : `No credentials found for profile "${profile}". ${FIX_HINT}.`,
      cause,
    )
  }
  try {
    return checkCredentials(answer, "the AWS SDK chain's result")
  } catch (error) {
    tried.push(`the AWS SDK's chain (${sdk.specifier}): an answer without usable keys`)
    throw failure(`The AWS SDK's chain returned something that is not credentials.`, sanitizeError(error))
  }
}

/**
 * The default chain ({@link resolveCredentials}) as a provider for `target.credentials`, cached
 * and refreshed before expiry like a context's own. Share one across uploads to resolve once
 * (one `credential_process` run, one metadata call) instead of once per upload.
 * @example
 * const credentials = createCredentialsProvider({ profile: 'backup' })
 * for (const file of files) await uploadFile(file, { bucket, key: file, credentials })
 */
export function createCredentialsProvider(options: ResolveCredentialsOptions = {}): CredentialsProvider {
  checkOptions(options)
  return cacheCredentials(() => resolveCredentials(options), Date.now)
}

/**
 * What a context's signer gets: checked static credentials as they are, or a cached provider
 * (refreshed before expiry on `nowMs`, the signing clock) for a user's function or, when the
 * target has no credentials, for the default chain. A load that has not settled after
 * `timeoutMs` fails with a `CredentialsError` (and the next request loads again). The provider
 * takes the waiting request's `signal`: the caller stops waiting when it aborts, and the load's
 * timer runs only while someone waits (see {@link loadDeadline}).
 * @throws {InvalidArgumentError} for static credentials of the wrong shape.
 */
export function signingIdentity(
  credentials: Credentials | CredentialsProvider | undefined,
  profile: string | undefined,
  nowMs: () => number,
  timeoutMs: number,
): SigningIdentity | ((signal?: AbortSignal) => Promise<SigningIdentity>) {
  if (credentials !== undefined && typeof credentials !== 'function') return toIdentity(checkCredentials(credentials, '`credentials`'))
  const load: (stop: AbortSignal) => Promise<Credentials> =
    credentials === undefined
      ? (stop) => loadCredentials(profile, stop)
      : async () => {
          let result: Credentials
          try {
            result = await credentials()
          } catch (error) {
            // A provider of ours (createCredentialsProvider) failed: its error says it all.
            if (error instanceof CredentialsError) throw error
            // The user's own function: its error is theirs to read (the cause), and quoted, redacted:
            // a vault's error may quote the answer it could not use, keys and token included.
            throw new CredentialsError('The `credentials` function failed, so no request was signed.', {
              profile: profile ?? 'default',
              tried: [`the \`credentials\` function: ${redact(error instanceof Error ? `${error.name}: ${error.message}` : String(error))}`],
              cause: error,
            })
          }
          return checkCredentials(result, "the `credentials` provider's result")
        }
  const source = credentials === undefined ? 'the default chain (environment, ~/.aws, the AWS SDK)' : 'the `credentials` function'
  const deadline = loadDeadline(timeoutMs, profile ?? 'default', source)
  const cached = cacheCredentials(() => deadline.start(load), nowMs)
  return async (signal?: AbortSignal) => toIdentity(await deadline.wait(cached(), signal))
}

interface LoadDeadline {
  /** Starts `load`: its answer, or a `CredentialsError` at its deadline (which aborts the signal it was given). */
  start(load: (stop: AbortSignal) => Promise<Credentials>): Promise<Credentials>
  /** `answer` (the cache's), or `signal.reason` once it aborts; the deadline runs meanwhile. */
  wait<T>(answer: Promise<T>, signal: AbortSignal | undefined): Promise<T>
}

/** A load in progress: when it fails for its deadline, and the timer that does it while armed. */
interface Load {
  readonly dueMs: number
  readonly fail: () => void
  timer: ReturnType<typeof setTimeout> | undefined
}

/**
 * The `timeoutMs` deadline of credential loads, one at a time (the cache shares each load): a load
 * that has not settled by then fails with a `CredentialsError`. Its timer runs only while a
 * request waits for the load: when the last one gives up (its signal aborted), the timer is
 * cleared, so a source that never answers (a `credentials` function whose promise never settles)
 * does not keep the process alive for `timeoutMs` after everyone stopped waiting; the next request
 * to wait re-arms it for the time left (at once past the deadline), and the load fails then.
 */
function loadDeadline(timeoutMs: number, profile: string, source: string): LoadDeadline {
  /** The load in progress, if any. */
  let current: Load | undefined
  /** Requests waiting for an answer of the cache (that load's, or credentials it holds). */
  let waiting = 0
  const arm = (): void => {
    const load = current
    if (load === undefined || load.timer !== undefined || waiting === 0) return
    load.timer = setTimeout(load.fail, Math.max(0, load.dueMs - performance.now()))
  }
  const disarm = (): void => {
    if (current?.timer === undefined) return
    clearTimeout(current.timer)
    current.timer = undefined
  }
  return {
    start(run: (stop: AbortSignal) => Promise<Credentials>): Promise<Credentials> {
      const stop = new AbortController()
      return new Promise<Credentials>((resolve, reject) => {
        const done = (): void => {
          if (current !== load) return // past its deadline: a later load is the current one
          disarm()
          current = undefined
        }
        const load: Load = {
          dueMs: performance.now() + timeoutMs,
          timer: undefined,
          fail: () => {
            load.timer = undefined
            done()
            stop.abort() // a credential_process still running is killed, not left to hold the process
            reject(
              new CredentialsError(
                `No credentials after ${timeoutMs} ms (\`idleTimeoutMs\`), so no request was signed: the source did not answer (a profile's \`credential_process\`, a container or instance metadata endpoint, STS or a \`credentials\` function that hangs). Check it, or raise \`idleTimeoutMs\`.`,
                { profile, tried: [`${source}: no answer within ${timeoutMs} ms`] },
              ),
            )
          },
        }
        current = load
        arm()
        run(stop.signal).then(
          (credentials) => {
            done()
            resolve(credentials)
          },
          (error: unknown) => {
            done()
            reject(error)
          },
        )
      })
    },
    async wait<T>(answer: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
      waiting++
      arm()
      try {
        return await untilAborted(answer, signal)
      } finally {
        if (--waiting === 0) disarm()
      }
    },
  }
}
