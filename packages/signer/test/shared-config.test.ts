// The shared config/credentials file parser: each rule of the AWS SDK's parseIni and
// getConfigData (smithy-typescript @smithy/core/config), and how the files are found.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { homeDir, parseIni, profileNameOf, profileOf, readSharedConfigFiles } from '../src/http/shared-config.ts'

const plain = (sections: object): unknown => JSON.parse(JSON.stringify(sections))

describe('parseIni (the SDK rules)', () => {
  test('sections and trimmed name = value pairs', () => {
    const text = '[default]\naws_access_key_id = AK\n  aws_secret_access_key=SK  \n\n[dev]\nregion =eu-west-1\n'
    assert.deepEqual(plain(parseIni(text)), {
      default: { aws_access_key_id: 'AK', aws_secret_access_key: 'SK' },
      dev: { region: 'eu-west-1' },
    })
  })

  test('prefixed sections: profile, services and sso-session become type.name; other pairs are dropped', () => {
    const text = [
      '[profile dev]', 'region = a',
      '[services local]', 'region = b',
      '[sso-session corp]', 'sso_region = c',
      '[profile "quoted.name"]', 'region = d',
      "[profile 'single']", 'region = e',
      '[plugins stuff]', 'region = dropped',
      '[profile two words]', 'region = f',
    ].join('\n')
    assert.deepEqual(plain(parseIni(text)), {
      'profile.dev': { region: 'a' },
      'services.local': { region: 'b' },
      'sso-session.corp': { sso_region: 'c' },
      'profile.quoted.name': { region: 'd' },
      'profile.single': { region: 'e' },
      // No match of `type name` (a space in the name): the whole text is the section name.
      'profile two words': { region: 'f' },
    })
  })

  test('comments: ; or # at the start or after whitespace; inside a value they stay', () => {
    const text = '# top\n; top\n[default]\nkey = abc#def\nother = x ;comment\nthird = y #comment\n  # indented comment\n'
    assert.deepEqual(plain(parseIni(text)), { default: { key: 'abc#def', other: 'x', third: 'y' } })
  })

  test('lines without "=" or starting with "=" are ignored; values split at the first "=" and keep quotes', () => {
    const text = '[default]\njunk\n= nothing\nurl = http://h/?a=b\nquoted = "x"\n'
    assert.deepEqual(plain(parseIni(text)), { default: { url: 'http://h/?a=b', quoted: '"x"' } })
  })

  test('sub-sections: "name =" opens one for the indented lines after it', () => {
    const text = [
      '[services local]',
      's3 =',
      '  endpoint_url = http://127.0.0.1:7480',
      '  addressing_style = path',
      'dynamodb =',
      '\tendpoint_url = http://127.0.0.1:8000',
      'top = level',
      '  indented = but after a top-level key',
    ].join('\n')
    assert.deepEqual(plain(parseIni(text)), {
      'services.local': {
        's3.endpoint_url': 'http://127.0.0.1:7480',
        's3.addressing_style': 'path',
        'dynamodb.endpoint_url': 'http://127.0.0.1:8000',
        top: 'level',
        indented: 'but after a top-level key',
      },
    })
  })

  test('a new section ends a sub-section', () => {
    const text = '[profile a]\ns3 =\n  endpoint_url = x\n[profile b]\n  endpoint_url = y\n'
    assert.deepEqual(plain(parseIni(text)), { 'profile.a': { 's3.endpoint_url': 'x' }, 'profile.b': { endpoint_url: 'y' } })
  })

  test('CRLF line ends; later keys win; a repeated section adds to the first', () => {
    const text = '[default]\r\na = 1\r\na = 2\r\n[other]\r\nb = 3\r\n[default]\r\nc = 4\r\n'
    assert.deepEqual(plain(parseIni(text)), { default: { a: '2', c: '4' }, other: { b: '3' } })
  })

  test('keys before any section are ignored; an empty section exists', () => {
    assert.deepEqual(plain(parseIni('a = 1\n[empty]\n')), { empty: {} })
  })

  test('__proto__ is just a name (no prototype pollution)', () => {
    const parsed = parseIni('[__proto__]\npolluted = yes\n[profile __proto__]\nx = 1\n')
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined)
    assert.equal(parsed['__proto__']?.['polluted'], 'yes')
    assert.equal(parsed['profile.__proto__']?.['x'], '1')
  })
})

