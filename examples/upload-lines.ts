import { upload } from '@partstream/signer'

async function* lines() {
  for (let i = 0; i < 200_000; i++) yield new TextEncoder().encode(`line ${i}\n`)
}

// Credentials and region come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION.
const result = await upload(lines(), { bucket: 'logs', key: 'today.txt', endpoint: process.env.S3_ENDPOINT })
console.log(`${result.size} bytes in ${result.partCount} part(s), ETag ${result.etag}`)
