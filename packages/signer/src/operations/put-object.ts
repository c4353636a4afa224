import { S3ResponseError } from '../errors.ts'
import type { S3Context } from '../http/context.ts'
import { objectPath, stateOf, type ContextState } from '../http/state.ts'
import { md5Hex, toHex } from '../http/hash.ts'
import { header, sendS3, type Grace, type S3Answer } from '../http/send.ts'
import { EMPTY_SHA256 } from '../http/sign.ts'
import { assertChecksumEchoed, checksumHeader, type ChecksumAlgorithm } from '../http/checksum.ts'
import { objectHeaders, unquote, type ObjectOptions, type ObjectRequestOptions } from './object-options.ts'
import { digestHeaders, payloadHashOf, requireEtag, type PartBody } from './upload-part.ts'
import { requireBody } from './validate.ts'

/** Options of {@link putObject}. */
export interface PutObjectOptions extends ObjectRequestOptions, ObjectOptions {
  /**
   * Send the body's checksum (`body.checksum`, or `body.sha256` for SHA256) as
   * `x-amz-checksum-<algorithm>`; a different one echoed by the server is an `IntegrityError`.
   * A body carrying `md5` sends `Content-MD5` either way.
   * @default undefined: no checksum header
   */
  readonly checksumAlgorithm?: ChecksumAlgorithm | undefined
}

/** What PutObject answered. */
export interface PutObjectResult {
  /** Without quotes. An answer without an ETag header is an `S3ResponseError` (as for UploadPart). */
  readonly etag: string
  readonly versionId: string | undefined
  /** Base64 of the body's checksum, when `checksumAlgorithm` was given. */
  readonly checksum: string | undefined
  /**
   * `true` when, with `ifNoneMatch`, the answer to an earlier attempt was lost and the retry met
   * the object that attempt wrote (412): the object was confirmed with HeadObject, and
   * `etag`/`versionId` come from there.
   */
  readonly reconciled: boolean
}

/**
 * Writes a whole object in one request: used when the source fits in one part (the empty
 * source included). Retried from the held bytes.
 *
 * With `ifNoneMatch`, a retry can meet the object an earlier attempt wrote (412) when only that
 * attempt's answer was lost (connection reset, idle timeout, a 5xx after the write). Then the
 * object is read back with HeadObject and judged by its size and ETag (the body's MD5) or checksum:
 * ours, the put succeeded (`reconciled: true`); another writer's, the 412 is thrown; undecidable (an SSE-KMS ETag and no
 * checksum to compare, a HeadObject refused), an `S3ResponseError` (412) saying so, marked for
 * {@link isUnverifiedPut}. A 412 after attempts that did nothing (a 429, a 400) is thrown as is.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
 * @example
 * const [part] = bufferParts(bytes) // bytes that fit in one part
 * if (part) await putObject(ctx, await part.toPart(), { contentType: 'text/plain' })
 */
export async function putObject(ctx: S3Context, body: PartBody, options: PutObjectOptions = {}): Promise<PutObjectResult> {
  return putWithin(ctx, body, options, undefined)
}

/**
 * {@link putObject}, its request cancelled only by `grace.signal` once its body is handed over
 * (`grace.onCommit` then; see `S3Request.graceSignal`).
 */
export async function putWithin(ctx: S3Context, body: PartBody, options: PutObjectOptions, grace: Grace | undefined): Promise<PutObjectResult> {
  const state = stateOf(ctx)
  requireBody(body)
  const algorithm = options.checksumAlgorithm
  const digests = digestHeaders(body, algorithm)
  // Whether an attempt that failed may still have written the object (create.ts's rule: no
  // answer, or a 5xx). A 4xx was refused before anything was stored.
  let mayHaveWritten = false
  let answer: S3Answer
  try {
    answer = await sendS3(
      state,
      {
        method: 'PUT',
        path: objectPath(state, options.key),
        headers: { ...objectHeaders(options, true), ...digests.headers },
        body: body.chunks,
        contentLength: body.byteLength,
        payloadHash: payloadHashOf(body),
        signal: options.signal,
        graceSignal: grace?.signal,
        onCommit: grace?.onCommit,
        onRetry: (error, attempt) => {
          mayHaveWritten ||= error.statusCode === 0 || error.statusCode >= 500
          options.onRetry?.(error, attempt)
        },
        idempotent: true,
      },
      { operation: 'PutObject' },
    )
  } catch (error) {
    if (options.ifNoneMatch === true && mayHaveWritten && error instanceof S3ResponseError && error.statusCode === 412) {
      return reconcile(state, body, options, digests.checksum, error)
    }
    throw error
  }
  const etag = requireEtag(answer, { operation: 'PutObject' })
  const { checksum } = digests
  if (algorithm !== undefined && checksum !== undefined) {
    assertChecksumEchoed(header(answer.headers, checksumHeader(algorithm)), checksum, algorithm, 'the object')
  }
  return { etag, versionId: header(answer.headers, 'x-amz-version-id'), checksum, reconciled: false }
}

