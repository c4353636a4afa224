/**
 * @packageDocumentation
 * Streaming uploads to S3: `upload(asyncIterable, target)` splits any byte stream into parts
 * (via `@partstream/core`), hashes each part once, signs it with SigV4 and sends it with undici,
 * up to `concurrency` parts at once, with bounded memory. No AWS SDK.
 *
 * The low-level S3 operations are exported too, for libraries that schedule parts themselves.
 * @example
 * import { upload } from '@partstream/signer'
 * const result = await upload(lines(), { bucket: 'logs', key: 'today.txt' })
 */
export { upload, DEFAULT_CONCURRENCY } from './upload.ts'
export type { UploadOptions, UploadResult, UploadSource } from './upload.ts'
export type { UploadProgress } from './progress.ts'
export { createS3Context } from './context.ts'
export type { Credentials, CredentialsProvider, S3Context, S3ContextOptions, UploadTarget } from './context.ts'
export { S3ResponseError, IntegrityError } from './errors.ts'
export { IdleTimeoutError } from './internal/idle-watchdog.ts'
export type { S3ErrorContext, S3Operation } from './errors.ts'
export type { RetryOptions } from './retry.ts'
export { defaultHash, nodeSha256, sha256js } from './internal/hash.ts'
export { encodeKey } from './internal/endpoint.ts'
export { createMultipartUpload } from './operations/create-multipart-upload.ts'
export type { CreateMultipartUploadOptions } from './operations/create-multipart-upload.ts'
export { uploadPart } from './operations/upload-part.ts'
export type { PartBody, UploadedPart, UploadPartOptions } from './operations/upload-part.ts'
export { completeMultipartUpload, multipartEtag } from './operations/complete-multipart-upload.ts'
export type { CompletedUpload } from './operations/complete-multipart-upload.ts'
export { abortMultipartUpload } from './operations/abort-multipart-upload.ts'
export { putObject } from './operations/put-object.ts'
export type { PutObjectOptions, PutObjectResult } from './operations/put-object.ts'
export { headObject } from './operations/head-object.ts'
export type { ObjectHead } from './operations/head-object.ts'
export { listMultipartUploads } from './operations/list-multipart-uploads.ts'
export type { OpenUpload } from './operations/list-multipart-uploads.ts'
export { listParts } from './operations/list-parts.ts'
export type { ObjectOptions } from './operations/common.ts'
// Re-exported so one import serves: errors share one base class and brand.
export {
  PartstreamError,
  InvalidArgumentError,
  InvalidChunkError,
  TooManyPartsError,
} from '@partstream/core'
export type { Part, PartSizePolicy, Hasher, HashFactory, PartstreamErrorCode } from '@partstream/core'
export { getObject } from './operations/get-object.ts'
export type { ObjectDownload } from './operations/get-object.ts'
export { createBucket } from './operations/create-bucket.ts'
export { uploadFile } from './upload-file.ts'
export { SourceChangedError } from './errors.ts'
export { abortStaleUploads } from './abort-stale-uploads.ts'
export type { AbortStaleUploadsOptions } from './abort-stale-uploads.ts'
export { undiciTransport } from './internal/transport.ts'
export type { Transport, TransportRequest, TransportResponse, TransportBody, TransportHeaders } from './internal/transport.ts'
export { fetchTransport, NetworkError } from './internal/fetch-transport.ts'
export type { FetchTransportOptions } from './internal/fetch-transport.ts'
