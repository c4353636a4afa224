// Library messages in the CLI's terms: advice about library options the CLI does not have is
// replaced by what the CLI's user can do.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { S3ResponseError } from '@partstream/signer'
import { inCliTerms, parseCommand, parseS3Url, type CpCommand } from '../src/args.ts'

describe('inCliTerms', () => {
  test('NoSuchUpload on a part: no `resumeUploadId` (a library option), but what happened and what to do', () => {
    const error = new S3ResponseError({ statusCode: 404, s3Code: 'NoSuchUpload', operation: 'UploadPart', partNumber: 1, attempt: 1, uploadId: 'u1' })
    assert.match(error.message, /resumeUploadId/, 'the library message this rewrites')
    const text = inCliTerms(error.message)
    assert.doesNotMatch(text, /resumeUploadId/)
    assert.match(text, /aborted or completed by someone else meanwhile \(`partstream uploads abort`, or another run\): run the command again/)
  })
})

describe('inCliTerms: the AWS SDK install hint', () => {
  test('says where: the bin loads the provider from where partstream is installed, not from the working directory', async () => {
    const { CredentialsError } = await import('@partstream/signer')
    const hint = 'npm install @aws-sdk/credential-provider-node'
    const error = new CredentialsError(`Profile "role" uses role_arn (an STS AssumeRole): install the AWS SDK's credential provider to use it (${hint}).`, { profile: 'role', tried: [`the AWS SDK's chain: not installed (${hint})`] })
    const text = inCliTerms(error.message)
    assert.doesNotMatch(text, /\(npm install @aws-sdk/)
    assert.match(text, /where partstream is installed: `npm install -g @aws-sdk\/credential-provider-node` for a global partstream\)/)
  })
})

describe('parseCommand', () => {
  const cp = (...flags: string[]) => parseCommand(['cp', '-', 's3://bucket/key', ...flags])
  const metadataOf = (...flags: string[]) => {
    const c = cp(...flags)
    assert.equal(c.command, 'cp')
    return (c as CpCommand).metadata
  }

  test("--metadata takes the AWS CLI's forms: a=1,b=2 (shorthand) and JSON, as well as repeated flags", () => {
    // It stored {"a": "1,b=2"}: an `aws s3 cp` command line moved over gave other metadata, silently.
    assert.deepEqual(metadataOf('--metadata', 'a=1,b=2'), { a: '1', b: '2' })
    assert.deepEqual(metadataOf('--metadata', '{"a":"1","b":"x,y=z"}'), { a: '1', b: 'x,y=z' })
    assert.deepEqual(metadataOf('--metadata', 'a=1', '--metadata', 'b=2'), { a: '1', b: '2' })
    // A comma not followed by a name= stays in the value.
    assert.deepEqual(metadataOf('--metadata', 'list=1,2,3'), { list: '1,2,3' })
    assert.throws(() => metadataOf('--metadata', 'a=1,A=2'), /are the same name/)
    assert.throws(() => metadataOf('--metadata', '{"a":1}'), /--metadata: expected a JSON object of strings/)
  })

  test('an S3 URL whose key has a line break or U+2028 is a URL (the library writes such keys)', () => {
    for (const key of ['a\nb', 'a\r\nb', 'a\u2028b', 'a\u2029b']) assert.deepEqual(parseS3Url(`s3://bucket/${key}`), { bucket: 'bucket', key })
  })

  test('an unknown flag: one line naming it and the closest flag, not parseArgs\' advice about positionals', () => {
    assert.throws(() => cp('--metdata', 'a=1'), (error: Error) => {
      assert.equal(error.message, 'cp: unknown option --metdata (did you mean --metadata?); partstream cp --help lists them')
      return true
    })
    assert.throws(() => cp('--content-language', 'en'), (error: Error) => {
      assert.equal(error.message, 'cp: unknown option --content-language; partstream cp --help lists them')
      return true
    })
  })
})

describe('--version', () => {
  test("is the package's version (help.ts holds it for the bundled bin: it must move with package.json)", async () => {
    const { readFileSync } = await import('node:fs')
    const { VERSION } = await import('../src/help.ts')
    const { built, here } = await import('./bin.ts')
    const manifest = JSON.parse(readFileSync(`${here}/${built ? '../..' : '..'}/package.json`, 'utf8')) as { version: string }
    assert.equal(VERSION, manifest.version)
  })
})
