/**
 * S3 multipart limits and core's defaults, in bytes or counts. Every limit is checked before a part
 * is produced, so nothing that S3 would reject after the upload is already paid for gets sent.
 *
 * Source: https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html (also enforced by
 * Ceph RGW, MinIO and R2, which is why the classic limits are kept even where AWS now allows more).
 * @module
 */

const MiB = 1024 * 1024
const GiB = 1024 * MiB
const TiB = 1024 * GiB

/**
 * S3: every part except the last must be at least 5 MiB, or CompleteMultipartUpload fails with
 * `EntityTooSmall` — after every part was uploaded. The last part may be smaller (even empty).
 * @example
 * fixedPartSize(MIN_PART_SIZE_BYTES) // the smallest valid fixed policy
 */
export const MIN_PART_SIZE_BYTES: number = 5 * MiB

/**
 * S3: a single part is at most 5 GiB (UploadPart answers `EntityTooLarge` above it).
 * @example
 * adaptivePartSize({ max: MAX_PART_SIZE_BYTES })
 */
export const MAX_PART_SIZE_BYTES: number = 5 * GiB

/**
 * S3: at most 10,000 parts per multipart upload, numbered 1 to 10,000.
 * @example
 * const capacity = MAX_PARTS * DEFAULT_PART_SIZE_BYTES // ~58.6 GiB with fixed 6 MiB parts
 */
export const MAX_PARTS: number = 10_000

/**
 * S3: an object is at most 5 TiB. AWS has since raised this on some endpoints, but Ceph RGW, MinIO,
 * R2 and older AWS regions keep 5 TiB, so it is the limit core enforces. It is a named constant so
 * the number has exactly one home.
 * @example
 * maxObjectSize(adaptivePartSize()) === MAX_OBJECT_SIZE_BYTES // true: the default schedule reaches it
 */
export const MAX_OBJECT_SIZE_BYTES: number = 5 * TiB

/**
 * Default fixed part size: 6 MiB. Above the 5 MiB minimum with headroom, small enough that
 * `(concurrency + 1) × partSize` stays around 30 MiB at the default concurrency of 4, and equal
 * parts keep R2 (which requires equal non-last parts) happy. Caps an object at about 58.6 GiB;
 * give `sizeHint` or use `adaptivePartSize()` for more.
 * @example
 * fixedPartSize() // same as fixedPartSize(DEFAULT_PART_SIZE_BYTES)
 */
export const DEFAULT_PART_SIZE_BYTES: number = 6 * MiB

/**
 * S3: a single PutObject carries at most 5 GiB. Larger objects must use multipart upload.
 * @example
 * const single = part.isLast && part.partNumber === 1 && part.byteLength <= MAX_SINGLE_PUT_BYTES
 */
export const MAX_SINGLE_PUT_BYTES: number = 5 * GiB

/**
 * Default of `ToPartsOptions.maxViewOverhead`: a chunk whose backing buffer is more than 64 KiB
 * larger than the chunk is copied before it is held. 64 KiB is the usual stream chunk size, so
 * ordinary chunks (including small `Buffer`s carved from Node's 8 KiB pool) are never copied.
 * @example
 * toParts(source, { maxViewOverhead: DEFAULT_MAX_VIEW_OVERHEAD_BYTES })
 */
export const DEFAULT_MAX_VIEW_OVERHEAD_BYTES: number = 64 * 1024