/** The errors {@link reconcile} could not decide: an `S3ResponseError` like any 412, told apart here. */
const unverified = new WeakSet<object>()

/**
 * Whether `error` is a PutObject with `ifNoneMatch` that met an object after a lost answer and
 * could not tell whether it is its own: not "the key is taken, nothing was written".
 */
export function isUnverifiedPut(error: unknown): boolean {
  return typeof error === 'object' && error !== null && unverified.has(error)
}

/** What HeadObject says of the object at the key, as far as telling whose it is goes. */
interface ObjectSeen {
  readonly size: number
  /** Without quotes. */
  readonly etag: string
  /** `x-amz-server-side-encryption`: `aws:kms`/`aws:kms:dsse` ETags are not the body's MD5. */
  readonly serverSideEncryption: string | undefined
  /** Base64 `x-amz-checksum-<algorithm>` of the upload's algorithm, when S3 reports it. */
  readonly checksum: string | undefined
}

/**
 * Whether the object `seen` at the key is `body` as one PutObject wrote it: `true`, `false`, or
 * why it cannot be told. A different size, a multipart ETag (`-N`) or a different checksum is
 * another object; the same checksum, or the body's MD5 as ETag (not under SSE-KMS, whose ETags
 * are not MD5s, nor SSE-C, which partstream does not send), is ours. Another writer's object
 * with exactly our bytes counts as ours: the key then holds what we meant to write.
 */
function ownObject(
  body: Pick<PartBody, 'chunks' | 'byteLength' | 'md5'>,
  seen: ObjectSeen,
  checksum: string | undefined,
  kms: boolean,
): boolean | string {
  if (seen.size !== body.byteLength || /-\d+$/.test(seen.etag)) return false
  if (checksum !== undefined && seen.checksum !== undefined) return seen.checksum === checksum
  if (kms || seen.serverSideEncryption?.startsWith('aws:kms') === true) {
    return `its ETag is not an MD5 of the body (SSE-KMS) and ${checksum === undefined ? 'no `checksum` was sent' : 'the server reports no checksum'} to compare`
  }
  if (!/^[0-9a-f]{32}$/i.test(seen.etag)) return `its ETag ${JSON.stringify(seen.etag)} is not an MD5 and no checksum can be compared`
  const md5 = body.md5 === undefined ? md5Hex(body.chunks) : toHex(body.md5)
  if (md5 === undefined) return 'this runtime has no MD5 to compare with its ETag'
  return seen.etag.toLowerCase() === md5
}

/** The put after a lost answer and a 412: see {@link putObject}. */
async function reconcile(
  state: ContextState,
  body: PartBody,
  options: PutObjectOptions,
  checksum: string | undefined,
  precondition: S3ResponseError,
): Promise<PutObjectResult> {
  const algorithm = options.checksumAlgorithm
  let answer: S3Answer
  try {
    answer = await sendS3(
      state,
      {
        method: 'HEAD',
        path: objectPath(state, options.key),
        // S3 reports an object's checksum on HeadObject only when asked.
        headers: algorithm === undefined ? undefined : { 'x-amz-checksum-mode': 'ENABLED' },
        payloadHash: EMPTY_SHA256,
        signal: options.signal,
        idempotent: true,
      },
      { operation: 'HeadObject' },
    )
  } catch (error) {
    // Gone since (404), not ours to read (403): nothing says whose the object was.
    if (error instanceof S3ResponseError) throw unverifiedPut(precondition, `HeadObject failed with HTTP ${error.statusCode}${error.s3Code === undefined ? '' : ` ${error.s3Code}`}`)
    throw error
  }
  const seen: ObjectSeen = {
    size: Number(header(answer.headers, 'content-length') ?? Number.NaN),
    etag: unquote(header(answer.headers, 'etag')) ?? '',
    serverSideEncryption: header(answer.headers, 'x-amz-server-side-encryption'),
    checksum: algorithm === undefined ? undefined : header(answer.headers, checksumHeader(algorithm)),
  }
  const ours = ownObject(body, seen, checksum, options.serverSideEncryption?.startsWith('aws:kms') === true)
  if (ours === true) return { etag: seen.etag, versionId: header(answer.headers, 'x-amz-version-id'), checksum, reconciled: true }
  if (ours === false) throw precondition
  throw unverifiedPut(precondition, ours)
}

/** The 412 of a put whose object could not be told ours or not, saying so (`why`), the 412 as `cause`. */
function unverifiedPut(precondition: S3ResponseError, why: string): S3ResponseError {
  const error = new S3ResponseError(
    {
      statusCode: precondition.statusCode,
      s3Code: precondition.s3Code,
      s3Message:
        'the answer to an earlier attempt was lost and the retry found an object at the key; whether it is the one that attempt wrote ' +
        `cannot be told: ${why}. Check the object before relying on it (or before writing it again)`,
      requestId: precondition.requestId,
      operation: 'PutObject',
      attempt: precondition.attempt,
    },
    { cause: precondition },
  )
  unverified.add(error)
  return error
}
