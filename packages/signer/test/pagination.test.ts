// Paginated listings against a server that does not move on, without S3: an in-process node:http
// server on 127.0.0.1, port 0, answers every page "truncated" with the marker it was just asked
// with (or with none). Each listing must fail at once with an S3ResponseError saying so, instead
// of asking for the same page forever. So that the code before the fix fails these tests instead
// of hanging them, the stub gives up after a few repeats and answers a last page.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ServerResponse } from 'node:http'
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import { inspect } from 'node:util'
import {
  createS3Context,
  listMultipartUploads,
  listObjectsV2,
  listParts,
  S3ResponseError,
  upload,
  uploadAll,
  type S3Context,
  type S3Operation,
} from '../src/index.ts'
import { failOnUnhandledRejections } from './fault/helpers.ts'
import { startStubServer, type StubServer } from './stub-server.ts'

failOnUnhandledRejections()

const TEST = { timeout: 20_000 }
const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }
/** Answers of a looping page before the stub gives up and answers a last page (the code before the fix then resolves). */
const REPEATS = 5
const ETAG = '0123456789abcdef0123456789abcdef'

type Handler = (url: URL, method: string, res: ServerResponse) => void

let server: StubServer
let endpoint: string
let handler: Handler
const seen: URL[] = []
const dir = mkdtempSync(join(tmpdir(), 'partstream-pages-'))

before(async () => {
  server = await startStubServer((req, res) => {
    const url = new URL(req.url, 'http://fake')
    seen.push(url)
    handler(url, req.method, res)
  })
  endpoint = server.endpoint
})

after(async () => {
  await server.close()
  rmSync(dir, { recursive: true, force: true })
})

beforeEach(() => {
  seen.length = 0
})

const xml = (res: ServerResponse, body: string): void => {
  res.writeHead(200, { 'content-type': 'application/xml', 'x-amz-request-id': 'REQ1' }).end(`<?xml version="1.0" encoding="UTF-8"?>${body}`)
}

/** `true` for the first REPEATS answers to requests matching `match`, then `false` (the last page). */
function repeatsLeft(match: (url: URL) => boolean): boolean {
  return seen.filter(match).length <= REPEATS
}

const isListParts = (url: URL): boolean => url.searchParams.has('uploadId')
const isListUploads = (url: URL): boolean => url.searchParams.has('uploads')
const isListObjects = (url: URL): boolean => url.searchParams.get('list-type') === '2'

const partsPage = (truncated: boolean, marker: string | undefined): string =>
  `<ListPartsResult><IsTruncated>${truncated}</IsTruncated>${marker === undefined ? '' : `<NextPartNumberMarker>${marker}</NextPartNumberMarker>`}` +
  `<Part><PartNumber>1</PartNumber><ETag>&quot;${ETAG}&quot;</ETag><Size>5242880</Size></Part></ListPartsResult>`

const uploadsPage = (truncated: boolean, keyMarker: string | undefined, uploadIdMarker: string | undefined, uploads: ReadonlyArray<[string, string]>): string =>
  `<ListMultipartUploadsResult><IsTruncated>${truncated}</IsTruncated>` +
  `${keyMarker === undefined ? '' : `<NextKeyMarker>${keyMarker}</NextKeyMarker>`}` +
  `${uploadIdMarker === undefined ? '' : `<NextUploadIdMarker>${uploadIdMarker}</NextUploadIdMarker>`}` +
  `${uploads.map(([key, id]) => `<Upload><Key>${key}</Key><UploadId>${id}</UploadId></Upload>`).join('')}</ListMultipartUploadsResult>`

const objectsPage = (truncated: boolean, token: string | undefined, key: string): string =>
  `<ListBucketResult><IsTruncated>${truncated}</IsTruncated>${token === undefined ? '' : `<NextContinuationToken>${token}</NextContinuationToken>`}` +
  `<KeyCount>1</KeyCount><Contents><Key>${key}</Key><Size>1</Size><ETag>&quot;${ETAG}&quot;</ETag></Contents></ListBucketResult>`

/** Checks the error of a listing that did not move on. */
function stalled(operation: S3Operation, pattern: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof S3ResponseError, `S3ResponseError, got ${inspect(e)}`)
    assert.equal(e.code, 'ERR_PARTSTREAM_S3')
    assert.equal(e.operation, operation)
    assert.equal(e.statusCode, 200)
    assert.equal(e.requestId, 'REQ1')
    assert.match(e.message, pattern)
    return true
  }
}
const REPEATED = /the server repeated its pagination marker/
const MISSING = /truncated \(IsTruncated\) but names no/

let ctx: S3Context
beforeEach(() => {
  ctx = createS3Context({ bucket: 'bkt', endpoint, region: 'us-east-1', credentials }, { retry: false })
})
afterEach(() => ctx.close())

