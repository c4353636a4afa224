// Hardening, without S3: an in-process node:http server on 127.0.0.1, port 0, stands in for the
// endpoint. It counts every request, so "refused before any request" is proved, not assumed, and
// it plays the hostile or broken server (echoing credentials back, a proxy's HTML page, bare
// status codes). The RGW-backed half is test/integration/hardening.test.ts.
import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { after, before, beforeEach, describe, test } from 'node:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import vm from 'node:vm'
import {
  createS3Context,
  fetchTransport,
  headObject,
  InvalidArgumentError,
  putObject,
  S3ResponseError,
  upload,
  uploadAll,
  uploadDirectory,
  type Credentials,
  type UploadAllOptions,
  type UploadDirectoryOptions,
  type UploadOptions,
  type UploadSource,
  type UploadTarget,
} from '../src/index.ts'
import { failOnUnhandledRejections } from './fault/helpers.ts'
import { SOURCE_KINDS } from './source-kinds.ts'
import { startStubServer, type StubRequest, type StubServer } from './stub-server.ts'

failOnUnhandledRejections()

const MiB = 1024 * 1024
const TEST = { timeout: 20_000 }
const ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE'
const SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
const credentials: Credentials = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY }


/** Answers one request; the default plays a bucket that stores every PutObject. */
type Handler = (req: StubRequest, res: ServerResponse) => void

const stores: Handler = (req, res) => {
  if (req.method === 'PUT' && !req.url.includes('?')) {
    res.writeHead(200, { etag: '"0123456789abcdef0123456789abcdef"' }).end()
  } else {
    res.writeHead(501, { 'content-type': 'application/xml' }).end('<Error><Code>NotImplemented</Code><Message>fake server</Message></Error>')
  }
}

let server: StubServer
let endpoint: string
let handler: Handler = stores
const seen: StubRequest[] = []

before(async () => {
  server = await startStubServer((request, res) => {
    seen.push(request)
    handler(request, res)
  })
  endpoint = server.endpoint
})

after(() => server.close())

beforeEach(() => {
  handler = stores
  seen.length = 0
})

function target(overrides: Partial<UploadTarget> = {}): UploadTarget {
  return { bucket: 'bkt', key: 'k', endpoint, credentials, ...overrides }
}

/** One attempt per request: the failures under test are permanent. */
const ONCE: UploadOptions = { retry: false }

function invalidArgument(message: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof InvalidArgumentError, `InvalidArgumentError, got ${inspect(e)}`)
    assert.equal(e.code, 'ERR_PARTSTREAM_INVALID_ARGUMENT')
    assert.match(e.message, message)
    return true
  }
}

// ---- 1. upload owns the source: every early exit closes it ----

describe('1. every early exit closes the source (before any request)', () => {
  const reason = new Error('cancelled before start')
  const failures: ReadonlyArray<{ name: string; run: (source: UploadSource) => Promise<unknown>; check: (e: unknown) => boolean }> = [
    { name: 'concurrency: 0', run: (s) => upload(s, target(), { concurrency: 0 }), check: invalidArgument(/`concurrency`/) },
    { name: "payload: 'x'", run: (s) => upload(s, target(), { payload: 'x' as never }), check: invalidArgument(/`payload`/) },
    { name: "bucket 'b/injected'", run: (s) => upload(s, target({ bucket: 'b/injected' })), check: invalidArgument(/`bucket` name "b\/injected"/) },
    {
      name: 'no key',
      run: (s) => upload(s, { bucket: 'bkt', endpoint, credentials } as UploadTarget),
      check: invalidArgument(/`key`/),
    },
    {
      name: 'signal already aborted',
      run: (s) => {
        const controller = new AbortController()
        controller.abort(reason)
        return upload(s, target(), { signal: controller.signal })
      },
      check: (e) => e === reason,
    },
  ]
  for (const kind of SOURCE_KINDS) {
    for (const failure of failures) {
      test(`${kind.name} × ${failure.name}: rejects, the source is closed, nothing is sent`, TEST, async () => {
        const { source, assertClosed } = kind.make()
        await assert.rejects(failure.run(source), failure.check)
        await assertClosed()
        assert.deepEqual(seen, [], 'no request reached the server')
      })
    }
  }
})

// ---- 4. bucket names are checked before they go into a URL ----

