// The ceiling `bench:cli -- --ceiling` times: it must upload exactly what it read, with the
// right SHA-256 per part (the sink checks each one), from a pipe and from a file.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { startSink } from '../src/internal/sink-control.ts'

const CEILING = fileURLToPath(new URL('../src/cli-ceiling.js', import.meta.url))
const MiB = 1024 * 1024

test('cli-ceiling uploads a pipe and a file whole, each part under a SHA-256 the sink verifies', { timeout: 60_000 }, async () => {
  const sink = await startSink({ verify: true })
  const dir = mkdtempSync(join(tmpdir(), 'partstream-ceiling-'))
  try {
    const file = join(dir, 'data')
    const bytes = new Uint8Array(13 * MiB + 5)
    for (let i = 0; i < bytes.length; i += 4093) bytes[i] = i & 0xff
    writeFileSync(file, bytes)
    const cases = [
      { line: `head -c 0 /dev/zero | '${process.execPath}' '${CEILING}' ${sink.endpoint} -`, size: 0, parts: 1 },
      { line: `cat '${file}' | '${process.execPath}' '${CEILING}' ${sink.endpoint} -`, size: bytes.length, parts: 3 },
      { line: `'${process.execPath}' '${CEILING}' ${sink.endpoint} '${file}'`, size: bytes.length, parts: 3 },
    ]
    for (const { line, size, parts } of cases) {
      await sink.reset()
      const r = spawnSync('sh', ['-c', line], { encoding: 'utf8' })
      assert.equal(r.status, 0, `${line}: ${r.stderr}`)
      const stats = await sink.stats()
      assert.equal(stats.completedObjects, 1, line)
      assert.equal(stats.payloadBytes, size, line)
      assert.equal(stats.verified, parts, `${line}: every part's SHA-256 checked`)
      assert.equal(stats.verifyFailures, 0, line)
    }
  } finally {
    await sink.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
