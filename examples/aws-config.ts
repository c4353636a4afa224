import { createCredentialsProvider, resolveS3Config, upload } from '@partstream/signer'

// What a target without region and endpoint gets: the AWS SDK / CLI sources, and where each came from.
const { profile, region, regionSource, endpoint, endpointSource } = resolveS3Config()
console.log(`profile ${profile}: region ${region} (${regionSource}), endpoint ${String(endpoint)} (${endpointSource})`)

// One provider for many uploads: resolved once (env, ~/.aws files, credential_process, or the
// AWS SDK's chain if installed), cached, and refreshed before it expires.
const credentials = createCredentialsProvider()
for (const key of ['a.txt', 'b.txt']) {
  const result = await upload(new TextEncoder().encode(`hello ${key}\n`), { bucket: 'logs', key, credentials })
  console.log(`${key}: ${result.size} bytes, ETag ${result.etag}`)
}
