// The READMEs against the code they describe, where the code can say: the package README's list
// of exported errors, the repository README's list of `onProgress` events, and the part buffers
// uploadFile reads into.
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, test } from 'node:test'
import * as signer from '../src/index.ts'
import { progressReporter, type UploadProgress } from '../src/upload/progress.ts'

/** This package's directory: from the .ts sources (test/) or the built tests (dist/test/). */
function packageDir(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dirname(dir) !== dir; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === '@partstream/signer') return dir
  }
  throw new Error('no @partstream/signer package.json above this test')
}

const pkg = packageDir()
const packageReadme = readFileSync(join(pkg, 'README.md'), 'utf8')
const rootReadme = readFileSync(join(pkg, '..', '..', 'README.md'), 'utf8')

/** The text of a README section: from its heading to the next heading of any level. */
function section(readme: string, heading: string): string {
  const start = readme.indexOf(`\n${heading}\n`)
  assert.ok(start >= 0, `README has a "${heading}" section`)
  const end = readme.slice(start + heading.length + 2).search(/\n#{1,6} /)
  return end < 0 ? readme.slice(start) : readme.slice(start, start + heading.length + 2 + end)
}

describe('packages/signer/README.md', () => {
  test('lists every error class the package exports', () => {
    const errors = Object.entries(signer)
      // The base class is "one base class with the core package"; every subclass is named.
      .filter(([name, value]) => typeof value === 'function' && value !== signer.PartstreamError && value.prototype instanceof signer.PartstreamError && name.endsWith('Error'))
      .map(([name]) => name)
    assert.ok(errors.includes('HashWorkerError'))
    const list = packageReadme.slice(packageReadme.indexOf('- Errors ('), packageReadme.indexOf('\n\n', packageReadme.indexOf('- Errors (')))
    assert.deepEqual(
      errors.filter((name) => !list.includes(`\`${name}\``)),
      [],
      'exported errors missing from the README',
    )
  })

  test('uploadFile reads into concurrency + 1 part buffers (as its JSDoc and the repository README say)', () => {
    const line = packageReadme.split('\n').find((l) => l.startsWith('- `uploadFile('))
    assert.match(line ?? '', /into `concurrency \+ 1` reusable part buffers/)
  })
})

describe('README.md: onProgress', () => {
  test('names every event an upload reports, and says what a resumed upload reports instead of upload-created', () => {
    // Every event the reporter can emit, by calling each of its methods once.
    const events: UploadProgress[] = []
    const reporter = progressReporter((e) => events.push(e), undefined, () => {})
    reporter.created('u')
    reporter.resumed('u', 1)
    reporter.started(1, 1)
    reporter.skipped(1, 1)
    reporter.retried(1, 2, new signer.S3ResponseError({ statusCode: 500, operation: 'UploadPart' }))
    reporter.acked(1, 1)
    reporter.done(1)
    const text = section(rootReadme, '#### `onProgress`')
    assert.deepEqual(
      events.map((e) => e.type).filter((type) => !text.includes(`\`${type}\``)),
      [],
      'events missing from the onProgress section',
    )
    // Each event's own fields are named too.
    for (const field of ['uploadId', 'storedParts', 'partNumber', 'partBytes', 'bytesAcked', 'totalBytes', 'attempt', 'error']) {
      assert.ok(text.includes(`\`${field}\``), `\`${field}\` in the onProgress section`)
    }
    assert.match(text, /`upload-resumed` instead/)
  })
})