describe('readSharedConfigFiles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'partstream-ini-'))
  after(() => rmSync(dir, { recursive: true, force: true }))
  const home = join(dir, 'home')
  mkdirSync(join(home, '.aws'), { recursive: true })
  writeFileSync(
    join(home, '.aws', 'config'),
    [
      '[default]', 'region = from-default',
      '[profile default]', 'output = json',
      '[profile dev]', 'region = config-region', 'endpoint_url = http://config', 'services = local',
      '[plain]', 'region = not-a-profile-in-the-config-file',
      '[services local]', 's3 =', '  endpoint_url = http://services',
    ].join('\n'),
  )
  writeFileSync(
    join(home, '.aws', 'credentials'),
    ['[dev]', 'aws_access_key_id = AK', 'region = credentials-region', '[profile prefixed]', 'aws_access_key_id = X'].join('\n'),
  )

  test('the config file: [profile default] replaces [default]; [x] is not a profile; [services x] kept apart', () => {
    const files = readSharedConfigFiles({ HOME: home })
    assert.equal(files.configPath, join(home, '.aws', 'config'))
    assert.equal(files.credentialsPath, join(home, '.aws', 'credentials'))
    assert.equal(files.configStatus, 'read')
    assert.deepEqual(plain(files.configProfiles), {
      default: { output: 'json' },
      dev: { region: 'config-region', endpoint_url: 'http://config', services: 'local' },
    })
    assert.deepEqual(plain(files.services), { local: { 's3.endpoint_url': 'http://services' } })
  })

  test('the credentials file: [name] as is; [profile x] is the profile named "profile.x", not x', () => {
    const files = readSharedConfigFiles({ HOME: home })
    assert.deepEqual(Object.keys(files.credentialsProfiles), ['dev', 'profile.prefixed'])
  })

  test('merged per key: credentials first for credentials and region, config first for the rest', () => {
    const files = readSharedConfigFiles({ HOME: home })
    assert.equal(profileOf(files, 'dev', 'credentials')?.['region'], 'credentials-region')
    assert.equal(profileOf(files, 'dev', 'config')?.['region'], 'config-region')
    assert.equal(profileOf(files, 'dev', 'config')?.['aws_access_key_id'], 'AK')
    assert.equal(profileOf(files, 'nope', 'config'), undefined)
  })

  test('AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE, with ~/ expanded', () => {
    writeFileSync(join(dir, 'other-config'), '[profile x]\nregion = r\n')
    const files = readSharedConfigFiles({ HOME: home, AWS_CONFIG_FILE: join(dir, 'other-config'), AWS_SHARED_CREDENTIALS_FILE: '~/elsewhere' })
    assert.equal(files.configProfiles['x']?.['region'], 'r')
    assert.equal(files.credentialsPath, join(home, 'elsewhere'))
    assert.equal(files.credentialsStatus, 'not found')
  })

  test('a missing file counts as empty; an unreadable one says why', () => {
    const files = readSharedConfigFiles({ HOME: join(dir, 'nobody') })
    assert.equal(files.configStatus, 'not found')
    assert.deepEqual(plain(files.configProfiles), {})
    const unreadable = readSharedConfigFiles({ HOME: home, AWS_CONFIG_FILE: dir }) // a directory
    assert.match(unreadable.configStatus, /^unreadable \(E[A-Z]+\)$/)
  })

  test('home: HOME, then USERPROFILE, then HOMEDRIVE + HOMEPATH; empty values count as unset', () => {
    assert.equal(homeDir({ HOME: '/h', USERPROFILE: '/u' }), '/h')
    assert.equal(homeDir({ HOME: '', USERPROFILE: '/u' }), '/u')
    assert.equal(homeDir({ HOMEDRIVE: 'D:', HOMEPATH: '\\Users\\me' }), 'D:\\Users\\me')
    assert.equal(typeof homeDir({}), 'string')
  })

  test('profile name: the option, then AWS_PROFILE, then default', () => {
    assert.deepEqual(profileNameOf('a', { AWS_PROFILE: 'b' }), { name: 'a', explicit: 'option' })
    assert.deepEqual(profileNameOf(undefined, { AWS_PROFILE: 'b' }), { name: 'b', explicit: 'AWS_PROFILE' })
    assert.deepEqual(profileNameOf(undefined, { AWS_PROFILE: '' }), { name: 'default', explicit: undefined })
  })
})
