// Region and endpoint resolution: each source in the AWS SDK's order, with a controlled env and HOME.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { awsS3Endpoint, createS3Context, headObject, InvalidArgumentError, resolveCaBundle, resolveChecksumCalculation, resolveS3Config, type ResolvedS3Config, type Transport } from '../src/index.ts'
import { awsHomes } from './aws-home.ts'
import { textBody } from './fault/helpers.ts'


const home = awsHomes('s3config')

const config = [
  '[default]',
  'region = default-region',
  '[profile dev]',
  'region = dev-region',
  'endpoint_url = http://dev-endpoint:1',
  '[profile svc]',
  'endpoint_url = http://profile-wide:1',
  'services = local',
  '[profile svc-no-s3]',
  'endpoint_url = http://profile-wide:2',
  'services = other',
  '[profile broken]',
  'services = nowhere',
  '[profile ignoring]',
  'endpoint_url = http://ignored:1',
  'ignore_configured_endpoint_urls = true',
  '[profile bad-url]',
  'endpoint_url = 127.0.0.1:7480',
  '[services local]',
  's3 =',
  '  endpoint_url = http://services-s3:1',
  'dynamodb =',
  '  endpoint_url = http://services-dynamo:1',
  '[services other]',
  'dynamodb =',
  '  endpoint_url = http://services-dynamo:2',
].join('\n')

describe('region', () => {
  const HOME = home({ config, credentials: '[dev]\nregion = credentials-region\n' })
  test('the caller, AWS_REGION, AWS_DEFAULT_REGION, the profile, us-east-1', () => {
    const env = { HOME, AWS_REGION: 'env-region', AWS_DEFAULT_REGION: 'default-env-region' }
    assert.equal(resolveS3Config({ region: 'given', env }).region, 'given')
    assert.equal(resolveS3Config({ env }).regionSource, 'AWS_REGION')
    assert.equal(resolveS3Config({ env: { HOME, AWS_DEFAULT_REGION: 'x' } }).regionSource, 'AWS_DEFAULT_REGION')
    const fromProfile = resolveS3Config({ env: { HOME } })
    assert.equal(fromProfile.region, 'default-region')
    assert.equal(fromProfile.regionSource, `profile "default" in ${join(HOME, '.aws', 'config')}`)
    assert.deepEqual(
      [resolveS3Config({ env: { HOME: join(home(), 'none') } }).region, resolveS3Config({ env: { HOME: join(home(), 'none') } }).regionSource],
      ['us-east-1', 'default'],
    )
  })
  test('the profile from AWS_PROFILE or the option; the credentials file wins the region (as in the SDK)', () => {
    assert.equal(resolveS3Config({ env: { HOME, AWS_PROFILE: 'dev' } }).region, 'credentials-region')
    // Both files set it: the source names the file the value came from.
    assert.equal(resolveS3Config({ env: { HOME, AWS_PROFILE: 'dev' } }).regionSource, `profile "dev" in ${join(HOME, '.aws', 'credentials')}`)
    assert.equal(resolveS3Config({ env: { HOME }, profile: 'svc' }).region, 'us-east-1')
  })
  test('an empty region is refused', () => {
    assert.throws(() => resolveS3Config({ region: '', env: { HOME } }), InvalidArgumentError)
  })
})

