// The `partstream` command against Ceph RGW, run as a child process on the runtime running this
// file: Node 20 runs the bin as published (dist/bin/partstream.js, the bundle scripts/build.mjs
// makes, started through its `#!` line), the others the .ts source (as their tests
// do). Each case checks the exit code, what reached S3 (read back and hashed), and stderr.
import assert from 'node:assert/strict'
import { execFileSync, spawn, spawnSync, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createHash } from 'node:crypto'
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { createServer } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import { createServer as createNetServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { abortMultipartUpload, checksumHash, createMultipartUpload, createS3Context, getObjectTagging, headObject, listObjectsV2, type HashFactory } from '@partstream/signer'
import { createBucket, getObject, openUploads, randomData, s3Env, track } from './s3.ts'
import { integrityDefaults } from '../src/main.ts'
import { localhostCertificate, stallProxy, type StallProxy } from './stall-proxy.ts'
import { bin, built, command, here, runtime } from './bin.ts'

const MiB = 1024 * 1024

let bucket: string
const dir = mkdtempSync(join(tmpdir(), 'partstream-cli-'))
before(async () => {
  bucket = await createBucket('cli')
})
after(() => rmSync(dir, { recursive: true, force: true }))

/** The S3 server's environment, as a user would export it (no credentials in flags). */
function s3EnvVars(): Record<string, string> {
  const { endpoint, region, credentials } = s3Env()
  void endpoint
  return { AWS_REGION: region, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey }
}

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** `--endpoint-url` for commands that talk to S3 (usage-error cases add their own). */
const endpointFlag = (): string[] => ['--endpoint-url', s3Env().endpoint]

/** Runs the CLI with `args` (through `options.command`, else this runtime's {@link command}); `input` goes to stdin through a real pipe. */
function cli(args: readonly string[], options: { input?: Uint8Array; env?: Record<string, string>; command?: readonly string[] } = {}): Promise<Run> {
  const run = options.command ?? command
  const child = spawn(run[0] as string, [...run.slice(1), ...args], {
    env: { PATH: process.env['PATH'] ?? '', HOME: dir, NO_COLOR: '1', ...s3EnvVars(), ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  child.stdin.on('error', () => {}) // the CLI may exit before reading everything (usage errors)
  child.stdin.end(options.input ?? new Uint8Array(0))
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
}

const sha = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex')
const target = (key: string): string => `s3://${bucket}/${key}`

/** An S3 endpoint that answers 500 to everything and counts the requests: for commands that must send nothing. */
async function refusingServer(): Promise<{ endpoint: string; requests(): number; close(): void }> {
  let requests = 0
  const server = createServer((_req, res) => {
    requests++
    res.writeHead(500).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests, close: () => server.close() }
}

interface ProgressEvent {
  readonly type: string
  readonly uploadId?: string
  readonly message?: string
}

/** `--progress json` lines of stderr, parsed. */
const eventsOf = (stderr: string): ProgressEvent[] =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as ProgressEvent)

/** The checkpoint files under a cache directory (`$XDG_CACHE_HOME`). */
/** The checkpoints written whole (`.json`): a `.tmp` is one still being written (or left by a kill mid-write). */
function checkpoints(cache: string): string[] {
  const uploads = join(cache, 'partstream', 'uploads')
  return existsSync(uploads) ? readdirSync(uploads).filter((f) => f.endsWith('.json')).map((f) => join(uploads, f)) : []
}

interface Running {
  readonly child: ChildProcess
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  readonly stderr: () => string
  /** From the `upload-created` event. */
  readonly uploadId: string
}

/**
 * Starts `args` (with `--progress json`, through the stalling proxy, which holds parts from
 * `proxy.stallFrom` on) and resolves once `acked` parts were acknowledged and the checkpoint is
 * on disk: the CLI is then stuck at a known point, for the test to interrupt.
 */
async function runUntilAcked(args: readonly string[], env: Record<string, string>, cache: string, acked: number): Promise<Running> {
  const child = spawn(command[0] as string, [...command.slice(1), ...args], {
    env: { PATH: process.env['PATH'] ?? '', HOME: dir, ...s3EnvVars(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })))
  child.stdout.resume()
  let stderr = ''
  const reached = new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString()
      const events = eventsOf(stderr.slice(0, stderr.lastIndexOf('\n') + 1))
      if (events.filter((e) => e.type === 'part-acked').length >= acked) resolve()
    })
    child.on('close', (code) => reject(new Error(`the CLI exited (${code}) before ${acked} parts were acknowledged: ${stderr}`)))
  })
  await reached
  // The checkpoint is written as the upload is created, asynchronously: wait for the file itself.
  for (let i = 0; i < 200 && checkpoints(cache).length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 25))
  const created = eventsOf(stderr).find((e) => e.type === 'upload-created')
  assert.ok(created?.uploadId !== undefined, stderr)
  return { child, closed, stderr: () => stderr, uploadId: created.uploadId }
}

/** A crash at a known point: {@link runUntilAcked}, then SIGKILL. Resolves with the upload id. */
async function killMidUpload(args: readonly string[], env: Record<string, string>, cache: string, acked: number): Promise<string> {
  const run = await runUntilAcked(args, env, cache, acked)
  run.child.kill('SIGKILL')
  await run.closed
  return run.uploadId
}

/** Resolves with how `child` ended, or rejects (and kills it) if it is still running after `ms`. */
function endsWithin(child: ChildProcess, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`still running ${ms} ms after the signal`))
    }, ms)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal })
    })
  })
}

