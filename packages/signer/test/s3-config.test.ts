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
    assert.deepEqual(at({ AWS_USE_FIPS_ENDPOINT: 'false' }, 'gov').variant, { fips: false, dualStack: false }, 'the variable wins over the profile')
    const gov = resolveS3Config({ env: { HOME }, profile: 'gov' })
    assert.deepEqual([gov.endpoint, gov.endpointSource, gov.variant], ['https://s3-fips.us-gov-west-1.amazonaws.com', 'AWS regional', { fips: true, dualStack: false }])
    assert.equal(at({}, 'v6').endpoint, 'https://s3.dualstack.us-east-2.amazonaws.com')
  })
  test('anything but true or false is an error naming its source (a FIPS setting misread as off would be worse)', () => {
    assert.throws(() => resolveS3Config({ env: { HOME, AWS_USE_FIPS_ENDPOINT: '1' } }), (e: unknown) => e instanceof InvalidArgumentError && /AWS_USE_FIPS_ENDPOINT to be true or false, got "1"/.test(e.message))
    assert.throws(() => resolveS3Config({ env: { HOME }, profile: 'typo' }), (e: unknown) => e instanceof InvalidArgumentError && /profile "typo" use_fips_endpoint in .*config to be true or false, got "yes"/.test(e.message))
  })
  test('with an endpoint of your own, FIPS or dual-stack asked for is an error (as the S3 endpoint rules have it); false is fine', () => {
    assert.throws(
      () => resolveS3Config({ endpoint: 'https://minio.example:9000', env: { HOME, AWS_USE_FIPS_ENDPOINT: 'true' } }),
      (e: unknown) => e instanceof InvalidArgumentError && /AWS_USE_FIPS_ENDPOINT asks for AWS's FIPS endpoint, but the endpoint is your own \(endpoint\)/.test(e.message),
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
