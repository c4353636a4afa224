// HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as the AWS CLI reads them: which proxy `proxyFor` picks,
// and the `partstream` bin (run as cli.test.ts runs it: Node 20 the published bundle, the other
// runtimes the .ts source) uploading through a real forward proxy in this process to Ceph RGW.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { UsageError } from '../src/args.ts'
import { bypasses, proxyFor } from '../src/proxy.ts'
import { forwardProxy, type ForwardProxy } from './forward-proxy.ts'
import { createBucket, getObject, openUploads, randomData, s3Env } from './s3.ts'
import { localhostCertificate, stallProxy } from './stall-proxy.ts'
import { built, command, runtime } from './bin.ts'

const MiB = 1024 * 1024

const dir = mkdtempSync(join(tmpdir(), 'partstream-proxy-'))
let bucket: string
before(async () => {
  bucket = await createBucket('proxy')
})
after(() => rmSync(dir, { recursive: true, force: true }))

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs the bin with `env` on top of the S3 credentials (and nothing else of this process's
 * environment: no proxy variable leaks in); `input` goes to stdin through a real pipe. Spawned
 * asynchronously: the proxy answering it lives in this process.
 */
function cli(args: readonly string[], env: Record<string, string>, input?: Uint8Array): Promise<Run> {
  const { region, credentials } = s3Env()
  const child = spawn(command[0] as string, [...command.slice(1), ...args], {
    // DENO_NO_UPDATE_CHECK: Deno's own check for a new version goes through HTTPS_PROXY too (a
    // CONNECT to dl.deno.land:443 among the tunnels counted, once a day: CI saw it).
    env: { PATH: process.env['PATH'] ?? '', HOME: dir, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', AWS_REGION: region, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  child.stdin.on('error', () => {})
  child.stdin.end(input ?? new Uint8Array(0))
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
}

const sha = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex')
const target = (key: string): string => `s3://${bucket}/${key}`
const endpointFlag = (): string[] => ['--endpoint-url', s3Env().endpoint]
const USER = 'proxyuser'
const PASSWORD = 'pr0xy-s3cret'

/** The S3 requests a proxy forwarded for `key`: `POST ?uploads`, the `PUT`s of its parts, `POST ?uploadId`. */
const forwardedFor = (proxy: ForwardProxy, key: string): string[] => proxy.forwarded.filter((line) => line.includes(`/${bucket}/${key}`))

describe('proxyFor: the variables the AWS CLI reads', () => {
  const http = 'http://127.0.0.1:7480'
  const https = 'https://s3.us-east-1.amazonaws.com'

  test('the variable of the endpoint\'s scheme, the lower-case one first (even empty); none: direct', () => {
    assert.equal(proxyFor(http, {}), undefined)
    assert.equal(proxyFor(http, { HTTP_PROXY: 'http://p:1' })?.shown, 'http://p:1')
    assert.equal(proxyFor(http, { HTTP_PROXY: 'http://p:1', http_proxy: 'http://q:2' })?.variable, 'http_proxy')
    assert.equal(proxyFor(http, { HTTP_PROXY: 'http://p:1', http_proxy: '' }), undefined, 'an empty http_proxy turns HTTP_PROXY off')
    assert.equal(proxyFor(https, { HTTPS_PROXY: 'http://p:1' })?.variable, 'HTTPS_PROXY')
    assert.equal(proxyFor(https, { https_proxy: 'http://p:1' })?.variable, 'https_proxy')
    assert.equal(proxyFor(https, { HTTP_PROXY: 'http://p:1' }), undefined, 'an https endpoint does not fall back to HTTP_PROXY')
    assert.equal(proxyFor(http, { HTTPS_PROXY: 'http://p:1' }), undefined, 'nor an http one to HTTPS_PROXY')
    assert.equal(proxyFor(undefined, { HTTP_PROXY: 'http://p:1' }), undefined)
  })

  test('a value without a scheme is http://; credentials are kept for the agent and never shown', () => {
    const route = proxyFor(http, { HTTP_PROXY: 'u%40corp:p%3Ass@proxy.corp:3128' })
    assert.ok(route !== undefined)
    assert.equal(route.url.href, 'http://u%40corp:p%3Ass@proxy.corp:3128/')
    assert.equal(route.shown, 'http://proxy.corp:3128')
    assert.equal(route.host, '127.0.0.1')
    assert.equal(proxyFor(https, { HTTPS_PROXY: 'https://user:pw@proxy.corp' })?.shown, 'https://proxy.corp')
  })

  test('a value that is not an http(s) proxy URL: a usage error naming the variable, not its value', () => {
    assert.throws(() => proxyFor(http, { HTTP_PROXY: 'http://user:hunter2@exa mple:3128' }), (e: unknown) => e instanceof UsageError && /^HTTP_PROXY is not a proxy URL/.test(e.message) && !e.message.includes('hunter2'))
    assert.throws(() => proxyFor(https, { HTTPS_PROXY: 'socks5://user:hunter2@proxy:1080' }), (e: unknown) => e instanceof UsageError && /^HTTPS_PROXY: expected an http:\/\/ or https:\/\/ proxy, not socks5:\/\//.test(e.message) && !e.message.includes('hunter2'))
    // Not read when it does not apply (nor when NO_PROXY exempts the endpoint).
    assert.equal(proxyFor(https, { HTTP_PROXY: 'socks5://proxy:1080' }), undefined)
    assert.equal(proxyFor(http, { HTTP_PROXY: 'socks5://proxy:1080', NO_PROXY: '127.0.0.1' }), undefined)
  })

  test('NO_PROXY: the host and its subdomains, a leading . or *., host:port, * for all; no_proxy first', () => {
    const at = (url: string, noProxy: string): boolean => bypasses(new URL(url), noProxy)
    assert.equal(at('http://127.0.0.1:7480', '127.0.0.1'), true)
    assert.equal(at('http://127.0.0.1:7480', 'localhost, 127.0.0.1'), true, 'commas and spaces')
    assert.equal(at('http://127.0.0.1:7480', '127.0.0.1:7480'), true)
    assert.equal(at('http://127.0.0.1:7480', '127.0.0.1:9000'), false, 'another port')
    assert.equal(at('https://s3.us-east-1.amazonaws.com', 'amazonaws.com'), true, 'a subdomain')
    assert.equal(at('https://bkt.s3.us-east-1.amazonaws.com', '.amazonaws.com'), true)
    assert.equal(at('https://bkt.s3.us-east-1.amazonaws.com', '*.AMAZONAWS.com'), true, 'case-insensitive')
    assert.equal(at('https://s3.amazonaws.com', 'ws.com'), false, 'not a bare suffix')
    assert.equal(at('https://s3.amazonaws.com:443', 's3.amazonaws.com:443'), true, 'the default port')
    assert.equal(at('https://s3.amazonaws.com', '*'), true)
    assert.equal(at('https://s3.amazonaws.com', ''), false)
    assert.equal(proxyFor(http, { HTTP_PROXY: 'http://p:1', NO_PROXY: 'example.com', no_proxy: '127.0.0.1' }), undefined)
    assert.equal(proxyFor(http, { HTTP_PROXY: 'http://p:1', NO_PROXY: '127.0.0.1', no_proxy: 'example.com' })?.noProxy, 'example.com')
  })
})

describe(`partstream through a forward proxy (${runtime}${built ? ', built bin' : ', .ts source'})`, () => {
  test('cp - with HTTP_PROXY (with credentials) to the http endpoint: every request went through the proxy, the object reads back', async () => {
    const proxy = await forwardProxy({ user: USER, password: PASSWORD })
    try {
      const data = randomData(11 * MiB, 61)
      const r = await cli(['cp', '-', target('stdin.bin'), '--part-size', '5MiB', ...endpointFlag()], { HTTP_PROXY: proxy.url }, data)
      assert.equal(r.code, 0, r.stderr)
      assert.equal(sha(await getObject(bucket, 'stdin.bin')), sha(data))
      // Absolute-form, as the AWS CLI sends to an http endpoint (no CONNECT tunnel).
      const sent = forwardedFor(proxy, 'stdin.bin')
      assert.equal(sent.filter((q) => q.startsWith('POST ') && q.includes('?uploads')).length, 1, sent.join('\n'))
      assert.equal(sent.filter((q) => q.startsWith('PUT ') && q.includes('partNumber=')).length, 3, sent.join('\n'))
      assert.equal(sent.filter((q) => q.startsWith('POST ') && q.includes('uploadId=')).length, 1, sent.join('\n'))
      assert.ok(sent.every((q) => q.includes(` ${s3Env().endpoint}/`)), sent.join('\n'))
      assert.deepEqual(proxy.tunnels, [])
      assert.equal(proxy.denied, 0)
    } finally {
      await proxy.close()
    }
  })

  test('cp FILE (multipart, 11 MiB) with http_proxy: through the proxy; NO_PROXY naming the endpoint: the proxy sees nothing', async () => {
    const proxy = await forwardProxy({ user: USER, password: PASSWORD })
    try {
      const data = randomData(11 * MiB + 7, 62)
      const file = join(dir, 'file.bin')
      writeFileSync(file, data)
      const through = await cli(['cp', file, target('file.bin'), '--part-size', '5MiB', '--json', ...endpointFlag()], { http_proxy: proxy.url })
      assert.equal(through.code, 0, through.stderr)
      assert.equal((JSON.parse(through.stdout.trim()) as { partCount: number }).partCount, 3)
      assert.equal(sha(await getObject(bucket, 'file.bin')), sha(data))
      assert.equal(forwardedFor(proxy, 'file.bin').filter((q) => q.startsWith('PUT ') && q.includes('partNumber=')).length, 3, proxy.forwarded.join('\n'))

      const seen = proxy.forwarded.length
      const { hostname, port } = new URL(s3Env().endpoint)
      for (const [key, noProxy] of [
        ['direct-host.bin', hostname],
        ['direct-port.bin', `localhost,${hostname}:${port}`],
      ] as const) {
        const direct = await cli(['cp', file, target(key), '--part-size', '5MiB', ...endpointFlag()], { HTTP_PROXY: proxy.url, NO_PROXY: noProxy })
        assert.equal(direct.code, 0, direct.stderr)
        assert.equal(sha(await getObject(bucket, key)), sha(data))
      }
      assert.equal(proxy.forwarded.length, seen, proxy.forwarded.slice(seen).join('\n'))
      assert.deepEqual(proxy.tunnels, [])
    } finally {
      await proxy.close()
    }
  })

  test('cp -r and uploads ls go through the proxy too', async () => {
    const proxy = await forwardProxy()
    try {
      const tree = join(dir, 'tree')
      mkdirSync(join(tree, 'sub'), { recursive: true })
      writeFileSync(join(tree, 'a.txt'), 'a')
      writeFileSync(join(tree, 'sub', 'b.txt'), 'bb')
      const r = await cli(['cp', '-r', tree, target('tree/'), ...endpointFlag()], { HTTP_PROXY: proxy.url })
      assert.equal(r.code, 0, r.stderr)
      assert.equal(new TextDecoder().decode(await getObject(bucket, 'tree/sub/b.txt')), 'bb')
      assert.equal(new TextDecoder().decode(await getObject(bucket, 'tree/a.txt')), 'a')
      assert.equal(forwardedFor(proxy, 'tree/').filter((q) => q.startsWith('PUT ')).length, 2, proxy.forwarded.join('\n'))
      const ls = await cli(['uploads', 'ls', `s3://${bucket}/none/`, ...endpointFlag()], { HTTP_PROXY: proxy.url })
      assert.equal(ls.code, 0, ls.stderr)
      assert.ok(proxy.forwarded.some((q) => q.startsWith('GET ') && q.includes('uploads')), proxy.forwarded.join('\n'))
    } finally {
      await proxy.close()
    }
  })

  test('a proxy that answers 407: exit 1 at once, the proxy named without its credentials, nothing left open', async () => {
    const proxy = await forwardProxy({ user: USER, password: 'the-right-one' })
    try {
      const wrong = proxy.url.replace('the-right-one', PASSWORD)
      const r = await cli(['cp', '-', target('denied.bin'), '--part-size', '5MiB', ...endpointFlag()], { HTTP_PROXY: wrong }, randomData(6 * MiB, 63))
      assert.equal(r.code, 1, r.stderr)
      assert.ok(proxy.denied > 0)
      // undici reports the 407 as an error (Node, Deno); Bun's fetch hands the proxy's answer back.
      assert.match(r.stderr, /^partstream: ERR_PARTSTREAM_S3: CreateMultipartUpload failed (?:without a response: Proxy Authentication Required \(407\)|with HTTP 407)/)
      assert.ok(r.stderr.includes(`hint: requests go through the proxy ${proxy.origin} (HTTP_PROXY)`), r.stderr)
      assert.ok(!r.stderr.includes(PASSWORD) && !r.stderr.includes(USER), r.stderr)
      assert.deepEqual(await openUploads(bucket, 'denied.bin'), [])
    } finally {
      await proxy.close()
    }
  })

  test('a proxy that refuses connections: exit 1 after the retries, the proxy named without its credentials', async () => {
    // A port nothing listens on (taken, then released).
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    await new Promise<void>((resolve) => server.close(() => resolve()))
    const r = await cli(['cp', '-', target('refused.bin'), ...endpointFlag()], { http_proxy: `http://${USER}:${PASSWORD}@127.0.0.1:${port}` }, randomData(1000, 64))
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, /failed without a response: .*ECONNREFUSED/)
    assert.ok(r.stderr.includes(`hint: requests go through the proxy http://127.0.0.1:${port} (http_proxy); to reach 127.0.0.1 without it, add 127.0.0.1 to NO_PROXY`), r.stderr)
    assert.ok(!r.stderr.includes(PASSWORD) && !r.stderr.includes(USER), r.stderr)
  })

  test('a proxy variable that is not a URL: exit 2, nothing sent, its value not printed', async () => {
    const r = await cli(['cp', '-', target('bad-variable.bin'), ...endpointFlag()], { HTTP_PROXY: `http://${USER}:${PASSWORD}@exa mple:3128` }, randomData(1000, 65))
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /^partstream: HTTP_PROXY is not a proxy URL/)
    assert.ok(!r.stderr.includes(PASSWORD) && !r.stderr.includes(USER), r.stderr)
  })

  describe('an https endpoint (the TLS proxy of cli.test.ts in front of RGW, a private CA)', () => {
    let tls: { key: string; cert: string; certPath: string }
    before(async () => {
      tls = await localhostCertificate(dir, 'endpoint-cert.pem')
    })

    test('HTTPS_PROXY: a CONNECT tunnel, TLS to the endpoint trusting --ca-bundle through it; HTTP_PROXY alone is not used for https', async () => {
      const endpoint = await stallProxy(s3Env().endpoint, tls)
      const proxy = await forwardProxy({ user: USER, password: PASSWORD })
      try {
        const data = randomData(11 * MiB, 66)
        const file = join(dir, 'https.bin')
        writeFileSync(file, data)
        const args = (key: string): string[] => ['cp', file, target(key), '--part-size', '5MiB', '--endpoint-url', endpoint.endpoint, '--ca-bundle', tls.certPath]
        const r = await cli(args('https-proxied.bin'), { HTTPS_PROXY: proxy.url })
        assert.equal(r.code, 0, r.stderr)
        assert.equal(sha(await getObject(bucket, 'https-proxied.bin')), sha(data))
        const host = new URL(endpoint.endpoint).host
        assert.ok(proxy.tunnels.length > 0 && proxy.tunnels.every((t) => t === host), proxy.tunnels.join(', '))
        assert.deepEqual(proxy.forwarded, [], 'nothing in clear text')
        assert.equal(endpoint.requests.filter((q) => q.method === 'PUT').length, 3)

        const tunnels = proxy.tunnels.length
        const direct = await cli(args('https-direct.bin'), { HTTP_PROXY: proxy.url })
        assert.equal(direct.code, 0, direct.stderr)
        assert.equal(sha(await getObject(bucket, 'https-direct.bin')), sha(data))
        assert.equal(proxy.tunnels.length, tunnels)
        assert.deepEqual(proxy.forwarded, [])

        // Without the CA bundle the endpoint's certificate is refused inside the tunnel: the
        // library's message, and the proxy named.
        const untrusted = await cli(['cp', '-', target('https-untrusted.bin'), '--endpoint-url', endpoint.endpoint], { HTTPS_PROXY: proxy.url }, data.subarray(0, 1000))
        assert.equal(untrusted.code, 1, untrusted.stderr)
        assert.match(untrusted.stderr, /not signed by a CA this runtime trusts/)
        assert.ok(untrusted.stderr.includes(`the proxy ${proxy.origin} (HTTPS_PROXY)`), untrusted.stderr)
        assert.ok(!untrusted.stderr.includes(PASSWORD), untrusted.stderr)
      } finally {
        await proxy.close()
        await endpoint.close()
      }
    })
  })
})
