// The progress bar's arithmetic and timing, on a fake terminal: what it draws for totals that turn
// out wrong, for events that come between two redraws, and for a tree whose files were skipped.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { UploadProgress } from '@partstream/signer'
import { barRenderer, type ProgressOutput } from '../src/progress.ts'

const MiB = 1024 * 1024

function terminal(): ProgressOutput & { readonly screen: string[] } {
  const screen: string[] = []
  return { screen, write: (text: string) => void screen.push(text), isTTY: true, columns: 120 }
}

/** The text of each redraw (what follows an erase of the line). */
const redraws = (out: { screen: string[] }): string[] => out.screen.join('').split('\r\x1b[2K').slice(1).filter((t) => t !== '')

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

const started = (n: number, bytesAcked: number, totalBytes?: number): UploadProgress => ({ type: 'part-started', partNumber: n, partBytes: 6 * MiB, bytesAcked, totalBytes })
const acked = (n: number, bytesAcked: number, totalBytes?: number): UploadProgress => ({ type: 'part-acked', partNumber: n, partBytes: 6 * MiB, bytesAcked, totalBytes })

describe('the progress bar', () => {
  test('a size hint below what came: no total, percentage or ETA past it (it showed "36.0 MiB / 1.0 MiB 100% ETA -1:-1")', async () => {
    const out = terminal()
    const bar = barRenderer(out, 'stdin', 1 * MiB)
    bar.event(started(1, 0, 1 * MiB))
    await sleep(120)
    bar.event(acked(1, 6 * MiB, 1 * MiB))
    await sleep(120)
    const last = redraws(out).at(-1) ?? ''
    assert.match(last, /^stdin 6\.0 MiB  /, last)
    assert.doesNotMatch(last, /ETA|%| \/ /, last)
    bar.finish('done')
  })

  test('an event between two redraws is drawn a moment later: at concurrency 1 the bar said "0 in flight" all along', async () => {
    const out = terminal()
    const bar = barRenderer(out, 'f', 60 * MiB)
    bar.event(started(1, 0))
    await sleep(120)
    bar.event(acked(1, 6 * MiB))
    bar.event(started(2, 6 * MiB)) // within the same 100 ms: not drawn at once
    assert.match(redraws(out).at(-1) ?? '', /0 in flight/)
    await sleep(150)
    assert.match(redraws(out).at(-1) ?? '', /1 in flight/)
    bar.finish('done')
    const after = out.screen.length
    await sleep(150)
    assert.equal(out.screen.length, after, 'nothing is drawn after finish')
  })

  test('a tree whose files S3 already holds: skipped bytes count as done (not in the rate), so the bar reaches 100 %', async () => {
    const out = terminal()
    const bar = barRenderer(out, 'dir', undefined)
    bar.skipped?.(9 * MiB)
    bar.event(started(1, 0, 11 * MiB))
    await sleep(120)
    bar.event(acked(1, 2 * MiB, 11 * MiB))
    await sleep(120)
    const last = redraws(out).at(-1) ?? ''
    assert.match(last, /11\.0 MiB \/ 11\.0 MiB 100%/, last)
    bar.finish('done')
    assert.match(out.screen.at(-1) ?? '', /dir: uploaded 2\.0 MiB \(9\.0 MiB skipped, already in S3\) in /)
  })
})

describe('--progress json and --json lines', () => {
  test('DEL and C1 characters (U+009B is a CSI on some terminals) are escaped, which JSON.stringify leaves raw; the line still parses', async () => {
    const { jsonRenderer } = await import('../src/progress.ts')
    const out = terminal()
    const name = 'odd\u009b31mred\u007f.bin'
    const renderer = jsonRenderer(out, name)
    renderer.event(started(1, 0))
    renderer.finish('failed')
    const text = out.screen.join('')
    assert.doesNotMatch(text, /[\u007f-\u009f]/)
    for (const line of text.trim().split('\n')) assert.equal((JSON.parse(line) as { file: string }).file, name)
  })
})
