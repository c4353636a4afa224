// Object settings → request headers (CreateMultipartUpload and PutObject), and what is refused
// before any request.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InvalidArgumentError } from '../src/index.ts'
import { objectHeaders, pickObjectOptions } from '../src/operations/object-options.ts'

describe('objectHeaders', () => {
  test('every setting becomes its header', () => {
    const headers = objectHeaders(
      {
        contentType: 'text/html',
        cacheControl: 'max-age=60',
        contentDisposition: 'attachment',
        contentEncoding: 'gzip',
        metadata: { Team: 'ops' },
        ifNoneMatch: true,
        storageClass: 'GLACIER_IR',
        serverSideEncryption: 'aws:kms',
        sseKmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        acl: 'bucket-owner-full-control',
      },
      true,
    )
    assert.deepEqual(headers, {
      'content-type': 'text/html',
      'cache-control': 'max-age=60',
      'content-disposition': 'attachment',
      'content-encoding': 'gzip',
      'x-amz-meta-team': 'ops',
      'if-none-match': '*',
      'x-amz-storage-class': 'GLACIER_IR',
      'x-amz-server-side-encryption': 'aws:kms',
      'x-amz-server-side-encryption-aws-kms-key-id': 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      'x-amz-acl': 'bucket-owner-full-control',
    })
  })

  test('tagging: URL-encoded key=value pairs; no header for no tags', () => {
    assert.deepEqual(objectHeaders({ tagging: { retention: '30d', 'team name': 'a+b/c=d&e' } }, false), { 'x-amz-tagging': 'retention=30d&team%20name=a%2Bb%2Fc%3Dd%26e' })
    assert.deepEqual(objectHeaders({ tagging: {} }, false), {})
  })

  test('SSE-S3 alone; nothing for unset settings', () => {
    assert.deepEqual(objectHeaders({ serverSideEncryption: 'AES256' }, false), { 'x-amz-server-side-encryption': 'AES256' })
    assert.deepEqual(objectHeaders({ serverSideEncryption: 'aws:kms:dsse', sseKmsKeyId: 'alias/backups' }, false), {
      'x-amz-server-side-encryption': 'aws:kms:dsse',
      'x-amz-server-side-encryption-aws-kms-key-id': 'alias/backups',
    })
    assert.deepEqual(objectHeaders({}, true), {})
  })

  const refused: readonly [string, Record<string, unknown>, RegExp][] = [
    ['a storage class in lower case', { storageClass: 'standard_ia' }, /`storageClass`.*upper case.*"standard_ia"/],
    ['a storage class with a space', { storageClass: 'STANDARD IA' }, /`storageClass`/],
    ['a storage class that is not a string', { storageClass: 3 }, /`storageClass`/],
    ['an unknown encryption', { serverSideEncryption: 'aws:sse' }, /`serverSideEncryption`.*AES256, aws:kms, aws:kms:dsse/],
    ['a KMS key without SSE-KMS', { sseKmsKeyId: 'alias/x' }, /`sseKmsKeyId`.*set `serverSideEncryption` to 'aws:kms'.*`serverSideEncryption` is not set/],
    ['a KMS key with SSE-S3', { serverSideEncryption: 'AES256', sseKmsKeyId: 'alias/x' }, /`sseKmsKeyId`.*`serverSideEncryption` is "AES256"/],
    ['11 tags', { tagging: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v'])) }, /at most 10 tags.*got 11/],
    ['an empty tag key', { tagging: { '': 'v' } }, /`tagging` key to be 1–128/],
    ['a tag value of 257 characters', { tagging: { k: 'v'.repeat(257) } }, /at most 256/],
    ['a tag value that is not a string', { tagging: { k: 1 } }, /`tagging`/],
    ['an ACL that is not a canned one', { acl: 'public' }, /`acl`.*bucket-owner-full-control, got "public"/],
    ['two metadata names that differ only in case (S3 lower-cases them: one value would be lost)', { metadata: { team: 'a', Team: 'b' } }, /`metadata`.*"team" and "Team".*same header/],
    ['a KMS key that is not printable ASCII', { serverSideEncryption: 'aws:kms', sseKmsKeyId: 'alias/é' }, /`sseKmsKeyId`.*printable ASCII/],
    // HTTP drops a header value's outer spaces: S3 stored 'padded' for '  padded  ', silently.
    ['a metadata value with outer spaces', { metadata: { note: '  padded  ' } }, /`metadata.note`.*spaces at its start or end.*"  padded  "/],
    ['a content type with outer spaces', { contentType: ' text/plain ' }, /`contentType`.*spaces at its start or end/],
    ['a cache-control with a trailing tab', { cacheControl: 'no-cache\t' }, /`cacheControl`/],
  ]
  for (const [what, options, message] of refused) {
    test(`refused before any request: ${what}`, () => {
      assert.throws(
        () => objectHeaders(options, true),
        (error: unknown) => error instanceof InvalidArgumentError && message.test(error.message),
      )
    })
  }

  test('pickObjectOptions carries the new settings to the operations', () => {
    const picked = pickObjectOptions({ storageClass: 'STANDARD', serverSideEncryption: 'AES256', partSize: 5 } as never)
    assert.deepEqual(picked, { storageClass: 'STANDARD', serverSideEncryption: 'AES256' })
  })
})
