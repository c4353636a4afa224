import { InvalidArgumentError, describeValue } from '@partstream/core'
import { envValue, processEnv, profileNameOf, profileOf, readSharedConfigFiles, type Env, type SharedConfigFiles } from './shared-config.ts'

/** Options of {@link resolveS3Config}: what the caller gives; the rest comes from the environment and files. */
export interface ResolveS3ConfigOptions {
  /** A region given by the caller wins over every other source. @default undefined */
  readonly region?: string | undefined
  /** An endpoint given by the caller wins over every other source. @default undefined */
  readonly endpoint?: string | URL | undefined
  /**
   * The shared-config profile whose `region`, `endpoint_url` and `services` are read.
   * @default process.env.AWS_PROFILE, else 'default'
   */
  readonly profile?: string | undefined
  /** The environment to read instead of `process.env`. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
}

/** Where requests go and how they are signed, with where each value came from. */
export interface ResolvedS3Config {
  /**
   * The signing region: the one resolved, checked (see {@link resolveS3Config}), with the AWS
   * SDK's pseudo-regions replaced (`aws-global` → `us-east-1`, `fips-us-gov-west-1` → `us-gov-west-1`).
   */
  readonly region: string
  /** `'region'` (the caller's), `'AWS_REGION'`, `'AWS_DEFAULT_REGION'`, `'profile "dev" in ~/.aws/config'` or `'default'`. */
  readonly regionSource: string
  /** The endpoint URL: the caller's, a configured one, or the AWS regional `https://s3.<region>.amazonaws.com`. */
  readonly endpoint: string | URL
  /** `'endpoint'` (the caller's), `'AWS_ENDPOINT_URL_S3'`, `'AWS_ENDPOINT_URL'`, `'profile "dev" …'`, or `'AWS regional'`. */
  readonly endpointSource: string
  /**
   * AWS's endpoint variant (`AWS_USE_FIPS_ENDPOINT` / `AWS_USE_DUALSTACK_ENDPOINT`, the
   * profile's `use_fips_endpoint` / `use_dualstack_endpoint`, a FIPS pseudo-region, and the
   * profile's `s3` sub-section `use_dualstack_endpoint` / `use_accelerate_endpoint`): what
   * {@link awsS3Endpoint} builds the AWS endpoint with. All false with an endpoint of your own.
   */
  readonly variant: AwsEndpointVariant
  /**
   * The AWS CLI's `addressing_style` in the profile's `s3` sub-section (`s3 =` then an indented
   * `addressing_style = path`): `true` for `path`, `false` for `virtual` (a preference, as in the
   * AWS CLI: path style still where the bucket cannot go in the host name), `undefined` for
   * `auto` or unset (partstream's own choice: path-style for IPs, localhost and non-DNS bucket names).
   */
  readonly forcePathStyle: boolean | undefined
  /** The profile read (whether or not it exists). */
  readonly profile: string
}

/** https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html: the S3 service id in variable and key names. */
const S3_ENDPOINT_VARIABLE = 'AWS_ENDPOINT_URL_S3'
const S3_SERVICES_KEY = 's3.endpoint_url'

/** Which of AWS's S3 endpoints a region has: FIPS 140 validated TLS, IPv4 + IPv6, Transfer Acceleration. */
export interface AwsEndpointVariant {
  readonly fips: boolean
  readonly dualStack: boolean
  /**
   * S3 Transfer Acceleration, `s3-accelerate[.dualstack].<DNS suffix>` (the AWS CLI's
   * `use_accelerate_endpoint`): virtual-hosted only, for bucket names without dots; not with
   * FIPS, nor in the China partition (the S3 endpoint rules refuse both).
   * @default false
   */
  readonly accelerate?: boolean | undefined
}

const NO_VARIANT: AwsEndpointVariant = { fips: false, dualStack: false }

/** The China partition (aws-cn): no FIPS endpoint for S3, no Transfer Acceleration (the S3 endpoint rules). */
const CHINA_REGION = /^cn-\w+-\d+$/

/**
 * DNS suffixes of the AWS partitions other than `aws` (amazonaws.com), by region name: the
 * `regionRegex` and `dnsSuffix` of the AWS SDK v3's partitions.json (util-endpoints). GovCloud
 * (`us-gov-*`) is amazonaws.com too; an unknown region gets the `aws` partition's, as there.
 */
const PARTITION_SUFFIXES: readonly (readonly [RegExp, string])[] = [
  [CHINA_REGION, 'amazonaws.com.cn'],
  [/^us-iso-\w+-\d+$/, 'c2s.ic.gov'],
  [/^us-isob-\w+-\d+$/, 'sc2s.sgov.gov'],
  [/^eu-isoe-\w+-\d+$/, 'cloud.adc-e.uk'],
  [/^us-isof-\w+-\d+$/, 'csp.hci.ic.gov'],
  [/^eusc-de-\w+-\d+$/, 'amazonaws.eu'],
]

/**
 * An AWS region goes in AWS's host names (`s3.<region>.amazonaws.com`): one DNS label. The AWS
 * SDK checks the same ("Region not accepted: … is not a valid hostname component"); upper case is
 * refused too, since the host would be lower-cased and the signature would not.
 */
const AWS_REGION_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/
/**
 * Another server sees the region only in the SigV4 credential scope
 * (`Credential=<key id>/<date>/<region>/s3/aws4_request, …` in the Authorization header):
 * printable ASCII (0x21–0x7E) except "/", which would shift the scope's parts, and ",", which
 * ends the field. S3-compatible stores name theirs freely ("garage", "default", "us-east-1").
 */
const SCOPE_REGION = /^[\x21-\x2B\x2D\x2E\x30-\x7E]+$/

/**
 * The AWS SDK's pseudo-regions, as its region resolver (config-resolver getRealRegion /
 * isFipsRegion) and the S3 endpoint rules read them: `aws-global` is S3's global endpoint
 * (s3.amazonaws.com) signed for us-east-1; `fips-<region>` and `<region>-fips` are the region
 * with the FIPS endpoint (`fips-aws-global` and `aws-fips`: us-east-1's).
 */
function realRegion(region: string): { readonly region: string; readonly fips: boolean } {
  if (region === 'aws-global') return { region: 'us-east-1', fips: false }
  if (region.startsWith('fips-') || region.endsWith('-fips')) {
    return { region: region === 'fips-aws-global' || region === 'aws-fips' ? 'us-east-1' : region.replace(/^fips-|-fips$/g, ''), fips: true }
  }
  return { region, fips: false }
}

/**
 * What the S3 endpoint rules refuse of a variant in a region, said with where each setting came
 * from; `undefined` when AWS has that endpoint.
 */
function variantProblem(region: string, variant: AwsEndpointVariant, sources: { readonly fips: string; readonly accelerate: string }): string | undefined {
  const china = CHINA_REGION.test(region)
  if (variant.fips && china) {
    return `${sources.fips} asks for AWS's FIPS endpoint, but AWS has no FIPS endpoint for S3 in the China partition (${region}) (the S3 endpoint rules: "Partition does not support FIPS"). Turn FIPS off for this region.`
  }
  if (variant.accelerate === true && variant.fips) {
    return `S3 Transfer Acceleration has no FIPS endpoint (the S3 endpoint rules: "Accelerate cannot be used with FIPS"), but ${sources.accelerate} and ${sources.fips} ask for both: turn one off.`
  }
  if (variant.accelerate === true && china) {
    return `S3 Transfer Acceleration is not offered in the China partition (${region}) (the S3 endpoint rules), but ${sources.accelerate} asks for it: turn it off for this region.`
  }
  return undefined
}

/** `"us-east-1\r"`: a region as a message shows it (not a secret; escapes show what is hidden), cut at 64 characters. */
function shownRegion(region: string): string {
  return `${JSON.stringify(region.slice(0, 64))}${region.length > 64 ? '…' : ''}`
}

/**
 * Why `region` cannot be used, or `undefined`: for AWS's own endpoint (`aws`) a host name label,
 * for another one any name safe in a SigV4 scope. `what` names where it came from.
 */
function regionProblem(region: string, what: string, aws: boolean): string | undefined {
  if (aws ? AWS_REGION_NAME.test(region) : SCOPE_REGION.test(region)) return undefined
  // Trimmed silently, a region would sign other than its source says: the user fixes the source.
  const crlf = region.endsWith('\r') ? ' (a .env file with Windows line ends leaves a "\\r" at the end)' : ''
  const hidden = /[\s\x00-\x1F\x7F]/.test(region) ? ` It holds whitespace or a control character${crlf}: check where it is set.` : ''
  if (!aws) {
    return `Expected ${what} to be a region name your server uses (such as "us-east-1"), got ${shownRegion(region)}: it goes in the SigV4 signature's scope, which takes printable ASCII without whitespace, "/" or ",".${hidden}`
  }
  const lower = hidden === '' && AWS_REGION_NAME.test(region.toLowerCase()) ? ' AWS region names are lower case.' : ''
  return (
    `Expected ${what} to be an AWS region name such as "eu-west-1" (one host name label: lower-case letters, digits and "-", not at either end; ` +
    `it goes in the host name s3.<region>.amazonaws.com), got ${shownRegion(region)}.${hidden}${lower}`
  )
}

/**
 * AWS's S3 endpoint for `region`, as the S3 endpoint rules build it (without a bucket host):
 * `https://s3[-fips][.dualstack].<region>.<partition's DNS suffix>`, e.g.
 * `https://s3-fips.us-gov-west-1.amazonaws.com`, `https://s3.cn-north-1.amazonaws.com.cn`;
 * `https://s3-accelerate[.dualstack].<suffix>` with `accelerate`. The AWS SDK's pseudo-regions
 * are read as it reads them: `aws-global` is `https://s3.amazonaws.com` (signed for us-east-1),
 * `fips-<region>` / `<region>-fips` the region's FIPS endpoint.
 * @throws {InvalidArgumentError} for a region that is not a host name label, and for FIPS or
 *   Transfer Acceleration where AWS has none (the China partition; both at once).
 * @example
 * awsS3Endpoint('eu-west-1', { fips: false, dualStack: true }) // 'https://s3.dualstack.eu-west-1.amazonaws.com'
 */
export function awsS3Endpoint(region: string, variant: AwsEndpointVariant = NO_VARIANT): string {
  const problem = regionProblem(region, '`region`', true)
  if (problem !== undefined) throw new InvalidArgumentError(problem)
  const real = realRegion(region)
  const fips = variant.fips || real.fips
  const invalid = variantProblem(real.region, { ...variant, fips }, { fips: real.fips ? `\`region\` ${JSON.stringify(region)}` : '`variant.fips`', accelerate: '`variant.accelerate`' })
  if (invalid !== undefined) throw new InvalidArgumentError(invalid)
  const suffix = PARTITION_SUFFIXES.find(([pattern]) => pattern.test(real.region))?.[1] ?? 'amazonaws.com'
  const dualStack = variant.dualStack ? '.dualstack' : ''
  if (variant.accelerate === true) return `https://s3-accelerate${dualStack}.${suffix}`
  if (region === 'aws-global' && !fips && !variant.dualStack) return `https://s3.${suffix}`
  return `https://s3${fips ? '-fips' : ''}${dualStack}.${real.region}.${suffix}`
}

/** The SDK's default region is none at all (an error); partstream's has always been us-east-1. */
export const DEFAULT_REGION: string = 'us-east-1'

/**
 * Region and endpoint the way the AWS SDK v3 and CLI find them, for what the caller leaves out:
 *
 * - region: `region` → `AWS_REGION` → `AWS_DEFAULT_REGION` (the CLI's) → the profile's `region`
 *   → `us-east-1`; checked wherever it came from (for AWS's endpoint a host name label, for
 *   another any name safe in a SigV4 scope), and the SDK's pseudo-regions read as it reads them
 *   (`aws-global`, `fips-<region>`, `<region>-fips`);
 * - endpoint: `endpoint` → `AWS_ENDPOINT_URL_S3` → `AWS_ENDPOINT_URL` → the profile's
 *   `services` section (`s3 =` / `  endpoint_url = …`) → the profile's `endpoint_url` → the AWS
 *   regional endpoint. `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` (or, when that variable is
 *   not set, the profile's `ignore_configured_endpoint_urls = true`) skips the variables and the
 *   profile, as in the SDK.
 *
 * Synchronous: the shared files are small, and read only when a value has to come from them.
 * @throws {InvalidArgumentError} for a region that cannot be used (naming where it came from), a
 *   configured endpoint that is not an http(s) URL, a profile naming a `services` section that
 *   does not exist, or an endpoint variant AWS does not have.
 * @example
 * const { region, endpoint, endpointSource } = resolveS3Config({ profile: 'minio' })
 */
export function resolveS3Config(options: ResolveS3ConfigOptions = {}): ResolvedS3Config {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`Expected \`options\` to be an object, got ${describeValue(options)}.`)
  }
  if (options.profile !== undefined && (typeof options.profile !== 'string' || options.profile === '')) {
    throw new InvalidArgumentError(`Expected \`profile\` to be a non-empty string, got ${describeValue(options.profile)}.`)
  }
  const env: Env = options.env ?? processEnv()
  const profile = profileNameOf(options.profile, env).name
  let files: SharedConfigFiles | undefined
  const read = (): SharedConfigFiles => (files ??= readSharedConfigFiles(env))

  let given: string
  let regionSource: string
  if (options.region !== undefined) {
    given = options.region
    regionSource = 'region'
  } else {
    const fromEnv = envValue(env, 'AWS_REGION') ?? envValue(env, 'AWS_DEFAULT_REGION')
    if (fromEnv !== undefined) {
      given = fromEnv
      regionSource = envValue(env, 'AWS_REGION') !== undefined ? 'AWS_REGION' : 'AWS_DEFAULT_REGION'
    } else {
      // The SDK reads the region with the credentials file first (NODE_REGION_CONFIG_FILE_OPTIONS).
      const fromProfile = profileOf(read(), profile, 'credentials')?.['region']
      given = fromProfile ?? DEFAULT_REGION
      regionSource = fromProfile === undefined ? 'default' : `profile "${profile}" in ${fileWith(read(), profile, 'region', 'credentials')}`
    }
  }
  if (typeof given !== 'string' || given === '') {
    throw new InvalidArgumentError(
      `Expected \`region\` to be a non-empty string, got ${describeValue(given)}. For S3-compatible servers, the name the server uses (often "us-east-1").`,
    )
  }
  // In messages: `region` (the caller's, the CLI's --region), AWS_REGION, or the profile's.
  const regionWhat = regionSource === 'region' ? '`region`' : regionSource.startsWith('profile ') ? `the region of ${regionSource}` : regionSource
  const real = realRegion(given)
  const region = real.region

  const fips = real.fips
    ? { value: true, source: `${regionWhat} ${JSON.stringify(given)} (a FIPS pseudo-region)` }
    : variantSetting(env, profile, read, 'AWS_USE_FIPS_ENDPOINT', 'use_fips_endpoint')
  // botocore (_is_s3_dualstack_mode): the s3 sub-section's `use_dualstack_endpoint = true` turns
  // it on whatever the other settings say; otherwise the variable, then the profile's own key.
  const s3DualStack = s3Setting(profile, read, 'use_dualstack_endpoint')
  const dualStack = s3DualStack?.value === true ? s3DualStack : variantSetting(env, profile, read, 'AWS_USE_DUALSTACK_ENDPOINT', 'use_dualstack_endpoint')
  const accelerate = s3Setting(profile, read, 'use_accelerate_endpoint')
  const variant = { fips: fips?.value === true, dualStack: dualStack?.value === true, accelerate: accelerate?.value === true }
  const forcePathStyle = addressingStyle(profile, read)
  const own = (endpoint: string | URL, endpointSource: string): ResolvedS3Config => {
    // The S3 endpoint rules refuse these with a custom endpoint ("A custom endpoint cannot be
    // combined with FIPS"): a FIPS setting silently dropped would send where it must not.
    for (const [setting, name] of [[fips, 'FIPS'], [dualStack, 'dual-stack'], [accelerate, 'Transfer Acceleration']] as const) {
      if (setting?.value === true) {
        throw new InvalidArgumentError(
          // The option quoted as options are (`endpoint`): the CLI names its flag for it.
          `${setting.source} asks for AWS's ${name} endpoint, but the endpoint is your own (${endpointSource === 'endpoint' ? '`endpoint`' : endpointSource}). ` +
            `Remove one: a ${name} endpoint URL of your own goes in the endpoint alone.`,
        )
      }
    }
    const problem = regionProblem(given, regionWhat, false)
    if (problem !== undefined) throw new InvalidArgumentError(problem)
    return { region, regionSource, endpoint, endpointSource, profile, variant: { fips: false, dualStack: false, accelerate: false }, forcePathStyle }
  }
  if (options.endpoint !== undefined) return own(options.endpoint, 'endpoint')
  const configured = configuredEndpoint(env, profile, read)
  if (configured !== undefined) {
    checkEndpointUrl(configured.url, configured.source)
    return own(configured.url, configured.source)
  }
  const problem =
    regionProblem(given, regionWhat, true) ??
    variantProblem(region, variant, { fips: fips?.source ?? '', accelerate: accelerate?.source ?? '' }) ??
    (variant.accelerate && forcePathStyle === true
      ? `Profile "${profile}" s3 use_accelerate_endpoint = true takes virtual-hosted requests only, but its addressing_style is path (in ${fileWith(read(), profile, 's3.addressing_style')}): remove one of them.`
      : undefined)
  if (problem !== undefined) throw new InvalidArgumentError(problem)
  return { region, regionSource, endpoint: awsS3Endpoint(given, variant), endpointSource: 'AWS regional', profile, variant, forcePathStyle }
}