describe('4. bucket names: refused before any request', () => {
  for (const bucket of ['b/injected', 'b?x', 'b#x', '..', 'UPPER', 'ab', '192.168.1.1', 'xn--abc']) {
    test(`${JSON.stringify(bucket)} → InvalidArgumentError, nothing sent`, TEST, async () => {
      await assert.rejects(upload([new Uint8Array(1)], target({ bucket }), ONCE), invalidArgument(/Invalid `bucket` name/))
      assert.deepEqual(seen, [], 'no request reached the server')
    })
  }

  test("legacyBucketName: true accepts 'Legacy_Bucket' (the request goes out, path-style)", TEST, async () => {
    const result = await upload([new Uint8Array(3)], target({ bucket: 'Legacy_Bucket', legacyBucketName: true }), ONCE)
    assert.deepEqual(seen.map((r) => `${r.method} ${r.url}`), ['PUT /Legacy_Bucket/k'])
    assert.equal(result.location, `${endpoint}/Legacy_Bucket/k`)
  })

  test("legacyBucketName: true still refuses 'b/x' and the other path-changing names", TEST, async () => {
    for (const bucket of ['b/x', 'b?x', 'b#x', 'b%2Fx', 'b x', '..']) {
      await assert.rejects(upload([new Uint8Array(1)], target({ bucket, legacyBucketName: true }), ONCE), invalidArgument(/Invalid `bucket` name/))
    }
    assert.deepEqual(seen, [], 'no request reached the server')
  })
})

// ---- 5. errors that used to escape raw ----

describe('5. coded errors where raw ones used to escape', () => {
  test('a key with a lone surrogate → InvalidArgumentError (not URIError), nothing sent', TEST, async () => {
    for (const key of ['a\uD800b', 'a\uDC00b', '\uD800']) {
      await assert.rejects(upload([new Uint8Array(1)], target({ key }), ONCE), invalidArgument(/lone surrogate/))
    }
    // The low-level operations check their `key` option the same way.
    const ctx = createS3Context({ bucket: 'bkt', endpoint, credentials }, ONCE)
    try {
      await assert.rejects(headObject(ctx, { key: 'a\uD800b' }), invalidArgument(/lone surrogate/))
    } finally {
      await ctx.close()
    }
    assert.deepEqual(seen, [])
  })

  test('a resumeUploadId or a tag with a lone surrogate → InvalidArgumentError (not URIError), nothing sent', TEST, async () => {
    await assert.rejects(upload([new Uint8Array(1)], target(), { ...ONCE, resumeUploadId: 'id\uD800' }), invalidArgument(/`resumeUploadId` to be well-formed Unicode/))
    await assert.rejects(upload([new Uint8Array(1)], target(), { ...ONCE, tagging: { k: '\uDC00' } }), invalidArgument(/`tagging` value of "k" to be well-formed Unicode/))
    assert.deepEqual(seen, [])
  })

  test('a well-formed surrogate pair is a fine key', TEST, async () => {
    await upload([new Uint8Array(1)], target({ key: 'emoji-😀' }), ONCE)
    assert.deepEqual(seen.map((r) => r.url), ['/bkt/emoji-%F0%9F%98%80'])
  })

  test('a non-string sessionToken (static) → InvalidArgumentError that does not echo the secret', TEST, async () => {
    const bad = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY, sessionToken: 42 } as unknown as Credentials
    await assert.rejects(upload([new Uint8Array(1)], target({ credentials: bad }), ONCE), (e: unknown) => {
      invalidArgument(/sessionToken/)(e)
      assert.ok(!inspect(e).includes(SECRET_ACCESS_KEY), 'the secret key is not in the error')
      return true
    })
    assert.deepEqual(seen, [])
  })

  test('a non-string sessionToken from a provider → InvalidArgumentError, nothing sent', TEST, async () => {
    const provider = async (): Promise<Credentials> => ({ accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY, sessionToken: 42 }) as unknown as Credentials
    for (const size of [1, 6 * MiB]) {
      // One part: PutObject; two parts: CreateMultipartUpload. Either is refused while signing.
      await assert.rejects(upload([new Uint8Array(size)], target({ credentials: provider }), { ...ONCE, partSize: 5 * MiB }), (e: unknown) => {
        invalidArgument(/sessionToken/)(e)
        assert.ok(!inspect(e).includes(SECRET_ACCESS_KEY), 'the secret key is not in the error')
        return true
      })
    }
    assert.deepEqual(seen, [])
  })

  test('now: () => new Date(NaN) → InvalidArgumentError, nothing sent', TEST, async () => {
    await assert.rejects(upload([new Uint8Array(1)], target(), { ...ONCE, now: () => new Date(Number.NaN) }), invalidArgument(/`now` to return a valid Date/))
    await assert.rejects(upload([new Uint8Array(1)], target(), { ...ONCE, now: () => 'yesterday' as never }), invalidArgument(/`now`/))
    assert.deepEqual(seen, [])
  })
})

