// Resume after a crash. The first upload's source fails midway (the producer crashed) after S3
// acknowledged two parts; with `leavePartsOnError` those parts stay and the error carries the
// `uploadId`. The second upload gives the same source from its start, the same part size and
// `resumeUploadId`: the parts S3 holds are checked (size, and MD5 against the ETag) and skipped.
// A process that dies instead (kill -9) keeps the id from the `upload-created` event.
import { createHash } from 'node:crypto'
import { PartstreamError, upload, type UploadProgress } from '@partstream/signer'

const MiB = 1024 * 1024
const target = { bucket: 'logs', key: 'resumed/object.bin', endpoint: process.env['S3_ENDPOINT'] }
const partSize = 5 * MiB

/** 18 MiB in 1 MiB chunks, the same bytes every time; `crash` throws once two parts are stored. */
async function* source(crash?: Promise<void>): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < 18; i++) {
    // Part 2 is only handed over once the next chunk is known (toParts looks one chunk ahead),
    // so the crash comes after chunk 11.
    if (i === 11 && crash !== undefined) {
      await crash
      throw new Error('the producer crashed')
    }
    yield new Uint8Array(MiB).fill(i + 1)
  }
}

let acked = 0
let twoStored: () => void = () => {}
const crash = new Promise<void>((resolve) => (twoStored = resolve))
let uploadId: string | undefined
try {
  await upload(source(crash), target, {
    partSize,
    leavePartsOnError: true,
    onProgress: (e: UploadProgress) => {
      if (e.type === 'part-acked' && ++acked === 2) twoStored()
    },
  })
} catch (error) {
  if (!(error instanceof PartstreamError) || error.uploadId === undefined) throw error
  uploadId = error.uploadId
  console.log(`crashed after ${acked} parts: ${(error.cause as Error | undefined)?.message ?? error.message}; upload ${uploadId} kept`)
}

let reused = 0
let sent = 0
const result = await upload(source(), target, {
  partSize,
  resumeUploadId: uploadId,
  onProgress: (e: UploadProgress) => {
    if (e.type === 'part-skipped') reused++
    if (e.type === 'part-acked') sent++
  },
})
const sha = createHash('sha256')
for await (const chunk of source()) sha.update(chunk)
console.log(`resumed: ${reused} parts reused, ${sent} sent; ${result.size} bytes in ${result.partCount} parts, sha256 ${sha.digest('hex')}`)