/** The profile's `s3.addressing_style` (the AWS CLI's, botocore's): path → true, virtual → false, auto → undefined. */
function addressingStyle(profile: string, read: () => SharedConfigFiles): boolean | undefined {
  const files = read()
  const style = profileOf(files, profile, 'config')?.['s3.addressing_style']
  if (style === undefined || style === 'auto') return undefined
  if (style === 'path' || style === 'virtual') return style === 'path'
  throw new InvalidArgumentError(
    `Expected profile "${profile}" s3 addressing_style in ${fileWith(files, profile, 's3.addressing_style')} to be path, virtual or auto, got ${JSON.stringify(style.slice(0, 40))}.`,
  )
}

/**
 * A switch of the profile's `s3` sub-section (botocore's DEFAULT_S3_CONFIG_VARS:
 * `use_dualstack_endpoint`, `use_accelerate_endpoint`): true or false in any case, as botocore takes them.
 * @throws {InvalidArgumentError} for any other value, naming where it came from.
 */
function s3Setting(profile: string, read: () => SharedConfigFiles, key: string): { value: boolean; source: string } | undefined {
  const files = read()
  const text = profileOf(files, profile, 'config')?.[`s3.${key}`]
  if (text === undefined) return undefined
  const source = `profile "${profile}" s3 ${key} in ${fileWith(files, profile, `s3.${key}`)}`
  // Any case, as botocore's ensure_boolean reads this sub-section (`True` is common there).
  const value = text.toLowerCase()
  if (value !== 'true' && value !== 'false') throw new InvalidArgumentError(`Expected ${source} to be true or false, got ${JSON.stringify(text.slice(0, 40))}.`)
  return { value: value === 'true', source }
}

