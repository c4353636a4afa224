// An endpoint URL holding credentials (or a query, or a fragment) is a usage error that names
// where the endpoint came from: the flag, AWS_ENDPOINT_URL(_S3) or the profile's endpoint_url.
// It named `--endpoint-url` even when no such flag was given. The password is never printed.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { command } from './bin.ts'

const dir = mkdtempSync(join(tmpdir(), 'partstream-endpoint-source-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const file = join(dir, 'small.txt')
writeFileSync(file, 'hi\n')
const config = join(dir, 'config')
writeFileSync(config, '[profile ops]\nendpoint_url = http://user:pa55word@127.0.0.1:9\n')

/** Runs the CLI with only `env` (and no shared files but `config`): nothing may be sent (port 9 is discard). */
function cli(args: readonly string[], env: Record<string, string>): { code: number | null; stderr: string } {
  const r = spawnSync(command[0] as string, [...command.slice(1), ...args], {
    env: { PATH: process.env['PATH'] ?? '', HOME: dir, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK', AWS_CONFIG_FILE: config, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  })
  return { code: r.status, stderr: r.stderr }
}

describe('an endpoint URL with credentials in it', () => {
  const cases: readonly (readonly [string, readonly string[], Record<string, string>, RegExp])[] = [
    ['AWS_ENDPOINT_URL', [], { AWS_ENDPOINT_URL: 'http://user:pa55word@127.0.0.1:9' }, /\bAWS_ENDPOINT_URL\b/],
    ['AWS_ENDPOINT_URL_S3', [], { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9/?x=1' }, /\bAWS_ENDPOINT_URL_S3\b/],
    ["the profile's endpoint_url", ['--profile', 'ops'], {}, new RegExp(`profile "ops" endpoint_url in ${config.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}`)],
    ['--endpoint-url', ['--endpoint-url', 'http://user:pa55word@127.0.0.1:9'], { AWS_ENDPOINT_URL: 'http://127.0.0.1:9' }, /--endpoint-url/],
  ]
  for (const [source, flags, env, named] of cases) {
    test(`from ${source}: a usage error naming it`, () => {
      for (const args of [
        ['cp', file, 's3://bucket/k', ...flags],
        ['uploads', 'ls', 's3://bucket/', ...flags],
      ]) {
        const r = cli(args, env)
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
        assert.match(r.stderr, named)
        assert.match(r.stderr, /without query, fragment or credentials/)
        if (source !== '--endpoint-url') assert.doesNotMatch(r.stderr, /--endpoint-url/, 'no flag was given')
        assert.doesNotMatch(r.stderr, /pa55word/)
      }
    })
  }
})

describe('FIPS or dual-stack asked for, with an endpoint of your own', () => {
  test('--endpoint-url is named as the flag (it said "the endpoint is your own (endpoint)")', () => {
    const r = cli(['cp', file, 's3://bucket/k', '--endpoint-url', 'http://127.0.0.1:9'], { AWS_USE_FIPS_ENDPOINT: 'true' })
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /AWS_USE_FIPS_ENDPOINT asks for AWS's FIPS endpoint, but the endpoint is your own \(--endpoint-url\)/)
  })
})
