import { toParts } from '@partstream/core'
import { createReadStream } from 'node:fs'

// Parts are zero-copy views of the chunks the stream yields, hashed as they fill.
for await (const part of toParts(createReadStream(process.argv[2] ?? import.meta.filename))) {
  const hex = Buffer.from(part.sha256 ?? []).toString('hex')
  console.log(`part ${part.partNumber}: ${part.byteLength} bytes in ${part.chunks.length} chunks, sha256 ${hex}`)
}