/**
 * A boolean endpoint setting: the variable, else the profile's key (config file). Only `true`
 * and `false`, as smithy's `booleanSelector` takes them: a FIPS setting misread as off would
 * send where it must not.
 * @throws {InvalidArgumentError} for any other value, naming where it came from.
 */
function variantSetting(
  env: Env,
  profile: string,
  read: () => SharedConfigFiles,
  variable: string,
  key: string,
): { value: boolean; source: string } | undefined {
  const check = (text: string, source: string): { value: boolean; source: string } => {
    // A switch, not a secret: the value is shown (cut short).
    if (text !== 'true' && text !== 'false') throw new InvalidArgumentError(`Expected ${source} to be true or false, got ${JSON.stringify(text.slice(0, 40))}.`)
    return { value: text === 'true', source }
  }
  const fromEnv = envValue(env, variable)
  if (fromEnv !== undefined) return check(fromEnv, variable)
  const fromProfile = profileOf(read(), profile, 'config')?.[key]
  return fromProfile === undefined ? undefined : check(fromProfile, `profile "${profile}" ${key} in ${fileWith(read(), profile, key)}`)
}

/**
 * The file a profile's `key` was read from: the one `first` names when it has the key (config by
 * default, fromSharedConfigFiles' preference; the region is read credentials first), else the other.
 */
