/**
 * @packageDocumentation
 * Streaming uploads to S3: `upload(asyncIterable, target)` splits any byte stream into parts
 * (via `@partstream/core`), hashes each part once, signs it with SigV4 and sends it with undici,
 * up to `concurrency` parts at once, with bounded memory. No AWS SDK.
 *
 * The low-level S3 operations are exported too, for libraries that schedule parts themselves.
 *
 * Layers (each folder imports only from the ones before it; `pnpm lint` checks it):
 * `errors.ts` ← `transport/` (HTTP seam) ← `http/` (context, signing, sending, retries, S3 XML)
 * ← `operations/` (one S3 call per file) ← `upload/` (scheduler, resume, finish, cleanup)
 * ← the entry files (`upload.ts`, `upload-file.ts`, `abort-stale-uploads.ts`, this index).
 * @example
 * import { upload } from '@partstream/signer'
 * const result = await upload(lines(), { bucket: 'logs', key: 'today.txt' })
 */

// Entry points.
export { upload } from './upload.ts'
export { uploadFile } from './upload-file.ts'
export { uploadFd } from './upload-fd.ts'
export type { UploadFdOptions } from './upload-fd.ts'
export { uploadAll } from './upload-all.ts'
export type { FileResult, UploadAllOptions, UploadAllProgress, UploadAllResult, UploadAllTarget, UploadAllTotals, UploadEntry } from './upload-all.ts'
export { uploadDirectory, walkDirectory } from './upload-directory.ts'
export { contentTypeFor } from './upload/content-type.ts'
export type { UploadDirectoryOptions, WalkDirectoryOptions, WalkEntry } from './upload-directory.ts'
export type { SkipBy, SkipExisting, SkipUsing } from './upload/skip-existing.ts'
export { abortStaleUploads } from './abort-stale-uploads.ts'
export type { AbortStaleUploadsOptions } from './abort-stale-uploads.ts'
export { DEFAULT_CONCURRENCY } from './upload/options.ts'
export type { UploadOptions, UploadResult, UploadSource } from './upload/options.ts'
export type { UploadProgress } from './upload/progress.ts'

// Errors: one base class and brand shared with core; match on `err.code`.
export {
  AbortFailedError,
  CredentialsError,
  HashWorkerError,
  IdleTimeoutError,
  IntegrityError,
  NetworkError,
  ObjectExistsError,
  S3ResponseError,
  SourceChangedError,
  SourceReadError,
  UploadFailedError,
} from './errors.ts'
export type { IdlePhase, S3ErrorContext, S3Operation } from './errors.ts'
export {
  PartstreamError,
  InvalidArgumentError,
  InvalidChunkError,
  ObjectTooLargeError,
  TooManyPartsError,
} from '@partstream/core'
export type { Part, PartSizePolicy, Hasher, HashFactory, PartstreamErrorCode, CrcAlgorithm } from '@partstream/core'

// The context and what it is made of.
export { createS3Context } from './http/context.ts'
export type { BucketTarget, S3Context, S3ContextOptions, S3ContextTarget, UploadTarget } from './http/context.ts'
export type { Credentials, CredentialsProvider } from './http/credentials.ts'

// Credentials, region and endpoint the way the AWS SDK and CLI find them (for embedders and CLIs).
export { createCredentialsProvider, resolveCredentials } from './http/credential-chain.ts'
export type { ResolveCredentialsOptions } from './http/credential-chain.ts'
export { awsS3Endpoint, resolveCaBundle, resolveChecksumCalculation, resolveMaxAttempts, resolveS3Config } from './http/s3-config.ts'
export type { AwsEndpointVariant, CaBundleSetting, ChecksumCalculationSetting, MaxAttemptsSetting, ResolveChecksumCalculationOptions, ResolveS3ConfigOptions, ResolvedS3Config } from './http/s3-config.ts'
export type { RetryOptions } from './http/retry.ts'
export { defaultHash, nodeSha256, sha256js } from './http/hash.ts'
export { checksumHash, objectChecksumOf } from './http/checksum.ts'
export type { ChecksumAlgorithm, ChecksumType, ObjectChecksum, PartChecksum } from './http/checksum.ts'
export { encodeKey, validateKey } from './http/endpoint.ts'

// Transports.
export { undiciTransport } from './transport/undici.ts'
export { proxyAgent } from './transport/proxy.ts'
export type { ProxyAgentOptions } from './transport/proxy.ts'
export { fetchTransport } from './transport/fetch.ts'
export type { FetchTransportOptions } from './transport/fetch.ts'
export type { Transport, TransportRequest, TransportResponse, TransportBody, TransportHeaders } from './transport/types.ts'

// Low-level S3 operations: (ctx, …required, options?) each.
export type { CannedAcl, ObjectOptions, ObjectRequestOptions, RequestOptions } from './operations/object-options.ts'
export { validateObjectOptions } from './operations/object-options.ts'
export { createMultipartUpload } from './operations/create-multipart-upload.ts'
export type { CreateMultipartUploadOptions } from './operations/create-multipart-upload.ts'
export { uploadPart } from './operations/upload-part.ts'
export type { PartBody, UploadedPart, UploadPartOptions } from './operations/upload-part.ts'
export { completeMultipartUpload, multipartEtag } from './operations/complete-multipart-upload.ts'
export type { CompletedUpload, CompleteMultipartUploadOptions } from './operations/complete-multipart-upload.ts'
export { abortMultipartUpload } from './operations/abort-multipart-upload.ts'
export type { AbortMultipartUploadOptions } from './operations/abort-multipart-upload.ts'
export { putObject } from './operations/put-object.ts'
export type { PutObjectOptions, PutObjectResult } from './operations/put-object.ts'
export { headObject } from './operations/head-object.ts'
export type { HeadObjectOptions, ObjectHead } from './operations/head-object.ts'
export { getObject } from './operations/get-object.ts'
export { getObjectTagging } from './operations/get-object-tagging.ts'
export type { GetObjectTaggingOptions } from './operations/get-object-tagging.ts'
export type { GetObjectOptions, ObjectDownload } from './operations/get-object.ts'
export { listMultipartUploads } from './operations/list-multipart-uploads.ts'
export type { ListMultipartUploadsOptions, OpenUpload } from './operations/list-multipart-uploads.ts'
export { listObjectsV2 } from './operations/list-objects-v2.ts'
export type { ListedObject, ListObjectsV2Options, ListObjectsV2Page } from './operations/list-objects-v2.ts'
export { listParts } from './operations/list-parts.ts'
export type { ListedParts, ListPartsOptions } from './operations/list-parts.ts'
export { createBucket } from './operations/create-bucket.ts'
export type { CreateBucketOptions } from './operations/create-bucket.ts'
export { deleteObject } from './operations/delete-object.ts'
export type { DeleteObjectOptions } from './operations/delete-object.ts'
export { deleteBucket } from './operations/delete-bucket.ts'
export type { DeleteBucketOptions } from './operations/delete-bucket.ts'