// ---- 6. server text is redacted before it enters an error ----

/** A realistic STS token (long base64), recognisable by its prefix. */
const SESSION_TOKEN = `IQoJb3JpZ2luX2VjEPARTSTREAMTESTTOKEN/${Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff)).toString('base64')}`
const withToken: Credentials = { ...credentials, sessionToken: SESSION_TOKEN }

/** The hex signatures of the requests the server saw. */
function signaturesSeen(): string[] {
  return seen.map((r) => /Signature=([0-9a-f]{64})/.exec(String(r.headers.authorization))?.[1] ?? assert.fail('a signed request'))
}

/** Every string reachable from an error: message, stack, own fields, `cause` and `errors`, and its util.inspect. */
function everythingIn(error: unknown): string {
  const out: string[] = [inspect(error, { depth: Number.POSITIVE_INFINITY }), String(error)]
  const visit = (value: unknown, depth: number): void => {
    if (depth > 8 || typeof value !== 'object' || value === null) {
      if (typeof value === 'string') out.push(value)
      return
    }
    if (value instanceof Error) out.push(value.message, value.stack ?? '')
    for (const key of Reflect.ownKeys(value)) visit((value as Record<PropertyKey, unknown>)[key], depth + 1)
  }
  visit(error, 0)
  return out.join('\n')
}

function assertNoSecrets(error: unknown): void {
  const text = everythingIn(error)
  assert.ok(seen.length > 0, 'the server saw a request')
  for (const [name, secret] of [
    ['secret key', SECRET_ACCESS_KEY],
    ['session token', SESSION_TOKEN],
    ...signaturesSeen().map((s) => ['signature', s]),
  ] as const) {
    assert.ok(!text.includes(secret), `the ${name} leaked into the error:\n${text}`)
  }
}

/**
 * An S3-compatible server that echoes the request's credentials in its `<Message>`: the headers,
 * a presigned-style URL, the bare token and signature, and (worst case) the secret key itself.
 */
