// What an S3 server says reaches the user's terminal escaped: an error's <Message>, an UploadId, a
// key. Raw, an ESC sequence from a hostile or broken endpoint could retitle the window, clear the
// screen, or fake a line of output ("upload: ok").
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { command } from './bin.ts'

const dir = mkdtempSync(join(tmpdir(), 'partstream-server-text-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** Terminal escapes as XML character references: OSC (window title) + BEL, CSI clear screen, cursor up. */
const EVIL = '&#27;]0;owned-title&#7;&#27;[2J&#27;[1A&#155;2K'
/** What a terminal receives raw that it acts on (C0 but tab and newline, DEL, C1). */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/

let server: Server
let endpoint: string
before(async () => {
  server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x')
      const xml = (status: number, body: string): void => {
        res.writeHead(status, { 'content-type': 'application/xml' })
        res.end(`<?xml version="1.0" encoding="UTF-8"?>${body}`)
      }
      if (req.method === 'GET' && url.searchParams.has('uploads')) {
        return xml(
          200,
          `<ListMultipartUploadsResult><Bucket>bucket</Bucket><IsTruncated>false</IsTruncated><Upload><Key>k${EVIL}</Key><UploadId>id${EVIL}</UploadId><Initiated>2020-01-01T00:00:00.000Z</Initiated></Upload></ListMultipartUploadsResult>`,
        )
      }
      if (req.method === 'POST' && url.searchParams.has('uploads')) {
        return xml(200, `<InitiateMultipartUploadResult><Bucket>bucket</Bucket><Key>multi</Key><UploadId>id${EVIL}</UploadId></InitiateMultipartUploadResult>`)
      }
      // Everything else (PutObject, UploadPart, the Abort after it): refused, with escapes in the message.
      xml(403, `<Error><Code>AccessDenied</Code><Message>denied${EVIL}upload: ok (fake success line)</Message></Error>`)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
after(() => server.close())

function cli(args: readonly string[], input: Uint8Array = new Uint8Array(0)): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command[0] as string, [...command.slice(1), ...args, '--endpoint-url', endpoint], {
    env: { PATH: process.env['PATH'] ?? '', HOME: dir, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' },
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  child.stdin.on('error', () => {})
  child.stdin.end(input)
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
}

describe("a server's text on the terminal", () => {
  test("an S3 error's message is printed escaped", async () => {
    const r = await cli(['cp', '-', 's3://bucket/single'], new Uint8Array(10))
    assert.equal(r.code, 1, r.stderr)
    assert.doesNotMatch(r.stderr, CONTROL, JSON.stringify(r.stderr))
    assert.match(r.stderr, /denied\\x1b\]0;owned-title\\x07\\x1b\[2J\\x1b\[1A\\x9b2Kupload: ok/)
  })

  test('so is the upload id of a multipart upload whose Abort failed too', async () => {
    const r = await cli(['cp', '-', 's3://bucket/multi', '--part-size', '5MiB'], new Uint8Array(6 * 1024 * 1024))
    assert.equal(r.code, 1, r.stderr)
    assert.doesNotMatch(r.stderr, CONTROL, JSON.stringify(r.stderr))
    // Named once, escaped, in the library's message (the CLI added "(upload … may remain)" after it).
    assert.match(r.stderr, /upload id\\x1b\]0;owned-title\\x07.* may still hold parts/)
    assert.doesNotMatch(r.stderr, /may remain/)
  })

  test('uploads ls: the upload id and the key, escaped (and exact in --json)', async () => {
    const r = await cli(['uploads', 'ls', 's3://bucket/'])
    assert.equal(r.code, 0, r.stderr)
    assert.doesNotMatch(r.stdout, CONTROL, JSON.stringify(r.stdout))
    assert.equal(r.stdout, `2020-01-01T00:00:00.000Z\tid\\x1b]0;owned-title\\x07\\x1b[2J\\x1b[1A\\x9b2K\tk\\x1b]0;owned-title\\x07\\x1b[2J\\x1b[1A\\x9b2K\n`)
    const json = await cli(['uploads', 'ls', 's3://bucket/', '--json'])
    const raw = '\u001b]0;owned-title\u0007\u001b[2J\u001b[1A\u009b2K'
    assert.deepEqual(JSON.parse(json.stdout), { key: `k${raw}`, uploadId: `id${raw}`, initiated: '2020-01-01T00:00:00.000Z' })
  })
})
