// The default credentials chain, in process: a controlled `env` and HOME per case, real files,
// real `credential_process` commands (POSIX shell built-ins only), and the AWS SDK's package
// replaced through the importer seam (present, absent, broken). The real SDK package runs in
// test/integration/credentials.test.ts, in child processes.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { inspect } from 'node:util'
import { createCredentialsProvider, createS3Context, CredentialsError, headObject, InvalidArgumentError, resolveCredentials } from '../src/index.ts'
import { resolveCredentialChain } from '../src/http/credential-chain.ts'
import type { ModuleImporter } from '../src/http/aws-sdk-credentials.ts'
import { awsHomes } from './aws-home.ts'


const home = awsHomes('chain')

const notFound = (specifier: string): Error => Object.assign(new Error(`Cannot find package '${specifier}'`), { code: 'ERR_MODULE_NOT_FOUND' })

/** No AWS SDK installed. */
const noSdk: ModuleImporter = (specifier) => Promise.reject(notFound(specifier))

/** An AWS SDK whose chain answers with `answer` (or throws it), recording how it was called. */
function fakeSdk(answer: unknown, options: { throws?: boolean; exportFrom?: string } = {}) {
  const inits: unknown[] = []
  const importer: ModuleImporter = (specifier) => {
    if (specifier !== (options.exportFrom ?? '@aws-sdk/credential-provider-node')) return Promise.reject(notFound(specifier))
    const name = specifier === '@aws-sdk/credential-provider-node' ? 'defaultProvider' : 'fromNodeProviderChain'
    return Promise.resolve({
      [name]: (init: unknown) => {
        inits.push(init)
        return () => (options.throws ? Promise.reject(answer) : Promise.resolve(answer))
      },
    })
  }
  return { importer, inits }
}

const SECRET = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYzzzSECRET'
const TOKEN = 'FwoGZXIvYXdzEXAMPLETOKENzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz'

/** The error's message, its `cause` chain and `util.inspect()` output hold none of `secrets`. */
function assertNoSecrets(error: unknown, secrets: readonly string[]): void {
  const texts: string[] = [inspect(error, { depth: 10, showHidden: true })]
  for (let e: unknown = error; e instanceof Error; e = e.cause) texts.push(e.message, String(e.stack), inspect(e, { depth: 10 }))
  for (const text of texts) for (const secret of secrets) assert.ok(!text.includes(secret), `a secret leaked into: ${text.slice(0, 300)}`)
}

async function rejection(promise: Promise<unknown>): Promise<CredentialsError> {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof CredentialsError, `expected a CredentialsError, got ${inspect(error)}`)
    assert.equal(error.code, 'ERR_PARTSTREAM_CREDENTIALS')
    return error
  }
  assert.fail('expected a rejection')
}

const processJson = (doc: object): string => `printf '%s' '${JSON.stringify(doc)}'`

describe('environment variables', () => {
  test('used first when no profile is named, with the session token', async () => {
    const env = { HOME: home({ credentials: '[default]\naws_access_key_id = FILE\naws_secret_access_key = FILE\n' }), AWS_ACCESS_KEY_ID: 'ENV', AWS_SECRET_ACCESS_KEY: 'S', AWS_SESSION_TOKEN: 'T' }
    assert.deepEqual(await resolveCredentialChain({ env }, noSdk), { accessKeyId: 'ENV', secretAccessKey: 'S', sessionToken: 'T' })
  })

  test('skipped when AWS_PROFILE or the profile option names a profile (as the SDK does)', async () => {
    const credentials = '[dev]\naws_access_key_id = DEV\naws_secret_access_key = S\n[other]\naws_access_key_id = OTHER\naws_secret_access_key = S\n'
    const env = { HOME: home({ credentials }), AWS_ACCESS_KEY_ID: 'ENV', AWS_SECRET_ACCESS_KEY: 'S', AWS_PROFILE: 'dev' }
    assert.equal((await resolveCredentialChain({ env }, noSdk)).accessKeyId, 'DEV')
    assert.equal((await resolveCredentialChain({ env, profile: 'other' }, noSdk)).accessKeyId, 'OTHER')
  })

  test('half a pair is not used, and the error says which half is missing', async () => {
    const e = await rejection(resolveCredentialChain({ env: { HOME: home(), AWS_ACCESS_KEY_ID: 'ENV' } }, noSdk))
    assert.match(e.message, /AWS_SECRET_ACCESS_KEY is not set \(the other one is\)/)
  })
})

