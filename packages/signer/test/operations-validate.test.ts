// The low-level operations refuse what S3 would mishandle, before any request: RGW answers 200 to
// part number 0 and never lists it, a part 10,001 fails every later Complete, and a body whose
// byteLength is not its chunks' length failed inside undici as a network error.
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { abortMultipartUpload, completeMultipartUpload, createS3Context, headObject, InvalidArgumentError, listParts, putObject, uploadPart } from '../src/index.ts'

// Nothing listens there: any request that went out would fail as a network error, not as InvalidArgumentError.
const ctx = createS3Context({ bucket: 'bkt', key: 'k', endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials: { accessKeyId: 'A', secretAccessKey: 'S' } }, { retry: { attempts: 1 } })
after(() => ctx.close())

const body = (chunks: unknown[], byteLength: number): never => ({ chunks, byteLength, sha256: undefined }) as never
const refused = (pattern: RegExp) => (e: unknown) => e instanceof InvalidArgumentError && pattern.test(e.message)

describe('low-level operations: arguments checked before any request', () => {
  test('uploadPart: the upload id, the part number (1 to 10,000), the body', async () => {
    const ok = body([new Uint8Array(3)], 3)
    for (const partNumber of [0, -1, 10_001, 1.5, '2', undefined]) {
      await assert.rejects(uploadPart(ctx, 'id', { ...(ok as object), partNumber } as never), refused(/`partNumber` to be an integer from 1 to 10000/), String(partNumber))
    }
    for (const uploadId of [undefined, '', 3]) await assert.rejects(uploadPart(ctx, uploadId as never, { ...(ok as object), partNumber: 1 } as never), refused(/`uploadId`/))
    await assert.rejects(uploadPart(ctx, 'id', null as never), refused(/`partNumber`/))
    await assert.rejects(uploadPart(ctx, 'id', { ...(body([new Uint8Array(3)], 4) as object), partNumber: 1 } as never), refused(/`byteLength` to be the length of `chunks` \(3 bytes\), got `4`/))
    await assert.rejects(uploadPart(ctx, 'id', { ...(body(['abc'], 3) as object), partNumber: 1 } as never), refused(/every one of `chunks` to be a Uint8Array, got a string/))
  })

  test("a chunk detached or shrunk after the part was made: the message says so, not an option the caller never passed", async () => {
    // A source that transferred (postMessage, structuredClone with transfer) or resized a chunk's
    // ArrayBuffer after yielding it: upload() failed with "Expected `byteLength` to be the length of `chunks`".
    const detached = new Uint8Array(4)
    structuredClone(detached.buffer, { transfer: [detached.buffer] })
    await assert.rejects(uploadPart(ctx, 'id', { ...(body([detached], 4) as object), partNumber: 1 } as never), refused(/a chunk of the part was detached or resized \(its ArrayBuffer transferred or shrunk\) after it was yielded: its chunks hold 0 bytes, not 4\. A source must not reuse, transfer or resize a chunk it has yielded/))
  })

  test('putObject: the body', async () => {
    await assert.rejects(putObject(ctx, body([new Uint8Array(2)], 5)), refused(/`byteLength`/))
    await assert.rejects(putObject(ctx, { byteLength: 0 } as never), refused(/part body/))
  })

  test('completeMultipartUpload: a non-empty list of { partNumber, etag }, each part once', async () => {
    for (const parts of [null, 'x', [], [null], [{ partNumber: 1 }], [{ partNumber: 0, etag: 'e' }]]) {
      await assert.rejects(completeMultipartUpload(ctx, 'id', parts as never), InvalidArgumentError, JSON.stringify(parts))
    }
    await assert.rejects(
      completeMultipartUpload(ctx, 'id', [
        { partNumber: 1, etag: 'a', size: 5 },
        { partNumber: 1, etag: 'a', size: 5 },
      ]),
      refused(/part 1 twice/),
    )
    await assert.rejects(completeMultipartUpload(ctx, '', [{ partNumber: 1, etag: 'a', size: 5 }]), refused(/`uploadId`/))
  })

  test('abortMultipartUpload and listParts: the upload id', async () => {
    await assert.rejects(abortMultipartUpload(ctx, undefined as never), refused(/`uploadId`/))
    await assert.rejects(listParts(ctx, ''), refused(/`uploadId`/))
  })
})

describe('a closed context', () => {
  test('a request after ctx.close() is an InvalidArgumentError that says so, not a network failure', async () => {
    const closed = createS3Context({ bucket: 'bkt', key: 'k', endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials: { accessKeyId: 'A', secretAccessKey: 'S' } })
    await closed.close()
    await assert.rejects(headObject(closed), refused(/HeadObject on an S3 context that is closed.*createS3Context/))
    await assert.rejects(putObject(closed, body([new Uint8Array(1)], 1)), refused(/PutObject on an S3 context that is closed/))
  })
})