describe(`partstream CLI (${runtime}${built ? ', built bin' : ', .ts source'})`, () => {
  test('stdin of 0 bytes makes an empty object', async () => {
    const r = await cli(['cp', '-', target('stdin/empty'), ...endpointFlag()])
    assert.equal(r.code, 0, r.stderr)
    assert.equal((await getObject(bucket, 'stdin/empty')).byteLength, 0)
    assert.match(r.stdout, /upload: - to s3:\/\/.*stdin\/empty \(0 bytes, 1 part\)/)
  })

  test('13 MiB through a real pipe, --json result', async () => {
    const data = randomData(13 * MiB, 11)
    const r = await cli(['cp', '-', target('stdin/13mib'), '--json', '--part-size', '5MiB', ...endpointFlag()], { input: data })
    assert.equal(r.code, 0, r.stderr)
    const result = JSON.parse(r.stdout.trim()) as { size: number; partCount: number; key: string }
    assert.equal(result.size, 13 * MiB)
    assert.equal(result.partCount, 3)
    assert.equal(sha(await getObject(bucket, 'stdin/13mib')), sha(data))
  })

  test('a shell pipeline (`cat FILE | partstream cp -`): stdin is a kernel pipe, read by descriptor; --hash-threads 1 hashes it in a worker', async () => {
    const data = randomData(13 * MiB + 5, 14)
    const path = join(dir, 'piped.bin')
    writeFileSync(path, data)
    const quote = (a: string): string => `'${a.replaceAll("'", "'\\''")}'`
    for (const [key, flags] of [['stdin/shell-pipe', []], ['stdin/shell-pipe-hashed', ['--hash-threads', '1']]] as const) {
      const line = `cat ${quote(path)} | ${[...command, 'cp', '-', target(key), '--json', '--part-size', '5MiB', ...flags, ...endpointFlag()].map(quote).join(' ')}`
      const r = spawnSync('sh', ['-c', line], { env: { PATH: process.env['PATH'] ?? '', HOME: dir, ...s3EnvVars() }, encoding: 'utf8', timeout: 120_000 })
      assert.equal(r.status, 0, r.stderr)
      assert.equal((JSON.parse(r.stdout.trim()) as { size: number }).size, 13 * MiB + 5)
      assert.equal(sha(await getObject(bucket, key)), sha(data))
    }
  })

  test('a named pipe or a device as the source: `cp <(cmd)`, `cp /dev/stdin`, a FIFO whose writer comes later', async () => {
    const data = randomData(7 * MiB + 3, 15)
    const path = join(dir, 'fifo-data.bin')
    writeFileSync(path, data)
    const quote = (a: string): string => `'${a.replaceAll("'", "'\\''")}'`
    const run = (line: string): ReturnType<typeof spawnSync> =>
      spawnSync('bash', ['-c', line], { env: { PATH: process.env['PATH'] ?? '', HOME: dir, ...s3EnvVars() }, encoding: 'utf8', timeout: 120_000 })
    const cpLine = (src: string, key: string): string => [...command, 'cp', src, target(key), '--json', '--part-size', '5MiB', ...endpointFlag()].map(quote).join(' ')
    // Process substitution: the source is /dev/fd/63, a pipe.
    let r = run(cpLine('/dev/fd/63', 'fifo/substituted').replace(quote('/dev/fd/63'), `<(cat ${quote(path)})`))
    assert.equal(r.status, 0, String(r.stderr))
    assert.equal((JSON.parse(String(r.stdout).trim()) as { size: number; partCount: number }).partCount, 2)
    assert.equal(sha(await getObject(bucket, 'fifo/substituted')), sha(data))
    // /dev/stdin, a pipe here.
    r = run(`cat ${quote(path)} | ${cpLine('/dev/stdin', 'fifo/dev-stdin')}`)
    assert.equal(r.status, 0, String(r.stderr))
    assert.equal(sha(await getObject(bucket, 'fifo/dev-stdin')), sha(data))
    // A FIFO on disk: the open waits for its writer, as `cat` does.
    const fifo = join(dir, 'named.fifo')
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0)
    r = run(`(sleep 0.5; cat ${quote(path)} > ${quote(fifo)}) & ${cpLine(fifo, 'fifo/named')}; wait`)
    assert.equal(r.status, 0, String(r.stderr))
    assert.equal(sha(await getObject(bucket, 'fifo/named')), sha(data))
    rmSync(fifo)
  })

  test('a FIFO with no writer yet: Ctrl-C while the open waits exits 130 at once; a socket path is a usage error', async () => {
    // The open of a FIFO blocks a libuv thread until a writer comes; Node's exit waits for that
    // thread, so the CLI opens the write end for a moment on abort, which ends the wait.
    const fifo = join(dir, 'lonely.fifo')
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0)
    const child = spawn(command[0] as string, [...command.slice(1), 'cp', fifo, target('fifo/lonely'), ...endpointFlag()], {
      env: { PATH: process.env['PATH'] ?? '', HOME: dir, ...s3EnvVars() },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.stdout.resume()
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const ended = endsWithin(child, 10_000)
    child.kill('SIGINT')
    assertExit130(await ended, stderr)
    rmSync(fifo)
    const server = await refusingServer()
    try {
      const socketPath = join(dir, 'a.sock')
      const listening = createNetServer().listen(socketPath)
      await new Promise((resolve) => listening.once('listening', resolve))
      const r = await cli(['cp', socketPath, 's3://b/k', '--endpoint-url', server.endpoint])
      listening.close()
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, /is a socket, which cannot be opened by its path: for what arrives on stdin, use -/)
      assert.equal(server.requests(), 0)
    } finally {
      server.close()
    }
  })

  test('--checksum crc64nvme --content-md5: the object checksum in the --json result', async () => {
    const data = randomData(11 * MiB, 12)
    const r = await cli(['cp', '-', target('stdin/checksum'), '--json', '--part-size', '5MiB', '--checksum', 'crc64nvme', '--content-md5', ...endpointFlag()], { input: data })
    assert.equal(r.code, 0, r.stderr)
    const result = JSON.parse(r.stdout.trim()) as { partCount: number; checksum: { algorithm: string; type: string; value: string } }
    assert.equal(result.partCount, 3)
    assert.equal(result.checksum.algorithm, 'CRC64NVME')
    assert.equal(result.checksum.type, 'FULL_OBJECT')
    const crc = (checksumHash('CRC64NVME') as HashFactory)()
    crc.update(data)
    assert.equal(result.checksum.value, Buffer.from(crc.digest() as Uint8Array).toString('base64'))
    assert.equal(sha(await getObject(bucket, 'stdin/checksum')), sha(data))
  })

  test('AWS_ENDPOINT_URL alone says where (no flag), as with the AWS CLI', async () => {
    const data = randomData(2 * MiB, 21)
    const r = await cli(['cp', '-', target('env/endpoint')], { input: data, env: { AWS_ENDPOINT_URL: s3Env().endpoint } })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(sha(await getObject(bucket, 'env/endpoint')), sha(data))
  })

  test('--profile reads the credentials and endpoint_url from the shared files', async () => {
    const { endpoint, credentials } = s3Env()
    const aws = join(dir, 'aws-profile')
    mkdirSync(aws, { recursive: true })
    writeFileSync(join(aws, 'credentials'), `[ops]\naws_access_key_id = ${credentials.accessKeyId}\naws_secret_access_key = ${credentials.secretAccessKey}\n`)
    writeFileSync(join(aws, 'config'), `[profile ops]\nregion = us-east-1\nendpoint_url = ${endpoint}\n`)
    const data = randomData(1000, 22)
    // No key variables at all: only the profile can supply the credentials.
    const r = await cli(['cp', '-', target('env/profile'), '--profile', 'ops'], {
      input: data,
      env: { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SHARED_CREDENTIALS_FILE: join(aws, 'credentials'), AWS_CONFIG_FILE: join(aws, 'config') },
    })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(sha(await getObject(bucket, 'env/profile')), sha(data))
  })

  test('a file to a prefix keeps its name; content type from the extension; metadata; tags', async () => {
    const path = join(dir, 'notes.txt')
    const data = randomData(100_000, 12)
    writeFileSync(path, data)
    const r = await cli(['cp', path, target('files/'), '--metadata', 'owner=ops', '--tag', 'retention=30d', '--tag', 'team=a b', '--quiet', ...endpointFlag()])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '', '--quiet prints nothing')
    assert.equal(sha(await getObject(bucket, 'files/notes.txt')), sha(data))
    const ctx = createS3Context({ bucket, ...s3Env() })
    try {
      const head = await headObject(ctx, { key: 'files/notes.txt' })
      assert.equal(head.contentType, 'text/plain; charset=utf-8')
      assert.deepEqual(await getObjectTagging(ctx, { key: 'files/notes.txt' }), { retention: '30d', team: 'a b' })
    } finally {
      await ctx.close()
    }
  })

  test('a pre-compressed file with --content-encoding gzip is typed by the name inside, for cp FILE and cp -r (app.js.gz was application/gzip)', async () => {
    const tree = join(dir, 'precompressed')
    mkdirSync(tree, { recursive: true })
    writeFileSync(join(tree, 'app.js.gz'), randomData(1000, 13))
    track(bucket, 'gz-one/app.js.gz')
    track(bucket, 'gz-tree/app.js.gz')
    for (const args of [
      ['cp', join(tree, 'app.js.gz'), target('gz-one/app.js.gz')],
      ['cp', '-r', tree, target('gz-tree/')],
    ]) {
      const r = await cli([...args, '--content-encoding', 'gzip', '--quiet', ...endpointFlag()])
      assert.equal(r.code, 0, r.stderr)
    }
    const ctx = createS3Context({ bucket, ...s3Env() })
    try {
      for (const key of ['gz-one/app.js.gz', 'gz-tree/app.js.gz']) {
        const head = await headObject(ctx, { key })
        assert.equal(head.contentType, 'text/javascript; charset=utf-8', key)
      }
    } finally {
      await ctx.close()
    }
  })

  test("--hash-threads 2: a file's parts hashed in workers; RGW checks every signed SHA-256", async () => {
    const path = join(dir, 'hashed.bin')
    const data = randomData(17 * MiB + 3, 15)
    writeFileSync(path, data)
    const r = await cli(['cp', path, target('files/hashed.bin'), '--hash-threads', '2', '--part-size', '5MiB', '--json', ...endpointFlag()])
    assert.equal(r.code, 0, r.stderr)
    assert.equal((JSON.parse(r.stdout.trim()) as { partCount: number }).partCount, 4)
    assert.equal(sha(await getObject(bucket, 'files/hashed.bin')), sha(data))
  })

  // The bundle (scripts/build.mjs) starts its hash workers from hash-worker.js beside it; a pool
  // whose worker cannot start falls back to hashing inline, so the upload above would pass without it.
  if (built) {
    test('the built bin: its hash worker is beside it and starts as a worker thread', async () => {
      const { Worker } = await import('node:worker_threads')
      const worker = new Worker(join(dirname(bin), 'hash-worker.js'))
      try {
        const first = await new Promise((resolve, reject) => {
          worker.once('message', resolve)
          worker.once('error', reject)
        })
        assert.deepEqual(first, { ready: true })
      } finally {
        await worker.terminate()
      }
    })
  }

  // Node 20 runs the bundle in every test above; the other runtimes run the .ts source there, and
  // the file users install here.
  if (!built) {
    test(`the published bundle (dist/bin/partstream.js) on ${runtime}: a file hashed in a worker, and a pipe`, async () => {
      const bundle = join(here, '../dist/bin/partstream.js')
      assert.ok(existsSync(bundle), `${bundle} is missing: \`pnpm build\` makes it (\`pnpm test\` does)`)
      const run = runtime === 'deno' ? [process.execPath, 'run', '-A', bundle] : [process.execPath, bundle]
      const path = join(dir, 'bundled.bin')
      const data = randomData(11 * MiB + 5, 21)
      writeFileSync(path, data)
      const file = await cli(['cp', path, target('bundle/file'), '--hash-threads', '1', '--part-size', '5MiB', '--json', ...endpointFlag()], { command: run })
      assert.equal(file.code, 0, file.stderr)
      assert.equal((JSON.parse(file.stdout.trim()) as { partCount: number }).partCount, 3)
      assert.equal(sha(await getObject(bucket, 'bundle/file')), sha(data))
      // stdin hashed in the worker beside the bundle too (uploadFd with hashThreads).
      const pipe = await cli(['cp', '-', target('bundle/pipe'), '--quiet', '--hash-threads', '1', '--part-size', '5MiB', ...endpointFlag()], { input: data, command: run })
      assert.equal(pipe.code, 0, pipe.stderr)
      assert.equal(sha(await getObject(bucket, 'bundle/pipe')), sha(data))
    })
  }

  // scripts/build.mjs: the bin loads main.js after turning on Node's compile cache, and the
  // bundle stubs node:http2 (undici loads it for constants; the CLI never allows HTTP/2).
  if (runtime === 'node') {
    test(`the published bundle on ${runtime}: main.js comes from the compile cache where Node has one; node:http2 never loads`, async () => {
      const bundle = built ? bin : join(here, '../dist/bin/partstream.js')
      const cache = mkdtempSync(join(dir, 'compile-cache-'))
      const path = join(dir, 'cached.bin')
      writeFileSync(path, randomData(1000, 22))
      // Prints the builtins the process loaded, as it exits.
      const hook = `data:text/javascript,${encodeURIComponent("process.on('exit', () => process.stderr.write('\\nLOADED ' + JSON.stringify(process.moduleLoadList) + '\\n'))")}`
      const loaded = (stderr: string): string[] => JSON.parse(/^LOADED (.*)$/m.exec(stderr)?.[1] ?? 'null') as string[]
      // Not NODE_COMPILE_CACHE, which would turn the cache on by itself: the bin's own call puts it
      // in the user cache directory, $XDG_CACHE_HOME/partstream/compile-cache (never os.tmpdir():
      // see compile-cache.test.ts).
      const env = { XDG_CACHE_HOME: cache }
      for (const round of ['first', 'second']) {
        track(bucket, `bundle/cached-${round}`)
        const r = await cli(['cp', path, target(`bundle/cached-${round}`), ...endpointFlag()], { command: [process.execPath, '--import', hook, bundle], env })
        assert.equal(r.code, 0, r.stderr)
        const modules = loaded(r.stderr)
        assert.ok(modules.includes('NativeModule http'), `the hook saw the run: ${r.stderr}`)
        assert.deepEqual(modules.filter((m) => m.includes('http2')), [], 'node:http2 is not loaded')
      }
      const compiled = join(cache, 'partstream', 'compile-cache') // (`cp FILE` makes partstream/uploads beside it)
      const cached = existsSync(compiled) ? readdirSync(compiled, { recursive: true }).length : 0
      const { enableCompileCache } = (await import('node:module')) as { enableCompileCache?: unknown }
      if (typeof enableCompileCache === 'function') assert.ok(cached > 0, `Node ${process.version} has a compile cache, and ${compiled} is empty`)
      else assert.equal(cached, 0)
    })
  }

  test('--payload unsigned with --checksum crc64nvme: no SHA-256 signed, a CRC per part (seen at a proxy)', async () => {
    const proxy = await stallProxy(s3Env().endpoint)
    try {
      const data = randomData(11 * MiB, 16)
      const r = await cli(['cp', '-', target('stdin/unsigned'), '--payload', 'unsigned', '--checksum', 'crc64nvme', '--part-size', '5MiB', '--endpoint-url', proxy.endpoint], { input: data })
      assert.equal(r.code, 0, r.stderr)
      assert.equal(sha(await getObject(bucket, 'stdin/unsigned')), sha(data))
      const parts = proxy.requests.filter((q) => q.method === 'PUT')
      assert.equal(parts.length, 3)
      for (const q of parts) {
        assert.equal(q.headers['x-amz-content-sha256'], 'UNSIGNED-PAYLOAD')
        assert.match(String(q.headers['x-amz-checksum-crc64nvme']), /^[A-Za-z0-9+/]{11}=$/)
      }
    } finally {
      await proxy.close()
    }
  })

  describe('to an https endpoint, as the AWS CLI does: UNSIGNED-PAYLOAD with a CRC32 per part; over http the signed SHA-256', () => {
    let tls: { key: string; cert: string; certPath: string }
    before(async () => {
      tls = await localhostCertificate(dir, 'proxy-cert.pem')
    })
    /** The CLI trusts the proxy's certificate as a user would make it trust a private CA. */
    const trust = (): Record<string, string> => ({ NODE_EXTRA_CA_CERTS: tls.certPath, DENO_CERT: tls.certPath })
    const crc32 = (data: Uint8Array): string => {
      const h = (checksumHash('CRC32') as HashFactory)()
      h.update(data)
      return Buffer.from(h.digest() as Uint8Array).toString('base64')
    }
    const MiB5 = 5 * MiB
    // The parts sent. A retried part (a Deno CI run once saw one part stall for the 60 s idle
    // timeout over this TLS proxy, then succeed on its retry) is sent again with the same headers,
    // which the checks below see on every request.
    const partNumbersOf = (requests: readonly { url: string }[]): number[] =>
      [...new Set(requests.map((q) => Number(new URL(q.url, 'https://x').searchParams.get('partNumber'))))].sort((a, b) => a - b)
    const partOf = (data: Uint8Array, url: string): Uint8Array => {
      const n = Number(new URL(url, 'https://x').searchParams.get('partNumber'))
      return data.subarray((n - 1) * MiB5, n * MiB5)
    }

    test("the CA to trust, as the AWS CLI takes it: --ca-bundle, AWS_CA_BUNDLE, the profile's ca_bundle; with none, exit 1 at once saying so", async () => {
      const data = randomData(1000, 42)
      const proxy = await stallProxy(s3Env().endpoint, tls)
      const home = join(dir, 'ca-home')
      mkdirSync(join(home, '.aws'), { recursive: true })
      const { credentials } = s3Env()
      writeFileSync(join(home, '.aws', 'config'), `[profile corp]\nca_bundle = ${tls.certPath}\n`)
      writeFileSync(join(home, '.aws', 'credentials'), `[corp]\naws_access_key_id = ${credentials.accessKeyId}\naws_secret_access_key = ${credentials.secretAccessKey}\n`)
      const send = (key: string, args: readonly string[], env: Record<string, string> = {}): Promise<Run> =>
        cli(['cp', '-', target(key), '--endpoint-url', proxy.endpoint, ...args], { input: data, env })
      try {
        const untrusted = await send('https/ca-none', [])
        assert.equal(untrusted.code, 1, untrusted.stderr)
        assert.match(untrusted.stderr, /failed without a response: .*The server's TLS certificate is not signed by a CA this runtime trusts: .*--ca-bundle, AWS_CA_BUNDLE or the profile's ca_bundle/)
        for (const [key, args, env] of [
          ['https/ca-flag', ['--ca-bundle', tls.certPath], {}],
          ['https/ca-env', [], { AWS_CA_BUNDLE: tls.certPath }],
          ['https/ca-profile', [], { HOME: home, AWS_PROFILE: 'corp' }],
        ] as const) {
          const r = await send(key, args, env)
          assert.equal(r.code, 0, `${key}: ${r.stderr}`)
          assert.equal(sha(await getObject(bucket, key)), sha(data), key)
        }
        const missing = await send('https/ca-missing', ['--ca-bundle', join(dir, 'no-such-ca.pem')])
        assert.equal(missing.code, 2, missing.stderr)
        assert.match(missing.stderr, /cannot read the CA bundle .*no-such-ca\.pem \(from --ca-bundle\)/)
        // A file with no certificate in it (a key, random bytes) failed every request as "not
        // trusted, give your CA as --ca-bundle": refused up front, naming it.
        const notPem = join(dir, 'not-a-cert.pem')
        writeFileSync(notPem, '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n')
        const noCert = await send('https/ca-no-cert', ['--ca-bundle', notPem])
        assert.equal(noCert.code, 2, noCert.stderr)
        assert.match(noCert.stderr, /the CA bundle .*not-a-cert\.pem \(from --ca-bundle\) holds no PEM certificate/)
        // Set for every command and missing, it fails an https upload, but not one to a plain
        // http endpoint, where no CA is used (nor does it fail the AWS CLI's).
        const fromEnv = await send('https/ca-env-missing', [], { AWS_CA_BUNDLE: join(dir, 'no-such-ca.pem') })
        assert.equal(fromEnv.code, 2, fromEnv.stderr)
        const plain = await cli(['cp', '-', target('http/ca-env-missing'), ...endpointFlag()], { input: data, env: { AWS_CA_BUNDLE: join(dir, 'no-such-ca.pem') } })
        assert.equal(plain.code, 0, plain.stderr)
        assert.equal(sha(await getObject(bucket, 'http/ca-env-missing')), sha(data))
      } finally {
        await proxy.close()
      }
    })

    test('cp FILE over https, no --payload: each part UNSIGNED-PAYLOAD with its CRC32, the object intact', async () => {
      const data = randomData(11 * MiB, 41)
      const file = join(dir, 'https-default.bin')
      writeFileSync(file, data)
      const proxy = await stallProxy(s3Env().endpoint, tls)
      try {
        const r = await cli(['cp', file, target('https/default.bin'), '--part-size', '5MiB', '--endpoint-url', proxy.endpoint], { env: trust() })
        assert.equal(r.code, 0, r.stderr)
        assert.equal(sha(await getObject(bucket, 'https/default.bin')), sha(data))
        const parts = proxy.requests.filter((q) => q.method === 'PUT')
        assert.deepEqual(partNumbersOf(parts), [1, 2, 3])
        for (const q of parts) {
          assert.equal(q.headers['x-amz-content-sha256'], 'UNSIGNED-PAYLOAD', q.url)
          assert.equal(q.headers['x-amz-checksum-crc32'], crc32(partOf(data, q.url)), q.url)
        }
        const create = proxy.requests.find((q) => q.method === 'POST' && q.url.includes('uploads'))
        assert.equal(create?.headers['x-amz-checksum-algorithm'], 'CRC32')
      } finally {
        await proxy.close()
      }
    })

    test('cp - over https with --payload sha256: each part signed with its SHA-256, no checksum', async () => {
      const data = randomData(11 * MiB, 42)
      const proxy = await stallProxy(s3Env().endpoint, tls)
      try {
        const r = await cli(['cp', '-', target('https/signed.bin'), '--payload', 'sha256', '--part-size', '5MiB', '--endpoint-url', proxy.endpoint], { input: data, env: trust() })
        assert.equal(r.code, 0, r.stderr)
        assert.equal(sha(await getObject(bucket, 'https/signed.bin')), sha(data))
        const parts = proxy.requests.filter((q) => q.method === 'PUT')
        assert.deepEqual(partNumbersOf(parts), [1, 2, 3])
        for (const q of parts) {
          assert.equal(q.headers['x-amz-content-sha256'], sha(partOf(data, q.url)), q.url)
          assert.equal(Object.keys(q.headers).filter((h) => h.startsWith('x-amz-checksum-')).length, 0, q.url)
        }
      } finally {
        await proxy.close()
      }
    })

    test('a store that rejects checksums (501): exit 1 with its error and a hint how to send without one; none when --checksum was asked for', async () => {
      const seen: string[] = []
      const server = createTlsServer({ key: tls.key, cert: tls.cert }, (req, res) => {
        seen.push(`${req.method} ${req.url}`)
        req.resume()
        req.on('end', () => {
          if (Object.keys(req.headers).some((h) => h.startsWith('x-amz-checksum-'))) {
            res.writeHead(501, { 'content-type': 'application/xml' })
            res.end('<?xml version="1.0"?><Error><Code>NotImplemented</Code><Message>A header you provided implies functionality that is not implemented</Message></Error>')
          } else {
            res.writeHead(200, { etag: '"0123456789abcdef0123456789abcdef"' })
            res.end()
          }
        })
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
      const file = join(dir, 'to-picky-store.txt')
      writeFileSync(file, 'x'.repeat(1000))
      const tree = join(dir, 'picky-tree')
      mkdirSync(tree, { recursive: true })
      writeFileSync(join(tree, 'a.txt'), 'a')
      try {
        const r = await cli(['cp', file, 's3://picky/file.txt', '--endpoint-url', endpoint], { env: trust() })
        assert.equal(r.code, 1, r.stderr)
        assert.match(r.stderr, /ERR_PARTSTREAM_S3: .*501 NotImplemented/)
        assert.match(r.stderr, /\npartstream: hint: .*x-amz-checksum-crc32.*--payload sha256/)
        const dirRun = await cli(['cp', '-r', tree, 's3://picky/tree/', '--endpoint-url', endpoint], { env: trust() })
        assert.equal(dirRun.code, 1, dirRun.stderr)
        assert.match(dirRun.stderr, /partstream: hint: /)
        const asked = await cli(['cp', file, 's3://picky/file.txt', '--checksum', 'crc32', '--endpoint-url', endpoint], { env: trust() })
        assert.equal(asked.code, 1, asked.stderr)
        assert.doesNotMatch(asked.stderr, /hint/, 'the user asked for the checksum')
        const signed = await cli(['cp', file, 's3://picky/file.txt', '--payload', 'sha256', '--endpoint-url', endpoint], { env: trust() })
        assert.equal(signed.code, 0, signed.stderr)
      } finally {
        server.closeAllConnections()
        await new Promise<void>((resolve) => server.close(() => resolve()))
      }
      assert.ok(seen.length >= 4, seen.join(', '))
    })

    test('the rule: https without --payload gets unsigned + CRC32 (or the --checksum given); http, or --payload, is left as it is', () => {
      const base = { payload: undefined, checksum: undefined } as unknown as Parameters<typeof integrityDefaults>[0]
      assert.deepEqual(
        { ...integrityDefaults(base, 'https://s3.us-east-1.amazonaws.com') },
        { ...base, payload: 'unsigned', checksum: 'CRC32' },
      )
      assert.equal(integrityDefaults({ ...base, checksum: 'CRC64NVME' }, new URL('HTTPS://minio.internal:9000')).checksum, 'CRC64NVME')
      assert.equal(integrityDefaults(base, 'http://127.0.0.1:7480'), base)
      assert.equal(integrityDefaults(base, undefined), base, 'an endpoint that cannot be resolved: the library reports it')
      const signed = { ...base, payload: 'sha256' as const }
      assert.equal(integrityDefaults(signed, 'https://s3.amazonaws.com'), signed)
      const unsigned = { ...base, payload: 'unsigned' as const }
      assert.equal(integrityDefaults(unsigned, 'https://s3.amazonaws.com').checksum, undefined, '--payload unsigned alone: no checksum added')
      const required = (): 'WHEN_REQUIRED' => 'WHEN_REQUIRED'
      assert.equal(integrityDefaults(base, 'https://r2.example', required), base, 'request_checksum_calculation = when_required: signed, no checksum')
      assert.deepEqual({ ...integrityDefaults({ ...base, checksum: 'CRC32C' }, 'https://r2.example', required) }, { ...base, payload: 'unsigned', checksum: 'CRC32C' })
    })

    test('AWS_REQUEST_CHECKSUM_CALCULATION=when_required (set for stores that reject checksums): signed SHA-256 over https, no checksum', async () => {
      const data = randomData(1000, 43)
      const file = join(dir, 'https-required.bin')
      writeFileSync(file, data)
      const proxy = await stallProxy(s3Env().endpoint, tls)
      try {
        track(bucket, 'https/required.bin')
        const r = await cli(['cp', file, target('https/required.bin'), '--endpoint-url', proxy.endpoint], { env: { ...trust(), AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required' } })
        assert.equal(r.code, 0, r.stderr)
        const puts = proxy.requests.filter((q) => q.method === 'PUT')
        assert.equal(puts.length, 1)
        assert.equal(puts[0]?.headers['x-amz-content-sha256'], sha(data))
        assert.equal(Object.keys(puts[0]?.headers ?? {}).filter((h) => h.startsWith('x-amz-checksum-')).length, 0)
        const bad = await cli(['cp', file, target('https/bad.bin'), '--endpoint-url', proxy.endpoint], { env: { ...trust(), AWS_REQUEST_CHECKSUM_CALCULATION: 'sometimes' } })
        // A setting the library refuses before any request is a usage error, as a bad flag is.
        assert.equal(bad.code, 2, bad.stderr)
        assert.match(bad.stderr, /^partstream: Expected AWS_REQUEST_CHECKSUM_CALCULATION to be when_supported or when_required/)
        assert.equal(proxy.requests.filter((q) => q.url.includes('bad.bin')).length, 0, 'nothing sent')
      } finally {
        await proxy.close()
      }
    })
  })

  test('a directory with -r: every file under prefix + its relative path; the progress total from the count-ahead walk', async () => {
    const tree = join(dir, 'tree')
    mkdirSync(join(tree, 'sub', 'deeper'), { recursive: true })
    const files: Record<string, Uint8Array> = { 'a.bin': randomData(10, 1), 'sub/b.json': randomData(7 * MiB, 2), 'sub/deeper/c d.txt': randomData(0, 3) }
    for (const [name, data] of Object.entries(files)) writeFileSync(join(tree, name), data)
    const r = await cli(['cp', '-r', tree, target('tree/'), '--json', '--progress', 'json', ...endpointFlag()])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim().split('\n').length, 3)
    for (const [name, data] of Object.entries(files)) assert.equal(sha(await getObject(bucket, `tree/${name}`)), sha(data), name)
    // Counting three files takes milliseconds, sending 7 MiB far longer: the last part carries the total.
    const acked = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { type: string; totalBytes?: number }).filter((e) => e.type === 'part-acked')
    assert.equal(acked.at(-1)?.totalBytes, 10 + 7 * MiB)
  })

  test('-r --checksum crc64nvme --json: each line carries the object checksum, as `cp FILE --json` does', async () => {
    const tree = join(dir, 'json-checksum')
    mkdirSync(tree, { recursive: true })
    const files: Record<string, Uint8Array> = { 'a.bin': randomData(1000, 41), 'b.bin': randomData(7 * MiB, 42) }
    for (const [name, data] of Object.entries(files)) writeFileSync(join(tree, name), data)
    const r = await cli(['cp', '-r', tree, target('json-checksum/'), '--checksum', 'crc64nvme', '--json', '--progress', 'none', '--part-size', '5MiB', ...endpointFlag()])
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { key: string; checksum?: { algorithm: string; type: string; value: string } })
    assert.equal(lines.length, 2)
    for (const [name, data] of Object.entries(files)) {
      const crc = (checksumHash('CRC64NVME') as HashFactory)()
      crc.update(data)
      assert.equal(sha(await getObject(bucket, `json-checksum/${name}`)), sha(data), name)
      const line = lines.find((l) => l.key === `json-checksum/${name}`)
      assert.deepEqual(line?.checksum, { algorithm: 'CRC64NVME', type: 'FULL_OBJECT', value: Buffer.from(crc.digest() as Uint8Array).toString('base64') }, name)
    }
  })

  test("-r takes the object flags too: --checksum, --content-md5, --payload and --metadata reach every file's requests", async () => {
    const tree = join(dir, 'flagged')
    mkdirSync(join(tree, 'sub'), { recursive: true })
    const files: Record<string, Uint8Array> = { 'small.bin': randomData(1000, 21), 'sub/big.bin': randomData(11 * MiB, 22) }
    for (const [name, data] of Object.entries(files)) writeFileSync(join(tree, name), data)
    const proxy = await stallProxy(s3Env().endpoint)
    try {
      const args = ['cp', '-r', tree, target('flagged/'), '--checksum', 'crc32c', '--content-md5', '--payload', 'unsigned', '--metadata', 'team=ops', '--part-size', '5MiB', '--storage-class', 'STANDARD', '--cache-control', 'max-age=60']
      const r = await cli([...args, '--endpoint-url', proxy.endpoint])
      assert.equal(r.code, 0, r.stderr)
      for (const [name, data] of Object.entries(files)) assert.equal(sha(await getObject(bucket, `flagged/${name}`)), sha(data), name)
      const puts = proxy.requests.filter((q) => q.method === 'PUT')
      assert.equal(puts.length, 4, 'one PutObject and three parts')
      for (const q of puts) {
        assert.match(String(q.headers['x-amz-checksum-crc32c']), /^[A-Za-z0-9+/]{6}==$/, q.url)
        assert.match(String(q.headers['content-md5']), /^[A-Za-z0-9+/]{22}==$/, q.url)
        assert.equal(q.headers['x-amz-content-sha256'], 'UNSIGNED-PAYLOAD', q.url)
      }
      const creates = proxy.requests.filter((q) => q.method === 'POST' && q.url.includes('uploads'))
      assert.equal(creates.length, 1)
      assert.equal(creates[0]?.headers['x-amz-meta-team'], 'ops')
      // The object settings go where S3 takes them: Create, and the small file's PutObject.
      const setters = [...creates, ...puts.filter((q) => !q.url.includes('partNumber='))]
      assert.equal(setters.length, 2)
      for (const q of setters) {
        assert.equal(q.headers['x-amz-storage-class'], 'STANDARD', q.url)
        assert.equal(q.headers['cache-control'], 'max-age=60', q.url)
      }
      for (const q of puts.filter((q) => q.url.includes('partNumber='))) assert.equal(q.headers['x-amz-storage-class'], undefined, q.url)
    } finally {
      await proxy.close()
    }
  })

  test("an AWS CLI command line runs as is: --expected-size, --only-show-errors, --no-progress, --acl", async () => {
    const data = randomData(6 * MiB + 5, 71)
    const proxy = await stallProxy(s3Env().endpoint)
    try {
      // 100 GiB expected: parts of ≥ 10.24 MiB, so these 6 MiB are one PutObject (without the flag, two parts).
      const args = ['cp', '-', target('aws-style/dump'), '--expected-size', String(100 * 1024 * MiB), '--only-show-errors', '--no-progress', '--acl', 'bucket-owner-full-control']
      const r = await cli([...args, '--endpoint-url', proxy.endpoint], { input: data })
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, '', '--only-show-errors prints nothing on success')
      assert.equal(r.stderr, '', '--no-progress draws nothing')
      const puts = proxy.requests.filter((q) => q.method === 'PUT')
      assert.deepEqual(puts.map((q) => q.url.includes('partNumber=')), [false], 'one PutObject')
      assert.equal(puts[0]?.headers['x-amz-acl'], 'bucket-owner-full-control')
    } finally {
      await proxy.close()
    }
    assert.equal(sha(await getObject(bucket, 'aws-style/dump')), sha(data))
  })

  test('--sse aws:kms --sse-kms-key-id: sent with the object (seen at a proxy); RGW 16 refuses SSE over plain HTTP: exit 1, nothing left', async () => {
    const path = join(dir, 'secret.bin')
    writeFileSync(path, randomData(6 * MiB, 51))
    const key = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'
    const proxy = await stallProxy(s3Env().endpoint)
    try {
      const r = await cli(['cp', path, target('sse/secret.bin'), '--sse', 'aws:kms', '--sse-kms-key-id', key, '--part-size', '5MiB', '--endpoint-url', proxy.endpoint])
      assert.equal(r.code, 1, r.stderr)
      assert.match(r.stderr, /ERR_PARTSTREAM_S3: .*400 InvalidRequest/)
      const creates = proxy.requests.filter((q) => q.method === 'POST' && q.url.includes('uploads'))
      assert.equal(creates.length, 1)
      assert.equal(creates[0]?.headers['x-amz-server-side-encryption'], 'aws:kms')
      assert.equal(creates[0]?.headers['x-amz-server-side-encryption-aws-kms-key-id'], key)
      assert.equal(proxy.requests.filter((q) => q.method === 'PUT').length, 0, 'no part was sent')
    } finally {
      await proxy.close()
    }
    assert.deepEqual(await openUploads(bucket, 'sse/'), [])
  })

  test('a file that reports 0 bytes but has content (/proc): read to its end, not an empty object', async () => {
    const r = await cli(['cp', '/proc/self/status', target('proc/status'), ...endpointFlag()])
    assert.equal(r.code, 0, r.stderr)
    assert.match((await getObject(bucket, 'proc/status')).toString(), /^Name:\t/)
    // A /sys file reports 4096 bytes whatever it holds: read to its end too (it failed with "the file changed").
    const sys = await cli(['cp', '/sys/class/net/lo/address', target('proc/address'), ...endpointFlag()])
    assert.equal(sys.code, 0, sys.stderr)
    assert.match((await getObject(bucket, 'proc/address')).toString(), /^([0-9a-f]{2}:){5}[0-9a-f]{2}\n$/)
  })

  test('--dryrun over a tree with a name that is not UTF-8: the good files listed, the bad one reported as the upload would, exit 0', async () => {
    const tree = join(dir, 'dry-latin1')
    mkdirSync(tree, { recursive: true })
    writeFileSync(join(tree, 'good.txt'), 'good')
    // "café.txt" in Latin-1, made by the shell: not every runtime's fs takes byte paths.
    execFileSync('sh', ['-c', 'printf x > "$1/caf$(printf "\\351").txt"', 'sh', tree])
    const r = await cli(['cp', '-r', tree, 's3://bkt/p/', '--dryrun', '--endpoint-url', 'http://127.0.0.1:9'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /\(dryrun\) upload: .*good\.txt to s3:\/\/bkt\/p\/good\.txt/)
    assert.match(r.stderr, /\(dryrun\) .*caf.*would fail: .*not valid UTF-8/)
  })

  test('-r to s3://bkt/p without a trailing "/": the prefix p/, as aws s3 cp --recursive takes it (it was a usage error)', async () => {
    const tree = join(dir, 'dry-noslash')
    mkdirSync(join(tree, 'sub'), { recursive: true })
    writeFileSync(join(tree, 'a.txt'), 'a')
    writeFileSync(join(tree, 'sub', 'b.txt'), 'b')
    const r = await cli(['cp', '-r', tree, 's3://bkt/p', '--dryrun', '--endpoint-url', 'http://127.0.0.1:9'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /\(dryrun\) upload: .*a\.txt to s3:\/\/bkt\/p\/a\.txt/)
    assert.match(r.stdout, /\(dryrun\) upload: .*b\.txt to s3:\/\/bkt\/p\/sub\/b\.txt/)
  })

  test('-r --dryrun and a key over 1,024 bytes: the file "would fail", with the message the upload fails it with; the others listed, exit 0', async () => {
    // The dry run used to list it as an upload: only the real run checked the key.
    const tree = join(dir, 'dry-longkey')
    const deep = join(tree, ...Array.from({ length: 4 }, (_, i) => String(i).repeat(250)))
    mkdirSync(deep, { recursive: true })
    const long = join(deep, `${'f'.repeat(20)}.txt`) // key: 8 + 4 × 251 + 24 = 1,036 bytes
    writeFileSync(long, 'long')
    writeFileSync(join(tree, 'ok.txt'), 'ok')
    const server = await refusingServer()
    let dry: Run
    try {
      dry = await cli(['cp', '-r', tree, 's3://bkt/longkey/', '--dryrun', '--endpoint-url', server.endpoint])
    } finally {
      server.close()
    }
    assert.equal(server.requests(), 0, 'nothing was sent')
    const real = await cli(['cp', '-r', tree, target('longkey/'), ...endpointFlag()])
    track(bucket, 'longkey/ok.txt')
    assert.equal(real.code, 1, real.stderr)
    const failed = real.stderr.split('\n').find((l) => l.startsWith(`partstream: ${long}: `))
    assert.ok(failed !== undefined, real.stderr)
    assert.match(failed, /ERR_PARTSTREAM_INVALID_ARGUMENT: Expected the object key to be at most 1024 bytes of UTF-8, got 1036\.$/)
    assert.equal(dry.code, 0, dry.stderr)
    assert.equal(dry.stdout, `(dryrun) upload: ${join(tree, 'ok.txt')} to s3://bkt/longkey/ok.txt (2 bytes)\n`)
    assert.equal(dry.stderr, `${failed.replace(`partstream: ${long}: `, `partstream: (dryrun) ${long}: would fail: `)}\n`)
  })

  test("--dryrun of a file or stdin to a key over 1,024 bytes: the upload's usage error (exit 2, the same line), not a line saying it would be uploaded", async () => {
    const file = join(dir, 'dry-longkey-one.txt')
    writeFileSync(file, 'one')
    const key = `s3://bkt/${'k'.repeat(1025)}`
    const server = await refusingServer()
    try {
      for (const args of [['cp', file, key], ['cp', file, `s3://bkt/${'k'.repeat(1020)}/`], ['cp', '-r', file, `s3://bkt/${'k'.repeat(1020)}/`], ['cp', '-', key]]) {
        const real = await cli([...args, '--endpoint-url', server.endpoint])
        assert.equal(real.code, 2, real.stderr)
        assert.match(real.stderr, /^partstream: Expected the object key to be at most 1024 bytes of UTF-8, got 10\d\d\.\n$/)
        const dryrun = await cli([...args, '--dryrun', '--endpoint-url', server.endpoint])
        assert.deepEqual(dryrun, real, args.join(' ').slice(0, 200))
      }
    } finally {
      server.close()
    }
    assert.equal(server.requests(), 0, 'nothing was sent')
  })

  test("-r with --exclude/--include: the AWS CLI's rules pick the files; --dryrun lists the same ones and sends nothing", async () => {
    const tree = join(dir, 'picked')
    mkdirSync(join(tree, 'tmp'), { recursive: true })
    mkdirSync(join(tree, 'docs'), { recursive: true })
    const files: Record<string, Uint8Array> = {
      'a.txt': randomData(100, 31),
      'b.bin': randomData(200, 32),
      'tmp/c.txt': randomData(300, 33),
      'docs/d.txt': randomData(6 * MiB, 34),
      'docs/e.log': randomData(500, 35),
    }
    for (const [name, data] of Object.entries(files)) writeFileSync(join(tree, name), data)
    const rules = ['--exclude', '*', '--include', '*.txt', '--exclude', 'tmp/*']
    const picked = ['a.txt', 'docs/d.txt']

    const server = await refusingServer()
    try {
      const dry = await cli(['cp', '-r', tree, 's3://bkt/p/', ...rules, '--dryrun', '--json', '--endpoint-url', server.endpoint])
      assert.equal(dry.code, 0, dry.stderr)
      const lines = dry.stdout.trim().split('\n').map((l) => JSON.parse(l) as { key: string; size: number; dryrun: boolean })
      assert.deepEqual(lines.map((l) => l.key), picked.map((k) => `p/${k}`))
      assert.deepEqual(lines.map((l) => l.size), picked.map((k) => files[k]?.byteLength))
      assert.ok(lines.every((l) => l.dryrun))
      const text = await cli(['cp', '-r', tree, 's3://bkt/p/', ...rules, '--dryrun', '--endpoint-url', server.endpoint])
      assert.equal(text.code, 0, text.stderr)
      assert.equal(text.stdout.split('\n')[0], `(dryrun) upload: ${join(tree, 'a.txt')} to s3://bkt/p/a.txt (100 bytes)`)
    } finally {
      server.close()
    }
    assert.equal(server.requests(), 0, '--dryrun sent nothing')

    const r = await cli(['cp', '-r', tree, target('picked/'), ...rules, '--json', '--progress', 'json', ...endpointFlag()])
    assert.equal(r.code, 0, r.stderr)
    const uploaded = r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { key: string }).key)
    assert.deepEqual(uploaded.sort(), picked.map((k) => `picked/${k}`))
    for (const name of picked) assert.equal(sha(await getObject(bucket, `picked/${name}`)), sha(files[name] as Uint8Array), name)
    const ctx = createS3Context({ bucket, ...s3Env() })
    try {
      const listed = await listObjectsV2(ctx, { prefix: 'picked/' })
      assert.deepEqual(listed.objects.map((o) => o.key), picked.map((k) => `picked/${k}`), 'nothing else reached the bucket')
    } finally {
      await ctx.close()
    }
    // The count-ahead walk applies the same rules: the progress total is the picked files' bytes.
    const acked = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { type: string; totalBytes?: number }).filter((e) => e.type === 'part-acked')
    assert.equal(acked.at(-1)?.totalBytes, 100 + 6 * MiB)
  })

  test('-r skips symbolic links; --follow-symlinks uploads what they point to (a directory reached twice once)', async () => {
    const tree = join(dir, 'linked')
    const outside = join(dir, 'outside')
    mkdirSync(join(tree, 'real'), { recursive: true })
    mkdirSync(outside, { recursive: true })
    const data = { own: randomData(10, 61), far: randomData(20, 62), inner: randomData(30, 63) }
    writeFileSync(join(tree, 'own.bin'), data.own)
    writeFileSync(join(outside, 'far.bin'), data.far)
    writeFileSync(join(tree, 'real', 'inner.bin'), data.inner)
    symlinkSync(join(outside, 'far.bin'), join(tree, 'far-link.bin'))
    symlinkSync(join(tree, 'real'), join(tree, 'real-again')) // the same directory a second time
    const keysOf = (stdout: string): string[] => stdout.trim().split('\n').map((l) => (JSON.parse(l) as { key: string }).key)
    const plain = await cli(['cp', '-r', tree, 's3://bkt/l/', '--dryrun', '--json'])
    assert.equal(plain.code, 0, plain.stderr)
    assert.deepEqual(keysOf(plain.stdout), ['l/own.bin', 'l/real/inner.bin'])
    const followed = await cli(['cp', '-r', tree, target('linked/'), '--follow-symlinks', '--json', ...endpointFlag()])
    assert.equal(followed.code, 0, followed.stderr)
    // `real-again/` comes before `real/` in S3's key order ('-' < '/'): the directory is walked
    // there, once, and not again under its own name.
    assert.deepEqual(keysOf(followed.stdout).sort(), ['linked/far-link.bin', 'linked/own.bin', 'linked/real-again/inner.bin'])
    assert.equal(sha(await getObject(bucket, 'linked/far-link.bin')), sha(data.far))
    assert.equal(sha(await getObject(bucket, 'linked/real-again/inner.bin')), sha(data.inner))
    track(bucket, 'linked/own.bin')
  })

  test('-r --skip-existing size, then etag: a rerun sends only the files that changed, as each comparison sees them', async () => {
    const tree = join(dir, 'rerun')
    mkdirSync(tree, { recursive: true })
    const first: Record<string, Uint8Array> = {
      'same.bin': randomData(1000, 41),
      'edited.bin': randomData(2000, 42),
      'grown.bin': randomData(3000, 43),
      'big.bin': randomData(6 * MiB + 1, 44), // two parts of 5 MiB: a multipart ETag
    }
    for (const [name, data] of Object.entries(first)) writeFileSync(join(tree, name), data)
    const args = ['cp', '-r', tree, target('rerun/'), '--part-size', '5MiB', ...endpointFlag()]
    const initial = await cli([...args, '--quiet'])
    assert.equal(initial.code, 0, initial.stderr)
    const edited = randomData(2000, 45) // the same size, other bytes
    const grown = randomData(3001, 46)
    writeFileSync(join(tree, 'edited.bin'), edited)
    writeFileSync(join(tree, 'grown.bin'), grown)

    type Line = { key: string; skipped?: boolean; etag?: string }
    const bySize = await cli([...args, '--skip-existing', 'size', '--json'])
    assert.equal(bySize.code, 0, bySize.stderr)
    const sizeLines = bySize.stdout.trim().split('\n').map((l) => JSON.parse(l) as Line)
    const skippedBy = (lines: Line[]): string[] => lines.filter((l) => l.skipped === true).map((l) => l.key).sort()
    assert.deepEqual(skippedBy(sizeLines), ['rerun/big.bin', 'rerun/edited.bin', 'rerun/same.bin'])
    assert.deepEqual(sizeLines.filter((l) => l.skipped !== true).map((l) => l.key), ['rerun/grown.bin'])
    assert.equal(sha(await getObject(bucket, 'rerun/grown.bin')), sha(grown))
    assert.equal(sha(await getObject(bucket, 'rerun/edited.bin')), sha(first['edited.bin'] as Uint8Array), 'size alone cannot see a same-size edit')

    const byEtag = await cli([...args, '--skip-existing', 'etag'])
    assert.equal(byEtag.code, 0, byEtag.stderr)
    const out = byEtag.stdout.trim().split('\n').sort()
    assert.deepEqual(out, [
      `skip: ${join(tree, 'big.bin')}: ${target('rerun/big.bin')} has the same size and ETag`,
      `skip: ${join(tree, 'grown.bin')}: ${target('rerun/grown.bin')} has the same size and ETag`,
      `skip: ${join(tree, 'same.bin')}: ${target('rerun/same.bin')} has the same size and ETag`,
      `upload: ${join(tree, 'edited.bin')} to ${target('rerun/edited.bin')} (2000 bytes)`,
    ])
    assert.equal(sha(await getObject(bucket, 'rerun/edited.bin')), sha(edited))
    for (const name of ['same.bin', 'big.bin']) assert.equal(sha(await getObject(bucket, `rerun/${name}`)), sha(first[name] as Uint8Array), name)
  })

  test("-r with a file or stdin as the source: the flags that pick among a directory's files are usage errors naming the flag, not ignored; nothing sent", async () => {
    // The AWS CLI's `cp --recursive FILE` uploads nothing (exit 2). These used to be ignored: the
    // file was uploaded through --exclude '*', sent again through --skip-existing, and --dryrun
    // listed it as an upload.
    const file = join(dir, 'rfile', 'a.txt')
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, 'hello\n')
    const server = await refusingServer()
    try {
      for (const [args, flag] of [
        [['cp', '-r', file, 's3://bkt/p/', '--exclude', '*'], '--exclude'],
        [['cp', '-r', file, 's3://bkt/p/', '--include', 'a.txt'], '--include'],
        [['cp', '-r', file, 's3://bkt/p/', '--exclude', 'a.txt', '--dryrun'], '--exclude'],
        [['cp', '-r', file, 's3://bkt/p/', '--skip-existing', 'size'], '--skip-existing'],
        [['cp', '-r', file, 's3://bkt/p/', '--follow-symlinks'], '--follow-symlinks'],
        [['cp', '-r', '-', 's3://bkt/k', '--exclude', '*'], '--exclude'],
      ] as const) {
        const r = await cli([...args, '--endpoint-url', server.endpoint])
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
        assert.equal(r.stdout, '', `${args.join(' ')}: nothing listed`)
        assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`)
        assert.ok(r.stderr.startsWith(`partstream: ${flag} `), r.stderr)
        assert.match(r.stderr, new RegExp(`${args[2] === '-' ? 'stdin \\(-\\)' : 'a\\.txt'} is not a directory`), r.stderr)
      }
    } finally {
      server.close()
    }
    assert.equal(server.requests(), 0, 'nothing was sent')
    // Without them, -r FILE uploads the file as cp FILE does.
    const r = await cli(['cp', '-r', file, target('rfile/'), ...endpointFlag()])
    assert.equal(r.code, 0, r.stderr)
    assert.equal((await getObject(bucket, 'rfile/a.txt')).toString(), 'hello\n')
  })

  test('--progress json: one event per line on stderr, ending with done', async () => {
    const r = await cli(['cp', '-', target('stdin/progress'), '--progress', 'json', '--part-size', '5MiB', ...endpointFlag()], { input: randomData(11 * MiB, 13) })
    assert.equal(r.code, 0, r.stderr)
    track(bucket, 'stdin/progress')
    const events = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { type: string })
    assert.equal(events.at(-1)?.type, 'done')
    assert.ok(events.some((e) => e.type === 'upload-created'))
    assert.equal(events.filter((e) => e.type === 'part-acked').length, 3)
  })

  test('--progress json on failure paths: every stderr line is one JSON object; the failed event and an error line carry the code and message', async () => {
    // Each line parsed as JSON: a plain-text `partstream: …` line throws here.
    const linesOf = (stderr: string): (ProgressEvent & { code?: string; file?: string; key?: string; error?: { code?: string; message: string } })[] =>
      stderr
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          try {
            return JSON.parse(l) as ProgressEvent
          } catch {
            throw new Error(`not JSON: ${JSON.stringify(l)} in ${stderr}`)
          }
        })
    // An S3 error (no such bucket): the failed event with it, then the error line, last.
    const missing = await cli(['cp', '-', `s3://${bucket}-missing/x`, '--progress', 'json', ...endpointFlag()], { input: new TextEncoder().encode('hi\n') })
    assert.equal(missing.code, 1, missing.stderr)
    let lines = linesOf(missing.stderr)
    const failed = lines.find((e) => e.type === 'failed')
    assert.equal(failed?.error?.code, 'ERR_PARTSTREAM_S3', missing.stderr)
    assert.match(failed.error.message, /NoSuchBucket/)
    assert.equal(lines.at(-1)?.type, 'error')
    assert.equal(lines.at(-1)?.code, 'ERR_PARTSTREAM_S3')
    assert.match(lines.at(-1)?.message ?? '', /NoSuchBucket/)
    assert.ok(!missing.stderr.includes(s3EnvVars()['AWS_SECRET_ACCESS_KEY'] as string))
    // A usage error.
    const usage = await cli(['cp', '-', target('json-usage/x'), '--progress', 'json', '--part-size', '4MiB', ...endpointFlag()])
    assert.equal(usage.code, 2, usage.stderr)
    lines = linesOf(usage.stderr)
    assert.deepEqual([lines.at(-1)?.type, lines.at(-1)?.code], ['error', 'ERR_PARTSTREAM_CLI_USAGE'], usage.stderr)
    assert.match(lines.at(-1)?.message ?? '', /--part-size/)
    // One that the command line's parser finds: no event before it.
    const flag = await cli(['cp', '-', target('json-usage/x'), '--progress', 'json', '--no-such-flag'])
    assert.equal(flag.code, 2, flag.stderr)
    assert.deepEqual(linesOf(flag.stderr).map((e) => [e.type, e.code]), [['error', 'ERR_PARTSTREAM_CLI_USAGE']])
    // Ctrl-C.
    const end = await interruptStdin('stdin/json-interrupted', randomData(12 * MiB, 26), 'upload-created', 0)
    assertExit130(end, end.stderr)
    lines = linesOf(end.stderr)
    assert.ok(lines.some((e) => e.type === 'interrupted'), end.stderr)
    assert.equal(lines.at(-1)?.type, 'notice')
    assert.match(lines.at(-1)?.message ?? '', /^interrupted by SIGINT; the upload was aborted/)
    // cp -r with a file that fails (--if-none-match, the object exists): a file-failed event for it.
    const tree = join(dir, 'json-failing-tree')
    mkdirSync(tree, { recursive: true })
    writeFileSync(join(tree, 'a'), 'a\n')
    writeFileSync(join(tree, 'b'), 'b\n')
    for (const name of ['a', 'b']) track(bucket, `json-failing-tree/${name}`)
    assert.equal((await cli(['cp', join(tree, 'a'), target('json-failing-tree/a'), '-q', '--no-resume', ...endpointFlag()])).code, 0)
    const r = await cli(['cp', '-r', tree, target('json-failing-tree/'), '--if-none-match', '--progress', 'json', ...endpointFlag()])
    assert.equal(r.code, 1, r.stderr)
    lines = linesOf(r.stderr)
    const fileFailed = lines.find((e) => e.type === 'file-failed')
    assert.deepEqual([fileFailed?.file, fileFailed?.key, fileFailed?.error?.code], [join(tree, 'a'), 'json-failing-tree/a', 'ERR_PARTSTREAM_OBJECT_EXISTS'], r.stderr)
    assert.equal(lines.at(-1)?.type, 'error')
    assert.match(lines.at(-1)?.message ?? '', /1 of 2 files failed/)
  })

  test('stdout closed by its reader (`cp … --json | head -c 0`): the upload completes, exit 0, no crash', async () => {
    // Node ignores SIGPIPE: the write of the result fails with EPIPE, which used to crash the CLI
    // with an unhandled 'error' event (exit 1, a stack trace) after the upload had succeeded.
    const path = join(dir, 'epipe.bin')
    const data = randomData(100_000, 16)
    writeFileSync(path, data)
    const child = spawn(command[0] as string, [...command.slice(1), 'cp', path, target('epipe/result'), '--json', ...endpointFlag()], {
      env: { PATH: process.env['PATH'] ?? '', HOME: dir, ...s3EnvVars() },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout.destroy() // the reader is gone before anything is written
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    const { code } = await endsWithin(child, 30_000)
    track(bucket, 'epipe/result')
    assert.equal(code, 0, stderr)
    assert.doesNotMatch(stderr, /EPIPE|Unhandled/, stderr)
    assert.equal(sha(await getObject(bucket, 'epipe/result')), sha(data))
  })

  test('every usage error exits 2 with a one-line hint and sends nothing', async () => {
    const server = await refusingServer()
    const endpoint = server.endpoint
    mkdirSync(join(dir, 'adir'), { recursive: true })
    try {
      for (const args of [
        ['cp', '-'],
        ['cp', '-', 's3://bkt/'],
        ['cp', join(dir, 'adir'), 's3://bkt/x/'],
        ['cp', '-', 's3://bkt/k', '--progress', 'fancy'],
        ['cp', '-', 's3://bkt/k', '--part-size', '8XB'],
        ['cp', '-', 's3://bkt/k', '--concurrency', '0'],
        ['cp', '-', 's3://bkt/k', '--part-size', '4MiB'], // below S3's 5 MiB: the library's check, as a usage error
        ['cp', '-', 's3://bkt/k', '--part-size', '6GiB'],
        ['cp', '-', `s3://bkt/${'k'.repeat(1025)}`], // a key over S3's 1,024 bytes
        ['cp', '-', 's3://bkt/k', '--hash-threads', 'two'],
        ['cp', '-', 's3://bkt/k', '--hash-threads', '65'],
        ['cp', '-', 's3://bkt/k', '--payload', 'md5'],
        ['cp', '-', 's3://bkt/k', '--checksum', 'md5'],
        ['cp', '-', 'https://bkt/k'],
        ['cp', join(dir, 'missing.bin'), 's3://bkt/k'],
        ['cp', '-', 's3://bkt/k', '--exclude', '*'],
        ['cp', '-r', join(dir, 'adir'), 's3://bkt/x/', '--include', '[z-a]'],
        ['cp', '-r', join(dir, 'adir'), 's3://bkt/x/', '--skip-existing', 'mtime'],
        ['cp', '-', 's3://bkt/k', '--skip-existing', 'size'],
        ['cp', '-r', join(dir, 'adir'), 's3://bkt/x/', '--dryrun', '--skip-existing', 'size'],
        ['cp', '-', 's3://bkt/k', '--storage-class', 'standard_ia'],
        ['cp', '-', 's3://bkt/k', '--follow-symlinks'],
        ['cp', '-', 's3://bkt/k', '--acl', 'public'],
        ['cp', '-', 's3://bkt/k', '--tag', 'novalue'],
        ['cp', '-', 's3://bkt/k', ...Array.from({ length: 11 }, (_, i) => ['--tag', `k${i}=v`]).flat()],
        ['cp', '-', 's3://bkt/k', '--size-hint', '1GiB', '--expected-size', '1073741824'],
        ['cp', '-', 's3://bkt/k', '--no-progress', '--progress', 'bar'],
        ['cp', '-', 's3://bkt/k', '--sse', 'kms'],
        ['cp', '-', 's3://bkt/k', '--sse-kms-key-id', 'alias/x'],
        ['cp', '-', 's3://bkt/k', '--sse', 'AES256', '--sse-kms-key-id', 'alias/x'],
        ['cp', '-', 's3://bkt/k', '--size-hint', '10TiB'], // past S3's 5 TiB: not the library's exit 1
        ['cp', '/dev/stdin', 's3://bkt/'], // a descriptor has no name to keep, as `cp - s3://bkt/`
        ['cp', '-', 's3://bkt/k', '--concurrency', '0x2'],
        ['cp', '-', 's3://bkt/k', '--hash-threads', '0x2'],
        ['cp', '-', 's3://bkt/k', '--metadata', 'k=1', '--metadata', 'k=2'], // only one could be sent
        ['cp', '-', 's3://bkt/k', '--tag', 'k=1', '--tag', 'k=2'],
        ['cp', '-r', join(dir, 'adir'), 's3://bkt/x/', '--size-hint', '1GiB'],
        ['cp', '-r', join(dir, 'adir'), 's3://bkt/x/', '--no-resume'],
        ['cp', '-', 's3://bkt/k', '--part-size', '-1'], // parseArgs says it in three lines
        ['frobnicate'],
        ['uploads', 'abort', 's3://bkt'],
      ]) {
        const r = await cli([...args, '--endpoint-url', endpoint])
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
        assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`)
        assert.match(r.stderr, /^partstream: /)
      }
    } finally {
      server.close()
    }
    assert.equal(server.requests(), 0, 'nothing was sent')
  })

  test("stdin a directory (`cp - < DIR`): a usage error in the CLI's terms, exit 2", () => {
    const line = [...command, 'cp', '-', target('stdin/dir'), ...endpointFlag()].map((a) => `'${a}'`).join(' ')
    const r = spawnSync('sh', ['-c', `${line} < '${dir}'`], { env: { PATH: process.env['PATH'] ?? '', HOME: dir, ...s3EnvVars() }, encoding: 'utf8', timeout: 30_000 })
    assert.equal(r.status, 2, r.stderr)
    assert.match(r.stderr, /^partstream: cp -: stdin is a directory, not data: /)
    assert.doesNotMatch(r.stderr, /`fd`/)
  })

  test("object-setting usage errors name the CLI's flags, never the library's option names", async () => {
    for (const [args, flag] of [
      [['--sse-kms-key-id', 'alias/x'], /--sse-kms-key-id names a KMS key.*set --sse to 'aws:kms'.*--sse is not set/],
      [['--sse', 'AES256', '--sse-kms-key-id', 'alias/x'], /set --sse to 'aws:kms'.*--sse is "AES256"/],
      [['--storage-class', 'standard_ia'], /--storage-class/],
      // Checked by the library when the upload starts (before any request): the same mapping.
      [['--part-size', '4MiB'], /Expected --part-size to be an integer from 5 MiB/],
    ] as const) {
      const r = await cli(['cp', '-', 's3://bkt/k', ...args, '--endpoint-url', 'http://127.0.0.1:9'])
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, flag)
      assert.doesNotMatch(r.stderr, /serverSideEncryption|sseKmsKeyId|storageClass|partSize/, r.stderr)
    }
  })

  test("library messages in the CLI's terms: --metadata NAME, the bucket name, the user's pattern; runtime errors too (the endpoint, the credentials)", async () => {
    const server = await refusingServer()
    try {
      for (const [args, expected, env] of [
        [['cp', '-', 's3://bkt/k', '--metadata', 'k=héllo'], /^partstream: Expected --metadata k to be a string of printable ASCII/, {}],
        [['cp', '-', 's3://Hunt-B/k'], /^partstream: Invalid bucket name "Hunt-B"\. .*partstream cannot write to a bucket of another name/, {}],
        [['cp', '-r', join(dir, 'adir'), 's3://bkt/x/', '--exclude', '[z-a]'], /^partstream: --exclude: cannot use the pattern "\[z-a\]": [^/]*$/, {}],
        // A runtime error (exit 1): no credentials anywhere, found before any request.
        [['cp', '-', 's3://bkt/k'], /^partstream: ERR_PARTSTREAM_CREDENTIALS: .*Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or configure a profile/, { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', HOME: join(dir, 'adir') }],
      ] as const) {
        const r = await cli([...args, '--endpoint-url', server.endpoint], { env })
        assert.equal(r.code, expected.source.includes('CREDENTIALS') ? 1 : 2, r.stderr)
        assert.match(r.stderr, expected)
        assert.doesNotMatch(r.stderr, /`(metadata\.|credentials|legacyBucketName|bucket|endpoint|region)|Invalid the|\(\?:/, r.stderr)
      }
    } finally {
      server.close()
    }
    assert.equal(server.requests(), 0)
    const missing = await cli(['cp', '-', `s3://no-such-bucket-${Date.now().toString(36)}/k`, ...endpointFlag()], { input: randomData(10, 8) })
    assert.equal(missing.code, 1, missing.stderr)
    assert.match(missing.stderr, /404 NoSuchBucket\. Check the bucket, --endpoint-url and --region/)
  })

  test('a wrong secret exits 1 with the S3 code, never the secret', async () => {
    const secret = 'wrongsecretwrongsecretwrongsecret0000000'
    const r = await cli(['cp', '-', target('stdin/denied'), ...endpointFlag()], { input: randomData(10, 4), env: { AWS_SECRET_ACCESS_KEY: secret } })
    track(bucket, 'stdin/denied')
    assert.equal(r.code, 1)
    assert.match(r.stderr, /ERR_PARTSTREAM_S3: PutObject failed with HTTP 403/)
    assert.ok(!r.stderr.includes(secret) && !r.stdout.includes(secret))
  })

  test('--storage-class that the server does not have (Ceph RGW: a bare 400 InvalidArgument): exit 1, a hint naming the flag', async () => {
    const path = join(dir, 'class.txt')
    writeFileSync(path, 'c\n')
    const r = await cli(['cp', path, target('class/foo'), '--storage-class', 'FOO', ...endpointFlag()])
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, /PutObject failed with HTTP 400 InvalidArgument\npartstream: hint: --storage-class FOO may be a class this server does not have: AWS has STANDARD, /)
    const ok = await cli(['cp', path, target('class/standard'), '--storage-class', 'STANDARD', ...endpointFlag()])
    track(bucket, 'class/standard')
    assert.equal(ok.code, 0, ok.stderr)
  })

  test('cp -r with a wrong secret, or into a missing bucket, stops after the files in flight: the error once, not once per file, exit 1', async () => {
    const tree = join(dir, 'call-wide')
    mkdirSync(tree, { recursive: true })
    for (let i = 0; i < 40; i++) writeFileSync(join(tree, `f${String(i).padStart(2, '0')}.txt`), `${i}\n`)
    const secret = 'wrongsecretwrongsecretwrongsecret0000000'
    const runs = [
      { code: 'SignatureDoesNotMatch', run: await cli(['cp', '-r', tree, target('call-wide/'), ...endpointFlag()], { env: { AWS_SECRET_ACCESS_KEY: secret } }) },
      { code: 'NoSuchBucket', run: await cli(['cp', '-r', tree, `s3://no-such-bucket-${Date.now().toString(36)}/p/`, ...endpointFlag()]) },
    ]
    for (const { code, run } of runs) {
      assert.equal(run.code, 1, run.stderr)
      const lines = run.stderr.trim().split('\n')
      // concurrency (4) + 1 files are open at once: those were tried, the 35 others were not.
      assert.ok(lines.length <= 6, run.stderr)
      assert.equal(lines.filter((l) => l.includes(`HTTP 4`)).length, 1, run.stderr)
      assert.ok(lines.slice(1, -1).every((l) => l.endsWith(`: ERR_PARTSTREAM_S3 ${code} (the same error as above)`)), run.stderr)
      assert.equal(lines.at(-1), `partstream: stopped: every other file would fail with the same error (ERR_PARTSTREAM_S3 ${code}, above); none was uploaded`)
      assert.ok(!run.stderr.includes(secret))
    }
    const ctx = createS3Context({ bucket, ...s3Env() })
    try {
      assert.deepEqual((await listObjectsV2(ctx, { prefix: 'call-wide/' })).objects, [])
    } finally {
      await ctx.close()
    }
  })

  /**
   * `cp - KEY` with `data` written to a stdin left open (a socket, as child_process.spawn gives
   * it), `signal` (SIGINT) once stderr shows `event`, `settleMs` later: the exit (within 10 s),
   * stderr, and the uploads left open under the key.
   */
  async function interruptStdin(
    key: string,
    data: Uint8Array,
    event: string,
    settleMs: number,
    signal: 'SIGINT' | 'SIGHUP' = 'SIGINT',
    times = 1,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
    const child = spawn(command[0] as string, [...command.slice(1), 'cp', '-', target(key), '--progress', 'json', '--part-size', '5MiB', ...endpointFlag()], {
      env: { PATH: process.env['PATH'] ?? '', HOME: dir, ...s3EnvVars() },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stderr = ''
    const seen = new Promise<void>((resolve) => {
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString()
        if (stderr.includes(`"${event}"`)) resolve()
      })
    })
    child.stdin.on('error', () => {})
    child.stdin.write(data)
    await seen
    await new Promise((resolve) => setTimeout(resolve, settleMs))
    const ended = endsWithin(child, 10_000)
    child.kill(signal)
    // Again at once, as a terminal that closes does (not child.kill(): Deno's sends one signal per child).
    for (let i = 1; i < times; i++) process.kill(child.pid as number, signal)
    return { ...(await ended), stderr }
  }

  /**
   * Exit 130. Deno's node:child_process reports a child's exit status 128 + n as killed by signal n
   * (close(null, 'SIGINT') for exit 130; checked against the same child run from Node, which sees
   * 130); the message the tests check shows the CLI's own handler ran to its end either way.
   */
  function assertExit130(end: { code: number | null; signal: NodeJS.Signals | null }, output: string): void {
    assertExitBy('SIGINT', end, output)
  }

  /** Exit 128 + the signal's number (Deno: reported as killed by it, see {@link assertExit130}). */
  function assertExitBy(signal: 'SIGINT' | 'SIGHUP', end: { code: number | null; signal: NodeJS.Signals | null }, output: string): void {
    if (runtime === 'deno' && end.code === null) assert.equal(end.signal, signal, output)
    else assert.equal(end.code, signal === 'SIGINT' ? 130 : 129, output)
  }

  test('SIGINT once CompleteMultipartUpload is sent: too late to abort; the CLI waits for the answer, says so, and exits 0 with the object written', async () => {
    const proxy = await stallProxy(s3Env().endpoint)
    const data = randomData(11 * MiB, 21)
    const file = join(dir, 'late-interrupt.bin')
    writeFileSync(file, data)
    try {
      const child = spawn(command[0] as string, [...command.slice(1), 'cp', file, target('late/interrupt'), '--part-size', '5MiB', '--endpoint-url', proxy.endpoint], {
        env: { PATH: process.env['PATH'] ?? '', HOME: dir, ...s3EnvVars() },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stderr = ''
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
      child.stdout.resume()
      const ended = endsWithin(child, 20_000)
      proxy.beforeComplete = async () => {
        child.kill('SIGINT')
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
      const end = await ended
      // Deno's node:child_process reports a child it sent SIGINT as killed by it whatever its exit
      // status (0 here: checked with a Node parent); the message shows the CLI ran to its end.
      if (runtime === 'deno' && end.code === null) assert.equal(end.signal, 'SIGINT', stderr)
      else assert.equal(end.code, 0, stderr)
      assert.match(stderr, /interrupted by SIGINT, too late to abort: the upload was being completed, and the object is written/)
      assert.equal(sha(await getObject(bucket, 'late/interrupt')), sha(data))
      assert.deepEqual(await openUploads(bucket, 'late/interrupt'), [])
    } finally {
      await proxy.close()
    }
  })

  test('SIGINT once CompleteMultipartUpload is sent, and no answer within the grace: exit 130 saying the object may or may not have been written and how to check, never that nothing is left', async () => {
    // The server wrote the object; the proxy holds its answer until the CLI, past the library's
    // 5 s grace, has given up and exited. The library then rejects with the abort's reason, as it
    // does when nothing was sent: the CLI used to say "the upload was aborted, nothing is left".
    const proxy = await stallProxy(s3Env().endpoint)
    const data = randomData(11 * MiB, 23)
    const file = join(dir, 'slow-complete.bin')
    writeFileSync(file, data)
    try {
      // cp FILE (uploadFile), and cp - with that file as stdin (uploadFd, the hunter's repro).
      for (const [key, source] of [['slow-complete/file', file], ['slow-complete/stdin', '-']] as const) {
        const stdin = source === '-' ? openSync(file, 'r') : 'ignore'
        const child = spawn(command[0] as string, [...command.slice(1), 'cp', source, target(key), '--part-size', '5MiB', '--endpoint-url', proxy.endpoint], {
          env: { PATH: process.env['PATH'] ?? '', HOME: dir, ...s3EnvVars() },
          stdio: [stdin, 'pipe', 'pipe'],
        })
        if (typeof stdin === 'number') closeSync(stdin)
        track(bucket, key)
        let stderr = ''
        child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()))
        child.stdout?.resume()
        const ended = endsWithin(child, 30_000)
        proxy.holdAnswer = (request) => {
          if (request.method !== 'POST' || !request.url.includes('uploadId=')) return undefined
          process.kill(child.pid as number, 'SIGINT')
          return ended.then(
            () => undefined,
            () => undefined,
          )
        }
        const end = await ended
        proxy.holdAnswer = undefined
        assertExit130(end, stderr)
        assert.match(stderr, new RegExp(`interrupted by SIGINT; the object was being committed \\(CompleteMultipartUpload under way\\) and no answer came in time: s3://${bucket}/${key} may or may not have been written`), stderr)
        assert.match(stderr, new RegExp(`aws s3api head-object --bucket ${bucket} --key ${key}\`.*ContentLength ${11 * MiB}`), stderr)
        assert.doesNotMatch(stderr, /nothing is left/)
        assert.equal(sha(await getObject(bucket, key)), sha(data), 'it was written')
        assert.deepEqual(await openUploads(bucket, key), [])
      }
    } finally {
      await proxy.close()
    }
  })

  test('a second Ctrl-C while CreateMultipartUpload is awaited: exits at once, naming the upload that may have been created and how to list and remove it', async () => {
    // The server made the upload; its answer (the id) is held: the CLI never learns the id.
    const proxy = await stallProxy(s3Env().endpoint)
    const key = 'double/create'
    let release = (): void => {}
    const created = new Promise<void>((resolve) => {
      proxy.holdAnswer = (request) => {
        if (request.method !== 'POST' || !request.url.includes('?uploads')) return undefined
        resolve()
        return new Promise<void>((done) => (release = done))
      }
    })
    try {
      const child = spawn(command[0] as string, [...command.slice(1), 'cp', '-', target(key), '--part-size', '5MiB', '--endpoint-url', proxy.endpoint], {
        env: { PATH: process.env['PATH'] ?? '', HOME: dir, ...s3EnvVars() },
        stdio: ['pipe', 'pipe', 'pipe'],
      })
      let stderr = ''
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
      child.stdout.resume()
      child.stdin.on('error', () => {})
      child.stdin.write(randomData(7 * MiB, 24)) // more than a part: a multipart upload; stdin stays open
      await created
      const ended = endsWithin(child, 10_000)
      process.kill(child.pid as number, 'SIGINT')
      // The first signal handled (the library now waits for Create's answer) before the second.
      await new Promise((resolve) => setTimeout(resolve, 300))
      process.kill(child.pid as number, 'SIGINT')
      assertExit130(await ended, stderr)
      const url = `s3://${bucket}/${key}`
      assert.match(stderr, new RegExp(`SIGINT again, exiting now: an upload of ${url} may have been created \\(if CreateMultipartUpload was under way\\); \`partstream uploads ls ${url}\` lists it`), stderr)
      release()
      // It does remain: the server made it (the proxy held the answer, not the request).
      assert.equal((await openUploads(bucket, key)).length, 1, stderr)
    } finally {
      release()
      await proxy.close()
    }
  })

  test('a second cp of the same file to the same key while the first runs (a cron overlap): it fails at once naming the first, which is left alone', async () => {
    const proxy = await stallProxy(s3Env().endpoint)
    proxy.stallFrom = 2 // part 1 goes through, part 2 is held: the first run stays mid-upload
    const data = randomData(11 * MiB, 22)
    const file = join(dir, 'overlap.bin')
    writeFileSync(file, data)
    const args = ['cp', file, target('overlap/obj'), '--part-size', '5MiB', '--progress', 'json', '--endpoint-url', proxy.endpoint]
    try {
      const first = spawn(command[0] as string, [...command.slice(1), ...args], { env: { PATH: process.env['PATH'] ?? '', HOME: dir, ...s3EnvVars() }, stdio: ['ignore', 'pipe', 'pipe'] })
      let stderr = ''
      const created = new Promise<void>((resolve) => {
        first.stderr.on('data', (c: Buffer) => {
          stderr += c.toString()
          if (stderr.includes('"part-acked"')) resolve()
        })
      })
      first.stdout.resume()
      await created
      const second = await cli(args)
      assert.equal(second.code, 1, second.stderr)
      assert.match(second.stderr, new RegExp(`another partstream \\(pid ${first.pid}\\) is uploading .*overlap\\.bin to s3://${bucket}/overlap/obj: wait for it to end, or stop it`))
      assert.equal((await openUploads(bucket, 'overlap/obj')).length, 1, 'the first run’s upload is left alone')
      const ended = endsWithin(first, 10_000)
      first.kill('SIGINT')
      assertExit130(await ended, stderr)
      assert.deepEqual(await openUploads(bucket, 'overlap/obj'), [])
    } finally {
      await proxy.close()
    }
  })

  test('SIGINT mid-upload exits 130 and leaves no open upload', async () => {
    // Two parts' worth; stdin stays open: the upload cannot finish.
    const end = await interruptStdin('stdin/interrupted', randomData(12 * MiB, 5), 'upload-created', 0)
    assertExit130(end, end.stderr)
    assert.match(end.stderr, /interrupted by SIGINT; the upload was aborted/)
    assert.deepEqual(await openUploads(bucket, 'stdin/interrupted'), [])
  })

  test('SIGINT while the producer is idle, stdin a socket (as child_process.spawn gives it): exits 130 at once, no open upload', async () => {
    // A blocking read of stdin would wait on a libuv thread that Node's exit joins: the CLI used
    // to print that it was interrupted and then hang until the producer wrote again. One part and
    // 2 MiB of the next, then nothing: after 500 ms the 2 MiB are read and the CLI waits for more.
    const end = await interruptStdin('stdin/idle-socket', randomData(7 * MiB, 7), 'part-acked', 500)
    assertExit130(end, end.stderr)
    assert.match(end.stderr, /interrupted by SIGINT; the upload was aborted/)
    assert.deepEqual(await openUploads(bucket, 'stdin/idle-socket'), [])
  })

  test('stdin a terminal: what is typed is the object; Ctrl-C while it waits for more exits 130 at once', async () => {
    // `script` (util-linux) runs the CLI on a pseudo-terminal; what the test writes to script is typed on it.
    const typed = (key: string, extra: readonly string[] = []): { child: ChildProcessWithoutNullStreams; screen: () => string } => {
      const line = [...command, 'cp', '-', target(key), '--quiet', ...extra, ...endpointFlag()].map((a) => `'${a}'`).join(' ')
      const child = spawn('script', ['-qefc', `exec ${line}`, '/dev/null'], {
        env: { PATH: process.env['PATH'] ?? '', HOME: dir, TERM: 'xterm', ...s3EnvVars() },
        stdio: ['pipe', 'pipe', 'pipe'],
      })
      let screen = ''
      child.stdout.on('data', (c: Buffer) => (screen += c.toString()))
      child.stderr.on('data', (c: Buffer) => (screen += c.toString()))
      return { child, screen: () => screen }
    }
    const pause = (ms: number): Promise<unknown> => new Promise((resolve) => setTimeout(resolve, ms))
    {
      const { child, screen } = typed('tty/typed', ['--json'])
      const ended = endsWithin(child, 20_000)
      await pause(1000) // the CLI has started and reads the terminal
      child.stdin.write('first line\n')
      await pause(200)
      child.stdin.write('second line\n')
      await pause(200)
      child.stdin.write('\x04') // Ctrl-D at the start of a line: the end of the input
      const { code } = await ended
      track(bucket, 'tty/typed')
      assert.equal(code, 0, screen())
      assert.equal(new TextDecoder().decode(await getObject(bucket, 'tty/typed')), 'first line\nsecond line\n')
    }
    {
      const key = 'tty/interrupted'
      const { child, screen } = typed(key, ['--part-size', '5MiB'])
      await pause(1000)
      child.stdin.write('some input\n')
      await pause(500) // read; the CLI waits for more
      const ended = endsWithin(child, 10_000)
      child.stdin.write('\x03') // Ctrl-C: SIGINT from the terminal
      const { code } = await ended
      assert.equal(code, 130, screen())
      assert.match(screen(), /interrupted by SIGINT; the upload was aborted/)
      assert.deepEqual(await openUploads(bucket, key), [])
    }
  })

  test('uploads ls lists open uploads; uploads abort --older-than 0s removes them', async () => {
    const ctx = createS3Context({ bucket, ...s3Env() })
    let uploadId: string
    try {
      uploadId = await createMultipartUpload(ctx, { key: 'open/one' })
    } finally {
      await ctx.close()
    }
    const young = await cli(['uploads', 'ls', target('open/'), '--older-than', '1h', '--json', ...endpointFlag()])
    assert.equal(young.code, 0, young.stderr)
    assert.equal(young.stdout, '', '--older-than filters the listing as it filters abort')
    const ls = await cli(['uploads', 'ls', target('open/'), '--older-than', '0s', '--json', ...endpointFlag()])
    assert.equal(ls.code, 0, ls.stderr)
    assert.deepEqual(ls.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { uploadId: string }).uploadId), [uploadId])
    const abort = await cli(['uploads', 'abort', target('open/'), '--older-than', '0s', ...endpointFlag()])
    assert.equal(abort.code, 0, abort.stderr)
    assert.match(abort.stdout, new RegExp(`aborted .*${uploadId}.*open/one`))
    assert.deepEqual(await openUploads(bucket, 'open/'), [])
  })

  test("uploads ls/abort --older-than judge age on the server's clock: a client clock 2 h fast selects nothing started now", async () => {
    const ctx = createS3Context({ bucket, ...s3Env() })
    let uploadId: string
    try {
      uploadId = await createMultipartUpload(ctx, { key: 'skewed/one' })
    } finally {
      await ctx.close()
    }
    // The CLI's process runs with Date 2 h ahead (a preloaded module, as a wrong system clock).
    const preload = join(dir, 'clock-2h-fast.mjs')
    writeFileSync(preload, 'const D = Date; globalThis.Date = class extends D { constructor(...a) { if (a.length === 0) super(D.now() + 7200000); else super(...a) } static now() { return D.now() + 7200000 } }\n')
    const fast = [command[0] as string, ...(runtime === 'deno' ? ['run', '-A', `--preload=${preload}`] : ['--import', preload]), ...command.slice(runtime === 'deno' ? 3 : 1)]
    const ls = await cli(['uploads', 'ls', target('skewed/'), '--older-than', '1h', '--json', ...endpointFlag()], { command: fast })
    assert.equal(ls.code, 0, ls.stderr)
    assert.equal(ls.stdout, '', 'an upload started seconds ago is not an hour old')
    const abort = await cli(['uploads', 'abort', target('skewed/'), '--older-than', '1h', ...endpointFlag()], { command: fast })
    assert.equal(abort.code, 0, abort.stderr)
    assert.deepEqual(await openUploads(bucket, 'skewed/'), [`skewed/one ${uploadId}`])
    const now = await cli(['uploads', 'abort', target('skewed/'), '--older-than', '0s', ...endpointFlag()])
    assert.equal(now.code, 0, now.stderr)
    assert.deepEqual(await openUploads(bucket, 'skewed/'), [])
  })

  test('uploads abort: an Abort refused does not stop the others; exit 1 names it, the rest are aborted and printed', async () => {
    const ctx = createS3Context({ bucket, ...s3Env() })
    const ids: string[] = []
    try {
      for (const key of ['refused/a', 'refused/b', 'refused/c']) ids.push(await createMultipartUpload(ctx, { key }))
    } finally {
      await ctx.close()
    }
    const proxy = await stallProxy(s3Env().endpoint)
    try {
      proxy.refuseAborts.add(ids[0] as string)
      const run = await cli(['uploads', 'abort', target('refused/'), '--older-than', '0s', '--endpoint-url', proxy.endpoint])
      assert.equal(run.code, 1, run.stderr)
      assert.match(run.stderr, new RegExp(`ERR_PARTSTREAM_ABORT_FAILED: 1 of 3 stale multipart uploads could not be aborted .*${ids[0]}`))
      assert.match(run.stdout, new RegExp(`aborted .*${ids[1]}.*refused/b\\n.*aborted .*${ids[2]}.*refused/c`))
      assert.deepEqual(await openUploads(bucket, 'refused/'), [`refused/a ${ids[0]}`])
    } finally {
      await proxy.close()
      await cli(['uploads', 'abort', target('refused/'), '--older-than', '0s', ...endpointFlag()])
    }
  })

  describe('a rerun resumes an interrupted cp FILE', () => {
    let proxy: StallProxy
    before(async () => {
      proxy = await stallProxy(s3Env().endpoint)
    })
    after(() => proxy.close())
    const setup = (name: string, size: number, seed: number): { path: string; data: Uint8Array; cache: string; args: string[]; env: Record<string, string> } => {
      const path = join(dir, `${name}.bin`)
      const data = randomData(size, seed)
      writeFileSync(path, data)
      const cache = mkdtempSync(join(dir, 'cache-'))
      const args = ['cp', path, target(`resume/${name}`), '--part-size', '5MiB', '--concurrency', '2', '--progress', 'json', '--endpoint-url', proxy.endpoint]
      return { path, data, cache, args, env: { XDG_CACHE_HOME: cache } }
    }

    test('kill -9 mid-upload, then the same command: the parts S3 holds are reused, the object verifies, nothing is left', async () => {
      const { data, cache, args, env } = setup('crash', 40 * MiB, 31)
      proxy.stallFrom = 4 // parts 1 to 3 are acknowledged, 4 and 5 hang
      const uploadId = await killMidUpload(args, env, cache, 3)
      const [file] = checkpoints(cache)
      assert.ok(file !== undefined, 'a checkpoint survives the crash')
      const saved = JSON.parse(readFileSync(file, 'utf8')) as { uploadId: string; partSize: number; size: number }
      assert.deepEqual([saved.uploadId, saved.partSize, saved.size], [uploadId, 5 * MiB, 40 * MiB])
      if (process.platform !== 'win32') assert.equal(statSync(file).mode & 0o777, 0o600)
      assert.ok(!readFileSync(file, 'utf8').includes(s3Env().credentials.secretAccessKey), 'no secret in the checkpoint')

      proxy.stallFrom = Number.POSITIVE_INFINITY
      proxy.partBytes = 0
      const r = await cli([...args, '--json'], { env })
      assert.equal(r.code, 0, r.stderr)
      const result = JSON.parse(r.stdout.trim()) as { size: number; partCount: number; resumed?: { uploadId: string; partsReused: number; bytesReused: number } }
      assert.equal(result.partCount, 8)
      assert.deepEqual(result.resumed, { uploadId, partsReused: 3, bytesReused: 15 * MiB })
      assert.equal(proxy.partBytes, 25 * MiB, 'only the 5 missing parts were sent')
      const events = eventsOf(r.stderr)
      assert.equal(events.filter((e) => e.type === 'part-skipped').length, 3)
      assert.ok(events.some((e) => e.type === 'upload-resumed' && e.uploadId === uploadId))
      assert.equal(events.at(-1)?.type, 'done')
      assert.equal(sha(await getObject(bucket, 'resume/crash')), sha(data))
      assert.deepEqual(await openUploads(bucket, 'resume/crash'), [])
      assert.deepEqual(checkpoints(cache), [], 'the checkpoint is removed on success')
      assert.deepEqual(readdirSync(join(cache, 'partstream', 'uploads')), [], 'and no temporary file is left')
    })

    test('a file changed between the runs starts over: the stale upload is aborted, the new content uploaded', async () => {
      const { path, cache, args, env } = setup('changed', 12 * MiB, 32)
      proxy.stallFrom = 2
      await killMidUpload(args, env, cache, 1)
      const changed = randomData(12 * MiB, 33) // same size: the mtime tells
      writeFileSync(path, changed)
      const later = new Date(Date.now() + 10_000)
      utimesSync(path, later, later)
      proxy.stallFrom = Number.POSITIVE_INFINITY
      proxy.partBytes = 0
      const r = await cli([...args, '--json'], { env })
      assert.equal(r.code, 0, r.stderr)
      assert.equal((JSON.parse(r.stdout.trim()) as { resumed?: unknown }).resumed, undefined)
      assert.ok(eventsOf(r.stderr).some((e) => e.type === 'notice' && /changed since it was interrupted: starting over/.test(e.message ?? '')), r.stderr)
      assert.equal(proxy.partBytes, 12 * MiB)
      assert.equal(sha(await getObject(bucket, 'resume/changed')), sha(changed))
      assert.deepEqual(await openUploads(bucket, 'resume/changed'), [], 'the stale upload was aborted')
      assert.deepEqual(checkpoints(cache), [])
    })

    test('an upload that no longer exists (aborted meanwhile) starts over', async () => {
      const { data, cache, args, env } = setup('gone', 12 * MiB, 34)
      proxy.stallFrom = 2
      await killMidUpload(args, env, cache, 1)
      const abort = await cli(['uploads', 'abort', target('resume/gone'), '--older-than', '0s', ...endpointFlag()])
      assert.equal(abort.code, 0, abort.stderr)
      proxy.stallFrom = Number.POSITIVE_INFINITY
      const r = await cli([...args, '--json'], { env })
      assert.equal(r.code, 0, r.stderr)
      assert.ok(eventsOf(r.stderr).some((e) => e.type === 'notice' && /no longer exists: starting over/.test(e.message ?? '')), r.stderr)
      assert.equal(sha(await getObject(bucket, 'resume/gone')), sha(data))
      assert.deepEqual(await openUploads(bucket, 'resume/gone'), [])
      assert.deepEqual(checkpoints(cache), [])
    })

    test('--no-resume aborts the interrupted upload and starts over; a corrupt checkpoint is ignored', async () => {
      const { data, cache, args, env } = setup('noresume', 12 * MiB, 35)
      proxy.stallFrom = 2
      await killMidUpload(args, env, cache, 1)
      proxy.stallFrom = Number.POSITIVE_INFINITY
      proxy.partBytes = 0
      const r = await cli([...args, '--json', '--no-resume'], { env })
      assert.equal(r.code, 0, r.stderr)
      assert.equal((JSON.parse(r.stdout.trim()) as { resumed?: unknown }).resumed, undefined)
      assert.equal(proxy.partBytes, 12 * MiB)
      assert.deepEqual(await openUploads(bucket, 'resume/noresume'), [], 'the interrupted upload was aborted')
      assert.deepEqual(checkpoints(cache), [])

      // A checkpoint file that is not one (a crash of the disk, a hand edit): ignored, no crash.
      proxy.stallFrom = 2
      const stale = await killMidUpload(args, env, cache, 1)
      const [file] = checkpoints(cache)
      writeFileSync(file as string, '{"version":1,"uploadId":')
      proxy.stallFrom = Number.POSITIVE_INFINITY
      const again = await cli([...args, '--json'], { env })
      assert.equal(again.code, 0, again.stderr)
      assert.equal((JSON.parse(again.stdout.trim()) as { resumed?: unknown }).resumed, undefined)
      assert.equal(sha(await getObject(bucket, 'resume/noresume')), sha(data))
      assert.deepEqual(checkpoints(cache), [])
      // The upload the unreadable checkpoint named cannot be found from it: `uploads abort` is the way.
      assert.deepEqual(await openUploads(bucket, 'resume/noresume'), [`resume/noresume ${stale}`])
    })

    test('the rerun spells the endpoint with a trailing /: it still finds the checkpoint and resumes', async () => {
      const { data, cache, args, env } = setup('spelling', 12 * MiB, 39)
      proxy.stallFrom = 2
      const uploadId = await killMidUpload(args, env, cache, 1)
      proxy.stallFrom = Number.POSITIVE_INFINITY
      assert.equal(args.at(-2), '--endpoint-url')
      const r = await cli([...args.slice(0, -1), `${proxy.endpoint}/`, '--json'], { env })
      assert.equal(r.code, 0, r.stderr)
      assert.equal((JSON.parse(r.stdout.trim()) as { resumed?: { uploadId: string } }).resumed?.uploadId, uploadId, r.stderr)
      assert.equal(sha(await getObject(bucket, 'resume/spelling')), sha(data))
      assert.deepEqual(await openUploads(bucket, 'resume/spelling'), [])
      assert.deepEqual(checkpoints(cache), [])
    })

    test('SIGINT during cp FILE aborts the upload and removes the checkpoint', async () => {
      const { cache, args, env } = setup('sigint', 12 * MiB, 36)
      proxy.stallFrom = 2
      const run = await runUntilAcked(args, env, cache, 1)
      assert.equal(checkpoints(cache).length, 1)
      run.child.kill('SIGINT')
      assertExit130(await run.closed, run.stderr())
      proxy.stallFrom = Number.POSITIVE_INFINITY
      assert.deepEqual(await openUploads(bucket, 'resume/sigint'), [])
      assert.deepEqual(checkpoints(cache), [], 'aborted: nothing to resume')
    })

    test('a network loss (the Abort cannot get through either) exits 1 and keeps the checkpoint; the rerun resumes', async () => {
      const { data, cache, args, env } = setup('netloss', 12 * MiB, 37)
      proxy.stallFrom = 2
      const run = await runUntilAcked(args, env, cache, 1)
      proxy.down = true // every connection is cut from now on: the held part, its retries, the Abort
      const { code } = await run.closed
      proxy.down = false
      proxy.stallFrom = Number.POSITIVE_INFINITY
      assert.equal(code, 1, run.stderr())
      // The hint is the error line's (it was a notice before it), and the upload is named once
      // (the message said it may still hold parts, then "(upload … may remain)").
      const last = eventsOf(run.stderr()).at(-1) as { type?: string; code?: string; message?: string; hint?: string } | undefined
      assert.equal(last?.type, 'error', run.stderr())
      assert.equal(last?.code, 'ERR_PARTSTREAM_ABORT_FAILED')
      assert.equal(last?.hint, 'run the same command again to resume the upload')
      assert.equal(String(last?.message).split(run.uploadId).length - 1, 1, last?.message)
      assert.doesNotMatch(run.stderr(), /"type":"notice"/)
      assert.equal(checkpoints(cache).length, 1, 'the upload remains: so does its checkpoint')
      assert.deepEqual(await openUploads(bucket, 'resume/netloss'), [`resume/netloss ${run.uploadId}`])
      proxy.partBytes = 0
      const r = await cli([...args, '--json'], { env })
      assert.equal(r.code, 0, r.stderr)
      const result = JSON.parse(r.stdout.trim()) as { resumed?: { uploadId: string; partsReused: number } }
      assert.equal(result.resumed?.uploadId, run.uploadId)
      assert.equal(result.resumed.partsReused, 1)
      assert.equal(proxy.partBytes, 7 * MiB)
      assert.equal(sha(await getObject(bucket, 'resume/netloss')), sha(data))
      assert.deepEqual(await openUploads(bucket, 'resume/netloss'), [])
      assert.deepEqual(checkpoints(cache), [])
    })
  })

  test('the progress bar in a real terminal: percentage and rate while running, one clean summary line at the end', async () => {
    // `script` (util-linux) gives the CLI a pseudo-terminal as stdout and stderr.
    const path = join(dir, 'tty.bin')
    writeFileSync(path, randomData(24 * MiB, 6))
    const line = [...command, 'cp', path, target('tty/file'), '--part-size', '5MiB', '--concurrency', '1', ...endpointFlag()].map((a) => `'${a}'`).join(' ')
    const r = spawnSync('script', ['-qefc', `COLUMNS=100 ${line}`, '/dev/null'], {
      env: { PATH: process.env['PATH'] ?? '', HOME: dir, TERM: 'xterm', ...s3EnvVars() },
      encoding: 'utf8',
      timeout: 60_000,
    })
    track(bucket, 'tty/file')
    assert.equal(r.status, 0, r.stderr + r.stdout)
    const screen = r.stdout
    assert.match(screen, /\r\x1b\[2K.*\d+%.*\/s/, 'a redrawn bar with a percentage and a rate')
    // Every frame shows the file's total, the first one too (drawn before any event, it read "0 B  0 B/s").
    const frames = screen.split('\r\x1b[2K').slice(1).filter((f) => f.includes('in flight'))
    assert.ok(frames.length > 0, screen)
    for (const frame of frames) assert.match(frame, / \/ 24\.0 MiB +\d+%/, `a frame without the total: ${JSON.stringify(frame)}`)
    // What stays on screen: the text after the last erase, which is the summary and the result.
    const final = screen.slice(screen.lastIndexOf('\x1b[2K') + 4)
    assert.match(final, /^.*tty\.bin: uploaded 24\.0 MiB in [\d.]+ s \([\d.]+ \w+\/s\)\r?\n/)
    assert.match(final, /upload: .* to s3:\/\/.*tty\/file \(25165824 bytes, 5 parts\)/)
  })

  test('cp -r on a terminal: each "upload:" line and each failed file\'s line erases the bar first, and the bar is drawn again below it', async () => {
    // The lines used to be written over the drawn bar: its text stayed glued to their start.
    const tree = join(dir, 'tty-tree')
    mkdirSync(tree, { recursive: true })
    for (const [i, name] of ['a1', 'a2', 'z4'].entries()) writeFileSync(join(tree, name), randomData(7 * MiB, 90 + i))
    // z4 exists already: with --if-none-match it fails mid-run (an error line while the bar is up).
    for (const name of ['a1', 'a2', 'z4']) track(bucket, `tty-tree/${name}`)
    const first = await cli(['cp', join(tree, 'z4'), target('tty-tree/z4'), '--no-resume', '-q', ...endpointFlag()])
    assert.equal(first.code, 0, first.stderr)
    const line = [...command, 'cp', '-r', tree, target('tty-tree/'), '--part-size', '5MiB', '--concurrency', '1', '--if-none-match', ...endpointFlag()].map((a) => `'${a}'`).join(' ')
    const r = spawnSync('script', ['-qefc', `COLUMNS=100 ${line}`, '/dev/null'], {
      env: { PATH: process.env['PATH'] ?? '', HOME: dir, TERM: 'xterm', ...s3EnvVars() },
      encoding: 'utf8',
      timeout: 60_000,
    })
    assert.equal(r.status, 1, r.stdout)
    assert.match(r.stdout, /\r\x1b\[2K.*in flight/, 'a bar was drawn')
    // What stays on screen: each line's text after its last erase.
    const shown = r.stdout.split('\n').map((l) => l.replace(/\r$/, '').split('\r\x1b[2K').at(-1) ?? '')
    const printed = shown.filter((l) => /upload: |partstream: /.test(l))
    assert.equal(printed.filter((l) => l.includes('upload: ')).length, 2, r.stdout)
    assert.ok(printed.some((l) => /z4: ERR_PARTSTREAM_OBJECT_EXISTS/.test(l)), r.stdout)
    for (const l of printed) assert.match(l, /^(upload: |partstream: )/, `the bar's text before the line: ${JSON.stringify(l)}`)
  })

  test('output that cannot be written (stderr, then stdout, on /dev/full: ENOSPC): the upload goes on, exit 0, nothing left open', async () => {
    // Only EPIPE used to be ignored: any other write error crashed the CLI, from a progress event
    // mid-upload (the multipart upload left open) or after it (a stack trace, exit 1).
    const path = join(dir, 'full.bin')
    const data = randomData(12 * MiB, 81)
    writeFileSync(path, data)
    const full = openSync('/dev/full', 'w')
    try {
      for (const [key, stdio, flags] of [
        ['full/stderr', ['ignore', 'pipe', full], ['--progress', 'json']],
        ['full/stdout', ['ignore', full, 'pipe'], ['--json']],
      ] as const) {
        const child = spawn(command[0] as string, [...command.slice(1), 'cp', path, target(key), '--part-size', '5MiB', '--concurrency', '1', ...flags, ...endpointFlag()], {
          env: { PATH: process.env['PATH'] ?? '', HOME: dir, ...s3EnvVars() },
          stdio: [...stdio],
        })
        let output = ''
        for (const stream of [child.stdout, child.stderr]) stream?.on('data', (c: Buffer) => (output += c.toString()))
        const { code } = await endsWithin(child, 60_000)
        track(bucket, key)
        assert.equal(code, 0, `${key}: ${output}`)
        assert.doesNotMatch(output, /ENOSPC|Error|at /, key)
        assert.equal(sha(await getObject(bucket, key)), sha(data), key)
        assert.deepEqual(await openUploads(bucket, key), [], key)
      }
    } finally {
      closeSync(full)
    }
  })

  test('--help and --version whose text cannot be written (stdout on /dev/full) exit 1 and say so; on a pipe, 0', async () => {
    // Their text is all they do: they exited 0 with nothing written.
    const full = openSync('/dev/full', 'w')
    try {
      for (const args of [['--help'], ['--version'], ['cp', '--help'], ['uploads', '--help']]) {
        const child = spawn(command[0] as string, [...command.slice(1), ...args], { env: { PATH: process.env['PATH'] ?? '', HOME: dir }, stdio: ['ignore', full, 'pipe'] })
        let stderr = ''
        child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()))
        const { code } = await endsWithin(child, 30_000)
        assert.equal(code, 1, `${args.join(' ')}: ${stderr}`)
        assert.equal(stderr, `partstream: cannot write the ${args.includes('--version') ? 'version' : 'help'} to stdout\n`)
        const piped = await cli(args)
        assert.equal(piped.code, 0, piped.stderr)
        assert.equal(piped.stderr, '')
        assert.ok(piped.stdout.length > 10)
      }
    } finally {
      closeSync(full)
    }
  })

  /** Resolves once `condition()` holds; rejects after `ms`. */
  async function until(condition: () => boolean, ms: number, what: () => string): Promise<void> {
    for (const start = Date.now(); !condition(); await new Promise((resolve) => setTimeout(resolve, 50))) {
      if (Date.now() - start > ms) throw new Error(`not within ${ms} ms: ${what()}`)
    }
  }

  test('the terminal goes away mid-upload (every write then fails with EIO): the upload completes, exit 0', async () => {
    // `script` gives the CLI a pseudo-terminal; `setsid` a session of its own, so the hangup sends
    // it no SIGHUP (as when it runs on without one): only its writes fail. Its stdin is a FIFO the
    // test writes: the terminal is closed while the CLI waits for the rest of the data.
    const key = 'tty/hung-up'
    const fifo = join(dir, 'hung-up.fifo')
    const rc = join(dir, 'hung-up.rc')
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0)
    const quote = (a: string): string => `'${a.replaceAll("'", "'\\''")}'`
    const line = `${[...command, 'cp', '-', target(key), '--part-size', '5MiB', ...endpointFlag()].map(quote).join(' ')} < ${quote(fifo)}; echo $? > ${quote(rc)}`
    const child = spawn('script', ['-qfc', `setsid -w sh -c ${quote(line)}`, '/dev/null'], {
      env: { PATH: process.env['PATH'] ?? '', HOME: dir, TERM: 'xterm', ...s3EnvVars() },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    const closed = new Promise((resolve) => child.on('close', resolve))
    let screen = ''
    child.stdout.on('data', (c: Buffer) => (screen += c.toString()))
    const data = randomData(13 * MiB, 82)
    const writer = await open(fifo, 'w')
    try {
      await writer.write(data.subarray(0, 6 * MiB))
      await until(() => screen.includes('in flight'), 30_000, () => screen) // the bar is drawn
      child.kill('SIGKILL') // the terminal's only master end: the terminal hangs up
      await closed
      await writer.write(data.subarray(6 * MiB))
    } finally {
      await writer.close()
    }
    await until(() => existsSync(rc) && readFileSync(rc, 'utf8').endsWith('\n'), 60_000, () => 'no exit status')
    track(bucket, key)
    assert.equal(readFileSync(rc, 'utf8').trim(), '0')
    assert.equal(sha(await getObject(bucket, key)), sha(data))
    assert.deepEqual(await openUploads(bucket, key), [])
    rmSync(fifo)
  })

  test('SIGUSR1 mid-upload starts no debugger (Node opens its inspector on 127.0.0.1:9229 for it, in a process holding AWS credentials): ignored, the upload completes', async () => {
    const key = 'signal/usr1'
    track(bucket, key)
    const data = randomData(12 * MiB, 27)
    const child = spawn(command[0] as string, [...command.slice(1), 'cp', '-', target(key), '--progress', 'json', '--part-size', '5MiB', ...endpointFlag()], {
      env: { PATH: process.env['PATH'] ?? '', HOME: dir, ...s3EnvVars() },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.stdout.resume()
    child.stdin.on('error', () => {})
    const ended = endsWithin(child, 60_000)
    child.stdin.write(data.subarray(0, 6 * MiB))
    await until(() => stderr.includes('"part-acked"'), 30_000, () => stderr)
    process.kill(child.pid as number, 'SIGUSR1')
    // Node starts the inspector on a thread of its own within milliseconds of the signal; Bun's
    // default action for SIGUSR1 ends the process.
    await new Promise((resolve) => setTimeout(resolve, 500))
    child.stdin.end(data.subarray(6 * MiB))
    const end = await ended
    assert.equal(end.code, 0, stderr)
    // Deno 2.9.2+ starts its inspector on SIGUSR1 whatever listeners the program has
    // (denoland/deno#35738): nothing the CLI can do there (see the README).
    if (runtime !== 'deno') assert.doesNotMatch(stderr, /Debugger listening/)
    assert.equal(sha(await getObject(bucket, key)), sha(data))
  })

  test('a second SIGHUP while the Abort is under way (a closing terminal: the kernel, then the shell): not taken as "exit now" (it skipped the Abort)', async () => {
    // Two SIGHUPs sent at once merge into one pending signal: the second must come once the
    // first was handled, as the shell's does. The proxy holds the Abort the first one sends.
    const proxy = await stallProxy(s3Env().endpoint)
    proxy.abortsPassed = 0
    const child = spawn(command[0] as string, [...command.slice(1), 'cp', '-', target('stdin/hangup-twice'), '--progress', 'json', '--part-size', '5MiB', '--endpoint-url', proxy.endpoint], {
      env: { PATH: process.env['PATH'] ?? '', HOME: dir, ...s3EnvVars() },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.stdout.resume()
    child.stdin.on('error', () => {})
    child.stdin.write(randomData(7 * MiB, 84)) // part 1 and more: a multipart upload, stdin left open
    const ended = endsWithin(child, 60_000)
    try {
      await until(() => stderr.includes('"part-acked"'), 30_000, () => stderr)
      process.kill(child.pid as number, 'SIGHUP')
      await until(() => proxy.requests.some((q) => q.method === 'DELETE'), 30_000, () => stderr)
      process.kill(child.pid as number, 'SIGHUP') // the shell's, after the kernel's
      await new Promise((resolve) => setTimeout(resolve, 300))
      proxy.down = true // the held Abort fails: the CLI says what may remain, as it waited for it
      const end = await ended
      assertExitBy('SIGHUP', end, stderr)
      assert.doesNotMatch(stderr, /SIGHUP again, exiting now/)
    } finally {
      await proxy.close()
      child.kill('SIGKILL')
    }
    const ctx = createS3Context({ bucket, ...s3Env() })
    try {
      for (const upload of await openUploads(bucket, 'stdin/hangup-twice')) await abortMultipartUpload(ctx, upload.split(' ')[1] as string, { key: upload.split(' ')[0] as string })
    } finally {
      await ctx.close()
    }
  })

  test('SIGHUP (the terminal closed) mid-upload exits 129 and leaves no open upload', async () => {
    const end = await interruptStdin('stdin/hangup', randomData(12 * MiB, 83), 'upload-created', 0, 'SIGHUP')
    assertExitBy('SIGHUP', end, end.stderr)
    assert.match(end.stderr, /interrupted by SIGHUP; the upload was aborted/)
    assert.deepEqual(await openUploads(bucket, 'stdin/hangup'), [])
  })

  /**
   * `cp -r` of two 12 MiB files through a proxy that acknowledges part 1 of each and holds the
   * rest, and holds the Aborts too; SIGINT once both part 1s are acknowledged, then resolves once
   * both Aborts are held.
   */
  async function treeHeldAtAbort(name: string, seed: number, endMs: number) {
    const tree = join(dir, name)
    mkdirSync(tree, { recursive: true })
    for (const file of ['a.bin', 'b.bin']) writeFileSync(join(tree, file), randomData(12 * MiB, seed))
    const proxy = await stallProxy(s3Env().endpoint)
    proxy.stallFrom = 2 // part 1 of each file is acknowledged, the others hang
    proxy.abortsPassed = 0 // and so do the Aborts the first Ctrl-C sends
    const child = spawn(command[0] as string, [...command.slice(1), 'cp', '-r', tree, target(`${name}/`), '--part-size', '5MiB', '--progress', 'json', '--endpoint-url', proxy.endpoint], {
      env: { PATH: process.env['PATH'] ?? '', HOME: dir, ...s3EnvVars() },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.stdout.resume()
    const ended = endsWithin(child, endMs)
    try {
      await until(() => eventsOf(stderr.slice(0, stderr.lastIndexOf('\n') + 1)).filter((e) => e.type === 'part-acked').length >= 2, 30_000, () => stderr)
      child.kill('SIGINT')
      await until(() => proxy.requests.filter((q) => q.method === 'DELETE').length >= 2, 30_000, () => stderr)
    } catch (error) {
      await proxy.close()
      throw error
    }
    return { child, proxy, ended, stderr: () => stderr }
  }

  test('cp -r, then a second Ctrl-C while the uploads are being aborted: exits at once, naming the files whose uploads may remain', async () => {
    const { child, proxy, ended, stderr: output } = await treeHeldAtAbort('twice', 84, 30_000)
    try {
      // Not child.kill(): Deno's sends one signal per child, and returns false after that.
      process.kill(child.pid as number, 'SIGINT')
      const end = await ended
      const stderr = output()
      assertExit130(end, stderr)
      assert.match(stderr, /SIGINT again, exiting now: the uploads of 2 file\(s\) in progress may remain: /)
      const left = await openUploads(bucket, 'twice/')
      assert.equal(left.length, 2, 'they do remain')
      // Each named with its upload id, as `uploads ls` would show it.
      for (const upload of left) {
        const [key, uploadId] = upload.split(' ')
        assert.ok(stderr.includes(`/${key} (upload ${uploadId})`), stderr)
      }
    } finally {
      await proxy.close()
    }
  })

  test('cp -r interrupted, the Aborts answered: one line for all the files (not one per file, nor "failed" for them), exit 130, nothing left', async () => {
    const tree = join(dir, 'int-tree')
    mkdirSync(tree, { recursive: true })
    for (const file of ['a.bin', 'b.bin', 'c.bin']) writeFileSync(join(tree, file), randomData(12 * MiB, 90))
    const proxy = await stallProxy(s3Env().endpoint)
    proxy.stallFrom = 2 // part 1 of each file is acknowledged, the others hang; the Aborts pass
    try {
      const child = spawn(command[0] as string, [...command.slice(1), 'cp', '-r', tree, target('int-tree/'), '--part-size', '5MiB', '--concurrency', '4', '--endpoint-url', proxy.endpoint], {
        env: { PATH: process.env['PATH'] ?? '', HOME: dir, ...s3EnvVars() },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stderr = ''
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
      child.stdout.resume()
      const ended = endsWithin(child, 30_000)
      await until(() => proxy.requests.filter((q) => q.method === 'PUT' && q.url.includes('partNumber=2')).length >= 2, 30_000, () => stderr)
      process.kill(child.pid as number, 'SIGINT')
      const end = await ended
      assertExit130(end, stderr)
      assert.equal(stderr, 'partstream: interrupted by SIGINT; the uploads were aborted, nothing is left\n')
      assert.deepEqual(await openUploads(bucket, 'int-tree/'), [])
    } finally {
      await proxy.close()
    }
  })

  test("cp -r interrupted while the network is gone (the Aborts fail too): the message says the files' uploads may remain, not that nothing is left", async () => {
    const { proxy, ended, stderr: output } = await treeHeldAtAbort('cut', 89, 60_000)
    try {
      proxy.down = true // the held Aborts, and their retries, are cut
      const end = await ended
      const stderr = output()
      assertExit130(end, stderr)
      assert.match(stderr, /ERR_PARTSTREAM_ABORT_FAILED/)
      assert.match(stderr, /interrupted by SIGINT; the uploads of 2 file\(s\) could not be aborted and may remain/)
      assert.doesNotMatch(stderr, /nothing is left/)
    } finally {
      await proxy.close()
    }
  })

  test('cp FILE interrupted while the network is gone (the Abort fails too): exit 130 as for cp -r (it was 1), naming the upload that may remain', async () => {
    const path = join(dir, 'cut-one.bin')
    writeFileSync(path, randomData(12 * MiB, 91))
    const proxy = await stallProxy(s3Env().endpoint)
    proxy.stallFrom = 2 // part 1 is acknowledged, the others hang
    proxy.abortsPassed = 0 // and so does the Abort
    const child = spawn(command[0] as string, [...command.slice(1), 'cp', path, target('cut-one/file'), '--part-size', '5MiB', '--progress', 'json', '--endpoint-url', proxy.endpoint], {
      env: { PATH: process.env['PATH'] ?? '', HOME: dir, ...s3EnvVars() },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.stdout.resume()
    const ended = endsWithin(child, 60_000)
    try {
      await until(() => eventsOf(stderr.slice(0, stderr.lastIndexOf('\n') + 1)).some((e) => e.type === 'part-acked'), 30_000, () => stderr)
      process.kill(child.pid as number, 'SIGINT')
      await until(() => proxy.requests.some((q) => q.method === 'DELETE'), 30_000, () => stderr)
      proxy.down = true // the held Abort, and its retries, are cut
      const end = await ended
      assertExit130(end, stderr)
      const [left] = await openUploads(bucket, 'cut-one/file')
      assert.ok(left !== undefined, 'the upload does remain')
      const uploadId = left.split(' ')[1] as string
      const notice = eventsOf(stderr).find((e) => e.type === 'notice' && String(e.message).startsWith('interrupted by SIGINT'))
      assert.match(String(notice?.message), new RegExp(`^interrupted by SIGINT; upload ${uploadId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} could not be aborted and may remain \\(run the same command again to resume the upload\\)$`), stderr)
      assert.doesNotMatch(stderr, /nothing is left/)
    } finally {
      await proxy.close()
      child.kill('SIGKILL')
    }
    const ctx = createS3Context({ bucket, ...s3Env() })
    try {
      for (const upload of await openUploads(bucket, 'cut-one/')) await abortMultipartUpload(ctx, upload.split(' ')[1] as string, { key: upload.split(' ')[0] as string })
    } finally {
      await ctx.close()
    }
  })

  /**
   * Three open uploads under `prefix`, and `uploads abort` of them through `proxy`, interrupted
   * (SIGINT) once the second Abort was sent and `settle()` resolved.
   */
  async function interruptedUploadsAbort(prefix: string, proxy: StallProxy, settle: () => Promise<void>): Promise<{ stdout: string; stderr: string }> {
    const ctx = createS3Context({ bucket, ...s3Env() })
    try {
      for (let i = 0; i < 3; i++) await createMultipartUpload(ctx, { key: `${prefix}k${i}` })
    } finally {
      await ctx.close()
    }
    const child = spawn(command[0] as string, [...command.slice(1), 'uploads', 'abort', target(prefix), '--older-than', '0s', '--endpoint-url', proxy.endpoint], {
      env: { PATH: process.env['PATH'] ?? '', HOME: dir, ...s3EnvVars() },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    const ended = endsWithin(child, 30_000)
    await until(() => proxy.requests.filter((q) => q.method === 'DELETE').length >= 2, 30_000, () => stderr)
    await settle()
    process.kill(child.pid as number, 'SIGINT')
    assertExit130(await ended, stderr)
    return { stdout, stderr }
  }
  const abortedLines = (stdout: string): number => stdout.trim().split('\n').filter((l) => l.startsWith('aborted ')).length

  test('Ctrl-C during uploads abort: each upload aborted so far was printed; the message counts them and says the others remain', async () => {
    const proxy = await stallProxy(s3Env().endpoint)
    proxy.abortsPassed = 1 // the second Abort hangs: the command is interrupted there
    try {
      const { stdout, stderr } = await interruptedUploadsAbort('abort-int/', proxy, async () => {})
      assert.equal(abortedLines(stdout), 1, stdout)
      assert.match(stderr, /interrupted by SIGINT; 1 of 3 uploads were aborted \(printed above\); the other 2 may remain/)
      assert.doesNotMatch(stderr, /nothing is left/)
    } finally {
      await proxy.close()
    }
    assert.equal((await openUploads(bucket, 'abort-int/')).length, 2)
  })

  test('Ctrl-C while an Abort is answered: it is counted and printed (it was cut, and the upload it removed was counted among those that may remain)', async () => {
    const proxy = await stallProxy(s3Env().endpoint)
    let interrupt: (() => void) | undefined
    const interrupted = new Promise<void>((resolve) => (interrupt = resolve))
    // The second Abort is done by the server; its answer is held until the CLI was interrupted, then 300 ms more.
    proxy.holdAnswer = ({ method }) =>
      method === 'DELETE' && proxy.requests.filter((q) => q.method === 'DELETE').length === 2 ? interrupted.then(() => new Promise((resolve) => setTimeout(resolve, 300))) : undefined
    try {
      const settle = async (): Promise<void> => {
        await new Promise((resolve) => setTimeout(resolve, 200)) // the server has answered; the proxy holds it
        setTimeout(() => interrupt?.(), 0) // released once the signal is sent
      }
      const { stdout, stderr } = await interruptedUploadsAbort('abort-late/', proxy, settle)
      assert.equal(abortedLines(stdout), 2, stdout)
      assert.match(stderr, /interrupted by SIGINT; 2 of 3 uploads were aborted \(printed above\); the other 1 may remain/)
    } finally {
      await proxy.close()
    }
    assert.equal((await openUploads(bucket, 'abort-late/')).length, 1)
  })

  test('-r --progress json: each event names its file (part numbers are per file); the last is done, with the totals', async () => {
    const tree = join(dir, 'json-tree')
    mkdirSync(join(tree, 'sub'), { recursive: true })
    const files: Record<string, Uint8Array> = { 'a.txt': randomData(10, 85), 'sub/b.bin': randomData(6 * MiB + 1, 86) }
    for (const [name, data] of Object.entries(files)) writeFileSync(join(tree, name), data)
    const r = await cli(['cp', '-r', tree, target('json-tree/'), '--progress', 'json', '--part-size', '5MiB', '--concurrency', '1', ...endpointFlag()])
    assert.equal(r.code, 0, r.stderr)
    for (const name of Object.keys(files)) track(bucket, `json-tree/${name}`)
    const events = eventsOf(r.stderr) as (ProgressEvent & { file?: string; partNumber?: number; bytesAcked?: number; filesDone?: number; filesFailed?: number })[]
    const acked = (name: string): number[] => events.filter((e) => e.type === 'part-acked' && e.file === join(tree, name)).map((e) => e.partNumber ?? 0)
    assert.deepEqual(acked('a.txt'), [1])
    assert.deepEqual(acked('sub/b.bin'), [1, 2])
    const last = events.at(-1)
    assert.equal(last?.type, 'done', r.stderr)
    assert.deepEqual([last.bytesAcked, last.filesDone, last.filesFailed], [10 + 6 * MiB + 1, 2, 0])
  })

  test('--size-hint is for stdin and pipes: a regular file uploads at its own size, the hint ignored', async () => {
    const path = join(dir, 'hinted.txt')
    writeFileSync(path, 'hello\n')
    const r = await cli(['cp', path, target('hint/file.txt'), '--size-hint', '1TiB', ...endpointFlag()])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(new TextDecoder().decode(await getObject(bucket, 'hint/file.txt')), 'hello\n')
  })

  test('the bar on any terminal: wide characters and narrow widths keep each redraw on one line; TERM=dumb gets no escape sequences; control characters in names are escaped', async () => {
    // Columns as a terminal draws them: CJK ideographs take two.
    const columnsOf = (text: string): number => [...text].reduce((w, c) => w + (/[\u3000-\u9fff]/.test(c) ? 2 : 1), 0)
    const wide = join(dir, '数据数据数据数据数据数据数据数据.bin')
    writeFileSync(wide, randomData(12 * MiB, 87))
    const onTerminal = (path: string, key: string, env: string): string => {
      const line = [...command, 'cp', path, target(key), '--part-size', '5MiB', '--concurrency', '1', ...endpointFlag()].map((a) => `'${a}'`).join(' ')
      const r = spawnSync('script', ['-qefc', `${env} ${line}`, '/dev/null'], { env: { PATH: process.env['PATH'] ?? '', HOME: dir, TERM: 'xterm', ...s3EnvVars() }, encoding: 'utf8', timeout: 60_000 })
      track(bucket, key)
      assert.equal(r.status, 0, r.stderr + r.stdout)
      return r.stdout
    }
    for (const columns of [40, 10]) {
      const screen = onTerminal(wide, `tty/wide-${columns}`, `COLUMNS=${columns}`)
      // Each redraw: the text between two erases (the last one is followed by the summary).
      const redraws = screen.split('\r\x1b[2K').slice(1, -1)
      assert.ok(redraws.length > 0, screen)
      for (const drawn of redraws) assert.ok(columnsOf(drawn) <= columns - 1, `${columnsOf(drawn)} columns on a terminal of ${columns}: ${JSON.stringify(drawn)}`)
    }
    assert.doesNotMatch(onTerminal(wide, 'tty/wide-1', 'COLUMNS=1'), /\x1b/, 'no room for a bar: no redraw at all')
    assert.doesNotMatch(onTerminal(wide, 'tty/dumb', 'TERM=dumb'), /\x1b/, 'TERM=dumb: no escape sequence')
    // A name with an ESC sequence and a newline in it: shown escaped, on the bar and in the result line.
    const odd = join(dir, 'odd\x1b[31mred\nname.bin')
    writeFileSync(odd, randomData(12 * MiB, 88))
    const screen = onTerminal(odd, 'tty/odd', 'COLUMNS=100')
    assert.doesNotMatch(screen, /\x1b\[31m/, 'the ESC of the name is never printed raw')
    assert.ok(screen.includes('odd\\x1b[31mred\\nname.bin'), screen)
    const piped = await cli(['cp', odd, target('tty/odd'), ...endpointFlag()])
    assert.equal(piped.code, 0, piped.stderr)
    assert.equal(piped.stdout.split('\n').length, 2, `one line: ${JSON.stringify(piped.stdout)}`)
    assert.match(piped.stdout, /^upload: .*odd\\x1b\[31mred\\nname\.bin to /)
  })
})