function fileWith(files: SharedConfigFiles, profile: string, key: string, first: 'config' | 'credentials' = 'config'): string {
  if (first === 'credentials') return files.credentialsProfiles[profile]?.[key] !== undefined ? files.credentialsPath : files.configPath
  return files.configProfiles[profile]?.[key] !== undefined ? files.configPath : files.credentialsPath
}

/**
 * smithy `getEndpointFromConfig` (middleware-endpoint adaptors): the ignore switch, then the
 * variables, then the profile's services section and its own `endpoint_url`.
 */
function configuredEndpoint(env: Env, profile: string, read: () => SharedConfigFiles): { url: string; source: string } | undefined {
  // The switch: the variable when it is set (`false` too: it overrides the profile's `true` for a
  // run, as in the SDK, which reads the variable first), else the profile's key. It applies to the
  // variables as well (both are "configured endpoint URLs").
  const switchVariable = envValue(env, 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS')
  const settings = (): ReturnType<typeof profileOf> => profileOf(read(), profile, 'config')
  if (switchVariable !== undefined ? isTrue(switchVariable) : isTrue(settings()?.['ignore_configured_endpoint_urls'])) return undefined
  const fromVariable = envValue(env, S3_ENDPOINT_VARIABLE) ?? envValue(env, 'AWS_ENDPOINT_URL')
  if (fromVariable !== undefined) {
    return { url: fromVariable, source: envValue(env, S3_ENDPOINT_VARIABLE) !== undefined ? S3_ENDPOINT_VARIABLE : 'AWS_ENDPOINT_URL' }
  }
  const p = settings()
  if (p === undefined) return undefined
  const files = read()
  const servicesName = p['services']
  if (servicesName !== undefined) {
    const services = files.services[servicesName]
    if (services === undefined) {
      throw new InvalidArgumentError(
        `Profile "${profile}" names services "${servicesName}", but ${files.configPath} has no [services ${servicesName}] section. ` +
          'Add it, or remove the `services` line.',
      )
    }
    const url = services[S3_SERVICES_KEY]
    if (url !== undefined) return { url, source: `profile "${profile}", [services ${servicesName}] s3 endpoint_url in ${files.configPath}` }
  }
  const url = p['endpoint_url']
  return url === undefined ? undefined : { url, source: `profile "${profile}" endpoint_url in ${fileWith(files, profile, 'endpoint_url')}` }
}

/** smithy booleanSelector takes "true" and "false"; anything else counts as not set. */
function isTrue(value: string | undefined): boolean {
  return value?.toLowerCase() === 'true'
}

/** A configured endpoint is checked here, so the error can say where it came from. */
function checkEndpointUrl(url: string, source: string): void {
  let parsed: URL | undefined
  try {
    parsed = new URL(url)
  } catch {
    parsed = undefined
  }
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new InvalidArgumentError(
      `Expected the endpoint from ${source} to be an absolute http(s) URL such as "http://127.0.0.1:7480", got ${describeValue(url)}.`,
    )
  }
}

