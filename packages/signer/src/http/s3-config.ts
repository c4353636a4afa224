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
  /** The signing region. */
  readonly region: string
  /** `'region'` (the caller's), `'AWS_REGION'`, `'AWS_DEFAULT_REGION'`, `'profile "dev" in ~/.aws/config'` or `'default'`. */
  readonly regionSource: string
  /** The endpoint URL: the caller's, a configured one, or the AWS regional `https://s3.<region>.amazonaws.com`. */
  readonly endpoint: string | URL
  /** `'endpoint'` (the caller's), `'AWS_ENDPOINT_URL_S3'`, `'AWS_ENDPOINT_URL'`, `'profile "dev" …'`, or `'AWS regional'`. */
  readonly endpointSource: string
  /**
   * AWS's endpoint variant (`AWS_USE_FIPS_ENDPOINT` / `AWS_USE_DUALSTACK_ENDPOINT`, or the
   * profile's `use_fips_endpoint` / `use_dualstack_endpoint`): what {@link awsS3Endpoint} builds
   * the AWS regional endpoint with. Both false with an endpoint of your own.
   */
  readonly variant: AwsEndpointVariant
  /**
   * The AWS CLI's `addressing_style` in the profile's `s3` sub-section (`s3 =` then an indented
   * `addressing_style = path`): `true` for `path`, `false` for `virtual`, `undefined` for `auto`
   * or unset (partstream's own choice: path-style for IPs, localhost and non-DNS bucket names).
   */
  readonly forcePathStyle: boolean | undefined
  /** The profile read (whether or not it exists). */
  readonly profile: string
}

/** https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html: the S3 service id in variable and key names. */
const S3_ENDPOINT_VARIABLE = 'AWS_ENDPOINT_URL_S3'
const S3_SERVICES_KEY = 's3.endpoint_url'

/** Which of AWS's S3 endpoints a region has: FIPS 140 validated TLS, IPv4 + IPv6, or both. */
export interface AwsEndpointVariant {
  readonly fips: boolean
  readonly dualStack: boolean
}

/**
 * DNS suffixes of the AWS partitions other than `aws` (amazonaws.com), by region name: the
 * `regionRegex` and `dnsSuffix` of the AWS SDK v3's partitions.json (util-endpoints). GovCloud
 * (`us-gov-*`) is amazonaws.com too; an unknown region gets the `aws` partition's, as there.
 */
const PARTITION_SUFFIXES: readonly (readonly [RegExp, string])[] = [
  [/^cn-\w+-\d+$/, 'amazonaws.com.cn'],
  [/^us-iso-\w+-\d+$/, 'c2s.ic.gov'],
  [/^us-isob-\w+-\d+$/, 'sc2s.sgov.gov'],
  [/^eu-isoe-\w+-\d+$/, 'cloud.adc-e.uk'],
  [/^us-isof-\w+-\d+$/, 'csp.hci.ic.gov'],
  [/^eusc-de-\w+-\d+$/, 'amazonaws.eu'],
]

/**
 * AWS's S3 endpoint for `region`, as the S3 endpoint rules build it (without a bucket host):
 * `https://s3[-fips][.dualstack].<region>.<partition's DNS suffix>`, e.g.
 * `https://s3-fips.us-gov-west-1.amazonaws.com`, `https://s3.cn-north-1.amazonaws.com.cn`.
 * @example
 * awsS3Endpoint('eu-west-1', { fips: false, dualStack: true }) // 'https://s3.dualstack.eu-west-1.amazonaws.com'
 */
export function awsS3Endpoint(region: string, variant: AwsEndpointVariant = { fips: false, dualStack: false }): string {
  const suffix = PARTITION_SUFFIXES.find(([pattern]) => pattern.test(region))?.[1] ?? 'amazonaws.com'
  return `https://s3${variant.fips ? '-fips' : ''}${variant.dualStack ? '.dualstack' : ''}.${region}.${suffix}`
}

/** The SDK's default region is none at all (an error); partstream's has always been us-east-1. */
export const DEFAULT_REGION: string = 'us-east-1'

