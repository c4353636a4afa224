// Library messages in the CLI's terms: advice about library options the CLI does not have is
// replaced by what the CLI's user can do.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createS3Context, InvalidArgumentError, S3ResponseError } from '@partstream/signer'
import { inCliTerms, parseCommand, parseS3Url, UsageError, type CpCommand } from '../src/args.ts'

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

describe('inCliTerms: idleTimeoutMs', () => {
  test("a credential source that timed out names --cli-read-timeout, the CLI's flag for it", async () => {
    const text = inCliTerms('No credentials after 2000 ms (`idleTimeoutMs`), so no request was signed: … Check it, or raise `idleTimeoutMs`.')
    assert.doesNotMatch(text, /idleTimeoutMs/)
    assert.match(text, /raise --cli-read-timeout/)
  })
})

describe('inCliTerms: advice the CLI can follow', () => {
  test('a part size over 5 GiB is told to lower it (it said "raise --part-size")', async () => {
    const { upload } = await import('@partstream/signer')
    const target = { bucket: 'bkt', key: 'k', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'a', secretAccessKey: 's' } }
    const library = await upload(new Uint8Array(1), target, { partSize: 6 * 1024 ** 3 }).then(
      () => assert.fail('refused'),
      (e: Error) => e.message,
    )
    assert.match(library, /EntityTooLarge/, 'the library message this rewrites')
    const text = inCliTerms(library)
    assert.match(text, /S3 rejects larger parts \(EntityTooLarge\): give at most 5GiB/)
    assert.doesNotMatch(text, /raise --part-size/)
  })
  test('no `now` option, and --hash-threads 0 for `hashThreads: 0`', () => {
    assert.doesNotMatch(inCliTerms("The machine's clock is off, and correcting it by the server's `Date` did not help; sync it (or check the `now` option)."), /now/)
    assert.match(inCliTerms('A hash worker crashed. Retry, or pass `hashThreads: 0` to hash on the main thread.'), /pass --hash-threads 0 to hash/)
    assert.match(inCliTerms('Cannot start a hash worker (file:///x): set hashThreads: 0, or allow worker threads.'), /set --hash-threads 0, or/)
  })
})

describe("names that are Object.prototype's", () => {
  test('inCliTerms leaves `constructor` and `toString` as they are (it printed a function)', () => {
    assert.equal(inCliTerms('key `constructor`, `toString`, `__proto__`'), 'key `constructor`, `toString`, `__proto__`')
  })
})

