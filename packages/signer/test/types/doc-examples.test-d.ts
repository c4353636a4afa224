/**
 * The `@example` blocks of the signer's JSDoc, type-checked (by `tsc -p packages/signer/test/types`,
 * part of `pnpm typecheck`): each block below is the example as written above its function, with
 * its free variables declared. An example that stops compiling fails the typecheck.
 */
import { toParts, type Hasher, type PartstreamError } from '@partstream/core'
import { Agent } from 'undici'
import {
  abortMultipartUpload,
  abortStaleUploads,
  checksumHash,
  completeMultipartUpload,
  createBucket,
  createCredentialsProvider,
  createMultipartUpload,
  createS3Context,
  defaultHash,
  deleteBucket,
  deleteObject,
  fetchTransport,
  getObject,
  headObject,
  listMultipartUploads,
  listObjectsV2,
  listParts,
  multipartEtag,
  objectChecksumOf,
  putObject,
  resolveCredentials,
  resolveS3Config,
  undiciTransport,
  upload,
  uploadFd,
  uploadFile,
  uploadAll,
  uploadDirectory,
  uploadPart,
  walkDirectory,
  type S3Context,
  type UploadedPart,
  type UploadTarget,
} from '../../src/index.ts'
import { compareKeys } from '../../src/upload/key-order.ts'
import { bufferParts } from '@partstream/core'

declare const ctx: S3Context
declare const uploadId: string
declare const parts: readonly UploadedPart[]
declare const endpoint: string
declare const accessKeyId: string
declare const secretAccessKey: string
declare const source: AsyncIterable<Uint8Array>
declare const target: UploadTarget
declare const bytes: Uint8Array
declare const hash: Hasher
declare const path: string
declare const err: PartstreamError
declare const bucket: string
declare const files: readonly string[]
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
  await deleteBucket(createS3Context({ bucket: 'demo', endpoint }))
  await deleteObject(ctx, { key: 'logs/day.gz' })
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
  // errors.ts
  if (err.code === 'ERR_PARTSTREAM_HASH_WORKER') await uploadFile(path, target, { hashThreads: 0 })
  if (err.code === 'ERR_PARTSTREAM_CREDENTIALS') console.error(err.message) // says what was tried
  // http/credential-chain.ts
  {
    const { accessKeyId, expiration } = await resolveCredentials({ profile: 'backup' })
    void [accessKeyId, expiration]
  }
  {
    const credentials = createCredentialsProvider({ profile: 'backup' })
    for (const file of files) await uploadFile(file, { bucket, key: file, credentials })
  }
  // http/s3-config.ts
  {
    const { region, endpoint, endpointSource } = resolveS3Config({ profile: 'minio' })
    void [region, endpoint, endpointSource]
  }
  // upload-all.ts
  {
    const { failed } = await uploadAll([{ key: 'a.txt', path: './a.txt' }], { bucket: 'site', prefix: 'v2/' })
    void failed
  }
  // upload-directory.ts (walkDirectory's example is above)
  {
    const { failed, files } = await uploadDirectory('./dist', { bucket: 'site', prefix: 'v2/' })
    void [failed, files]
  }
  // upload/key-order.ts
  void (compareKeys('a-b', 'a/x') < 0) // '-' (0x2D) before '/' (0x2F), as S3 lists them
}
