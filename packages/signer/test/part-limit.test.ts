// A known size with an explicit partSize too small for it is refused before any request
// (TooManyPartsError), whatever the source: not at part 10,000, after ~49 GiB were sent.
import assert from 'node:assert/strict'
import { closeSync, mkdtempSync, openSync, rmSync, truncateSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { TooManyPartsError, upload, uploadAll, uploadFd, type Transport } from '../src/index.ts'

const MiB = 1024 * 1024
const TOO_BIG = 10_000 * 5 * MiB + 1 // one byte more than 10,000 parts of 5 MiB hold
const target = { bucket: 'bkt', key: 'k', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } }

/** A transport that must not be called. */
function counting(): { transport: Transport; requests: () => number } {
  let requests = 0
  return {
    transport: () => {
      requests++
      return Promise.reject(new Error('no request expected'))
    },
    requests: () => requests,
  }
}

/** A File as a form hands it over: its size is known (the bytes themselves do not matter here). */
class BigBlob extends Blob {
  constructor(parts: ConstructorParameters<typeof Blob>[0]) {
    super(parts)
    Object.defineProperty(this, 'size', { value: TOO_BIG })
  }
}

const dir = mkdtempSync(join(tmpdir(), 'partstream-part-limit-'))
after(() => rmSync(dir, { recursive: true, force: true }))

describe('too many parts for a known size, with an explicit partSize', () => {
  test('upload(Blob)', async () => {
    const { transport, requests } = counting()
    await assert.rejects(upload(new BigBlob(['x']), target, { transport, partSize: 5 * MiB, retry: false }), TooManyPartsError)
    assert.equal(requests(), 0)
  })

  test('uploadAll with a Blob entry', async () => {
    const { transport, requests } = counting()
    const result = await uploadAll([{ key: 'big', source: new BigBlob(['x']) }], { bucket: 'bkt', endpoint: target.endpoint, credentials: target.credentials }, { transport, partSize: 5 * MiB, retry: false })
    assert.equal(result.failed, 1)
    assert.ok(result.files[0]?.error instanceof TooManyPartsError, String(result.files[0]?.error))
    assert.equal(requests(), 0)
  })

  test('uploadFd of a regular file (sparse, no disk used)', async () => {
    const path = join(dir, 'sparse.bin')
    closeSync(openSync(path, 'w'))
    truncateSync(path, TOO_BIG)
    const fd = openSync(path, 'r')
    try {
      const { transport, requests } = counting()
      await assert.rejects(uploadFd(fd, target, { transport, partSize: 5 * MiB, retry: false }), TooManyPartsError)
      assert.equal(requests(), 0)
    } finally {
      closeSync(fd)
    }
  })
})

describe('options every source is checked for', () => {
  test('maxViewOverhead: refused for a Uint8Array and a file as for a stream (it was ignored)', async () => {
    const { transport, requests } = counting()
    const { uploadFile } = await import('../src/index.ts')
    const path = join(dir, 'small.bin')
    closeSync(openSync(path, 'w'))
    for (const bad of ['lots', -1, 1.5, Number.NaN]) {
      const options = { transport, retry: false as const, maxViewOverhead: bad as number }
      await assert.rejects(upload(new Uint8Array(10), target, options), { code: 'ERR_PARTSTREAM_INVALID_ARGUMENT', message: /maxViewOverhead/ })
      await assert.rejects(uploadFile(path, target, options), { code: 'ERR_PARTSTREAM_INVALID_ARGUMENT', message: /maxViewOverhead/ })
    }
    assert.equal(requests(), 0)
  })

  test('uploadFile(Buffer path): a typed error, and no descriptor left open (it threw a raw TypeError after opening)', async () => {
    const { uploadFile } = await import('../src/index.ts')
    const { readdirSync, writeFileSync } = await import('node:fs')
    const path = join(dir, 'p.txt')
    writeFileSync(path, 'x')
    const fds = () => readdirSync('/proc/self/fd').length
    const before = fds()
    for (let i = 0; i < 3; i++) {
      await assert.rejects(uploadFile(Buffer.from(path) as unknown as string, target, { retry: false }), { code: 'ERR_PARTSTREAM_INVALID_ARGUMENT', message: /Expected `path` to be a string or a file: URL/ })
    }
    if (process.platform === 'linux') assert.equal(fds(), before)
  })
})
