// Credentials, region and endpoint with nothing in the target, as a user's program sees them:
// each case runs fixtures/upload-child in a child process of this runtime, with its own HOME
// (its ~/.aws files) and an environment holding only PATH and what the case sets, against Ceph
// RGW. The uploads are made as a second RGW user created here with radosgw-admin, so that the
// access key on the wire proves which source was used; on a server this suite does not own
// (S3_ENDPOINT elsewhere), no user can be created: the main credentials stand in, and the test
// names say so.
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { after, describe, test } from 'node:test'
import { createBucket as createBucketOp, createS3Context, getObject as getObjectOp, listMultipartUploads, S3ResponseError, type Credentials } from '../../src/index.ts'
import type { ChildCase, ChildResult } from './fixtures/upload-child.ts'
import { createBucket, s3Env } from './s3.ts'
import { awsHomes } from '../aws-home.ts'

const MiB = 1024 * 1024
const execFileAsync = promisify(execFile)
const { endpoint, credentials: main } = s3Env()
const CEPH_CONF = join(process.env['CEPH_DIR'] ?? process.env['S3_CEPH_DIR'] ?? '/tmp/partstream-ceph', 'ceph.conf')
/** This run started RGW itself (scripts/test.mjs): radosgw-admin must work, no fallback. */
const OWN_RGW = process.env['S3_RGW_RESTART'] === '1'

const root = mkdtempSync(join(tmpdir(), 'partstream-creds-'))
after(() => rmSync(root, { recursive: true, force: true }))

const random = (n: number, alphabet: string): string => [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('')
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
const LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789'

function admin(args: readonly string[]): Promise<{ stdout: string }> {
  return execFileAsync('radosgw-admin', ['-c', CEPH_CONF, ...args])
}

/**
 * A second RGW user (with a bucket of its own), or `undefined` when the server is not the local
 * RGW: radosgw-admin missing or failing, or its user unknown to S3_ENDPOINT.
 */
let noSecondUser = ''
async function createSecondUser(): Promise<{ uid: string; keys: Credentials; bucket: string } | undefined> {
  const uid = `partstream-creds-${random(8, LOWER)}`
  const keys = { accessKeyId: `PSCRED${random(14, UPPER)}`, secretAccessKey: random(40, LOWER) }
  try {
    await admin(['user', 'create', `--uid=${uid}`, `--display-name=${uid}`, `--access-key=${keys.accessKeyId}`, `--secret=${keys.secretAccessKey}`])
  } catch (error) {
    // On the run's own RGW the second user is required: the expiry case revokes its first key.
    if (OWN_RGW) throw new Error(`radosgw-admin could not create the second RGW user (${CEPH_CONF})`, { cause: error })
    noSecondUser = `radosgw-admin unavailable (${String((error as Error).message).split('\n')[0]})`
    return undefined
  }
  const bucket = `creds-${Date.now().toString(36)}-${random(4, LOWER)}`
  const ctx = createS3Context({ bucket, endpoint, credentials: keys }, { retry: false })
  try {
    await createBucketOp(ctx)
  } catch {
    await admin(['user', 'rm', `--uid=${uid}`, '--purge-data']).catch(() => undefined)
    return undefined
  } finally {
    await ctx.close()
  }
  return { uid, keys, bucket }
}

const second = await createSecondUser()
after(async () => {
  // Purges the user's bucket and objects with it.
  if (second !== undefined) await admin(['user', 'rm', `--uid=${second.uid}`, '--purge-data'])
})
const user: Credentials = second?.keys ?? main
const bucket = second?.bucket ?? (await createBucket('creds'))
const WHO = second !== undefined ? 'a second RGW user' : `main credentials: ${noSecondUser || 'the second user could not make a bucket'}`

// ---- the child process ----

const fromSource = import.meta.url.endsWith('.ts')
const isDeno = 'Deno' in globalThis
const fixture = fileURLToPath(new URL(`./fixtures/upload-child.${fromSource ? 'ts' : 'js'}`, import.meta.url))
const runtimeArgs = isDeno ? ['run', '-A', '--no-check', '--conditions=@partstream/source'] : fromSource ? ['--conditions=@partstream/source'] : []

interface ChildRun {
  readonly result: ChildResult
  readonly events: readonly Record<string, unknown>[]
  readonly stderr: string
}

const home = awsHomes('creds')

/**
 * Runs the fixture with `env` (plus PATH, and Deno's cache directory) and nothing else of ours:
 * no S3_* or AWS_* variable leaks in. `onEvent` sees each event line; `write` answers on stdin (once).
 */
function runChild(
  spec: ChildCase,
  env: Record<string, string>,
  onEvent?: (event: Record<string, unknown>, write: (line: string) => void) => void | Promise<void>,
): Promise<ChildRun> {
  const childEnv: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    // Never wait on EC2 instance metadata from a test (the SDK chain is installed here).
    AWS_EC2_METADATA_DISABLED: 'true',
    ...(isDeno ? { DENO_DIR: process.env['DENO_DIR'] ?? join(homedir(), '.cache', 'deno'), NO_COLOR: '1' } : {}),
    ...env,
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...runtimeArgs, fixture, JSON.stringify(spec)], { env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] })
    if (onEvent === undefined) child.stdin.end()
    const events: Record<string, unknown>[] = []
    let result: ChildResult | undefined
    let out = ''
    let stderr = ''
    let handling: Promise<void> = Promise.resolve()
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8')
      let nl: number
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl)
        out = out.slice(nl + 1)
        let parsed: { event?: string; result?: ChildResult }
        try {
          parsed = JSON.parse(line) as typeof parsed
        } catch {
          stderr += `[stdout] ${line}\n`
          continue
        }
        if (parsed.result !== undefined) result = parsed.result
        else if (parsed.event !== undefined) {
          const event = parsed as Record<string, unknown>
          events.push(event)
          handling = handling.then(() => onEvent?.(event, (l) => child.stdin.end(`${l}\n`))).catch((error: unknown) => {
            child.kill()
            reject(error as Error)
          })
        }
      }
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8')
    })
    child.once('error', reject)
    child.once('close', (code) => {
      if (result === undefined) reject(new Error(`the child exited with ${code} and no result:\n${stderr}`))
      else resolve({ result, events, stderr })
    })
  })
}