const echoes: Handler = (req, res) => {
  const auth = String(req.headers.authorization)
  const token = String(req.headers['x-amz-security-token'])
  const signature = /Signature=([0-9a-f]+)/.exec(auth)?.[1] ?? ''
  const message =
    `Invalid request. Authorization: ${auth}; x-amz-security-token: ${token}; ` +
    `presigned: http://h/bkt/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&amp;X-Amz-Credential=${ACCESS_KEY_ID}%2F20250101&amp;X-Amz-Signature=${signature}&amp;X-Amz-Security-Token=${encodeURIComponent(token)}; ` +
    `token ${token} signature ${signature} secret? ${SECRET_ACCESS_KEY}`
  res
    .writeHead(400, { 'content-type': 'application/xml', 'x-amz-request-id': 'echo-1' })
    .end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidRequest</Code><Message>${message}</Message><RequestId>echo-1</RequestId></Error>`)
}

describe('6. redaction: nothing secret reaches an error', () => {
  for (const [name, size] of [['PutObject', 10], ['CreateMultipartUpload', 6 * MiB]] as const) {
    test(`a server echoing Authorization, the token and a signature in <Message> (${name})`, TEST, async () => {
      handler = echoes
      const error = await upload([new Uint8Array(size)], target({ credentials: withToken }), { ...ONCE, partSize: 5 * MiB }).then(
        () => assert.fail('the upload should fail'),
        (e: unknown) => e,
      )
      assert.ok(error instanceof S3ResponseError)
      assert.equal(error.operation, name)
      assert.equal(error.statusCode, 400)
      assert.equal(error.s3Code, 'InvalidRequest')
      assert.equal(seen[0]?.headers['x-amz-security-token'], SESSION_TOKEN, 'the token was sent (and echoed)')
      assert.match(error.message, /Invalid request\. Authorization: \[redacted\]/, 'the rest of the message is kept')
      assertNoSecrets(error)
    })
  }

  test('an endpoint that is not HTTP and echoes the request: the parser error\'s raw bytes are not kept in the cause', TEST, async () => {
    // undici's HTTPParserError keeps what it could not parse in `data`: here our signed request
    // headers, Authorization and token included, printed by console.error(error).
    const { createServer } = await import('node:net')
    const sawRequest: string[] = []
    const echo = createServer((socket) => {
      socket.on('error', () => {})
      let head = ''
      socket.on('data', (chunk: Buffer) => {
        head += chunk.toString('latin1')
        if (!head.includes('\r\n\r\n')) return
        sawRequest.push(head)
        socket.end(`ERROR unknown command: ${head}\r\n`)
      })
    })
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve))
    try {
      const port = (echo.address() as { port: number }).port
      const error = await upload([new Uint8Array(10)], { ...target({ credentials: withToken }), endpoint: `http://127.0.0.1:${port}` }, ONCE).then(
        () => assert.fail('the upload should fail'),
        (e: unknown) => e,
      )
      assert.ok(sawRequest.length > 0)
      const text = everythingIn(error)
      const signature = /Signature=([0-9a-f]{64})/.exec(sawRequest[0] as string)?.[1] as string
      for (const secret of [SESSION_TOKEN, signature, SECRET_ACCESS_KEY]) assert.ok(!text.includes(secret), `leaked into the error:\n${text.slice(0, 2000)}`)
    } finally {
      echo.close()
    }
  })

  test('a JWT session token (MinIO, STS web identity) echoed JSON-quoted is redacted whole', TEST, async () => {
    const jwt = `eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.${Buffer.from(JSON.stringify({ accessKey: 'X', exp: 1 })).toString('base64url')}.${'Qk3-_a'.repeat(15)}`
    handler = (req, res) => {
      const echoed = JSON.stringify({ 'x-amz-security-token': req.headers['x-amz-security-token'] })
      res.writeHead(400, { 'content-type': 'application/xml' }).end(`<Error><Code>InvalidRequest</Code><Message>bad ${echoed}</Message></Error>`)
    }
    const error = await upload([new Uint8Array(10)], target({ credentials: { ...credentials, sessionToken: jwt } }), ONCE).then(
      () => assert.fail('the upload should fail'),
      (e: unknown) => e,
    )
    const text = everythingIn(error)
    assert.ok(!text.includes(jwt.split('.')[2] as string), `the JWT's signature leaked:\n${text.slice(0, 1000)}`)
  })

  test('an endpoint or a proxy URL that does not parse: an InvalidArgumentError that holds no part of it (a password in it)', async () => {
    const { proxyAgent } = await import('../src/index.ts')
    const bad = 'http://user:p4ssw0rdSEKRIT@exa mple:7480'
    const error = await upload([], { ...target(), endpoint: bad }).then(() => undefined, (e: unknown) => e)
    assert.ok(error instanceof InvalidArgumentError, `got ${inspect(error)}`)
    assert.ok(!everythingIn(error).includes('SEKRIT'), everythingIn(error))
    const proxyError = await proxyAgent({ httpsProxy: 'http://alice:s3cr/tSEKRIT@proxy.corp:3128' }).then(() => undefined, (e: unknown) => e)
    assert.ok(proxyError instanceof InvalidArgumentError, `got ${inspect(proxyError)}`)
    assert.match(proxyError.message, /`httpsProxy`.*percent-encoded/)
    assert.ok(!everythingIn(proxyError).includes('SEKRIT'), everythingIn(proxyError))
  })

  test('the token echoed in x-amz-request-id and in the content type of a non-S3 answer is redacted too', TEST, async () => {
    handler = (req, res) => {
      const token = String(req.headers['x-amz-security-token'])
      res.writeHead(400, { 'content-type': `text/${token}; charset=utf-8`, 'x-amz-request-id': `req-${token}` }).end('bad request')
    }
    const error = await upload([new Uint8Array(10)], target({ credentials: withToken }), ONCE).then(
      () => assert.fail('the upload should fail'),
      (e: unknown) => e,
    )
    assert.ok(error instanceof S3ResponseError)
    assert.equal(error.statusCode, 400)
    assert.match(error.message, /not an S3 answer \(\[redacted\]\)/)
    assert.match(String(error.requestId), /^req-\[redacted\]/)
    assertNoSecrets(error)
  })

  test('an HTML 502 page from a proxy: "not an S3 answer", a hint, and nothing secret', TEST, async () => {
    for (const withTitle of [true, false]) {
      seen.length = 0
      handler = (req, res) => {
        const echo = `authorization: ${String(req.headers.authorization)} x-amz-security-token: ${String(req.headers['x-amz-security-token'])}`
        const head = withTitle ? '<head><title>502 Bad Gateway</title></head>' : ''
        res.writeHead(502, { 'content-type': 'text/html; charset=utf-8' }).end(`<html>${head}<body><p>upstream failed: ${echo}</p><hr>nginx</body></html>`)
      }
      const error = await upload([new Uint8Array(10)], target({ credentials: withToken }), ONCE).then(
        () => assert.fail('the upload should fail'),
        (e: unknown) => e,
      )
      assert.ok(error instanceof S3ResponseError)
      assert.equal(error.statusCode, 502)
      assert.equal(error.s3Code, undefined)
      assert.match(error.message, /not an S3 answer \(text\/html\)/)
      assert.match(error.message, withTitle ? /: 502 Bad Gateway\./ : /upstream failed: authorization: \[redacted\]/)
      assert.match(error.message, /A proxy or load balancer in front of the server failed: retry later, or check `endpoint`/)
      assertNoSecrets(error)
    }
  })
})

