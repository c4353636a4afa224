// Chunks that are a Uint8Array subclass whose constructor does not take (buffer, byteOffset,
// length): subarray() builds its views through that constructor (Symbol.species), which gave views
// of the whole buffer. Where the signer cuts a chunk (the request body's slices, hashing pieces),
// it cuts by offset instead. An in-process node:http server stores what was sent.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { upload, type Credentials } from '../src/index.ts'
import { updateInPieces } from '../src/http/hash-pieces.ts'
import { startStubServer, type StubServer } from './stub-server.ts'

const MiB = 1024 * 1024
const credentials: Credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }

class Labelled extends Uint8Array {
  readonly label: string
  constructor(length: number, label: string) {
    super(length)
    this.label = label
  }
}

function labelled(length: number): Labelled {
  const bytes = new Labelled(length, 'chunk')
  for (let i = 0; i < length; i++) bytes[i] = (i * 7 + (i >> 12)) & 0xff
  return bytes
}

let server: StubServer
const bodies: Buffer[] = []
before(async () => {
  server = await startStubServer((req, res) => {
    if (req.method === 'PUT') bodies.push(req.body)
    res.writeHead(200, { etag: '"0123456789abcdef0123456789abcdef"' }).end()
  })
})
after(() => server.close())

describe('a Uint8Array subclass chunk', () => {
  test('kept whole in a part and longer than a body slice (1 MiB): upload sends its bytes', { timeout: 20_000 }, async () => {
    const chunk = labelled(2 * MiB + 5)
    bodies.length = 0
    const result = await upload([chunk], { bucket: 'bkt', key: 'k', endpoint: server.endpoint, credentials }, { retry: false })
    assert.equal(result.size, chunk.byteLength)
    assert.equal(bodies.length, 1)
    assert.ok(bodies[0]!.equals(new Uint8Array(chunk.buffer)), 'the stored body is the chunk')
  })

  test('cut into hashing pieces by offset', () => {
    const chunk = labelled(1000)
    const pieces: Uint8Array[] = []
    updateInPieces((piece) => pieces.push(piece), chunk, 64)
    assert.ok(pieces.every((p) => p.byteLength <= 64))
    assert.ok(Buffer.concat(pieces).equals(new Uint8Array(chunk.buffer)))
  })
})