/**
 * Region and endpoint the way the AWS SDK v3 and CLI find them, for what the caller leaves out:
 *
 * - region: `region` → `AWS_REGION` → `AWS_DEFAULT_REGION` (the CLI's) → the profile's `region`
 *   → `us-east-1`;
 * - endpoint: `endpoint` → `AWS_ENDPOINT_URL_S3` → `AWS_ENDPOINT_URL` → the profile's
 *   `services` section (`s3 =` / `  endpoint_url = …`) → the profile's `endpoint_url` → the AWS
 *   regional endpoint. `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` (or the profile's
 *   `ignore_configured_endpoint_urls = true`) skips the variables and the profile, as in the SDK.
 *
 * Synchronous: the shared files are small, and read only when a value has to come from them.
 * @throws {InvalidArgumentError} for a configured endpoint that is not an http(s) URL, or a
 *   profile naming a `services` section that does not exist.
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

  let region: string
  let regionSource: string
  if (options.region !== undefined) {
    region = options.region
    regionSource = 'region'
  } else {
    const fromEnv = envValue(env, 'AWS_REGION') ?? envValue(env, 'AWS_DEFAULT_REGION')
    if (fromEnv !== undefined) {
      region = fromEnv
      regionSource = envValue(env, 'AWS_REGION') !== undefined ? 'AWS_REGION' : 'AWS_DEFAULT_REGION'
    } else {
      // The SDK reads the region with the credentials file first (NODE_REGION_CONFIG_FILE_OPTIONS).
      const fromProfile = profileOf(read(), profile, 'credentials')?.['region']
      region = fromProfile ?? DEFAULT_REGION
      regionSource = fromProfile === undefined ? 'default' : `profile "${profile}" in ${fileWith(read(), profile, 'region', 'credentials')}`
    }
  }
  if (typeof region !== 'string' || region === '') {
    throw new InvalidArgumentError(
      `Expected \`region\` to be a non-empty string, got ${describeValue(region)}. For S3-compatible servers any value works, e.g. "us-east-1".`,
    )
  }

  const fips = variantSetting(env, profile, read, 'AWS_USE_FIPS_ENDPOINT', 'use_fips_endpoint')
  const dualStack = variantSetting(env, profile, read, 'AWS_USE_DUALSTACK_ENDPOINT', 'use_dualstack_endpoint')
  const variant = { fips: fips?.value === true, dualStack: dualStack?.value === true }
  const forcePathStyle = addressingStyle(profile, read)
  const own = (endpoint: string | URL, endpointSource: string): ResolvedS3Config => {
    // The S3 endpoint rules refuse both with a custom endpoint ("A custom endpoint cannot be
    // combined with FIPS"): a FIPS setting silently dropped would send where it must not.
    for (const [setting, name] of [[fips, 'FIPS'], [dualStack, 'dual-stack']] as const) {
      if (setting?.value === true) {
        throw new InvalidArgumentError(
          `${setting.source} asks for AWS's ${name} endpoint, but the endpoint is your own (${endpointSource}). ` +
            `Remove one: a ${name} endpoint URL of your own goes in the endpoint alone.`,
        )
      }
    }
    return { region, regionSource, endpoint, endpointSource, profile, variant: { fips: false, dualStack: false }, forcePathStyle }
  }
  if (options.endpoint !== undefined) return own(options.endpoint, 'endpoint')
  const configured = configuredEndpoint(env, profile, read)
  if (configured === undefined) {
    return { region, regionSource, endpoint: awsS3Endpoint(region, variant), endpointSource: 'AWS regional', profile, variant, forcePathStyle }
  }
  checkEndpointUrl(configured.url, configured.source)
  return own(configured.url, configured.source)
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
  if (isTrue(envValue(env, 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS'))) return undefined
  const settings = (): ReturnType<typeof profileOf> => profileOf(read(), profile, 'config')
  const fromVariable = envValue(env, S3_ENDPOINT_VARIABLE) ?? envValue(env, 'AWS_ENDPOINT_URL')
  if (fromVariable !== undefined) {
    // The profile's switch applies to the variables too (both are "configured endpoint URLs").
    if (isTrue(settings()?.['ignore_configured_endpoint_urls'])) return undefined
    return { url: fromVariable, source: envValue(env, S3_ENDPOINT_VARIABLE) !== undefined ? S3_ENDPOINT_VARIABLE : 'AWS_ENDPOINT_URL' }
  }
  const p = settings()
  if (p === undefined || isTrue(p['ignore_configured_endpoint_urls'])) return undefined
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
  const env: Env = options.env ?? processEnv()
  const setting = (text: string, source: string): ChecksumCalculationSetting => {
    const value = text.trim().toUpperCase()
    if (value !== 'WHEN_SUPPORTED' && value !== 'WHEN_REQUIRED') {
      throw new InvalidArgumentError(`Expected ${source} to be when_supported or when_required, got ${describeValue(text)}.`)
    }
    return { value, source }
  }
  const fromEnv = envValue(env, 'AWS_REQUEST_CHECKSUM_CALCULATION')
  if (fromEnv !== undefined) return setting(fromEnv, 'AWS_REQUEST_CHECKSUM_CALCULATION')
  const profile = profileNameOf(options.profile, env).name
  const files = readSharedConfigFiles(env)
  const fromProfile = profileOf(files, profile, 'config')?.['request_checksum_calculation']
  if (fromProfile !== undefined) return setting(fromProfile, `profile "${profile}" request_checksum_calculation in ${fileWith(files, profile, 'request_checksum_calculation')}`)
  return { value: 'WHEN_SUPPORTED', source: 'default' }
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
  const env: Env = options.env ?? processEnv()
  const fromEnv = envValue(env, 'AWS_CA_BUNDLE')
  if (fromEnv !== undefined) return { path: fromEnv, source: 'AWS_CA_BUNDLE' }
  const profile = profileNameOf(options.profile, env).name
  const files = readSharedConfigFiles(env)
  const fromProfile = profileOf(files, profile, 'config')?.['ca_bundle']
  return fromProfile === undefined ? undefined : { path: fromProfile, source: `profile "${profile}" ca_bundle in ${fileWith(files, profile, 'ca_bundle')}` }
}
