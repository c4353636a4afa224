/**
 * The `@example` blocks of the signer's JSDoc, type-checked (by `tsc -p packages/signer/test/types`,
 * part of `pnpm typecheck`): each block below is the example as written above its function, with
 * its free variables declared. An example that stops compiling fails the typecheck.
 */
import { createReadStream } from 'node:fs'
import { combineCrc, createCrc32, createCrc32c, createCrc64Nvme, createSha256, digestChunks, toParts, type Hasher } from '@partstream/core'
import { Agent } from 'undici'
import {
  abortMultipartUpload,
  abortStaleUploads,
  checksumHash,
  completeMultipartUpload,
  createBucket,
  createMultipartUpload,
  createS3Context,
  defaultHash,
  fetchTransport,
  getObject,
  headObject,
  listMultipartUploads,
  listObjectsV2,
  listParts,
  multipartEtag,
  objectChecksumOf,
  putObject,
  undiciTransport,
  upload,
  uploadFd,
  uploadFile,
  uploadAll,
  uploadPart,
  walkDirectory,
  type S3Context,
  type UploadedPart,
  type UploadTarget,
} from '../../src/index.ts'
import { bufferParts } from '@partstream/core'

declare const ctx: S3Context
declare const uploadId: string
declare const parts: readonly UploadedPart[]
declare const endpoint: string
declare const accessKeyId: string
declare const secretAccessKey: string
declare const source: AsyncIterable<Uint8Array>
declare const crcOfPart1: Uint8Array
declare const crcOfPart2: Uint8Array
declare const part2: { readonly byteLength: number }
declare const target: UploadTarget
declare const bytes: Uint8Array
declare const hash: Hasher
declare const path: string
declare function lines(): AsyncGenerator<Uint8Array>

export async function examples(): Promise<void> {
  // index.ts
  {
    const result = await upload(lines(), { bucket: 'logs', key: 'today.txt' })
    void result
  }
  // upload.ts
  {
    const result = await upload(lines(), {
      bucket: 'logs', key: 'today.txt', endpoint: 'http://127.0.0.1:7480',
      credentials: { accessKeyId, secretAccessKey },
    })
    void result
  }
  // upload-file.ts
  {
    const result = await uploadFile('./backup.tar', { bucket: 'backups', key: 'backup.tar' })
    void result
  }
  // upload-fd.ts
  {
    // pg_dump | gzip | node backup.js
    const result = await uploadFd(0, { bucket: 'backups', key: 'db.sql.gz' }, { sizeHint: 50 * 1024 ** 3 })
    void result
  }
  // abort-stale-uploads.ts
  {
    const ctx = createS3Context({ bucket: 'logs' })
    const aborted = await abortStaleUploads(ctx, { olderThanMs: 24 * 3600_000 })
    void aborted
  }
  // http/context.ts
  {
    const ctx = createS3Context({ bucket: 'logs', endpoint: 'http://127.0.0.1:7480' })
    try {
      await listMultipartUploads(ctx, { prefix: 'day/' })
    } finally {
      await ctx.close()
    }
  }
  // transport/undici.ts
  {
    const agent = new Agent({ connections: 8 })
    await upload(source, target, { transport: undiciTransport(agent) })
  }
  // transport/fetch.ts
  await upload(source, target, { transport: fetchTransport() })
  // operations/*.ts
  await abortMultipartUpload(ctx, uploadId)
  {
    const { etag } = await completeMultipartUpload(ctx, uploadId, parts)
    void etag
  }
  void multipartEtag([{ partNumber: 1, etag: 'b1946ac92492d2347c6235b4d2611184', size: 6 }]) // '…-1'
  await createBucket(createS3Context({ bucket: 'demo', endpoint }))
  {
    const uploadId = await createMultipartUpload(ctx, { contentType: 'text/plain' })
    void uploadId
  }
  {
    const { body } = await getObject(ctx, { key: 'logs/day.gz' })
    for await (const chunk of body) hash.update(chunk)
  }
  {
    const { size, etag } = await headObject(ctx, { key: 'logs/day.gz' })
    void size, etag
  }
  {
    const open = await listMultipartUploads(ctx, { prefix: 'logs/' })
    void open
  }
  {
    const parts = await listParts(ctx, uploadId)
    void parts
  }
  {
    let token: string | undefined
    do {
      const page = await listObjectsV2(ctx, { prefix: 'logs/', continuationToken: token })
      for (const object of page.objects) console.log(object.key, object.size)
      token = page.nextContinuationToken
    } while (token !== undefined)
  }
  // upload-directory.ts
  {
    const entries = walkDirectory('./dist', { filter: (rel) => !rel.endsWith('.map') })
    await uploadAll(entries, { bucket: 'site', prefix: 'v2/' })
  }
  {
    const [part] = bufferParts(bytes) // bytes that fit in one part
    if (part) await putObject(ctx, await part.toPart(), { contentType: 'text/plain' })
  }
  {
    const done: UploadedPart[] = []
    for await (const part of toParts(source, { hash: defaultHash })) {
      done.push(await uploadPart(ctx, uploadId, part))
    }
  }
  // http/checksum.ts
  {
    void toParts(source, { checksum: checksumHash('CRC32') }) // zlib.crc32 where the runtime has it
  }
  {
    // parts: what uploadPart(ctx, uploadId, part, { checksumAlgorithm: 'CRC64NVME' }) returned
    const { value } = await objectChecksumOf('CRC64NVME', parts)
    await completeMultipartUpload(ctx, uploadId, parts, { checksumAlgorithm: 'CRC64NVME', objectChecksum: value })
  }
  // core crc.ts
  {
    const crc = createCrc32()
    crc.update(new TextEncoder().encode('123456789'))
    void crc.digest() // cb f4 39 26
    void [createCrc32c(), createCrc64Nvme()]
    const whole = combineCrc('CRC64NVME', crcOfPart1, crcOfPart2, part2.byteLength)
    void whole
  }
  // core buffer-parts.ts
  {
    const { sha256, checksum } = await digestChunks([bytes], { hash: createSha256, checksum: createCrc64Nvme })
    void [sha256, checksum]
  }
  // core to-parts.ts
  for await (const part of toParts(createReadStream(path))) {
    console.log(part.partNumber, part.byteLength, part.isLast)
  }
}