// ---- 8. a Uint8Array from another realm is a whole source ----

describe('8. cross-realm Uint8Array', () => {
  // The default transport (undici; fetch on Bun) and the fetch transport, on every runtime.
  for (const [name, options] of [['default transport', {}], ['fetchTransport()', { transport: fetchTransport() }]] as const) {
    test(`upload(vm.runInNewContext('Uint8Array.from(…)'), target) sends its bytes with one PutObject (${name})`, TEST, async () => {
      const bytes: unknown = vm.runInNewContext('Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])')
      // Proves the realm is another one: `instanceof` fails across realms.
      assert.equal(bytes instanceof Uint8Array, false, 'a Uint8Array of another realm')
      const result = await upload(bytes as Uint8Array, target(), { ...ONCE, ...options })
      assert.equal(result.size, 10)
      assert.equal(result.partCount, 1)
      assert.deepEqual(seen.map((r) => [r.method, r.url, [...r.body]]), [['PUT', '/bkt/k', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]])
    })
  }
})

// ---- 9. errors without an S3 code still say what to do ----

describe('9. hints on bare status codes', () => {
  async function putError(answer: (res: ServerResponse) => void): Promise<S3ResponseError> {
    handler = (_req, res) => answer(res)
    const ctx = createS3Context(target(), ONCE)
    try {
      return await putObject(ctx, { chunks: [new Uint8Array(1)], byteLength: 1, sha256: undefined }).then(
        () => assert.fail('PutObject should fail'),
        (e: unknown) => {
          assert.ok(e instanceof S3ResponseError, `S3ResponseError, got ${inspect(e)}`)
          return e
        },
      )
    } finally {
      await ctx.close()
    }
  }

  test('412 PreconditionFailed', TEST, async () => {
    const error = await putError((res) =>
      res.writeHead(412, { 'content-type': 'application/xml' }).end('<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>'),
    )
    assert.equal(error.s3Code, 'PreconditionFailed')
    assert.match(error.message, /An object exists at the key and `ifNoneMatch` is set/)
  })

  test('412 without a body', TEST, async () => {
    const error = await putError((res) => res.writeHead(412).end())
    assert.equal(error.s3Code, undefined)
    assert.match(error.message, /A precondition failed: an object exists at the key and `ifNoneMatch` is set/)
  })

  test('400 without an S3 code', TEST, async () => {
    const error = await putError((res) => res.writeHead(400).end())
    assert.equal(error.s3Code, undefined)
    assert.match(error.message, /The server refused the request without saying why: check `endpoint` \(is it an S3 server\?\) and `forcePathStyle`/)
  })
})

// ---- 10. a 2xx without what S3 always sends is not a success ----

