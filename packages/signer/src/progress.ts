import type { S3ResponseError } from './errors.ts'

/**
 * One step of an upload, delivered to `onProgress` in order. Byte counts are exact: `bytesAcked`
 * only counts parts S3 acknowledged, so a progress bar never runs ahead of the server.
 */
export type UploadProgress =
  /** The multipart upload exists: keep `uploadId` to resume or abort it later. */
  | { readonly type: 'upload-created'; readonly uploadId: string }
  /** Resuming: S3 already holds `storedParts` parts of `uploadId` (each is checked before it is skipped). */
  | { readonly type: 'upload-resumed'; readonly uploadId: string; readonly storedParts: number }
  /** Resuming: the source's part matched the stored one (size and MD5), so it was not sent again. */
  | { readonly type: 'part-skipped'; readonly partNumber: number; readonly partBytes: number; readonly bytesAcked: number; readonly totalBytes: number | undefined }
  | { readonly type: 'part-started'; readonly partNumber: number; readonly partBytes: number; readonly bytesAcked: number; readonly totalBytes: number | undefined }
  | { readonly type: 'part-acked'; readonly partNumber: number; readonly partBytes: number; readonly bytesAcked: number; readonly totalBytes: number | undefined }
  | {
      readonly type: 'part-retried'
      readonly partNumber: number
      readonly attempt: number
      readonly error: S3ResponseError
      readonly bytesAcked: number
      readonly totalBytes: number | undefined
    }
  | { readonly type: 'done'; readonly bytesAcked: number; readonly totalBytes: number; readonly partCount: number }