let keys = 0
const nextKey = (name: string): string => `${name}-${++keys}`

/** The object, read back with the uploading user's keys. */
async function readBack(key: string): Promise<number> {
  const ctx = createS3Context({ bucket, key, endpoint, credentials: user }, { retry: false })
  try {
    let n = 0
    for await (const chunk of (await getObjectOp(ctx)).body) n += chunk.byteLength
    return n
  } finally {
    await ctx.close()
  }
}

function assertUploaded(run: ChildRun, size: number): void {
  assert.ok(run.result.ok, `upload failed: ${JSON.stringify(run.result.error?.message)}\n${run.stderr}`)
  assert.equal(run.result.size, size)
  assert.ok(run.result.requests.length > 0)
  for (const r of run.result.requests) {
    assert.equal(r.accessKeyId, user.accessKeyId, `${r.method} signed with the expected user's key`)
    assert.equal(r.origin, new URL(endpoint).origin, `${r.method} sent to the test server`)
  }
}

/** Neither the message, the `cause` chain, nor `util.inspect()` holds a secret. */
function assertNoSecrets(run: ChildRun, secrets: readonly string[]): void {
  const e = run.result.error
  assert.ok(e !== undefined)
  for (const text of [e.message, e.inspected, ...e.causes]) for (const s of secrets) assert.ok(!text.includes(s), `a secret leaked: ${text.slice(0, 400)}`)
}

const ini = (sections: Record<string, Record<string, string>>): string =>
  Object.entries(sections)
    .map(([name, values]) => `[${name}]\n${Object.entries(values).map(([k, v]) => `${k} = ${v}`).join('\n')}\n`)
    .join('\n')
const keysOf = (c: Credentials): Record<string, string> => ({ aws_access_key_id: c.accessKeyId, aws_secret_access_key: c.secretAccessKey })
/** A port nothing listens on: a request there fails at once (ECONNREFUSED). */
const DEAD = 'http://127.0.0.1:9'

