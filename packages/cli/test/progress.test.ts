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

describe('the bar on a line too short for it', () => {
  const path = `/srv/${'d'.repeat(60)}/${'e'.repeat(60)}/backup-2026-11-30.tar`
  const columns = (text: string): number => [...text].length

  test('a label longer than the terminal is wide: the parts in flight give way, then the label, shortened from its start; the numbers stay (they were all cut off)', async () => {
    const out = { ...terminal(), columns: 80 }
    const bar = barRenderer(out, path, 40 * MiB)
    bar.event(started(1, 0, 40 * MiB))
    await sleep(120)
    bar.event(acked(1, 6 * MiB, 40 * MiB))
    await sleep(120)
    const drawn = redraws(out)
    assert.ok(drawn.length >= 2, out.screen.join(''))
    for (const line of drawn) assert.ok(columns(line) <= 79, `${columns(line)} columns: ${line}`)
    const last = drawn.at(-1) ?? ''
    assert.match(last, /^\.\.\.\/backup-2026-11-30\.tar 6\.0 MiB \/ 40\.0 MiB  15%  [\d.]+ \w+\/s  ETA \S+$/, last)
    bar.finish('done')
  })

  test('a terminal too narrow for any useful label: the numbers alone, bytes and percentage first', async () => {
    const out = { ...terminal(), columns: 30 }
    const bar = barRenderer(out, path, 40 * MiB)
    bar.event(acked(1, 6 * MiB, 40 * MiB))
    const last = redraws(out).at(-1) ?? ''
    assert.ok(columns(last) <= 29, last)
    assert.match(last, /^6\.0 MiB \/ 40\.0 MiB  15%/, last)
    bar.finish('done')
  })

  test('narrower still: whole fields give way from the end (the ETA, then the rate), never cut mid-value ("ETA 0:0" read as a value)', async () => {
    for (const [cols, expected] of [
      [45, /^6\.0 MiB \/ 40\.0 MiB  15%  [\d.]+ \w+\/s$/],
      [30, /^6\.0 MiB \/ 40\.0 MiB  15%$/],
      [20, /^6\.0 MiB \/ 40\.0 MiB$/],
    ] as const) {
      const out = { ...terminal(), columns: cols }
      const bar = barRenderer(out, path, 40 * MiB)
      bar.event(started(1, 0, 40 * MiB))
      await sleep(120)
      bar.event(acked(1, 6 * MiB, 40 * MiB))
      await sleep(120)
      const last = redraws(out).at(-1) ?? ''
      assert.ok(columns(last) <= cols - 1, `${cols}: ${last}`)
      assert.match(last, expected, `${cols}: ${last}`)
      bar.finish('done')
    }
  })

  test('a short label is left whole', async () => {
    const out = terminal()
    const bar = barRenderer(out, 'backup.tar', 40 * MiB)
    bar.event(acked(1, 6 * MiB, 40 * MiB))
    assert.match(redraws(out).at(-1) ?? '', /^backup\.tar \[#+\.+\] 6\.0 MiB/)
    bar.finish('done')
  })
})

describe('lines printed while the bar is drawn (cp -r: "upload: …" and failed files)', () => {
  test('the bar is erased first, then drawn again below the line: the bar text was left glued to the start of each line', async () => {
    const out = terminal()
    const bar = barRenderer(out, 'dir', 40 * MiB)
    bar.event(started(1, 0, 40 * MiB))
    assert.equal(redraws(out).length, 1)
    bar.above(() => out.write('upload: dir/a to s3://b/a (10 bytes)\n'))
    const screen = out.screen.join('')
    // What stays on screen: each line's text after its last erase.
    const shown = screen.split('\n').map((line) => line.split('\r\x1b[2K').at(-1))
    assert.equal(shown[0], 'upload: dir/a to s3://b/a (10 bytes)', JSON.stringify(screen))
    assert.match(shown[1] ?? '', /^dir .*1 in flight$/, 'the bar is back, below the line')
    bar.finish('done')
  })

  test('--progress json and no progress: the line is just printed', async () => {
    const { jsonRenderer, noRenderer } = await import('../src/progress.ts')
    for (const renderer of [jsonRenderer(terminal(), 'dir'), noRenderer]) {
      let printed = 0
      renderer.above(() => printed++)
      assert.equal(printed, 1)
    }
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
