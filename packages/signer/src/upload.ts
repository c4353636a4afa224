import { bufferParts, isUint8Array, planParts, resolvePartSize, toParts, type BufferPart, type Part } from '@partstream/core'
import { SourceChangedError } from './errors.ts'
import { closeOwnContext, createS3Context, type UploadTarget } from './http/context.ts'
import { validateKey } from './http/endpoint.ts'
import { closeSource, SOURCE_CLOSE_GRACE_MS } from './upload/cleanup.ts'
import { isBlob, partHashes, validateUploadOptions, type UploadOptions, type UploadResult, type UploadSource } from './upload/options.ts'
import { objectHeaders, pickObjectOptions } from './operations/object-options.ts'
import { runUpload } from './upload/run-upload.ts'

/** A buffer's parts are views of it; each is hashed only when the upload loop asks for it. */
async function* viewParts(parts: readonly BufferPart[]): AsyncGenerator<Part> {
  for (const part of parts) yield await part.toPart()
}

/**
 * Uploads a stream of unknown length (or a buffer, or a `Blob`) to S3 as one object, with bounded memory.
 *
 * Reads the source only when a part slot is free, hashes each part once as it fills, sends up
 * to `concurrency` parts at once, and completes the upload. A source that fits in one part is
 * sent with a single PutObject (the empty source too: a 0-byte object).
 *
 * Once called, `upload` owns the source: it is handed to `toParts` first, so on any failure or
 * abort (invalid options and targets included) the source is closed — `return()` on its
 * iterator, which cancels a `ReadableStream` and destroys a Node `Readable`. On failure it stops
 * pulling, lets in-flight parts settle, aborts the multipart upload (unless
 * `leavePartsOnError`), closes the source, and rejects with the first error (or `signal.reason`).
 * @example
 * const result = await upload(lines(), {
 *   bucket: 'logs', key: 'today.txt', endpoint: 'http://127.0.0.1:7480',
 *   credentials: { accessKeyId, secretAccessKey },
 * })
 */
export async function upload(source: UploadSource, target: UploadTarget, options: UploadOptions = {}): Promise<UploadResult> {
  const controller = new AbortController()
  const given: UploadOptions = typeof options === 'object' && options !== null ? options : {}
  // A Blob (a File from a form, a fetched body) knows its size and type: read through its stream,
  // with its size as the size hint (parts sized to fit, progress with a total) and its type as
  // the default content type.
  const blob = isBlob(source) ? source : undefined
  const opts: UploadOptions =
    blob === undefined
      ? given
      : { ...given, sizeHint: given.sizeHint ?? (given.partSize === undefined ? blob.size : undefined), contentType: given.contentType ?? (blob.type === '' ? undefined : blob.type) }
  // The payload hash, the checksum and the MD5, each computed in the one pass over each part.
  const hashes = partHashes(opts)
  // The source goes to core first: from here on, every exit closes it. (toParts closes it itself
  // when it refuses the source or its options.)
  const whole = isUint8Array(source)
  const parts: AsyncIterator<Part> = whole
    ? viewParts(bufferParts(source, { partSize: opts.partSize, ...hashes }))
    : toParts(blob === undefined ? (source as Exclude<UploadSource, Uint8Array | Blob>) : blob.stream(), {
        partSize: opts.partSize,
        sizeHint: opts.sizeHint,
        ...hashes,
        signal: controller.signal,
        maxViewOverhead: opts.maxViewOverhead,
        // An error raised inside toParts (an invalid chunk) closes the source before the upload
        // sees it: a return() that never settles must not hold that error back for ever either.
        closeGraceMs: SOURCE_CLOSE_GRACE_MS,
      })
  // A Blob whose stream gave another number of bytes than its `size` (a file behind it changed:
  // Bun's file Blob reads the file as it is now) fails before the object is written, as a file
  // does, rather than writing a shorter object (and a progress total that shrank mid-upload).
  let read = 0
  const counted: AsyncIterator<Part> =
    blob === undefined
      ? parts
      : {
          next: async () => {
            const step = await parts.next()
            if (step.done !== true) read += step.value.byteLength
            return step
          },
          return: async (value?: unknown) => (await parts.return?.(value)) ?? { done: true, value: undefined },
        }
  const assertBlobSize =
    blob === undefined
      ? undefined
      : async (): Promise<void> => {
          if (read !== blob.size) {
            throw new SourceChangedError(`The Blob's stream gave ${read} bytes, but its \`size\` was ${blob.size} when the upload started: what is behind it (a file) changed.`, undefined, 'Upload a snapshot, or retry once it is stable.')
          }
        }
  let ctx
  let concurrency
  let key
  try {
    concurrency = validateUploadOptions(options, target)
    // A Blob's size with an explicit partSize: too many parts is refused now (TooManyPartsError),
    // as for a file, not at part 10,000 after ~49 GiB were sent.
    if (blob !== undefined && given.partSize !== undefined && given.sizeHint === undefined) planParts(blob.size, resolvePartSize(given.partSize))
    ctx = createS3Context(target, { ...opts, connections: opts.connections ?? concurrency })
    key = validateKey(target.key)
    objectHeaders(opts, true) // invalid object options fail now, before any request
  } catch (error) {
    await closeSource(parts)
    throw error
  }
  let resolved = false
  try {
    const result = await runUpload(ctx, counted, {
      ...opts,
      key,
      concurrency,
      controller,
      objectOptions: pickObjectOptions(opts),
      totalBytes: whole ? source.byteLength : blob?.size,
      beforeComplete: assertBlobSize,
    })
    resolved = true
    return result
  } finally {
    await closeOwnContext(ctx, resolved)
  }
}