describe('parseCommand', () => {
  const cp = (...flags: string[]) => parseCommand(['cp', '-', 's3://bucket/key', ...flags])
  test('--part-size 8constructor is not a unit (it said "too large")', () => {
    assert.throws(() => cp('--part-size', '8constructor'), /expected a size such as 8MiB/)
    assert.throws(() => cp('--part-size', '8__proto__'), /expected a size such as 8MiB/)
    assert.throws(() => cp('--part-size', '1toString'), /expected a size such as 8MiB/)
  })
  test('--metadata __proto__=x is kept (an assignment dropped it silently)', () => {
    const c = cp('--metadata', '__proto__=x', '--metadata', 'b=2') as CpCommand
    assert.ok(c.metadata !== undefined && Object.hasOwn(c.metadata, '__proto__'), 'an own __proto__ entry')
    assert.deepEqual(Object.entries(c.metadata), [['__proto__', 'x'], ['b', '2']])
  })
  const metadataOf = (...flags: string[]) => {
    const c = cp(...flags)
    assert.equal(c.command, 'cp')
    return (c as CpCommand).metadata
  }

  test("--metadata takes the AWS CLI's forms: a=1,b=2 (shorthand) and JSON, as well as repeated flags", () => {
    // It stored {"a": "1,b=2"}: an `aws s3 cp` command line moved over gave other metadata, silently.
    assert.deepEqual(metadataOf('--metadata', 'a=1,b=2'), { a: '1', b: '2' })
    assert.deepEqual(metadataOf('--metadata', 'a=1, b=2'), { a: '1', b: '2' })
    assert.deepEqual(metadataOf('--metadata', '{"a":"1","b":"x,y=z"}'), { a: '1', b: 'x,y=z' })
    assert.deepEqual(metadataOf('--metadata', 'a=1', '--metadata', 'b=2'), { a: '1', b: '2' })
    // A comma not followed by a name= stays in the value.
    assert.deepEqual(metadataOf('--metadata', 'list=1,2,3'), { list: '1,2,3' })
    assert.throws(() => metadataOf('--metadata', 'a=1,A=2'), /are the same name/)
    assert.throws(() => metadataOf('--metadata', '{"a":1}'), /--metadata: expected a JSON object of strings/)
  })

  test('--tag and --metadata as JSON keep a name holding "=" (it stored the tag a=b:c as a:b=c, exit 0)', () => {
    // S3 takes `=` in a tag key (`aws s3api put-object --tagging 'a%3Db=c'`); the JSON form was
    // turned back into `a=b=c` text and split at the first `=`.
    const c = cp('--tag', '{"a=b":"c"}') as CpCommand
    assert.deepEqual(c.objectSettings.tagging, { 'a=b': 'c' })
    // Metadata too: the name reaches the library whole, which refuses it (no HTTP token), rather
    // than the object getting {a: 'b=c'}.
    assert.deepEqual(metadataOf('--metadata', '{"a=b":"c"}'), { 'a=b': 'c' })
    assert.throws(() => metadataOf('--metadata', '{"":"c"}'), /--metadata: expected name=value/)
  })

  test("the AWS CLI's spellings of flags partstream has: --checksum-algorithm, --no-follow-symlinks, a bare --sse (they were unknown options)", () => {
    assert.equal((cp('--checksum-algorithm', 'CRC32') as CpCommand).checksum, 'CRC32')
    assert.equal((cp('--checksum-algorithm=crc32c') as CpCommand).checksum, 'CRC32C')
    assert.equal((cp('--sse') as CpCommand).objectSettings.serverSideEncryption, 'AES256')
    assert.equal((cp('--sse', '--quiet') as CpCommand).objectSettings.serverSideEncryption, 'AES256')
    assert.equal((cp('--sse', 'aws:kms') as CpCommand).objectSettings.serverSideEncryption, 'aws:kms')
    const r = parseCommand(['cp', '-r', '/tmp', 's3://bucket/p/', '--no-follow-symlinks']) as CpCommand
    assert.equal(r.followSymlinks, false)
    assert.throws(() => parseCommand(['cp', '-r', '/tmp', 's3://bucket/p/', '--no-follow-symlinks', '--follow-symlinks']), /say opposite things/)
    // After `--`, nothing is a flag: left alone.
    assert.deepEqual(parseCommand(['cp', '--', '-', 's3://bucket/k']).command, 'cp')
    // AWS CLI flags partstream lacks are named as such, not "did you mean".
    assert.throws(() => cp('--expires', '2030-01-01'), /--expires is an `aws s3 cp` flag partstream does not have/)
    // A download is said to be one.
    assert.throws(() => parseS3Url('./file'), /expected an S3 URL such as s3:\/\/bucket\/key, got "\.\/file" \(partstream uploads to S3: the destination is an s3:\/\/ URL; it does not download\)/)
  })

  test('--payload in any case, as --checksum (UNSIGNED was a usage error, crc32 was not)', () => {
    assert.equal((cp('--payload', 'UNSIGNED') as CpCommand).payload, 'unsigned')
    assert.equal((cp('--payload', 'Sha256') as CpCommand).payload, 'sha256')
    assert.throws(() => cp('--payload', 'none'), /--payload: expected sha256 or unsigned, got "none"/)
  })

  test("--metadata and --tag parse the shorthand as the AWS CLI's parser does (checked against awscli/shorthand.py)", () => {
    // They stored `"q,x"` with its quotes, `1,` for `a=1,,b=2`, and took a trailing comma into the value.
    for (const [text, expected] of [
      ['a="q,x",b=2', { a: 'q,x', b: '2' }],
      ["a='q,x'", { a: 'q,x' }],
      ['a=1,,b=2', { a: '1', b: '2' }],
      ['a=x\\,y,b=2', { a: 'x,y', b: '2' }],
      ['a="say \\"hi\\""', { a: 'say "hi"' }],
      ['a=b=c', { a: 'b=c' }],
      ['a=,b=2', { a: '', b: '2' }],
      ['a=1 ,b=2 ', { a: '1', b: '2' }],
    ] as const) {
      assert.deepEqual(metadataOf('--metadata', text), expected, text)
    }
    for (const [text, message] of [
      ['a=1,', /--metadata: cannot parse "a=1," at character 5: expected a value after the comma/],
      ['a', /expected "="/],
      ['a="x"y', /at character 6: expected ","/],
      ['a=[1]', /expected a string \(not a list or a map\)/],
      ['a="x', /expected a closing "/],
    ] as const) {
      assert.throws(() => metadataOf('--metadata', text), message, text)
    }
    const c = cp('--tag', 'team=ops,env="a b"') as CpCommand
    assert.deepEqual(c.objectSettings.tagging, { team: 'ops', env: 'a b' })
  })

  test('an S3 URL whose key has a line break or U+2028 is a URL (the library writes such keys)', () => {
    for (const key of ['a\nb', 'a\r\nb', 'a\u2028b', 'a\u2029b']) assert.deepEqual(parseS3Url(`s3://bucket/${key}`), { bucket: 'bucket', key })
  })

  test('an unknown flag: one line naming it and the closest flag, not parseArgs\' advice about positionals', () => {
    assert.throws(() => cp('--metdata', 'a=1'), (error: Error) => {
      assert.equal(error.message, 'cp: unknown option --metdata (did you mean --metadata?); partstream cp --help lists them')
      return true
    })
    assert.throws(() => cp('--content-langage', 'en'), (error: Error) => {
      assert.equal(error.message, 'cp: unknown option --content-langage; partstream cp --help lists them')
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

describe('S3 URLs naming an ARN (the AWS CLI takes s3://arn:…:accesspoint/name/key)', () => {
  const refusal = (url: string): string => {
    try {
      parseS3Url(url)
    } catch (error) {
      assert.ok(error instanceof UsageError)
      return error.message
    }
    assert.fail(`${url} was accepted`)
  }
  test('an access point ARN: refused as the library refuses it, naming the whole ARN and the alias to use', () => {
    // It was split at the first "/": bucket "arn:aws:s3:us-east-1:123456789012:accesspoint", key "myap/key".
    const arn = 'arn:aws:s3:us-east-1:123456789012:accesspoint/myap'
    const text = refusal(`s3://${arn}/logs/day.gz`)
    assert.ok(text.includes(`"${arn}"`), text)
    assert.match(text, /is an access point ARN, which partstream does not support as the bucket: use its alias .*-s3alias.* as the bucket \(s3:\/\/<alias>\/logs\/day\.gz\)/)
    assert.match(text, /aws s3control get-access-point --account-id 123456789012 --region us-east-1 --name myap/)
    assert.ok(refusal(`s3://${arn}`).includes(`"${arn}"`))
  })
  test('other ARNs: Multi-Region and Outposts access points, Object Lambda, a bucket ARN', () => {
    assert.match(refusal('s3://arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap/k'), /"arn:aws:s3::123456789012:accesspoint\/mfzwi23gnjvgw\.mrap" is a Multi-Region Access Point ARN.*SigV4A/)
    assert.match(
      refusal('s3://arn:aws:s3-outposts:us-west-2:123456789012:outpost/op-01234567890123456/accesspoint/myap/k'),
      /"arn:aws:s3-outposts:us-west-2:123456789012:outpost\/op-01234567890123456\/accesspoint\/myap" is an S3 on Outposts ARN.*not support/,
    )
    assert.match(refusal('s3://arn:aws:s3-object-lambda:us-west-2:123456789012:accesspoint/myolap/k'), /Object Lambda access point ARN.*--ol-s3/)
    assert.match(refusal('s3://arn:aws:s3:::my-bucket/k'), /"arn:aws:s3:::my-bucket" is a bucket ARN: give the bucket's name \(s3:\/\/my-bucket\/k\)/)
  })
  test('a bucket that only starts with "arn" is a bucket', () => {
    assert.deepEqual(parseS3Url('s3://arnold/k'), { bucket: 'arnold', key: 'k' })
  })
})

describe('library refusals of the target, in CLI terms', () => {
  const message = (target: Parameters<typeof createS3Context>[0]): string => {
    try {
      createS3Context(target)
    } catch (error) {
      assert.ok(error instanceof InvalidArgumentError)
      return inCliTerms(error.message)
    }
    assert.fail('accepted')
  }
  const credentials = { accessKeyId: 'AK', secretAccessKey: 'SK' }
  test('a bad --region names --region, not an --endpoint-url the user never gave', () => {
    const text = message({ bucket: 'mybucket', region: 'us east 1', credentials })
    assert.match(text, /^Expected --region to be (an AWS|a) region name/)
    assert.doesNotMatch(text, /endpoint-url/)
  })
  test('a directory bucket: no advice about names of other servers', () => {
    const text = message({ bucket: 'mybucket--usw2-az1--x-s3', region: 'us-west-2', credentials })
    assert.match(text, /is a directory bucket/)
    assert.doesNotMatch(text, /legacyBucketName|cannot write to a bucket of another name/)
  })
})

describe('arguments that are not UTF-8 (the runtime decodes argv with U+FFFD for the bad bytes)', () => {
  const refused = (argv: readonly string[], what: RegExp): void => {
    assert.throws(
      () => parseCommand(argv),
      (e: unknown) => {
        assert.ok(e instanceof UsageError, String(e))
        assert.match(e.message, what)
        assert.match(e.message, /not valid UTF-8/)
        return true
      },
    )
  }
  test("a key: refused, not written under the key with U+FFFD in place of the bytes (`cp - s3://b/t/caf$'\\xe9'`)", () => {
    refused(['cp', '-', 's3://b/t/caf\uFFFD'], /destination "s3:\/\/b\/t\/caf\uFFFD".*S3 keys are UTF-8/)
  })
  test('a file to upload: refused as a name, not "cannot read …: ENOENT" for a file that exists', () => {
    refused(['cp', 'dir/caf\uFFFD.txt', 's3://b/t/'], /source "dir\/caf\uFFFD\.txt".*cannot open it by this name/)
    refused(['cp', '-r', 'caf\uFFFD', 's3://b/t/'], /source "caf\uFFFD"/)
  })
  test('an uploads prefix: refused the same way', () => {
    refused(['uploads', 'ls', 's3://b/caf\uFFFD'], /prefix "s3:\/\/b\/caf\uFFFD"/)
  })
  test('UTF-8 names pass (é, CJK, an emoji)', () => {
    const c = parseCommand(['cp', 'café-日本-🎉.txt', 's3://b/café/日本/🎉']) as CpCommand
    assert.equal(c.src, 'café-日本-🎉.txt')
    assert.equal(c.dst, 's3://b/café/日本/🎉')
  })
})
