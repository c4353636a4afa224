// Fresh HOME folders holding ~/.aws files, for the credential and config tests; removed after the file.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'

/** Returns `home(files)`: a new HOME holding the given `~/.aws/config` and `~/.aws/credentials`. */
export function awsHomes(prefix: string): (files?: { config?: string; credentials?: string }) => string {
  const root = mkdtempSync(join(tmpdir(), `partstream-${prefix}-`))
  after(() => rmSync(root, { recursive: true, force: true }))
  let homes = 0
  return (files = {}) => {
    const dir = join(root, `home${++homes}`)
    mkdirSync(join(dir, '.aws'), { recursive: true })
    if (files.config !== undefined) writeFileSync(join(dir, '.aws', 'config'), files.config)
    if (files.credentials !== undefined) writeFileSync(join(dir, '.aws', 'credentials'), files.credentials)
    return dir
  }
}
