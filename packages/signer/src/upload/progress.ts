import type { S3ResponseError } from '../errors.ts'

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
  /**
   * The object is being written: CompleteMultipartUpload, or the single PutObject's whole body,
   * was handed to S3. An abort from here waits for S3's answer (a grace), and without one the
   * object may or may not exist. At most once, before `done`.
   */
  | { readonly type: 'committing'; readonly bytesAcked: number; readonly totalBytes: number }
  | { readonly type: 'done'; readonly bytesAcked: number; readonly totalBytes: number; readonly partCount: number }

/** Owns `bytesAcked` and `totalBytes` and turns upload steps into `UploadProgress` events. */
export interface ProgressReporter {
  readonly bytesAcked: number
  /** The total became known (a source that fits in one part; the last part read). */
  knowTotal(bytes: number): void
  created(uploadId: string): void
  resumed(uploadId: string, storedParts: number): void
  started(partNumber: number, partBytes: number): void
  acked(partNumber: number, partBytes: number): void
  skipped(partNumber: number, partBytes: number): void
  retried(partNumber: number, attempt: number, error: S3ResponseError): void
  /** The commit request was handed over whole (once; a listener's error is dropped: see below). */
  committing(): void
  done(partCount: number): void
}

/**
 * The reporter of one upload. A listener that throws throws at the call site (which fails the
 * upload there); one that returns a promise which rejects reports it to `onError`.
 * `totalBytes`: known up front (buffers, files), else `undefined` until the last part is read.
 */
export function progressReporter(
  onProgress: ((event: UploadProgress) => unknown) | undefined,
  totalBytes: number | undefined,
  onError: (error: unknown) => void,
): ProgressReporter {
  let bytesAcked = 0
  let committing = false
  // Bytes of the parts sent or skipped so far: past a total given up front (a regular file's size
  // for uploadFd, which can grow while it is read), that total was wrong, and is dropped until the
  // last part says the true one (a bar read 185 % with the old total still shown).
  let bytesSeen = 0
  let final = false
  const seen = (partBytes: number): void => {
    bytesSeen += partBytes
    if (!final && totalBytes !== undefined && bytesSeen > totalBytes) totalBytes = undefined
  }
  const emit = (event: UploadProgress): void => {
    if (onProgress === undefined) return
    const returned: unknown = onProgress(event)
    if (typeof returned === 'object' && returned !== null && typeof (returned as PromiseLike<void>).then === 'function') {
      ;(returned as PromiseLike<void>).then(undefined, onError)
    }
  }
  const part = (type: 'part-started' | 'part-acked' | 'part-skipped', partNumber: number, partBytes: number): void =>
    emit({ type, partNumber, partBytes, bytesAcked, totalBytes })
  return {
    get bytesAcked() {
      return bytesAcked
    },
    knowTotal(bytes) {
      totalBytes = bytes
      final = true
    },
    created: (uploadId) => emit({ type: 'upload-created', uploadId }),
    resumed: (uploadId, storedParts) => emit({ type: 'upload-resumed', uploadId, storedParts }),
    started(partNumber, partBytes) {
      seen(partBytes)
      part('part-started', partNumber, partBytes)
    },
    acked(partNumber, partBytes) {
      bytesAcked += partBytes
      part('part-acked', partNumber, partBytes)
    },
    skipped(partNumber, partBytes) {
      seen(partBytes)
      bytesAcked += partBytes
      part('part-skipped', partNumber, partBytes)
    },
    retried: (partNumber, attempt, error) => emit({ type: 'part-retried', partNumber, attempt, error, bytesAcked, totalBytes }),
    committing() {
      if (committing) return // a retried commit request
      committing = true
      // Called from inside the request (its body handed over): a listener's error must not reach
      // the transport, and cannot stop a request S3 may be carrying out. Dropped, as after done.
      try {
        emit({ type: 'committing', bytesAcked, totalBytes: totalBytes ?? bytesAcked })
      } catch {
        // ignored: see above
      }
    },
    done: (partCount) => emit({ type: 'done', bytesAcked, totalBytes: bytesAcked, partCount }),
  }
}
