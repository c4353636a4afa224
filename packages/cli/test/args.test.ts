// Library messages in the CLI's terms: advice about library options the CLI does not have is
// replaced by what the CLI's user can do.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { S3ResponseError } from '@partstream/signer'
import { inCliTerms } from '../src/args.ts'

describe('inCliTerms', () => {
  test('NoSuchUpload on a part: no `resumeUploadId` (a library option), but what happened and what to do', () => {
    const error = new S3ResponseError({ statusCode: 404, s3Code: 'NoSuchUpload', operation: 'UploadPart', partNumber: 1, attempt: 1, uploadId: 'u1' })
    assert.match(error.message, /resumeUploadId/, 'the library message this rewrites')
    const text = inCliTerms(error.message)
    assert.doesNotMatch(text, /resumeUploadId/)
    assert.match(text, /aborted or completed by someone else meanwhile \(`partstream uploads abort`, or another run\): run the command again/)
  })
})