describe(`credentials, region and endpoint from the environment and files (child processes, as ${WHO})`, () => {
  test('env keys, endpoint from AWS_ENDPOINT_URL, region from AWS_REGION', async () => {
    const key = nextKey('env')
    const run = await runChild(
      { bucket, key, size: 1000 },
      { HOME: home(), AWS_ACCESS_KEY_ID: user.accessKeyId, AWS_SECRET_ACCESS_KEY: user.secretAccessKey, AWS_ENDPOINT_URL: endpoint, AWS_REGION: 'us-east-1' },
    )
    assertUploaded(run, 1000)
    assert.ok(run.result.requests.every((r) => r.region === 'us-east-1' && !r.sessionToken))
    assert.equal(await readBack(key), 1000)
  })

  test('a named profile from the credentials file (AWS_PROFILE; the env keys and [default] are not used)', async () => {
    const key = nextKey('profile')
    const credentials = ini({ default: keysOf({ accessKeyId: 'WRONGDEFAULT', secretAccessKey: 'x' }), ci: keysOf(user) })
    const run = await runChild(
      { bucket, key, size: 6 * MiB },
      { HOME: home({ credentials }), AWS_PROFILE: 'ci', AWS_ACCESS_KEY_ID: 'WRONGENV', AWS_SECRET_ACCESS_KEY: 'x', AWS_ENDPOINT_URL_S3: endpoint },
    )
    assertUploaded(run, 6 * MiB)
    assert.equal(run.result.partCount, 2)
    assert.equal(await readBack(key), 6 * MiB)
  })

  test('region and endpoint_url from the config file ([default]; keys in the credentials file)', async () => {
    const key = nextKey('config')
    const run = await runChild(
      { bucket, key, size: 1000 },
      {
        HOME: home({
          config: ini({ default: { region: 'eu-partstream-1', endpoint_url: endpoint } }),
          credentials: ini({ default: keysOf(user) }),
        }),
      },
    )
    assertUploaded(run, 1000)
    assert.ok(run.result.requests.every((r) => r.region === 'eu-partstream-1'), 'signed for the profile region')
    assert.ok(run.result.location?.startsWith(`${new URL(endpoint).origin}/`))
  })

  test("target.profile: the profile's services section for s3 beats its endpoint_url", async () => {
    const key = nextKey('services')
    const config = [
      ini({ 'profile svc': { region: 'us-east-1', endpoint_url: DEAD, services: 'local' } }),
      `[services local]\ns3 =\n  endpoint_url = ${endpoint}\n`,
    ].join('\n')
    const run = await runChild(
      { bucket, key, size: 1000, target: { profile: 'svc' } },
      { HOME: home({ config, credentials: ini({ svc: keysOf(user) }) }), AWS_ACCESS_KEY_ID: 'WRONGENV', AWS_SECRET_ACCESS_KEY: 'x' },
    )
    assertUploaded(run, 1000)
  })

  test('credential_process (Version 1 JSON with SessionToken and Expiration)', async () => {
    const key = nextKey('process')
    const doc = { Version: 1, AccessKeyId: user.accessKeyId, SecretAccessKey: user.secretAccessKey, SessionToken: 'process-session-token', Expiration: new Date(Date.now() + 3_600_000).toISOString() }
    const config = ini({ 'profile proc': { credential_process: `printf '%s' '${JSON.stringify(doc)}'`, region: 'us-east-1' } })
    const run = await runChild({ bucket, key, size: 1000 }, { HOME: home({ config }), AWS_PROFILE: 'proc', AWS_ENDPOINT_URL: endpoint })
    assertUploaded(run, 1000)
    assert.ok(run.result.requests.every((r) => r.sessionToken), 'the token is sent (RGW ignores it: see the container case)')
  })

  test('AWS_ENDPOINT_URL_S3 beats AWS_ENDPOINT_URL (and the profile endpoint_url)', async () => {
    const key = nextKey('s3-url')
    const run = await runChild(
      { bucket, key, size: 1000 },
      {
        HOME: home({ config: ini({ default: { endpoint_url: DEAD } }) }),
        AWS_ACCESS_KEY_ID: user.accessKeyId,
        AWS_SECRET_ACCESS_KEY: user.secretAccessKey,
        AWS_ENDPOINT_URL: DEAD,
        AWS_ENDPOINT_URL_S3: endpoint,
      },
    )
    assertUploaded(run, 1000)
  })

  test(
    second !== undefined
      ? 'a provider whose credentials expire during a slow upload is called again; the expired key is revoked on RGW, and the upload completes with the new one'
      : `a provider whose credentials expire during a slow upload is called again, and the upload completes (${WHO}; nothing revoked)`,
    async () => {
      const key = nextKey('expiry')
      const keysFile = join(root, `keys-${keys}.json`)
      writeFileSync(keysFile, JSON.stringify(user))
      const renewed: Credentials = second !== undefined ? { accessKeyId: `PSCRED${random(14, UPPER)}`, secretAccessKey: random(40, LOWER) } : user
      let latestExpiration = 0
      const run = await runChild(
        { bucket, key, size: 11 * MiB, gate: true, provider: { keysFile, lifetimeMs: 1500 } },
        { HOME: home(), AWS_ENDPOINT_URL: endpoint },
        async (event, write) => {
          if (event['event'] === 'credentials') latestExpiration = Math.max(latestExpiration, event['expiration'] as number)
          if (event['event'] !== 'part-acked') return
          if (second !== undefined) {
            // Rotate: a new key for the user, the old one revoked (as an expired STS key would be).
            await admin(['key', 'create', `--uid=${second.uid}`, '--key-type=s3', `--access-key=${renewed.accessKeyId}`, `--secret=${renewed.secretAccessKey}`])
            await admin(['key', 'rm', `--uid=${second.uid}`, '--key-type=s3', `--access-key=${user.accessKeyId}`])
            const old = createS3Context({ bucket, endpoint, credentials: user }, { retry: false })
            await assert.rejects(listMultipartUploads(old), (e: unknown) => e instanceof S3ResponseError && e.statusCode === 403, 'the old key is refused now')
            await old.close()
          }
          writeFileSync(keysFile, JSON.stringify(renewed))
          // The upload is held until every credential handed out so far has expired.
          const wait = latestExpiration - Date.now() + 10
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
          write('go')
        },
      )
      assert.ok(run.result.ok, `upload failed: ${run.result.error?.message}\n${run.stderr}`)
      assert.equal(run.result.size, 11 * MiB)
      assert.ok(run.result.providerCalls >= 2, `the provider was called again (${run.result.providerCalls} calls)`)
      const used = run.result.requests.map((r) => r.accessKeyId)
      assert.equal(used[0], user.accessKeyId)
      assert.equal(used.at(-1), renewed.accessKeyId, 'the last requests are signed with the renewed key')
      assert.ok(run.result.requests.every((r) => r.status >= 200 && r.status < 300), 'no request was refused')
      // The renewed key is the user's only key from now on (`user` is `second.keys`).
      if (second !== undefined) Object.assign(second.keys, renewed)
    },
  )

  test('a missing profile: ERR_PARTSTREAM_CREDENTIALS, no request; no secret in message, cause or inspect()', async () => {
    const run = await runChild(
      { bucket, key: nextKey('missing'), size: 1000 },
      { HOME: home({ credentials: ini({ other: keysOf(user) }) }), AWS_PROFILE: 'nope', AWS_ACCESS_KEY_ID: user.accessKeyId, AWS_SECRET_ACCESS_KEY: user.secretAccessKey, AWS_ENDPOINT_URL: endpoint },
    )
    assert.equal(run.result.ok, false)
    assert.equal(run.result.error?.code, 'ERR_PARTSTREAM_CREDENTIALS')
    assert.match(run.result.error?.message ?? '', /^Profile "nope" \(named by AWS_PROFILE\) exists in neither shared file/)
    assert.deepEqual(run.result.requests, [], 'no request was made')
    assertNoSecrets(run, [user.secretAccessKey])
  })

  test('no credentials at all: ERR_PARTSTREAM_CREDENTIALS naming every source tried (the SDK chain included), no request', async () => {
    const run = await runChild({ bucket, key: nextKey('none'), size: 1000 }, { HOME: home(), AWS_ENDPOINT_URL: endpoint })
    assert.equal(run.result.error?.code, 'ERR_PARTSTREAM_CREDENTIALS')
    const message = run.result.error?.message ?? ''
    assert.match(message, /^No credentials found for profile "default"\./)
    assert.match(message, /\(1\) environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set; \(2\) shared files: no profile "default"/)
    assert.match(message, /\(3\) the AWS SDK's chain \(@aws-sdk\/credential-provider-node\): /)
    assert.deepEqual(run.result.requests, [])
  })

  test('a credential_process that fails after printing the secret: the error holds none of it, no request', async () => {
    const doc = JSON.stringify({ Version: 1, AccessKeyId: user.accessKeyId, SecretAccessKey: user.secretAccessKey })
    const config = ini({ default: { credential_process: `echo '${doc}'; echo '${user.secretAccessKey}' >&2; exit 2` } })
    const run = await runChild({ bucket, key: nextKey('process-fails'), size: 1000 }, { HOME: home({ config }), AWS_ENDPOINT_URL: endpoint })
    assert.equal(run.result.error?.code, 'ERR_PARTSTREAM_CREDENTIALS')
    assert.match(run.result.error?.message ?? '', /^The credential_process of profile "default" exited with code 2; it wrote \d+ bytes to stderr, not shown/)
    assert.deepEqual(run.result.requests, [])
    assertNoSecrets(run, [user.secretAccessKey])
  })

  test('a credential_process that never answers: CredentialsError at idleTimeoutMs, the process killed, the program exits (it ran on and held it)', async () => {
    const pidFile = join(mkdtempSync(join(tmpdir(), 'partstream-pid-')), 'credential-process.pid')
    const config = ini({ default: { credential_process: `echo $$ > '${pidFile}'; exec sleep 30` } })
    const started = performance.now()
    const run = await runChild({ bucket, key: nextKey('process-hangs'), size: 1000, idleTimeoutMs: 500 }, { HOME: home({ config }), AWS_ENDPOINT_URL: endpoint })
    const seconds = (performance.now() - started) / 1000
    assert.equal(run.result.error?.code, 'ERR_PARTSTREAM_CREDENTIALS')
    assert.match(run.result.error?.message ?? '', /^No credentials after 500 ms \(`idleTimeoutMs`\).*credential_process/)
    assert.deepEqual(run.result.requests, [])
    assert.ok(seconds < 15, `the program exited after ${seconds.toFixed(1)} s, not when the process would have (30 s)`)
    // Killed at the deadline: gone once reaped (a zombie until then; polled, not assumed).
    const pid = Number(readFileSync(pidFile, 'utf8'))
    const alive = (): boolean => {
      try {
        process.kill(pid, 0)
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
      } catch {
        return false
      }
    }
    for (let i = 0; i < 50 && alive(); i++) await new Promise((resolve) => setTimeout(resolve, 100))
    assert.equal(alive(), false, 'the credential process was killed')
  })

  test('the AWS SDK chain (optional peer, installed here): container credentials from a loopback endpoint; RGW accepts the session token unverified', async () => {
    const seen: IncomingHttpHeaders[] = []
    const token = `container-session-token-${random(32, LOWER)}`
    const server = createServer((req, res) => {
      seen.push(req.headers)
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ AccessKeyId: user.accessKeyId, SecretAccessKey: user.secretAccessKey, Token: token, Expiration: new Date(Date.now() + 3_600_000).toISOString() }))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const port = (server.address() as AddressInfo).port
      const key = nextKey('container')
      const run = await runChild(
        { bucket, key, size: 6 * MiB },
        {
          HOME: home(),
          AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${port}/v2/credentials/partstream`,
          AWS_CONTAINER_AUTHORIZATION_TOKEN: 'partstream-container-auth',
          AWS_ENDPOINT_URL: endpoint,
        },
      )
      assertUploaded(run, 6 * MiB)
      assert.ok(run.result.requests.every((r) => r.sessionToken), 'x-amz-security-token on every request')
      assert.equal(seen.length, 1, 'one credentials call for the whole upload (cached until near expiry)')
      assert.equal(seen[0]?.['authorization'], 'partstream-container-auth')
      assert.equal(await readBack(key), 6 * MiB)
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })
})