describe('the keys\' text, wherever they come from', () => {
  // A "\r" from a .env file with Windows line ends failed as "PutObject failed without a response:
  // invalid authorization header" (undici refused the header): an S3 error, for no request sent.
  const refused = (pattern: RegExp) => (e: unknown) => e instanceof InvalidArgumentError && pattern.test(e.message) && !e.message.includes('AKID')
  test('a key id or token with whitespace or a control character: InvalidArgumentError naming its source, never its value', async () => {
    const HOME = home()
    await assert.rejects(
      resolveCredentialChain({ env: { HOME, AWS_ACCESS_KEY_ID: 'AKID\r', AWS_SECRET_ACCESS_KEY: 'S' } }, noSdk),
      refused(/^Expected AWS_ACCESS_KEY_ID to be printable ASCII without whitespace \(it is sent in the Authorization header\).*Windows line ends leaves a "\\r"/),
    )
    await assert.rejects(resolveCredentialChain({ env: { HOME, AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'S', AWS_SESSION_TOKEN: 'T\n' } }, noSdk), refused(/^Expected AWS_SESSION_TOKEN to be printable ASCII/))
    await assert.rejects(resolveCredentialChain({ env: { HOME, AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'S\r' } }, noSdk), refused(/^Expected AWS_SECRET_ACCESS_KEY to be a secret key without control characters/))
    const files = { HOME: home({ credentials: '[default]\naws_access_key_id = AKID EXTRA\naws_secret_access_key = S\n' }) }
    await assert.rejects(resolveCredentialChain({ env: files }, noSdk), refused(/^Expected aws_access_key_id of profile "default" \(.*credentials\) to be printable ASCII/))
    const doc = { Version: 1, AccessKeyId: 'AKID\t', SecretAccessKey: 'S' }
    const proc = { HOME: home({ config: `[default]\ncredential_process = ${processJson(doc)}\n` }) }
    await assert.rejects(resolveCredentialChain({ env: proc }, noSdk), refused(/^Expected the "AccessKeyId" the credential_process of profile "default" printed to be printable ASCII/))
  })

  test('the `credentials` option: checked at once, as its shape is', () => {
    assert.throws(
      () => createS3Context({ bucket: 'bkt', key: 'k', endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials: { accessKeyId: 'AKID\r', secretAccessKey: 'S' } }),
      refused(/^Expected `credentials`\.accessKeyId to be printable ASCII without whitespace/),
    )
  })
})

