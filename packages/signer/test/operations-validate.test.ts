// The low-level operations refuse what S3 would mishandle, before any request: RGW answers 200 to
// part number 0 and never lists it, a part 10,001 fails every later Complete, and a body whose
// byteLength is not its chunks' length failed inside undici as a network error.
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createBucket,
  createMultipartUpload,
  createS3Context,
  deleteBucket,
  deleteObject,
  getObject,
  getObjectTagging,
  headObject,
  InvalidArgumentError,
  listObjectsV2,
  listParts,
  multipartEtag,
  putObject,
  uploadPart,
} from '../src/index.ts'

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
    await assert.rejects(uploadPart(ctx, 'id', { ...(body([detached], 4) as object), partNumber: 1 } as never), refused(/a chunk of the part was detached or resized \(its ArrayBuffer transferred, shrunk or grown\) after it was yielded: its chunks hold 0 bytes, not 4\. A source must not reuse, transfer or resize a chunk it has yielded/))
  })

  test('a chunk detached while its request is in flight: the same InvalidArgumentError, not the retry\'s 403 "Check the credentials"', async () => {
    // The first attempt failed on the socket (EPIPE on Deno, a content-length mismatch on Bun and
    // Node); the retry sent the emptied chunks under the signed length and hash, and S3 answered
    // SignatureDoesNotMatch, which the message blamed on the credentials.
    const chunk = new Uint8Array(1024).fill(7)
    let calls = 0
    const transport = async (): Promise<never> => {
      calls++
      structuredClone(chunk.buffer, { transfer: [chunk.buffer] }) // the source transfers it mid-flight
      throw Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })
    }
    const own = createS3Context({ bucket: 'bkt', key: 'k', endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials: { accessKeyId: 'A', secretAccessKey: 'S' } }, { transport, retry: { attempts: 3, baseDelayMs: 1 } })
    try {
      await assert.rejects(uploadPart(own, 'id', { ...(body([chunk], 1024) as object), partNumber: 1 } as never), refused(/a chunk of the part was detached or resized.*its chunks hold 0 bytes, not 1024/))
      assert.equal(calls, 1, 'not sent again')
    } finally {
      await own.close()
    }
  })

  test('a length-tracking chunk grown after the part was made gets the same message (a resizable ArrayBuffer, a growable SharedArrayBuffer)', async () => {
    // ES2024 constructors and methods; the lib these tests compile with is ES2022.
    const resizable = new (ArrayBuffer as unknown as new (n: number, o: object) => ArrayBuffer & { resize(n: number): void })(4, { maxByteLength: 16 })
    const growable = new (SharedArrayBuffer as unknown as new (n: number, o: object) => SharedArrayBuffer & { grow(n: number): void })(4, { maxByteLength: 16 })
    for (const [buffer, grow] of [
      [resizable, () => resizable.resize(6)],
      [growable, () => growable.grow(6)],
    ] as const) {
      const tracking = new Uint8Array(buffer)
      const part = { ...(body([tracking], 4) as object), partNumber: 1 }
      grow()
      await assert.rejects(uploadPart(ctx, 'id', part as never), refused(/a chunk of the part was detached or resized \(its ArrayBuffer transferred, shrunk or grown\) after it was yielded: its chunks hold 6 bytes, not 4\./))
      await assert.rejects(putObject(ctx, body([tracking], 4)), refused(/detached or resized/))
    }
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

describe("completeMultipartUpload's own options, checked as putObject checks them", () => {
  const parts = [{ partNumber: 1, etag: 'a', size: 5 }]
  test("`ifNoneMatch: 'true'` is refused, not read as false (which would overwrite the object it was to protect)", async () => {
    for (const ifNoneMatch of ['true', 1, 'yes', null]) {
      await assert.rejects(completeMultipartUpload(ctx, 'id', parts, { ifNoneMatch: ifNoneMatch as never }), refused(/Expected `ifNoneMatch` to be a boolean, got/), String(ifNoneMatch))
    }
  })

  test('`objectChecksum` without `checksumAlgorithm`, or with a COMPOSITE checksum type, is refused: it would not be sent', async () => {
    await assert.rejects(completeMultipartUpload(ctx, 'id', parts, { objectChecksum: 'AAAAAA==' }), refused(/`objectChecksum` needs `checksumAlgorithm`/))
    await assert.rejects(
      completeMultipartUpload(ctx, 'id', parts, { checksumAlgorithm: 'SHA256', objectChecksum: 'AAAAAA==' }),
      refused(/`objectChecksum` is the whole object's CRC, sent for a FULL_OBJECT checksum only; this upload's checksum type is COMPOSITE/),
    )
    await assert.rejects(
      completeMultipartUpload(ctx, 'id', parts, { checksumAlgorithm: 'CRC32', checksumType: 'COMPOSITE', objectChecksum: 'AAAAAA==' }),
      refused(/checksum type is COMPOSITE/),
    )
    await assert.rejects(completeMultipartUpload(ctx, 'id', parts, { objectChecksum: 5 as never, checksumAlgorithm: 'CRC32' }), refused(/`objectChecksum` to be a base64 string/))
  })

  test('`checksumAlgorithm` and `checksumType` are checked as for createMultipartUpload', async () => {
    await assert.rejects(completeMultipartUpload(ctx, 'id', parts, { checksumAlgorithm: 'MD5' as never }), refused(/Expected `checksumAlgorithm` to be one of 'CRC64NVME', 'CRC32C', 'CRC32', 'SHA1', 'SHA256', got "MD5"/))
    await assert.rejects(completeMultipartUpload(ctx, 'id', parts, { checksumType: 'COMPOSITE' }), refused(/`checksumType` needs `checksumAlgorithm`/))
    await assert.rejects(completeMultipartUpload(ctx, 'id', parts, { checksumAlgorithm: 'SHA256', checksumType: 'FULL_OBJECT' }), refused(/SHA256 checksums are COMPOSITE only/))
  })

  test("a part's `checksum` that is not a string is refused by name, not a TypeError", async () => {
    await assert.rejects(completeMultipartUpload(ctx, 'id', [{ partNumber: 1, etag: 'e', size: 1, checksum: 5 as never }], { checksumAlgorithm: 'CRC32' }), refused(/each `checksum` in `parts` to be a base64 string.*got `5` \(number\)/))
  })
})

describe('listing and request options: a coded error, never a raw TypeError or URIError', () => {
  test('listObjectsV2: `prefix` and `startAfter` must be strings of well-formed Unicode (as validateKey checks keys)', async () => {
    await assert.rejects(listObjectsV2(ctx, { prefix: 5 as never }), refused(/Expected `prefix` to be a string \(the start of a key\), got `5` \(number\)/))
    await assert.rejects(listObjectsV2(ctx, { startAfter: 5 as never }), refused(/Expected `startAfter` to be a string/))
    await assert.rejects(listObjectsV2(ctx, { prefix: 'a\uD800' }), refused(/Expected `prefix` to be well-formed Unicode, got a string with a lone surrogate/))
    await assert.rejects(listObjectsV2(ctx, { startAfter: '\uDC00b' }), refused(/`startAfter` to be well-formed Unicode/))
    await assert.rejects(listObjectsV2(ctx, { continuationToken: 7 as never }), refused(/Expected `continuationToken` to be/))
  })

  test('listMultipartUploads and abortStaleUploads: `prefix`, `olderThanMs` and the options object are checked', async () => {
    const { abortStaleUploads, listMultipartUploads } = await import('../src/index.ts')
    await assert.rejects(listMultipartUploads(ctx, { prefix: 5 as never }), refused(/Expected `prefix` to be a string \(the start of a key\)/))
    await assert.rejects(listMultipartUploads(ctx, { prefix: 'a\uD800' }), refused(/`prefix` to be well-formed Unicode/))
    for (const olderThanMs of [-1, Number.NaN, '1h']) {
      await assert.rejects(listMultipartUploads(ctx, { olderThanMs: olderThanMs as never }), refused(/`olderThanMs` to be a number ≥ 0/), String(olderThanMs))
    }
    await assert.rejects(abortStaleUploads(ctx, { olderThanMs: 0, prefix: 5 as never }), refused(/Expected `prefix` to be a string/))
    await assert.rejects(abortStaleUploads(ctx, undefined as never), refused(/Expected options \{ olderThanMs, prefix\?, signal\? \}/))
  })

  test('a lone surrogate in an upload id, a continuation token or a tag: InvalidArgumentError, not a bare URIError (no code)', async () => {
    const id = 'id\uD800'
    const part = { ...(body([new Uint8Array(1)], 1) as object), partNumber: 1 } as never
    const calls: Record<string, () => Promise<unknown>> = {
      uploadPart: () => uploadPart(ctx, id, part),
      listParts: () => listParts(ctx, id),
      completeMultipartUpload: () => completeMultipartUpload(ctx, id, [{ partNumber: 1, etag: 'a', size: 1 }]),
      abortMultipartUpload: () => abortMultipartUpload(ctx, id),
    }
    for (const [name, call] of Object.entries(calls)) await assert.rejects(call(), refused(/Expected `uploadId` to be well-formed Unicode/), name)
    await assert.rejects(listObjectsV2(ctx, { continuationToken: '\uDC00' }), refused(/Expected `continuationToken` to be well-formed Unicode/))
    await assert.rejects(putObject(ctx, body([new Uint8Array(1)], 1), { tagging: { k: 'v\uD800' } }), refused(/Expected the `tagging` value of "k" to be well-formed Unicode/))
    await assert.rejects(createMultipartUpload(ctx, { tagging: { '\uD800': 'v' } }), refused(/Expected each `tagging` key to be well-formed Unicode/))
  })

  test("completeMultipartUpload: an `objectChecksum` that is not the base64 of the algorithm's CRC is refused before any request", async () => {
    // It went out as given: CR/LF came back as a network error, non-ASCII as SignatureDoesNotMatch.
    const parts = [{ partNumber: 1, etag: 'a', size: 1, checksum: 'AAAAAA==' }]
    for (const objectChecksum of ['x\r\nx-amz-acl: public-read', 'é', 'AAAAAA', 'AAAAAAAAAAA=', 'AAAA AA=']) {
      await assert.rejects(
        completeMultipartUpload(ctx, 'id', parts, { checksumAlgorithm: 'CRC32', checksumType: 'FULL_OBJECT', objectChecksum }),
        refused(/Expected `objectChecksum` to be the base64 of a CRC32 \(4 bytes: 8 characters/),
        objectChecksum,
      )
    }
    await assert.rejects(
      completeMultipartUpload(ctx, 'id', parts, { checksumAlgorithm: 'CRC64NVME', objectChecksum: 'AAAAAA==' }),
      refused(/base64 of a CRC64NVME \(8 bytes: 12 characters/),
    )
  })

  test('`signal` that is not an AbortSignal is refused by every operation, before any request', async () => {
    const signal = 'x' as never
    const calls: Record<string, () => Promise<unknown>> = {
      createMultipartUpload: () => createMultipartUpload(ctx, { signal }),
      uploadPart: () => uploadPart(ctx, 'id', { ...(body([new Uint8Array(1)], 1) as object), partNumber: 1 } as never, { signal }),
      completeMultipartUpload: () => completeMultipartUpload(ctx, 'id', [{ partNumber: 1, etag: 'a', size: 1 }], { signal }),
      abortMultipartUpload: () => abortMultipartUpload(ctx, 'id', { signal }),
      putObject: () => putObject(ctx, body([new Uint8Array(1)], 1), { signal }),
      headObject: () => headObject(ctx, { signal }),
      getObject: () => getObject(ctx, { signal }),
      getObjectTagging: () => getObjectTagging(ctx, { signal }),
      listParts: () => listParts(ctx, 'id', { signal }),
      listObjectsV2: () => listObjectsV2(ctx, { signal }),
      createBucket: () => createBucket(ctx, { signal }),
      deleteObject: () => deleteObject(ctx, { signal }),
      deleteBucket: () => deleteBucket(ctx, { signal }),
    }
    for (const [name, call] of Object.entries(calls)) {
      await assert.rejects(call(), refused(/Expected `signal` to be an AbortSignal, got a string/), name)
    }
  })
})

describe('checksum options of the multipart calls', () => {
  test("uploadPart and putObject: an algorithm S3 has no x-amz-checksum for ('MD5') is named as such, with the valid ones", async () => {
    const part = { ...(body([new Uint8Array(1)], 1) as object), partNumber: 1 } as never
    await assert.rejects(uploadPart(ctx, 'id', part, { checksumAlgorithm: 'MD5' as never }), refused(/Expected `checksumAlgorithm` to be one of 'CRC64NVME', 'CRC32C', 'CRC32', 'SHA1', 'SHA256', got "MD5"/))
    await assert.rejects(putObject(ctx, body([new Uint8Array(1)], 1), { checksumAlgorithm: 'MD5' as never }), refused(/`checksumAlgorithm` to be one of/))
    await assert.rejects(uploadPart(ctx, 'id', part, { checksumAlgorithm: 'crc32' as never }), refused(/Did you mean 'CRC32'\?/))
  })

  test('createMultipartUpload: the algorithm in S3\'s spelling, and a checksum type S3 allows for it, before any request', async () => {
    await assert.rejects(createMultipartUpload(ctx, { checksumAlgorithm: 'crc32' as never }), refused(/Expected `checksumAlgorithm` to be one of .*got "crc32"\. Did you mean 'CRC32'\?/))
    await assert.rejects(createMultipartUpload(ctx, { checksumAlgorithm: 'SHA256', checksumType: 'FULL_OBJECT' }), refused(/SHA256 checksums are COMPOSITE only.*`checksumType: 'COMPOSITE'`/))
    await assert.rejects(createMultipartUpload(ctx, { checksumAlgorithm: 'SHA1', checksumType: 'FULL_OBJECT' }), refused(/SHA1 checksums are COMPOSITE only/))
    await assert.rejects(createMultipartUpload(ctx, { checksumAlgorithm: 'CRC64NVME', checksumType: 'COMPOSITE' }), refused(/CRC64NVME checksums are FULL_OBJECT only/))
    await assert.rejects(createMultipartUpload(ctx, { checksumAlgorithm: 'CRC32', checksumType: 'full_object' as never }), refused(/Expected `checksumType` to be 'FULL_OBJECT' or 'COMPOSITE', got "full_object"/))
    await assert.rejects(createMultipartUpload(ctx, { checksumType: 'FULL_OBJECT' }), refused(/`checksumType` needs `checksumAlgorithm`/))
  })
})

describe('multipartEtag', () => {
  test('no parts is refused (a multipart object has at least one), not "d41d8…-0"', () => {
    assert.throws(() => multipartEtag([]), refused(/Expected `parts` to be a non-empty array/))
  })

  test('quoted part ETags (as the AWS SDK hands them out) give the same ETag as unquoted ones', () => {
    const etag = 'b1946ac92492d2347c6235b4d2611184'
    assert.equal(multipartEtag([{ partNumber: 1, etag: `"${etag}"`, size: 6 }]), multipartEtag([{ partNumber: 1, etag, size: 6 }]))
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
