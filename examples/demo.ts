// The README's demo: streams generated data of unknown length to S3, reads it back and checks
// the SHA-256. `pnpm demo` starts a local Ceph RGW (or uses S3_ENDPOINT) and runs this.
import { createHash, randomBytes } from 'node:crypto'
import { createBucket, createS3Context, getObject, upload } from '@partstream/signer'

const MiB = 1024 * 1024
const size = Number(process.env['DEMO_MIB'] ?? 256) * MiB
const endpoint = process.env['S3_ENDPOINT'] ?? 'http://127.0.0.1:7480'
const credentials = {
  accessKeyId: process.env['S3_ACCESS_KEY_ID'] ?? process.env['AWS_ACCESS_KEY_ID'] ?? '',
  secretAccessKey: process.env['S3_SECRET_ACCESS_KEY'] ?? process.env['AWS_SECRET_ACCESS_KEY'] ?? '',
}
const bucket = process.env['DEMO_BUCKET'] ?? 'partstream-demo'
const key = `demo/${new Date().toISOString()}.bin`

// A stream whose length the uploader does not know: 64 KiB chunks of random bytes.
const sent = createHash('sha256')
async function* generate(): AsyncGenerator<Uint8Array> {
  const block = randomBytes(4 * MiB)
  for (let offset = 0; offset < size; offset += 64 * 1024) {
    const chunk = block.subarray(offset % block.byteLength, (offset % block.byteLength) + Math.min(64 * 1024, size - offset))
    sent.update(chunk)
    yield chunk
  }
}

await ensureBucket()
const started = performance.now()
const result = await upload(generate(), { bucket, key, endpoint, credentials })
const seconds = (performance.now() - started) / 1000
const got = await readBack()
const expected = sent.digest('hex')
console.log(`uploaded ${(result.size / MiB).toFixed(1)} MiB in ${result.partCount} parts to s3://${bucket}/${key}`)
console.log(`${(result.size / MiB / seconds).toFixed(0)} MiB/s (${seconds.toFixed(2)} s), ETag ${result.etag}`)
console.log(`sha256 sent ${expected}\nsha256 read ${got} ${got === expected ? '✓ verified' : '✗ MISMATCH'}`)
if (got !== expected) process.exit(1)

async function ensureBucket(): Promise<void> {
  const ctx = createS3Context({ bucket, key, endpoint, credentials })
  await createBucket(ctx).finally(() => ctx.close())
}

async function readBack(): Promise<string> {
  const ctx = createS3Context({ bucket, key, endpoint, credentials })
  try {
    const hash = createHash('sha256')
    for await (const chunk of (await getObject(ctx)).body) hash.update(chunk)
    return hash.digest('hex')
  } finally {
    await ctx.close()
  }
}