describe('shared files', () => {
  test('static keys of the default profile, from the credentials or the config file', async () => {
    const a = await resolveCredentialChain({ env: { HOME: home({ credentials: '[default]\naws_access_key_id = C\naws_secret_access_key = S\naws_session_token = T\n' }) } }, noSdk)
    assert.deepEqual(a, { accessKeyId: 'C', secretAccessKey: 'S', sessionToken: 'T' })
    const b = await resolveCredentialChain({ env: { HOME: home({ config: '[default]\naws_access_key_id = CFG\naws_secret_access_key = S\n' }) } }, noSdk)
    assert.equal(b.accessKeyId, 'CFG')
  })

  test('[profile x] in the config file, [x] in the credentials file; the credentials file wins a key', async () => {
    const env = {
      HOME: home({
        config: '[profile dev]\naws_access_key_id = FROM-CONFIG\naws_secret_access_key = CONFIG-SECRET\n[dev]\naws_access_key_id = NOT-A-PROFILE\n',
        credentials: '[dev]\naws_access_key_id = FROM-CREDENTIALS\n',
      }),
    }
    assert.deepEqual(await resolveCredentialChain({ env, profile: 'dev' }, noSdk), { accessKeyId: 'FROM-CREDENTIALS', secretAccessKey: 'CONFIG-SECRET' })
  })

  test('AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE move the files', async () => {
    const dir = home()
    writeFileSync(join(dir, 'creds.ini'), '[ci]\naws_access_key_id = MOVED\naws_secret_access_key = S\n')
    const env = { HOME: join(home(), 'no-such-home'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'creds.ini'), AWS_PROFILE: 'ci' }
    assert.equal((await resolveCredentialChain({ env }, noSdk)).accessKeyId, 'MOVED')
  })

  test('a named profile that exists nowhere fails at once, naming it and both files (the SDK is not consulted)', async () => {
    let imported = 0
    const importer: ModuleImporter = (s) => {
      imported++
      return noSdk(s)
    }
    const dir = home({ config: '[profile other]\nregion = x\n' })
    const e = await rejection(resolveCredentialChain({ env: { HOME: dir, AWS_PROFILE: 'missing', AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: SECRET } }, importer))
    assert.equal(e.profile, 'missing')
    assert.match(e.message, /^Profile "missing" \(named by AWS_PROFILE\) exists in neither shared file/)
    assert.ok(e.message.includes(join(dir, '.aws', 'credentials')) && e.message.includes(join(dir, '.aws', 'config')))
    assert.match(e.message, /environment: skipped, profile "missing" is named by AWS_PROFILE; AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set and not used/)
    assert.equal(e.tried.length, 2)
    assert.equal(imported, 0)
    assertNoSecrets(e, [SECRET])
  })

  test('a named profile whose header is left open (`[weird`, no `]`): the error names that line (it said only that the profile exists nowhere)', async () => {
    for (const [file, header, line] of [
      ['credentials', '[weird', 3],
      ['config', '[profile weird', 2],
    ] as const) {
      const dir = home({ [file]: `${file === 'config' ? '' : '[default]\n'}region = x\n${header}\naws_access_key_id = AK\naws_secret_access_key = ${SECRET}\n` })
      const e = await rejection(resolveCredentialChain({ env: { HOME: dir }, profile: 'weird' }, noSdk))
      assert.match(e.message, new RegExp(`Line ${line} of ${join(dir, '.aws', file).replaceAll('/', '\\/')} starts its section without the closing "\\]" \\(${JSON.stringify(header).replace('[', '\\[')}\\), so the lines after it belong to no profile: add the "\\]"\\.`), e.message)
      assertNoSecrets(e, [SECRET])
    }
  })

  test('role_arn wins over static keys in the first profile (SDK order): it needs the SDK', async () => {
    const config = '[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = base\naws_access_key_id = AK\naws_secret_access_key = S\n'
    const e = await rejection(resolveCredentialChain({ env: { HOME: home({ config }) }, profile: 'admin' }, noSdk))
    assert.match(e.message, /^Profile "admin" uses role_arn \(an STS AssumeRole\): install the AWS SDK's credential provider to use it \(npm install @aws-sdk\/credential-provider-node\)\./)
  })

  for (const [kind, settings, words] of [
    ['SSO', 'sso_session = corp\nsso_account_id = 1\nsso_role_name = r', /IAM Identity Center/],
    ['web identity', 'role_arn = arn:aws:iam::1:role/r\nweb_identity_token_file = /var/run/token', /web_identity_token_file/],
    ['login', 'login_session = arn:aws:iam::1:user/me', /login_session/],
  ] as const) {
    test(`${kind} profiles need the SDK, and the error says to install it`, async () => {
      const e = await rejection(resolveCredentialChain({ env: { HOME: home({ config: `[profile p]\n${settings}\n` }) }, profile: 'p' }, noSdk))
      assert.match(e.message, words)
      assert.match(e.message, /npm install @aws-sdk\/credential-provider-node/)
    })
  }
})

describe('credential_process', () => {
  test('Version 1 JSON with a token and an expiration', async () => {
    const expiration = new Date(Date.now() + 3_600_000)
    const doc = { Version: 1, AccessKeyId: 'PROC', SecretAccessKey: 'S', SessionToken: 'T', Expiration: expiration.toISOString() }
    const env = { HOME: home({ config: `[profile p]\ncredential_process = ${processJson(doc)}\n` }), AWS_PROFILE: 'p' }
    assert.deepEqual(await resolveCredentialChain({ env }, noSdk), { accessKeyId: 'PROC', secretAccessKey: 'S', sessionToken: 'T', expiration })
  })

  test('an Expiration with a space between date and time (RFC 3339), as the AWS CLI and SDK take it', async () => {
    const at = new Date(Math.floor(Date.now() / 1000) * 1000 + 3_600_000)
    const spaced = at.toISOString().replace('T', ' ').replace('.000Z', 'Z')
    const doc = { Version: 1, AccessKeyId: 'PROC', SecretAccessKey: 'S', Expiration: spaced }
    const env = { HOME: home({ config: `[profile p]\ncredential_process = ${processJson(doc)}\n` }), AWS_PROFILE: 'p' }
    assert.deepEqual((await resolveCredentialChain({ env }, noSdk)).expiration, at)
  })

  test('runs through the shell, with the given environment', async () => {
    const command = `printf '{"Version":1,"AccessKeyId":"%s","SecretAccessKey":"s"}' "$PS_TEST_KEY"`
    const env = { HOME: home({ credentials: `[default]\ncredential_process = ${command}\n` }), PS_TEST_KEY: 'FROM-ENV' }
    assert.equal((await resolveCredentialChain({ env }, noSdk)).accessKeyId, 'FROM-ENV')
  })

  const failures: Array<[string, string, RegExp]> = [
    ['exits non-zero (its stderr is counted, never shown)', `echo "${SECRET}" >&2; echo '{"Version":1,"AccessKeyId":"A","SecretAccessKey":"${SECRET}"}'; exit 3`, /exited with code 3; it wrote \d+ bytes to stderr, not shown/],
    ['prints malformed JSON', `echo '{"Version":1,"AccessKeyId":"A","SecretAccessKey":"${SECRET}",'`, /printed something that is not a JSON object \(\d+ bytes on stdout, not shown: they may hold secrets\)/],
    ['prints Version 2', processJson({ Version: 2, AccessKeyId: 'A', SecretAccessKey: SECRET }), /without "Version": 1/],
    ['prints no SecretAccessKey', processJson({ Version: 1, AccessKeyId: 'A', SessionToken: TOKEN }), /without non-empty "AccessKeyId" and "SecretAccessKey"/],
    ['prints expired credentials', processJson({ Version: 1, AccessKeyId: 'A', SecretAccessKey: SECRET, Expiration: '2001-01-01T00:00:00Z' }), /printed credentials that expired at 2001-01-01T00:00:00.000Z/],
    ['prints a bad Expiration', processJson({ Version: 1, AccessKeyId: 'A', SecretAccessKey: SECRET, Expiration: 'soon' }), /"Expiration" that is not an ISO 8601 date/],
    ['prints an Expiration that Date would read loosely ("1": 2001-01-01)', processJson({ Version: 1, AccessKeyId: 'A', SecretAccessKey: SECRET, Expiration: '1' }), /"Expiration" that is not an ISO 8601 date/],
    ['cannot be found', 'partstream-no-such-command-xyz', /exited with code 127/],
  ]
  for (const [name, command, message] of failures) {
    test(`${name}: ERR_PARTSTREAM_CREDENTIALS, no secret in message, cause or inspect()`, async () => {
      const env = { HOME: home({ config: `[profile p]\ncredential_process = PS_PASSWORD=${SECRET}x ${command}\n` }), AWS_PROFILE: 'p' }
      const e = await rejection(resolveCredentialChain({ env }, noSdk))
      assert.match(e.message, /^The credential_process of profile "p" /)
      assert.match(e.message, message)
      assert.match(e.message, /has a credential_process \(.*config\)/)
      assertNoSecrets(e, [SECRET, TOKEN, 'partstream-no-such-command'])
    })
  }
})

describe('nothing found, and the AWS SDK chain', () => {
  test('no credentials anywhere, no SDK: every source tried is named, with the fix', async () => {
    const dir = home()
    const e = await rejection(resolveCredentialChain({ env: { HOME: dir } }, noSdk))
    assert.equal(e.profile, 'default')
    assert.match(e.message, /^No credentials found for profile "default"\. Pass `credentials` in the target, set AWS_ACCESS_KEY_ID/)
    assert.deepEqual(e.tried, [
      'environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set',
      `shared files: no profile "default" in ${join(dir, '.aws', 'credentials')} (not found) and ${join(dir, '.aws', 'config')} (not found)`,
      "the AWS SDK's chain: not installed (@aws-sdk/credential-provider-node or @aws-sdk/credential-providers)",
    ])
  })

  test('a profile without credentials (region only) goes on to the SDK chain', async () => {
    const { importer, inits } = fakeSdk({ accessKeyId: 'IMDS', secretAccessKey: 'S', sessionToken: 'T', expiration: new Date(Date.now() + 3_600_000), accountId: '1' })
    const c = await resolveCredentialChain({ env: { HOME: home({ config: '[default]\nregion = eu-west-1\n' }) } }, importer)
    assert.equal(c.accessKeyId, 'IMDS')
    assert.ok(c.expiration instanceof Date)
    assert.equal(inits.length, 1)
    const init = inits[0] as { profile?: string; logger: { warn: unknown } }
    assert.equal(init.profile, undefined, 'the default profile is not passed as a named one')
    assert.equal(typeof init.logger.warn, 'function', 'a silent logger: the SDK never prints')
  })

  test('a named profile is passed on to the SDK; @aws-sdk/credential-providers works too', async () => {
    const { importer, inits } = fakeSdk({ accessKeyId: 'SSO', secretAccessKey: 'S' }, { exportFrom: '@aws-sdk/credential-providers' })
    const config = '[profile corp]\nsso_session = corp\n[sso-session corp]\nsso_region = us-east-1\n'
    assert.equal((await resolveCredentialChain({ env: { HOME: home({ config }) }, profile: 'corp' }, importer)).accessKeyId, 'SSO')
    assert.equal((inits[0] as { profile?: string }).profile, 'corp')
  })

  test('the SDK failing: its message redacted, the cause a plain copy (never the SDK error object)', async () => {
    const sdkError = Object.assign(new Error(`Could not load credentials from any providers ${TOKEN}`), { name: 'CredentialsProviderError', $response: { body: SECRET } })
    const { importer } = fakeSdk(sdkError, { throws: true })
    const e = await rejection(resolveCredentialChain({ env: { HOME: home() } }, importer))
    assert.match(e.message, /the AWS SDK's chain \(@aws-sdk\/credential-provider-node\): Could not load credentials from any providers \[redacted\]/)
    assert.ok(e.cause instanceof Error && e.cause !== sdkError)
    assert.equal((e.cause as Error).name, 'CredentialsProviderError')
    assertNoSecrets(e, [SECRET, TOKEN])
  })

  test("the SDK failing on malformed JSON: V8's message quotes the body, so none of it is kept", async () => {
    // What the SDK's container provider reported for a body that was not JSON: V8 quotes ~10
    // characters around the fault, here the start of the secret key (too short for redact()).
    let parseError: unknown
    try {
      JSON.parse(`{"AccessKeyId": "AKIDEXAMPLE", "SecretAccessKey": ${SECRET.slice(0, 20)}`)
    } catch (error) {
      parseError = error
    }
    const { importer } = fakeSdk(parseError, { throws: true })
    const e = await rejection(resolveCredentialChain({ env: { HOME: home() } }, importer))
    assertNoSecrets(e, [SECRET.slice(0, 8)])
    assert.match(e.message, /not valid JSON/)
  })

  test('container or web identity variables without the SDK: the error names the variable', async () => {
    const e = await rejection(resolveCredentialChain({ env: { HOME: home(), AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://127.0.0.1:1/creds' } }, noSdk))
    assert.match(e.message, /^No credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI is set, and only the AWS SDK's credential provider reads it/)
  })

  test('an SDK package that is installed but fails to load is reported as such', async () => {
    const importer: ModuleImporter = () => Promise.reject(new SyntaxError('Unexpected token in the SDK'))
    const e = await rejection(resolveCredentialChain({ env: { HOME: home() } }, importer))
    assert.match(e.message, /^No credentials: @aws-sdk\/credential-provider-node could not be loaded \(reinstall it\)/)
    assert.equal((e.cause as Error).name, 'SyntaxError')
  })

  test('the SDK answering something that is not credentials', async () => {
    const { importer } = fakeSdk({ accessKeyId: 'A' })
    const e = await rejection(resolveCredentialChain({ env: { HOME: home() } }, importer))
    assert.match(e.message, /returned something that is not credentials/)
  })
})

describe('public entry points', () => {
  test('resolveCredentials reads process.env by default and accepts an env', async () => {
    const c = await resolveCredentials({ env: { HOME: home(), AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'S' } })
    assert.deepEqual(c, { accessKeyId: 'A', secretAccessKey: 'S' })
  })

  test('invalid options are InvalidArgumentErrors', async () => {
    await assert.rejects(resolveCredentials({ profile: '' }), InvalidArgumentError)
    await assert.rejects(resolveCredentials(null as never), InvalidArgumentError)
    assert.throws(() => createCredentialsProvider({ env: 'x' as never }), InvalidArgumentError)
  })

  test('createCredentialsProvider resolves once and caches', async () => {
    const dir = home({ credentials: '[default]\naws_access_key_id = A\naws_secret_access_key = S\n' })
    const provider = createCredentialsProvider({ env: { HOME: dir } })
    const first = await provider()
    rmSync(join(dir, '.aws'), { recursive: true })
    assert.equal(await provider(), first)
  })

  test("a context given createCredentialsProvider() fails with the provider's own CredentialsError, not one wrapping it", async () => {
    const provider = createCredentialsProvider({ profile: 'nosuch', env: { HOME: home() } })
    const direct = await rejection(provider())
    const ctx = createS3Context({ bucket: 'bucket', endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials: provider })
    try {
      const error = await rejection(headObject(ctx, { key: 'k' }))
      assert.equal(error.profile, 'nosuch')
      assert.equal(error.message, direct.message)
      assert.deepEqual(error.tried, direct.tried)
    } finally {
      await ctx.close()
    }
  })
})

describe('a credential source that never answers', () => {
  test('fails the request after idleTimeoutMs with a CredentialsError; the next request asks again', async () => {
    let calls = 0
    const credentials = (): Promise<never> => {
      calls++
      return new Promise(() => {})
    }
    const ctx = createS3Context({ bucket: 'bucket', key: 'k', endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials }, { idleTimeoutMs: 100 })
    try {
      for (const expected of [1, 2]) {
        const error = await rejection(headObject(ctx))
        assert.match(error.message, /^No credentials after 100 ms \(`idleTimeoutMs`\)/)
        assert.deepEqual(error.tried, ['the `credentials` function: no answer within 100 ms'])
        assert.equal(calls, expected)
      }
    } finally {
      await ctx.close()
    }
  })

  test('a request that gave up leaves the deadline to the next one: it fails when the load passes idleTimeoutMs', async () => {
    let calls = 0
    let onAsked!: () => void
    const asked = new Promise<void>((resolve) => (onAsked = resolve))
    const credentials = (): Promise<never> => {
      calls++
      onAsked()
      return new Promise(() => {})
    }
    const ctx = createS3Context({ bucket: 'bucket', key: 'k', endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials }, { idleTimeoutMs: 300 })
    try {
      const controller = new AbortController()
      const reason = new Error('gave up')
      const first = headObject(ctx, { signal: controller.signal })
      await asked
      const started = Date.now()
      controller.abort(reason)
      await assert.rejects(first, (e: unknown) => e === reason)
      // The load still pending is shared, with the time it has left (not a fresh 300 ms, not none).
      const error = await rejection(headObject(ctx))
      assert.match(error.message, /^No credentials after 300 ms/)
      assert.ok(Date.now() - started < 2000, `failed after ${Date.now() - started} ms`)
      assert.equal(calls, 1)
    } finally {
      await ctx.close()
    }
  })

  test('given up by its signal, the load leaves no timer behind: the process exits at once (child process)', () => {
    // In a child: a timer of this test runner's own would keep the event loop alive and hide one.
    const child = new URL(import.meta.url.endsWith('.ts') ? './fixtures/abandoned-credentials.ts' : './fixtures/abandoned-credentials.js', import.meta.url)
    const deno = (globalThis as { Deno?: { execPath(): string } }).Deno
    const bun = typeof (globalThis as { Bun?: unknown }).Bun === 'object'
    const [command, args] = deno !== undefined
      ? [deno.execPath(), ['run', '-A', '--conditions=@partstream/source', fileURLToPath(child)]]
      : bun
        ? [process.execPath, ['--conditions=@partstream/source', fileURLToPath(child)]]
        : [process.execPath, [...process.execArgv.filter((a) => a.startsWith('--conditions')), fileURLToPath(child)]]
    const started = Date.now()
    // The timer was idleTimeoutMs (60 s by default): well past this limit.
    const run = spawnSync(command, args, { encoding: 'utf8', timeout: 15_000 })
    assert.equal(run.error, undefined, `the child did not exit on its own within 15 s: ${String(run.error)}; stdout: ${run.stdout}`)
    assert.equal(run.status, 0, run.stderr)
    assert.equal(run.stdout.trim(), 'rejected: gave up waiting')
    assert.ok(Date.now() - started < 15_000)
  })
})

describe('loading the AWS SDK', () => {
  test('a namespace whose exports are all undefined (Node 22 in the CLI with stdin a pipe): require() gives the package itself', async () => {
    const { loadAwsSdk } = await import('../src/http/aws-sdk-credentials.ts')
    // What import() returned there: the keys, an empty default, no values.
    const hollow = async (): Promise<unknown> => ({ defaultProvider: undefined, default: {} })
    const sdk = await loadAwsSdk(hollow)
    assert.equal(sdk.kind, 'loaded', JSON.stringify(sdk))
    assert.equal(sdk.kind === 'loaded' && typeof sdk.create, 'function')
  })
})
