/**
 * The AWS shared config and credentials files (`~/.aws/config`, `~/.aws/credentials`), read the
 * way the AWS SDK for JavaScript v3 reads them (smithy-typescript `@smithy/core/config`,
 * shared-ini-file-loader: parseIni.ts, getConfigData.ts, loadSharedConfigFiles.ts,
 * getHomeDir.ts, getProfileName.ts; AWS CLI: "Configuration and credential file settings").
 *
 * Why our own parser rather than smithy's: its loader is async only, keeps a process-wide cache
 * of file contents, and swallows every read and parse error, while `createS3Context` is
 * synchronous (region and `endpoint_url` come from these files) and our errors say which file
 * was missing or unreadable. The format rules below are the SDK's, line for line, and
 * test/shared-config.test.ts pins each of them.
 * @module
 */
import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

/** An environment to read variables from (`process.env` by default). */
export type Env = Readonly<Record<string, string | undefined>>

/** `name = value` pairs of one section; sub-properties are `parent.name` (`s3.endpoint_url`). */
export type IniSection = Readonly<Record<string, string>>
/** Sections by name, as parsed: `default`, `profile.dev`, `services.local`, `sso-session.corp`, `dev`. */
export type IniSections = Readonly<Record<string, IniSection>>

/** Section name prefixes the SDK recognises (`[profile dev]`, `[services local]`, `[sso-session corp]`). */
const SECTION_TYPES = new Set(['profile', 'sso-session', 'services'])
/** `prefix name` or `prefix "name"` (smithy parseIni `prefixKeyRegex`). */
const PREFIXED_SECTION = /^([\w-]+)\s(["'])?([\w\-@+.%:/]+)\2$/

/** The process environment, or an empty one where there is none. */
export function processEnv(): Env {
  return (globalThis as { process?: { env?: Env } }).process?.env ?? {}
}

/** A variable's value; empty counts as unset (as in the SDK, which tests truthiness). */
export function envValue(env: Env, name: string): string | undefined {
  const value = env[name]
  return value === undefined || value === '' ? undefined : value
}

/**
 * Parses an AWS config or credentials file (smithy `parseIni`):
 * - `[name]` starts a section; `[type name]` with type `profile`, `services` or `sso-session`
 *   becomes `type.name`; another `word word` pair is ignored with its lines;
 * - `;` or `#` at the start of a line or after whitespace starts a comment (`a#b` is a value);
 * - `name = value`, both trimmed, split at the first `=`; lines without `=` or starting with
 *   one are ignored; values keep their quotes;
 * - `name =` with no value opens a sub-section: the indented `key = value` lines after it are
 *   stored as `name.key`, until a line that is not indented;
 * - a later key overrides an earlier one, a repeated section adds to the first.
 * Objects have no prototype, so a profile named `__proto__` is just a name.
 */
export function parseIni(text: string): IniSections {
  const sections: Record<string, Record<string, string>> = Object.create(null) as Record<string, Record<string, string>>
  let current: Record<string, string> | undefined
  let subSection: string | undefined
  for (const line of text.split(/\r?\n/)) {
    const trimmed = (line.split(/(?:^|\s)[;#]/)[0] as string).trim()
    if (trimmed.startsWith('[') && trimmed.endsWith(']')) {
      current = undefined
      subSection = undefined
      const name = trimmed.slice(1, -1)
      const prefixed = PREFIXED_SECTION.exec(name)
      let key: string | undefined = name
      if (prefixed !== null) key = SECTION_TYPES.has(prefixed[1] as string) ? `${prefixed[1]}.${prefixed[3]}` : undefined
      if (key !== undefined) current = sections[key] ??= Object.create(null) as Record<string, string>
      continue
    }
    if (current === undefined) continue
    const eq = trimmed.indexOf('=')
    if (eq <= 0) continue
    const name = trimmed.slice(0, eq).trim()
    const value = trimmed.slice(eq + 1).trim()
    if (value === '') {
      subSection = name
      continue
    }
    if (subSection !== undefined && line.trimStart() === line) subSection = undefined
    current[subSection === undefined ? name : `${subSection}.${name}`] = value
  }
  return sections
}

/** What reading one file gave, for error messages. */
export type FileStatus = 'read' | 'not found' | `unreadable (${string})`

/** Both shared files, parsed into profiles as the SDK sees them. */
export interface SharedConfigFiles {
  readonly configPath: string
  readonly credentialsPath: string
  readonly configStatus: FileStatus
  readonly credentialsStatus: FileStatus
  /** Profiles of the config file: `[default]` and `[profile name]` (`[profile default]` replaces `[default]`). */
  readonly configProfiles: IniSections
  /** `[services name]` sections of the config file, by name. */
  readonly services: IniSections
  /** Profiles of the credentials file: `[name]`, no prefix. */
  readonly credentialsProfiles: IniSections
  /**
   * Lines of either file that open a section without closing it (`[name` with no `]`): the SDK's
   * parser skips them and the lines after them until a real header, as this one does; an error
   * that a profile is missing names them.
   */
  readonly brokenHeaders: readonly { readonly path: string; readonly line: number; readonly text: string }[]
}

/** The lines of `text` that start a section header and do not end it (1-based line numbers). */
function brokenHeadersOf(path: string, text: string): { path: string; line: number; text: string }[] {
  const out: { path: string; line: number; text: string }[] = []
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = (line.split(/(?:^|\s)[;#]/)[0] as string).trim()
    if (trimmed.startsWith('[') && !trimmed.endsWith(']')) out.push({ path, line: i + 1, text: trimmed })
  })
  return out
}

/**
 * The home directory as the SDK finds it: `HOME`, `USERPROFILE`, `HOMEDRIVE` + `HOMEPATH`, then
 * the OS's answer.
 */
export function homeDir(env: Env): string {
  const home = envValue(env, 'HOME') ?? envValue(env, 'USERPROFILE')
  if (home !== undefined) return home
  const homePath = envValue(env, 'HOMEPATH')
  if (homePath !== undefined) return `${envValue(env, 'HOMEDRIVE') ?? 'C:\\'}${homePath}`
  return homedir()
}

/** `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE` (a leading `~/` expanded), else `<home>/.aws/<file>`. */
function filePath(env: Env, variable: string, file: string): string {
  const given = envValue(env, variable)
  if (given === undefined) return join(homeDir(env), '.aws', file)
  return given.startsWith('~/') ? join(homeDir(env), given.slice(2)) : given
}

/** A file's text, or why there is none. */
function readText(path: string): { text: string; status: FileStatus } {
  try {
    return { text: readFileSync(path, 'utf8'), status: 'read' }
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return { text: '', status: 'not found' }
    return { text: '', status: `unreadable (${typeof code === 'string' ? code : 'error'})` }
  }
}

/**
 * Reads and parses both files, synchronously: they are a few hundred bytes, read once per
 * context (and again when credentials are refreshed). A missing or unreadable file counts as
 * empty (as in the SDK); its status says which.
 */
export function readSharedConfigFiles(env: Env): SharedConfigFiles {
  const configPath = filePath(env, 'AWS_CONFIG_FILE', 'config')
  const credentialsPath = filePath(env, 'AWS_SHARED_CREDENTIALS_FILE', 'credentials')
  const config = readText(configPath)
  const credentials = readText(credentialsPath)
  const parsedConfig = parseIni(config.text)
  const configProfiles: Record<string, IniSection> = Object.create(null) as Record<string, IniSection>
  const services: Record<string, IniSection> = Object.create(null) as Record<string, IniSection>
  // smithy getConfigData: `[default]` first, then `[profile x]` as `x` (so `[profile default]`
  // replaces `[default]` whole); `[x]` without the prefix is not a profile in the config file.
  const plainDefault = parsedConfig['default']
  if (plainDefault !== undefined) configProfiles['default'] = plainDefault
  for (const [key, section] of Object.entries(parsedConfig)) {
    if (key.startsWith('profile.')) configProfiles[key.slice('profile.'.length)] = section
    else if (key.startsWith('services.')) services[key.slice('services.'.length)] = section
  }
  return {
    configPath,
    credentialsPath,
    configStatus: config.status,
    credentialsStatus: credentials.status,
    configProfiles,
    services,
    credentialsProfiles: parseIni(credentials.text),
    brokenHeaders: [...brokenHeadersOf(configPath, config.text), ...brokenHeadersOf(credentialsPath, credentials.text)],
  }
}

/** The profile to use: the option, else `AWS_PROFILE`, else `default`; `explicit` unless defaulted. */
export function profileNameOf(profile: string | undefined, env: Env): { readonly name: string; readonly explicit: 'option' | 'AWS_PROFILE' | undefined } {
  if (profile !== undefined && profile !== '') return { name: profile, explicit: 'option' }
  const fromEnv = envValue(env, 'AWS_PROFILE')
  return fromEnv !== undefined ? { name: fromEnv, explicit: 'AWS_PROFILE' } : { name: 'default', explicit: undefined }
}

/**
 * One profile's settings, merged from both files key by key. `prefer` says which file wins a key
 * both define: the SDK takes credentials from the credentials file first (parseKnownFiles), the
 * region too (NODE_REGION_CONFIG_FILE_OPTIONS), and every other setting (`endpoint_url`,
 * `services`) from the config file first (fromSharedConfigFiles' default).
 * `undefined` when neither file has the profile.
 */
export function profileOf(files: SharedConfigFiles, name: string, prefer: 'config' | 'credentials'): IniSection | undefined {
  const fromConfig = files.configProfiles[name]
  const fromCredentials = files.credentialsProfiles[name]
  if (fromConfig === undefined && fromCredentials === undefined) return undefined
  return prefer === 'credentials' ? { ...fromConfig, ...fromCredentials } : { ...fromCredentials, ...fromConfig }
}

/** Where a profile was looked for, for messages: `~/.aws/credentials (not found) and ~/.aws/config (read)`. */
export function describeFiles(files: SharedConfigFiles): string {
  return `${files.credentialsPath} (${files.credentialsStatus}) and ${files.configPath} (${files.configStatus})`
}