describe('10. PutObject answered 200 without an ETag', () => {
  const body = { chunks: [new Uint8Array(10)], byteLength: 10, sha256: undefined }
  const noEtag = (e: unknown): boolean => {
    assert.ok(e instanceof S3ResponseError, `S3ResponseError, got ${inspect(e)}`)
    assert.equal(e.operation, 'PutObject')
    assert.equal(e.statusCode, 200)
    assert.match(e.message, /PutObject failed with HTTP 200: response has no ETag header/)
    return true
  }
  for (const [name, answer] of [
    ['an empty 200', (res: ServerResponse) => res.writeHead(200).end()],
    ["a proxy's 200 HTML page", (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html><title>Welcome</title></html>')],
    ['an empty quoted ETag', (res: ServerResponse) => res.writeHead(200, { etag: '""' }).end()],
  ] as const) {
    test(`${name}: putObject rejects (as uploadPart does), not { etag: '' }`, TEST, async () => {
      handler = (_req, res) => answer(res)
      const ctx = createS3Context(target(), ONCE)
      try {
        await assert.rejects(putObject(ctx, body), noEtag)
      } finally {
        await ctx.close()
      }
    })
  }

  test('upload() of a source that fits one part rejects with it', TEST, async () => {
    handler = (_req, res) => res.writeHead(200).end()
    await assert.rejects(upload(new Uint8Array(10), target(), ONCE), noEtag)
    assert.equal(seen.length, 1)
  })
})

// ---- 11. boolean options: a value that is not a boolean is not `false` ----

describe('11. boolean options refused when not booleans, before any request', () => {
  for (const name of ['leavePartsOnError', 'contentMd5', 'ifNoneMatch'] as const) {
    for (const value of ['yes', 1, 0, null] as const) {
      test(`${name}: ${inspect(value)} → InvalidArgumentError (upload, uploadAll)`, TEST, async () => {
        const options = { [name]: value } as unknown as UploadOptions
        await assert.rejects(upload(new Uint8Array(10), target(), options), invalidArgument(new RegExp(`Expected \`${name}\` to be a boolean, got`)))
        await assert.rejects(
          uploadAll([{ key: 'k', source: new Uint8Array(10) }], { bucket: 'bkt', endpoint, credentials }, options as UploadAllOptions),
          invalidArgument(new RegExp(`Expected \`${name}\` to be a boolean`)),
        )
        assert.deepEqual(seen, [], 'no request reached the server')
      })
    }
  }

  for (const name of ['failFast', 'collect'] as const) {
    test(`uploadAll ${name}: 'yes' → InvalidArgumentError`, TEST, async () => {
      const options = { [name]: 'yes' } as unknown as UploadAllOptions
      await assert.rejects(uploadAll([], { bucket: 'bkt', endpoint, credentials }, options), invalidArgument(new RegExp(`Expected \`${name}\` to be a boolean, got a string`)))
    })
  }

  test("low-level putObject's ifNoneMatch: 'yes' → InvalidArgumentError (it would have overwritten the object), nothing sent", TEST, async () => {
    const ctx = createS3Context(target(), ONCE)
    try {
      const part = { chunks: [new Uint8Array(1)], byteLength: 1, sha256: undefined }
      await assert.rejects(putObject(ctx, part, { ifNoneMatch: 'yes' as unknown as boolean }), invalidArgument(/Expected `ifNoneMatch` to be a boolean, got "yes"/))
      assert.deepEqual(seen, [], 'no request reached the server')
    } finally {
      await ctx.close()
    }
  })

  for (const name of ['followSymlinks', 'countAhead'] as const) {
    test(`uploadDirectory ${name}: 'yes' → InvalidArgumentError, nothing sent`, TEST, async () => {
      const options = { [name]: 'yes' } as unknown as UploadDirectoryOptions
      await assert.rejects(uploadDirectory(mkdtempSync(join(tmpdir(), 'partstream-bool-')), { bucket: 'bkt', endpoint, credentials }, options), invalidArgument(new RegExp(`Expected \`${name}\` to be a boolean, got a string`)))
      assert.deepEqual(seen, [], 'no request reached the server')
    })
  }

  test('true, false and undefined are taken', TEST, async () => {
    for (const value of [true, false, undefined]) {
      seen.length = 0
      const result = await upload(new Uint8Array(10), target(), { ...ONCE, leavePartsOnError: value, contentMd5: value })
      assert.equal(result.size, 10)
      assert.equal(seen.length, 1)
    }
  })
})