describe('endpoint', () => {
  const HOME = home({ config })
  const s3 = (options: Parameters<typeof resolveS3Config>[0]): [string, string] => {
    const r = resolveS3Config(options)
    return [String(r.endpoint), r.endpointSource]
  }
  test('the caller wins over everything', () => {
    assert.deepEqual(s3({ endpoint: 'http://given:1', env: { HOME, AWS_ENDPOINT_URL_S3: 'http://x:1', AWS_PROFILE: 'dev' } }), ['http://given:1', 'endpoint'])
  })
  test('AWS_ENDPOINT_URL_S3 beats AWS_ENDPOINT_URL, which beats the profile', () => {
    const env = { HOME, AWS_PROFILE: 'dev', AWS_ENDPOINT_URL: 'http://global:1' }
    assert.deepEqual(s3({ env: { ...env, AWS_ENDPOINT_URL_S3: 'http://s3-only:1' } }), ['http://s3-only:1', 'AWS_ENDPOINT_URL_S3'])
    assert.deepEqual(s3({ env }), ['http://global:1', 'AWS_ENDPOINT_URL'])
  })
  test("the profile's services section for s3, then its endpoint_url", () => {
    const configPath = join(HOME, '.aws', 'config')
    assert.deepEqual(s3({ env: { HOME }, profile: 'svc' }), ['http://services-s3:1', `profile "svc", [services local] s3 endpoint_url in ${configPath}`])
    assert.deepEqual(s3({ env: { HOME }, profile: 'svc-no-s3' }), ['http://profile-wide:2', `profile "svc-no-s3" endpoint_url in ${configPath}`])
    assert.deepEqual(s3({ env: { HOME }, profile: 'dev' }), ['http://dev-endpoint:1', `profile "dev" endpoint_url in ${configPath}`])
  })
  test('else the AWS regional endpoint of the resolved region', () => {
    assert.deepEqual(s3({ env: { HOME } }), ['https://s3.default-region.amazonaws.com', 'AWS regional'])
    assert.deepEqual(s3({ env: { HOME }, region: 'eu-central-1' }), ['https://s3.eu-central-1.amazonaws.com', 'AWS regional'])
  })
  test('AWS_IGNORE_CONFIGURED_ENDPOINT_URLS or ignore_configured_endpoint_urls skips variables and profile', () => {
    assert.deepEqual(s3({ env: { HOME, AWS_PROFILE: 'dev', AWS_ENDPOINT_URL: 'http://global:1', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' } }), [
      'https://s3.dev-region.amazonaws.com',
      'AWS regional',
    ])
    assert.deepEqual(s3({ env: { HOME, AWS_ENDPOINT_URL: 'http://global:1' }, profile: 'ignoring' }), ['https://s3.us-east-1.amazonaws.com', 'AWS regional'])
    assert.deepEqual(s3({ env: { HOME }, profile: 'ignoring' })[1], 'AWS regional')
  })
  test("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=false overrides the profile's true, as in the SDK (the profile's switch won: AWS's endpoint)", () => {
    assert.deepEqual(s3({ env: { HOME, AWS_ENDPOINT_URL: 'http://global:1', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'false' }, profile: 'ignoring' }), ['http://global:1', 'AWS_ENDPOINT_URL'])
    assert.deepEqual(s3({ env: { HOME, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'false' }, profile: 'ignoring' })[0], 'http://ignored:1')
  })
  test('a services section that does not exist, or a configured endpoint that is not a URL: InvalidArgumentError naming the source', () => {
    assert.throws(() => resolveS3Config({ env: { HOME }, profile: 'broken' }), /names services "nowhere", but .* has no \[services nowhere\] section/)
    assert.throws(() => resolveS3Config({ env: { HOME }, profile: 'bad-url' }), /endpoint from profile "bad-url" endpoint_url in .* to be an absolute http\(s\) URL/)
    assert.throws(() => resolveS3Config({ env: { HOME, AWS_ENDPOINT_URL_S3: 'ftp://x' } }), /endpoint from AWS_ENDPOINT_URL_S3/)
  })
})

describe('request_checksum_calculation (what AWS tools are told about default checksums)', () => {
  const HOME = home({ config: '[default]\nrequest_checksum_calculation = WHEN_REQUIRED\n[profile odd]\nrequest_checksum_calculation = sometimes\n[profile plain]\nregion = x\n' })
  test('AWS_REQUEST_CHECKSUM_CALCULATION, then the profile, then WHEN_SUPPORTED; case-insensitive', () => {
    assert.deepEqual(resolveChecksumCalculation({ env: { HOME, AWS_REQUEST_CHECKSUM_CALCULATION: 'when_supported' } }), { value: 'WHEN_SUPPORTED', source: 'AWS_REQUEST_CHECKSUM_CALCULATION' })
    assert.deepEqual(resolveChecksumCalculation({ env: { HOME } }), {
      value: 'WHEN_REQUIRED',
      source: `profile "default" request_checksum_calculation in ${join(HOME, '.aws', 'config')}`,
    })
    assert.deepEqual(resolveChecksumCalculation({ env: { HOME }, profile: 'plain' }), { value: 'WHEN_SUPPORTED', source: 'default' })
    assert.deepEqual(resolveChecksumCalculation({ env: { HOME: join(home(), 'none') } }), { value: 'WHEN_SUPPORTED', source: 'default' })
  })
  test('any other value: InvalidArgumentError naming the source', () => {
    assert.throws(() => resolveChecksumCalculation({ env: { HOME, AWS_REQUEST_CHECKSUM_CALCULATION: 'never' } }), {
      code: 'ERR_PARTSTREAM_INVALID_ARGUMENT',
      message: /AWS_REQUEST_CHECKSUM_CALCULATION to be when_supported or when_required, got a string/,
    })
    assert.throws(() => resolveChecksumCalculation({ env: { HOME }, profile: 'odd' }), /profile "odd" request_checksum_calculation/)
  })
})

describe("AWS's endpoint variants and partitions (the S3 endpoint rules)", () => {
  const HOME = home({ config: ['[profile gov]', 'region = us-gov-west-1', 'use_fips_endpoint = true', '[profile v6]', 'use_dualstack_endpoint = true', '[profile typo]', 'use_fips_endpoint = yes'].join('\n') })
  test('each partition gets its DNS suffix; an unknown region the aws one', () => {
    const endpoints = ['eu-west-1', 'us-gov-west-1', 'cn-north-1', 'us-iso-east-1', 'us-isob-east-1', 'eu-isoe-west-1', 'us-isof-south-1', 'eusc-de-east-1', 'xx-new-9'].map((r) => awsS3Endpoint(r))
    assert.deepEqual(endpoints, [
      'https://s3.eu-west-1.amazonaws.com',
      'https://s3.us-gov-west-1.amazonaws.com',
      'https://s3.cn-north-1.amazonaws.com.cn',
      'https://s3.us-iso-east-1.c2s.ic.gov',
      'https://s3.us-isob-east-1.sc2s.sgov.gov',
      'https://s3.eu-isoe-west-1.cloud.adc-e.uk',
      'https://s3.us-isof-south-1.csp.hci.ic.gov',
      'https://s3.eusc-de-east-1.amazonaws.eu',
      'https://s3.xx-new-9.amazonaws.com',
    ])
    assert.equal(resolveS3Config({ region: 'cn-northwest-1', env: { HOME } }).endpoint, 'https://s3.cn-northwest-1.amazonaws.com.cn')
  })
  test('AWS_USE_FIPS_ENDPOINT and AWS_USE_DUALSTACK_ENDPOINT, or the profile keys', () => {
    const at = (env: Record<string, string>, profile?: string): ResolvedS3Config => resolveS3Config({ region: 'us-east-2', env: { HOME, ...env }, profile })
    assert.equal(at({ AWS_USE_FIPS_ENDPOINT: 'true' }).endpoint, 'https://s3-fips.us-east-2.amazonaws.com')
    assert.equal(at({ AWS_USE_DUALSTACK_ENDPOINT: 'true' }).endpoint, 'https://s3.dualstack.us-east-2.amazonaws.com')
    assert.equal(at({ AWS_USE_FIPS_ENDPOINT: 'true', AWS_USE_DUALSTACK_ENDPOINT: 'true' }).endpoint, 'https://s3-fips.dualstack.us-east-2.amazonaws.com')
    assert.deepEqual(at({ AWS_USE_FIPS_ENDPOINT: 'false' }, 'gov').variant, { fips: false, dualStack: false, accelerate: false }, 'the variable wins over the profile')
    const gov = resolveS3Config({ env: { HOME }, profile: 'gov' })
    assert.deepEqual([gov.endpoint, gov.endpointSource, gov.variant], ['https://s3-fips.us-gov-west-1.amazonaws.com', 'AWS regional', { fips: true, dualStack: false, accelerate: false }])
    assert.equal(at({}, 'v6').endpoint, 'https://s3.dualstack.us-east-2.amazonaws.com')
  })
  test('anything but true or false is an error naming its source (a FIPS setting misread as off would be worse)', () => {
    assert.throws(() => resolveS3Config({ env: { HOME, AWS_USE_FIPS_ENDPOINT: '1' } }), (e: unknown) => e instanceof InvalidArgumentError && /AWS_USE_FIPS_ENDPOINT to be true or false, got "1"/.test(e.message))
    assert.throws(() => resolveS3Config({ env: { HOME }, profile: 'typo' }), (e: unknown) => e instanceof InvalidArgumentError && /profile "typo" use_fips_endpoint in .*config to be true or false, got "yes"/.test(e.message))
  })
  test('with an endpoint of your own, FIPS or dual-stack asked for is an error (as the S3 endpoint rules have it); false is fine', () => {
    assert.throws(
      () => resolveS3Config({ endpoint: 'https://minio.example:9000', env: { HOME, AWS_USE_FIPS_ENDPOINT: 'true' } }),
      (e: unknown) => e instanceof InvalidArgumentError && /AWS_USE_FIPS_ENDPOINT asks for AWS's FIPS endpoint, but the endpoint is your own \(`endpoint`\)/.test(e.message),
    )
    assert.throws(() => resolveS3Config({ env: { HOME, AWS_ENDPOINT_URL: 'http://127.0.0.1:9000', AWS_USE_DUALSTACK_ENDPOINT: 'true' } }), /dual-stack endpoint, but the endpoint is your own \(AWS_ENDPOINT_URL\)/)
    assert.equal(resolveS3Config({ env: { HOME, AWS_ENDPOINT_URL: 'http://127.0.0.1:9000', AWS_USE_FIPS_ENDPOINT: 'false' } }).endpoint, 'http://127.0.0.1:9000')
  })
})

describe("the AWS CLI's s3 addressing_style in the profile", () => {
  const HOME = home({
    config: [
      '[profile minio]',
      'endpoint_url = https://storage.example.com',
      's3 =',
      '  addressing_style = path',
      '[profile virt]',
      's3 =',
      '  addressing_style = virtual',
      '[profile auto]',
      's3 =',
      '  addressing_style = auto',
      '[profile sideways]',
      's3 =',
      '  addressing_style = sideways',
    ].join('\n'),
  })
  test('path → forcePathStyle true, virtual → false, auto or unset → undefined; anything else an error', () => {
    const style = (profile: string): boolean | undefined => resolveS3Config({ env: { HOME }, profile }).forcePathStyle
    assert.deepEqual([style('minio'), style('virt'), style('auto'), style('default')], [true, false, undefined, undefined])
    assert.throws(() => style('sideways'), (e: unknown) => e instanceof InvalidArgumentError && /profile "sideways" s3 addressing_style in .*config to be path, virtual or auto, got "sideways"/.test(e.message))
  })
  test('a context follows it unless the target says otherwise', async () => {
    const origins: string[] = []
    const transport: Transport = async (req) => {
      origins.push(`${req.origin}${req.path}`)
      return { statusCode: 200, headers: { 'content-length': '0', etag: '"e"' }, body: textBody('') }
    }
    // createS3Context reads process.env synchronously: set and restore around it.
    const saved = { HOME: process.env['HOME'], AWS_CONFIG_FILE: process.env['AWS_CONFIG_FILE'] }
    const contexts = (() => {
      process.env['HOME'] = HOME
      delete process.env['AWS_CONFIG_FILE']
      try {
        const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }
        return [
          createS3Context({ bucket: 'logs', key: 'k', profile: 'minio', credentials }, { transport }),
          createS3Context({ bucket: 'logs', key: 'k', profile: 'minio', credentials, forcePathStyle: false }, { transport }),
        ]
      } finally {
        for (const [name, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[name]
          else process.env[name] = value
        }
      }
    })()
    for (const ctx of contexts) {
      await headObject(ctx, {})
      await ctx.close()
    }
    assert.deepEqual(origins, ['https://storage.example.com/logs/k', 'https://logs.storage.example.com/k'])
  })
})

describe('ca_bundle (the CAs the AWS CLI trusts; the CLI passes the file as `ca`)', () => {
  const HOME = home({ config: '[default]\nca_bundle = /etc/corp/ca.pem\n[profile plain]\nregion = x\n' })
  test('AWS_CA_BUNDLE, then the profile\'s ca_bundle, then nothing', () => {
    assert.deepEqual(resolveCaBundle({ env: { HOME, AWS_CA_BUNDLE: '/tmp/ca.pem' } }), { path: '/tmp/ca.pem', source: 'AWS_CA_BUNDLE' })
    assert.deepEqual(resolveCaBundle({ env: { HOME } }), { path: '/etc/corp/ca.pem', source: `profile "default" ca_bundle in ${join(HOME, '.aws', 'config')}` })
    assert.equal(resolveCaBundle({ env: { HOME }, profile: 'plain' }), undefined)
    assert.equal(resolveCaBundle({ env: { HOME: join(home(), 'none') } }), undefined)
  })
})

/** createS3Context reads process.env synchronously: `env` is set around `make` and restored. */
function withEnv<T>(env: Record<string, string | undefined>, make: () => T): T {
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]))
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
  try {
    return make()
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
}