describe('listParts', () => {
  test('the same NextPartNumberMarker as the one sent → S3ResponseError after 2 requests, not a loop', TEST, async () => {
    handler = (url, _m, res) => xml(res, partsPage(repeatsLeft(isListParts), '1'))
    await assert.rejects(listParts(ctx, 'up1', { key: 'obj' }), stalled('ListParts', /ListParts failed with HTTP 200: the server repeated its pagination marker \(NextPartNumberMarker "1"/))
    assert.deepEqual(seen.map((u) => u.searchParams.get('part-number-marker')), [null, '1'])
  })

  test('truncated without NextPartNumberMarker → S3ResponseError (the list would be cut short)', TEST, async () => {
    handler = (_u, _m, res) => xml(res, partsPage(true, undefined))
    await assert.rejects(listParts(ctx, 'up1', { key: 'obj' }), stalled('ListParts', MISSING))
    assert.equal(seen.length, 1)
  })

  test('markers that move on are followed to the last page', TEST, async () => {
    handler = (url, _m, res) => {
      const from = Number(url.searchParams.get('part-number-marker') ?? '0')
      xml(res, partsPage(from < 2, String(from + 1)).replace('<PartNumber>1</PartNumber>', `<PartNumber>${from + 1}</PartNumber>`))
    }
    const parts = await listParts(ctx, 'up1', { key: 'obj' })
    assert.deepEqual(parts.map((p) => p.partNumber), [1, 2, 3])
  })

  test('upload() resuming through a looping ListParts rejects with that error, and closes the source', TEST, async () => {
    handler = (url, _m, res) => xml(res, partsPage(repeatsLeft(isListParts), '1'))
    let closed = false
    // An iterator whose return() reports the close (a generator's finally would not run: it may never start).
    const source: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => ({ done: false, value: new Uint8Array(1024 * 1024) }),
        return: async () => {
          closed = true
          return { done: true, value: undefined }
        },
      }),
    }
    await assert.rejects(
      upload(source, { bucket: 'bkt', key: 'obj', endpoint, region: 'us-east-1', credentials }, { retry: false, resumeUploadId: 'up1', partSize: 5 * 1024 * 1024 }),
      stalled('ListParts', REPEATED),
    )
    assert.equal(closed, true)
    assert.equal(seen.filter(isListParts).length, 2)
  })
})

describe('listMultipartUploads', () => {
  test('the same NextKeyMarker and NextUploadIdMarker as sent → S3ResponseError after 2 requests', TEST, async () => {
    handler = (url, _m, res) => xml(res, uploadsPage(repeatsLeft(isListUploads), 'a', 'u', [['a', 'u']]))
    await assert.rejects(listMultipartUploads(ctx), stalled('ListMultipartUploads', /the server repeated its pagination marker \(NextKeyMarker "a", NextUploadIdMarker "u"/))
    assert.deepEqual(
      seen.map((u) => [u.searchParams.get('key-marker'), u.searchParams.get('upload-id-marker')]),
      [
        [null, null],
        ['a', 'u'],
      ],
    )
  })

  test('truncated without NextKeyMarker → S3ResponseError', TEST, async () => {
    handler = (_u, _m, res) => xml(res, uploadsPage(true, undefined, undefined, [['a', 'u']]))
    await assert.rejects(listMultipartUploads(ctx), stalled('ListMultipartUploads', /names no NextKeyMarker/))
  })

  test('the same key marker with a new upload id marker moves on (many uploads of one key)', TEST, async () => {
    handler = (url, _m, res) => {
      const n = Number((url.searchParams.get('upload-id-marker') ?? 'u0').slice(1))
      xml(res, uploadsPage(n < 2, 'a', `u${n + 1}`, [['a', `u${n + 1}`]]))
    }
    const open = await listMultipartUploads(ctx)
    assert.deepEqual(open.map((u) => u.uploadId), ['u1', 'u2', 'u3'])
  })
})

describe('listObjectsV2 and skipExisting (listing)', () => {
  test('a page asked with a token that names the same token → S3ResponseError', TEST, async () => {
    handler = (_u, _m, res) => xml(res, objectsPage(true, 'same', 'a'))
    await assert.rejects(listObjectsV2(ctx, { continuationToken: 'same' }), stalled('ListObjectsV2', /repeated its pagination marker \(NextContinuationToken "same"/))
    // The first page (no token sent) may name any token.
    assert.equal((await listObjectsV2(ctx)).nextContinuationToken, 'same')
  })

  test('truncated without NextContinuationToken → S3ResponseError (not taken for the last page)', TEST, async () => {
    handler = (_u, _m, res) => xml(res, objectsPage(true, undefined, 'a'))
    await assert.rejects(listObjectsV2(ctx), stalled('ListObjectsV2', /names no NextContinuationToken/))
  })

  test("uploadAll with skipExisting: 'size' over a listing that repeats its token fails the call, no loop", TEST, async () => {
    const path = join(dir, 'b')
    writeFileSync(path, 'b')
    handler = (url, method, res) => {
      if (method === 'GET' && isListObjects(url)) {
        xml(res, objectsPage(repeatsLeft(isListObjects), 'same', 'a'))
      } else if (method === 'PUT') {
        res.writeHead(200, { etag: `"${ETAG}"` }).end()
      } else {
        res.writeHead(501).end()
      }
    }
    await assert.rejects(
      uploadAll([{ key: 'b', path }], { bucket: 'bkt', endpoint, region: 'us-east-1', credentials }, { skipExisting: 'size', retry: false }),
      stalled('ListObjectsV2', REPEATED),
    )
    assert.equal(seen.filter(isListObjects).length, 2)
    assert.equal(seen.filter((u) => !isListObjects(u)).length, 0, 'nothing uploaded')
  })
})