/** Options of {@link resolveChecksumCalculation}. */
export interface ResolveChecksumCalculationOptions {
  /** The shared-config profile read. @default process.env.AWS_PROFILE, else 'default' */
  readonly profile?: string | undefined
  /** The environment to read instead of `process.env`. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
}

/** The AWS SDK / CLI `request_checksum_calculation` setting, and where it came from. */
export interface ChecksumCalculationSetting {
  /**
   * `WHEN_SUPPORTED` (the SDKs' default: a CRC32 with every upload) or `WHEN_REQUIRED` (what users
   * of S3-compatible stores that reject `x-amz-checksum-*` set: a checksum only when the operation
   * requires one).
   */
  readonly value: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED'
  /** `'AWS_REQUEST_CHECKSUM_CALCULATION'`, `'profile "dev" in ~/.aws/config'` or `'default'`. */
  readonly source: string
}

/**
 * `AWS_REQUEST_CHECKSUM_CALCULATION`, else the profile's `request_checksum_calculation`, else
 * `WHEN_SUPPORTED`, as the AWS SDK v3 and CLI read it (case-insensitive). The library itself sends
 * a checksum only when `checksum` is given; this tells a caller (the CLI) what its user asked of
 * AWS tools, so a store set up with `when_required` is not sent one by default.
 * @throws {InvalidArgumentError} for any other value, naming where it came from.
 * @example
 * if (resolveChecksumCalculation().value === 'WHEN_REQUIRED') console.log('no default checksum')
 */
export function resolveChecksumCalculation(options: ResolveChecksumCalculationOptions = {}): ChecksumCalculationSetting {
  const found = envOrProfile(options, 'AWS_REQUEST_CHECKSUM_CALCULATION', 'request_checksum_calculation')
  if (found === undefined) return { value: 'WHEN_SUPPORTED', source: 'default' }
  const value = found.text.trim().toUpperCase()
  if (value !== 'WHEN_SUPPORTED' && value !== 'WHEN_REQUIRED') {
    throw new InvalidArgumentError(`Expected ${found.source} to be when_supported or when_required, got ${describeValue(found.text)}.`)
  }
  return { value, source: found.source }
}

/**
 * A setting the AWS CLI reads from `variable`, else from the profile's `key` (config file): its
 * text and where it came from (`'AWS_MAX_ATTEMPTS'`, `'profile "dev" max_attempts in ~/.aws/config'`),
 * `undefined` when neither is set.
 */
function envOrProfile(options: ResolveChecksumCalculationOptions, variable: string, key: string): { readonly text: string; readonly source: string } | undefined {
  const env: Env = options.env ?? processEnv()
  const fromEnv = envValue(env, variable)
  if (fromEnv !== undefined) return { text: fromEnv, source: variable }
  const profile = profileNameOf(options.profile, env).name
  const files = readSharedConfigFiles(env)
  const fromProfile = profileOf(files, profile, 'config')?.[key]
  return fromProfile === undefined ? undefined : { text: fromProfile, source: `profile "${profile}" ${key} in ${fileWith(files, profile, key)}` }
}

/** Total attempts per request from the environment or the profile, and where it came from. */
export interface MaxAttemptsSetting {
  readonly value: number
  /** `AWS_MAX_ATTEMPTS`, or the profile and file it was read from. */
  readonly source: string
}

/**
 * `AWS_MAX_ATTEMPTS`, else the profile's `max_attempts`: what the AWS CLI and SDKs take for the
 * total attempts per request (the first included), for a caller to give as `retry.attempts`. The
 * library reads neither by itself (its `retry` option is the caller's); the CLI does.
 * `undefined` when neither is set.
 * @throws {InvalidArgumentError} for a value that is not an integer from 1 to 100.
 */
export function resolveMaxAttempts(options: ResolveChecksumCalculationOptions = {}): MaxAttemptsSetting | undefined {
  const found = envOrProfile(options, 'AWS_MAX_ATTEMPTS', 'max_attempts')
  if (found === undefined) return undefined
  const value = /^\s*\d+\s*$/.test(found.text) ? Number(found.text) : Number.NaN
  if (!Number.isInteger(value) || value < 1 || value > 100) {
    throw new InvalidArgumentError(`Expected ${found.source} to be an integer from 1 to 100 (the total attempts per request), got ${describeValue(found.text)}.`)
  }
  return { value, source: found.source }
}

/** The AWS CLI's CA bundle setting: the PEM file to trust, and where it was named. */
export interface CaBundleSetting {
  readonly path: string
  /** `'AWS_CA_BUNDLE'` or `'profile "dev" ca_bundle in ~/.aws/config'`. */
  readonly source: string
}

/**
 * `AWS_CA_BUNDLE`, else the profile's `ca_bundle`, as the AWS CLI (and the Python and Go SDKs)
 * read them; `undefined` when neither is set. The AWS SDK for JavaScript reads neither, so the
 * library does not either: a caller (the CLI) reads the file and passes it as the `ca` option.
 * @example
 * const bundle = resolveCaBundle()
 * const options = bundle === undefined ? {} : { ca: readFileSync(bundle.path, 'utf8') }
 */
export function resolveCaBundle(options: ResolveChecksumCalculationOptions = {}): CaBundleSetting | undefined {
  const found = envOrProfile(options, 'AWS_CA_BUNDLE', 'ca_bundle')
  return found === undefined ? undefined : { path: found.text, source: found.source }
}
