// An option name that is surely a mistake is refused before any request: it used to be ignored
// without a word (`{ concurency: 1 }` ran at 4; `{ endpoint }` in the options sent to AWS).
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InvalidArgumentError, upload, uploadAll, uploadDirectory, uploadFd, uploadFile, type Credentials } from '../src/index.ts'
import { editDistance } from '../src/upload/option-names.ts'

const credentials: Credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }
// Nothing listens on port 9: a call that got past the checks fails on the network instead.
const target = { bucket: 'bkt', key: 'k', endpoint: 'http://127.0.0.1:9', credentials }
const NO_RETRY = { retry: false } as const

/** The call's rejection, which must be an InvalidArgumentError (nothing sent). */
async function refused(call: () => Promise<unknown>): Promise<string> {
  const error = await call().then(
    () => assert.fail('resolved'),
    (e: unknown) => e,
  )
  assert.ok(error instanceof InvalidArgumentError, String(error))
  return error.message
}

describe('option names: a near miss, a target field, another library name', () => {
  for (const [name, options, message] of [
    ['a typo', { concurency: 1 }, /^Unknown option `concurency` of upload\(\): did you mean `concurrency`\? A misspelled option would be ignored\.$/],
    ['another case', { partsize: 6 * 1024 * 1024 }, /did you mean `partSize`\?/],
    ['the AWS SDK case', { ContentType: 'text/plain' }, /did you mean `contentType`\?/],
    ['two letters swapped', { leavePartsOnErorr: true }, /did you mean `leavePartsOnError`\?/],
    ["lib-storage's queueSize", { queueSize: 4 }, /^Unknown option `queueSize` of upload\(\) \(another library's name\): partstream's is `concurrency`/],
    ["the SDK's checksumAlgorithm", { checksumAlgorithm: 'CRC32' }, /partstream's is `checksum`/],
    ['endpoint in the options', { endpoint: 'http://127.0.0.1:1' }, /^`endpoint` is given in the options of upload\(\), where it is ignored: it belongs in the target/],
    ['region in the options', { region: 'eu-west-1' }, /^`region` is given in the options/],
  ] as const) {
    test(`${name}: InvalidArgumentError naming it, for upload, uploadFile and uploadFd`, async () => {
      assert.match(await refused(() => upload([new Uint8Array(1)], target, { ...NO_RETRY, ...(options as object) })), message)
      assert.match(await refused(() => uploadFile('/nonexistent', target, { ...NO_RETRY, ...(options as object) })), message)
      assert.match(await refused(() => uploadFd(0, target, { ...NO_RETRY, ...(options as object) })), new RegExp(message.source.replace('of upload\\(\\)', 'of uploadFd\\(\\)')))
    })
  }

  test('the entry point\'s own names: failFast for uploadAll, followSymlinks for uploadDirectory, close for uploadFd', async () => {
    assert.match(await refused(() => uploadAll([], { bucket: 'bkt', endpoint: target.endpoint, credentials }, { failfast: true } as object)), /of uploadAll\(\): did you mean `failFast`\?/)
    assert.match(await refused(() => uploadDirectory('/nonexistent', { bucket: 'bkt', endpoint: target.endpoint, credentials }, { followSymLinks: true } as object)), /of uploadDirectory\(\): did you mean `followSymlinks`\?/)
    assert.match(await refused(() => uploadFd(0, target, { closed: true } as object)), /of uploadFd\(\): did you mean `close`\?/)
    // uploadDirectory's own option is not uploadAll's: far from any name, it is let through there.
    assert.equal((await uploadAll([], { bucket: 'bkt', endpoint: target.endpoint, credentials }, { filter: () => true } as object)).succeeded, 0)
  })

  test('let through: names far from any (the caller\'s own fields), and one object given as target and options', async () => {
    for (const options of [{ myTraceId: 'x', sig: 1 }, target]) {
      const error = await upload([new Uint8Array(1)], target, { ...options, ...NO_RETRY }).catch((e: unknown) => e)
      assert.equal((error as { code?: string }).code, 'ERR_PARTSTREAM_S3', String(error)) // past the checks: refused connection
    }
  })
})

describe('editDistance', () => {
  test('insertions, deletions, substitutions and adjacent swaps each cost 1; capped past the limit', () => {
    assert.equal(editDistance('concurency', 'concurrency', 2), 1)
    assert.equal(editDistance('partsize', 'partsize', 2), 0)
    assert.equal(editDistance('ab', 'ba', 2), 1)
    assert.equal(editDistance('signal', 'sig', 2), 3)
    assert.equal(editDistance('kitten', 'sitting', 3), 3)
    assert.equal(editDistance('abcdef', 'uvwxyz', 2), 3)
  })
})