/** Nothing configured but what the test sets: no endpoint, region or profile from the machine. */
const CLEAN = { AWS_CONFIG_FILE: undefined, AWS_SHARED_CREDENTIALS_FILE: undefined, AWS_PROFILE: undefined, AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined, AWS_ENDPOINT_URL: undefined, AWS_ENDPOINT_URL_S3: undefined, AWS_USE_FIPS_ENDPOINT: undefined, AWS_USE_DUALSTACK_ENDPOINT: undefined, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: undefined }

describe('the region is checked before it goes into a host name or a signature', () => {
  const HOME = home({ config: '[default]\nregion = eu-west-1/\n[profile ok]\nregion = eu-west-1\n[profile minio]\nregion = garage\nendpoint_url = http://127.0.0.1:9000\n' })
  const refused = (options: Parameters<typeof resolveS3Config>[0], pattern: RegExp): void => {
    assert.throws(() => resolveS3Config(options), (e: unknown) => {
      assert.ok(e instanceof InvalidArgumentError)
      assert.match(e.message, pattern)
      assert.doesNotMatch(e.message, /`endpoint`/, 'the region is at fault, not an endpoint the caller never gave')
      return true
    })
  }
  test("AWS's endpoint: a host name label, or an error naming where the region came from (the SDK: not a valid hostname component)", () => {
    const label = /to be an AWS region name such as "eu-west-1" \(one host name label/
    for (const region of ['us east 1', 'us-east-1 ', 'eu-west-1/', 'other.example/', 'us-east-1\r', '../x', 'EU-WEST-1', '-x', 'a'.repeat(64)]) {
      const shown = JSON.stringify(region).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
      refused({ region, env: { HOME } }, new RegExp(`^Expected \`region\` ${label.source}.*got ${shown}`))
    }
    refused({ env: { HOME, AWS_REGION: 'us-east-1\r' } }, /^Expected AWS_REGION to be an AWS region name .*got "us-east-1\\r".*whitespace/)
    refused({ env: { HOME, AWS_DEFAULT_REGION: 'us east 1' } }, /^Expected AWS_DEFAULT_REGION to be an AWS region name/)
    refused({ env: { HOME } }, new RegExp(`^Expected the region of profile "default" in ${join(HOME, '.aws', 'config').replace(/[.\\]/g, '\\$&')} to be an AWS region name.*got "eu-west-1/"`))
    assert.equal(resolveS3Config({ env: { HOME }, profile: 'ok' }).endpoint, 'https://s3.eu-west-1.amazonaws.com')
  })
  test('an endpoint of your own: any name safe in a SigV4 scope (S3-compatible stores name theirs freely)', () => {
    for (const region of ['garage', 'default', 'us-east-1', 'us_east', 'Garage', 'zone.1']) {
      assert.equal(resolveS3Config({ region, endpoint: 'http://127.0.0.1:9000', env: { HOME } }).region, region)
    }
    assert.equal(resolveS3Config({ env: { HOME }, profile: 'minio' }).region, 'garage')
    for (const region of ['us east', 'a/b', 'garage\r', 'a,b', 'zoné', '\t']) {
      refused({ region, endpoint: 'http://127.0.0.1:9000', env: { HOME } }, /^Expected `region` to be a region name your server uses \(such as "us-east-1"\).*SigV4/)
    }
    refused({ env: { HOME, AWS_REGION: 'garage\r', AWS_ENDPOINT_URL: 'http://127.0.0.1:9000' } }, /^Expected AWS_REGION to be a region name .*got "garage\\r"/)
  })
  test('awsS3Endpoint checks its region too', () => {
    assert.throws(() => awsS3Endpoint('eu-west-1/'), (e: unknown) => e instanceof InvalidArgumentError && /AWS region name/.test(e.message))
  })
  test('a context refuses it before any request; the CLI shows it as --region', () => {
    assert.throws(
      () => withEnv(CLEAN, () => createS3Context({ bucket: 'mybucket', key: 'k', region: 'other.example/', credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' } })),
      (e: unknown) => e instanceof InvalidArgumentError && /^Expected `region`/.test(e.message),
    )
  })
})

describe('pseudo-regions (the AWS SDK v3 region resolver and S3 endpoint rules)', () => {
  const HOME = home({ config: '[profile fips]\nregion = us-gov-west-1-fips\n' })
  const at = (region: string, env: Record<string, string> = {}, endpoint?: string): ResolvedS3Config => resolveS3Config({ region, endpoint, env: { HOME, ...env } })
  test('aws-global: the global endpoint s3.amazonaws.com, signed for us-east-1', () => {
    const global = at('aws-global')
    assert.deepEqual([global.region, global.endpoint], ['us-east-1', 'https://s3.amazonaws.com'])
    assert.equal(at('aws-global', { AWS_USE_DUALSTACK_ENDPOINT: 'true' }).endpoint, 'https://s3.dualstack.us-east-1.amazonaws.com')
    assert.equal(at('aws-global', { AWS_USE_FIPS_ENDPOINT: 'true' }).endpoint, 'https://s3-fips.us-east-1.amazonaws.com')
    assert.equal(at('aws-global', {}, 'https://storage.example.net').region, 'us-east-1')
    assert.equal(awsS3Endpoint('aws-global'), 'https://s3.amazonaws.com')
  })
  test('fips-<region> and <region>-fips: the region, with the FIPS endpoint', () => {
    for (const region of ['fips-us-gov-west-1', 'us-gov-west-1-fips']) {
      const c = at(region)
      assert.deepEqual([c.region, c.endpoint, c.variant.fips], ['us-gov-west-1', 'https://s3-fips.us-gov-west-1.amazonaws.com', true])
    }
    assert.deepEqual([at('aws-fips').region, at('fips-aws-global').endpoint], ['us-east-1', 'https://s3-fips.us-east-1.amazonaws.com'])
    const fromProfile = resolveS3Config({ env: { HOME }, profile: 'fips' })
    assert.deepEqual([fromProfile.region, fromProfile.endpoint], ['us-gov-west-1', 'https://s3-fips.us-gov-west-1.amazonaws.com'])
    assert.throws(
      () => at('fips-us-east-1', {}, 'https://storage.example.net'),
      (e: unknown) => e instanceof InvalidArgumentError && /`region` "fips-us-east-1" \(a FIPS pseudo-region\) asks for AWS's FIPS endpoint, but the endpoint is your own/.test(e.message),
    )
  })
  test('FIPS in the China partition: an error (the S3 rules: "Partition does not support FIPS")', () => {
    for (const [region, env] of [['cn-north-1', { AWS_USE_FIPS_ENDPOINT: 'true' }], ['fips-cn-north-1', {}]] as const) {
      assert.throws(() => at(region, env), (e: unknown) => e instanceof InvalidArgumentError && /has no FIPS endpoint for S3 in the China partition \(cn-north-1\)/.test(e.message))
    }
    assert.throws(() => awsS3Endpoint('cn-north-1', { fips: true, dualStack: false }), InvalidArgumentError)
  })
})

describe("the profile's s3 sub-section: use_dualstack_endpoint and use_accelerate_endpoint (botocore's DEFAULT_S3_CONFIG_VARS)", () => {
  const HOME = home({
    config: [
      '[default]',
      'region = eu-west-1',
      's3 =',
      '  use_dualstack_endpoint = true',
      '[profile fast]',
      'region = eu-west-1',
      's3 =',
      '  use_accelerate_endpoint = true',
      '[profile fast6]',
      's3 =',
      '  use_accelerate_endpoint = true',
      '  use_dualstack_endpoint = true',
      '[profile fast-path]',
      's3 =',
      '  use_accelerate_endpoint = true',
      '  addressing_style = path',
      '[profile fast-cn]',
      'region = cn-north-1',
      's3 =',
      '  use_accelerate_endpoint = true',
      '[profile slow]',
      's3 =',
      '  use_accelerate_endpoint = false',
      '  use_dualstack_endpoint = false',
      '[profile typo]',
      's3 =',
      '  use_dualstack_endpoint = yes',
      '[profile cased]',
      'region = eu-west-1',
      's3 =',
      '  use_dualstack_endpoint = True',
      '[profile minio]',
      'endpoint_url = http://127.0.0.1:9000',
      's3 =',
      '  use_accelerate_endpoint = true',
    ].join('\n'),
  })
  const config = join(HOME, '.aws', 'config')
  const at = (profile: string | undefined, env: Record<string, string> = {}): ResolvedS3Config => resolveS3Config({ profile, env: { HOME, ...env } })
  test('True, as botocore reads this sub-section (any case), turns it on too', () => {
    const c = resolveS3Config({ env: { HOME, AWS_PROFILE: 'cased' } })
    assert.deepEqual([c.endpoint, c.variant.dualStack], ['https://s3.dualstack.eu-west-1.amazonaws.com', true])
  })

  test('use_dualstack_endpoint = true there turns dual-stack on, as in the AWS CLI', () => {
    const c = at(undefined)
    assert.deepEqual([c.endpoint, c.variant.dualStack], ['https://s3.dualstack.eu-west-1.amazonaws.com', true])
    assert.equal(at('slow').endpoint, 'https://s3.us-east-1.amazonaws.com')
    assert.throws(() => at('typo'), (e: unknown) => e instanceof InvalidArgumentError && e.message.includes(`Expected profile "typo" s3 use_dualstack_endpoint in ${config} to be true or false, got "yes"`))
  })
  test('use_accelerate_endpoint = true: s3-accelerate.amazonaws.com (dual-stack too), signed for the region', () => {
    const fast = at('fast')
    assert.deepEqual([fast.endpoint, fast.region, fast.endpointSource, fast.variant], ['https://s3-accelerate.amazonaws.com', 'eu-west-1', 'AWS regional', { fips: false, dualStack: false, accelerate: true }])
    assert.equal(at('fast6').endpoint, 'https://s3-accelerate.dualstack.amazonaws.com')
    assert.equal(awsS3Endpoint('eu-west-1', { fips: false, dualStack: false, accelerate: true }), 'https://s3-accelerate.amazonaws.com')
  })
  test('use_accelerate_endpoint with what it cannot go with: FIPS, the China partition, path style, an endpoint of your own', () => {
    const fails = (profile: string, env: Record<string, string>, pattern: RegExp): void => {
      assert.throws(() => at(profile, env), (e: unknown) => e instanceof InvalidArgumentError && pattern.test(e.message))
    }
    fails('fast', { AWS_USE_FIPS_ENDPOINT: 'true' }, /S3 Transfer Acceleration has no FIPS endpoint/)
    fails('fast-cn', {}, /S3 Transfer Acceleration .*China partition \(cn-north-1\)/)
    fails('fast-path', {}, /use_accelerate_endpoint = true takes virtual-hosted requests only, but its addressing_style is path/)
    fails('minio', {}, /profile "minio" s3 use_accelerate_endpoint in .* asks for AWS's Transfer Acceleration endpoint, but the endpoint is your own/)
  })
  test('a context on the accelerate endpoint puts the bucket in the host name, and a region redirect keeps it there', async () => {
    const sent: string[] = []
    const transport: Transport = async (req) => {
      sent.push(`${req.origin}${req.path} ${/Credential=[^/]+\/\d+\/([^/]+)/.exec(req.headers['authorization'] ?? '')?.[1]}`)
      if (sent.length === 1) return { statusCode: 301, headers: { 'x-amz-bucket-region': 'us-west-2' }, body: textBody('') }
      return { statusCode: 200, headers: { 'content-length': '0', etag: '"e"' }, body: textBody('') }
    }
    const ctx = withEnv({ ...CLEAN, HOME, AWS_PROFILE: 'fast' }, () => createS3Context({ bucket: 'logs', key: 'k', credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' } }, { transport, retry: false }))
    await headObject(ctx, {})
    await ctx.close()
    assert.deepEqual(sent, ['https://logs.s3-accelerate.amazonaws.com/k eu-west-1', 'https://logs.s3-accelerate.amazonaws.com/k us-west-2'])
  })
})

describe("addressing_style = virtual is a preference, as in botocore and the AWS SDK", () => {
  const HOME = home({ config: '[default]\nregion = eu-west-1\ns3 =\n  addressing_style = virtual\n' })
  test('path style where virtual-hosted cannot work: an IP endpoint, a dotted bucket over https', async () => {
    const origins: string[] = []
    const transport: Transport = async (req) => {
      origins.push(`${req.origin}${req.path}`)
      return { statusCode: 200, headers: { 'content-length': '0', etag: '"e"' }, body: textBody('') }
    }
    const credentials = { accessKeyId: 'AK', secretAccessKey: 'SK' }
    const contexts = withEnv({ ...CLEAN, HOME }, () => [
      // It was "Drop `forcePathStyle: false`", which the user never wrote (the CLI: exit 2, --force-path-style).
      withEnv({ AWS_ENDPOINT_URL: 'http://127.0.0.1:7490' }, () => createS3Context({ bucket: 'mybucket', key: 'k', credentials }, { transport })),
      // It was logs.example.com.s3.eu-west-1.amazonaws.com, which S3's certificate does not cover.
      createS3Context({ bucket: 'logs.example.com', key: 'k', credentials }, { transport }),
      createS3Context({ bucket: 'logs-example', key: 'k', credentials }, { transport }),
    ])
    for (const ctx of contexts) {
      await headObject(ctx, {})
      await ctx.close()
    }
    assert.deepEqual(origins, ['http://127.0.0.1:7490/mybucket/k', 'https://s3.eu-west-1.amazonaws.com/logs.example.com/k', 'https://logs-example.s3.eu-west-1.amazonaws.com/k'])
  })
})
