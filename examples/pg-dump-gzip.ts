// `pg_dump mydb | gzip | aws s3 cp - s3://backups/mydb.sql.gz`, in-process: a generated SQL dump
// (a stand-in for pg_dump's stdout) through node:zlib's gzip into S3. upload() pulls from gzip and
// gzip from the dump, so memory stays at (concurrency + 1) × partSize whatever the dump's size.
import { createHash } from 'node:crypto'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import { upload, type UploadResult } from '@partstream/signer'

const rows = Number(process.env['ROWS'] ?? 300_000)
const dumped = createHash('sha256') // of the uncompressed dump, to check the object against
let dumpedBytes = 0

/** What pg_dump writes: a header, then one INSERT per row. */
async function* pgDump(): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder()
  const emit = (text: string): Uint8Array => {
    const bytes = encoder.encode(text)
    dumped.update(bytes)
    dumpedBytes += bytes.byteLength
    return bytes
  }
  yield emit('-- PostgreSQL database dump\nCREATE TABLE events (id bigint, at timestamptz, payload text);\n')
  // pg_dump writes in blocks, not a line at a time: ~64 KiB per chunk keeps gzip's per-write cost low.
  let block = ''
  for (let id = 1; id <= rows; id++) {
    block += `INSERT INTO events VALUES (${id}, '2026-01-01T00:00:${String(id % 60).padStart(2, '0')}Z', 'event ${(id * 2654435761) % 4294967296}');\n`
    if (block.length >= 64 * 1024 || id === rows) {
      yield emit(block)
      block = ''
    }
  }
}

// pipeline() links the stages: an error in any of them (the dump, gzip, or the upload) stops all
// of them, and upload() closes its source (gzip) when S3 fails.
let result: UploadResult | undefined
await pipeline(pgDump(), createGzip(), async (gzipped: AsyncIterable<Uint8Array>) => {
  result = await upload(gzipped, { bucket: 'logs', key: 'backups/mydb.sql.gz', endpoint: process.env['S3_ENDPOINT'] }, { contentType: 'application/gzip' })
})
console.log(`dump: ${dumpedBytes} bytes, sha256 ${dumped.digest('hex')}`)
console.log(`gzip: ${result?.size} bytes in ${result?.partCount} part(s) to s3://logs/backups/mydb.sql.gz`)
