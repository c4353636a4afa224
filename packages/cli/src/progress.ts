import type { UploadProgress } from '@partstream/signer'
import { displayWidth, fitWidth, fitWidthEnd, jsonLine, printable } from './terminal.ts'

/** What a progress renderer writes to: stderr, and whether it is a terminal (and how wide). */
export interface ProgressOutput {
  write(text: string): void
  readonly isTTY: boolean
  readonly columns: number | undefined
}

/** Receives the upload's events; `finish` leaves the screen clean (and a summary line). */
export interface ProgressRenderer {
  /** `file`: the file of a tree the event belongs to (`--progress json` names it; the bar sums them all). */
  event(e: UploadProgress, file?: string): void
  /** Bytes of a tree's file that S3 already held (`--skip-existing`): done, though never sent. */
  skipped?(bytes: number): void
  /**
   * Prints lines of output above the bar: erases the bar, runs `print`, then draws the bar again
   * below them (a line written over the bar would keep the bar's text at its start).
   */
  above(print: () => void): void
  /** `fields`: more for the last `--progress json` line (a tree's counts, the error of a failure). */
  finish(outcome: 'done' | 'failed' | 'interrupted', fields?: Readonly<Record<string, unknown>>): void
}

const MIN_REDRAW_MS = 100

/**
 * Columns the label keeps at least when the line is too long for the terminal; with less room
 * than that (a very narrow terminal), the numbers alone are drawn.
 */
const MIN_LABEL_COLUMNS = 12

function human(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = bytes
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--'
  const s = Math.round(seconds)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = String(s % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`
}

/** Counts what the bar shows: acknowledged bytes, parts in flight, retries, rate. */
class Tally {
  bytesAcked = 0
  totalBytes: number | undefined
  inFlight = 0
  retries = 0
  /** Bytes a resumed upload did not send again: counted as done, not in the rate. */
  reusedBytes = 0
  /** Bytes of files S3 already held (a tree's `--skip-existing`): done, outside `bytesAcked` and the rate. */
  skippedBytes = 0
  readonly started = performance.now()
  constructor(sizeHint: number | undefined) {
    this.totalBytes = sizeHint
  }
  apply(e: UploadProgress): void {
    if (e.type === 'part-started') this.inFlight++
    if (e.type === 'part-acked') this.inFlight--
    if (e.type === 'part-retried') this.retries++
    if (e.type === 'part-skipped') this.reusedBytes += e.partBytes
    if ('bytesAcked' in e) this.bytesAcked = e.bytesAcked
    if ('totalBytes' in e && e.totalBytes !== undefined) this.totalBytes = e.totalBytes
  }
  rate(): number {
    const s = (performance.now() - this.started) / 1000
    return s > 0 ? (this.bytesAcked - this.reusedBytes) / s : 0
  }
}

/**
 * A one-line bar on a terminal, redrawn in place at most 10 times a second and fitted to the
 * width (in columns): bytes acknowledged, percentage and ETA when the size is known, rate, parts
 * in flight, retries; with `redraw: false` (a terminal without ANSI escapes), the summary line
 * alone. Written by hand (40 lines): the maintained renderers (cli-progress, listr2) bring their
 * own timers, event emitters and dependencies for what is one `\r` line here.
 */
export function barRenderer(out: ProgressOutput, name: string, sizeHint: number | undefined, redraw = true): ProgressRenderer {
  const label = printable(name)
  const tally = new Tally(sizeHint)
  let last = 0
  let drawn = false
  let finished = false
  // An event that came within MIN_REDRAW_MS of the last redraw is drawn when that time is up.
  let pending: ReturnType<typeof setTimeout> | undefined
  const line = (): string => {
    const rate = tally.rate()
    const total = tally.totalBytes
    const done = tally.bytesAcked + tally.skippedBytes
    // A --size-hint below what came is no total any more: no "36 MiB / 1 MiB", no negative ETA.
    const known = total !== undefined && total > 0 && done <= total
    const pct = known ? Math.min(100, (done / total) * 100) : undefined
    // Each field with the separator before it, in the order they give way on a narrow line (last first).
    const fields = [
      `${human(done)}${known ? ` / ${human(total)}` : ''}`,
      ...(pct === undefined ? [] : [` ${pct.toFixed(0).padStart(3)}%`]),
      `  ${human(rate)}/s`,
      ...(known && rate > 0 ? [`  ETA ${duration((total - done) / rate)}`] : []),
    ]
    const numbers = fields.join('')
    const retried = tally.retries > 0 ? `  ${tally.retries} retried` : ''
    const stats = `${numbers}  ${tally.inFlight} in flight${retried}`
    const room = width() - stats.length - displayWidth(label) - 4
    let bar = ''
    if (pct !== undefined && room >= 10) {
      const cells = Math.min(room, 40)
      const full = Math.round((pct / 100) * cells)
      bar = ` [${'#'.repeat(full)}${'.'.repeat(cells - full)}]`
    }
    // In columns, not UTF-16 units: a line one column too wide wraps, and `\r` then erases only
    // its last row, leaving one line per redraw.
    const full = `${label}${bar} ${stats}`
    if (displayWidth(full) <= width()) return full
    // Too long (a long path, a narrow terminal): bytes, percentage, rate and ETA are what a bar is
    // read for. The parts in flight give way first, then the label, shortened from its start (the
    // file's name stays: `.../backup.tar`); with no room for a useful label, the numbers alone.
    const short = `${numbers}${retried}`
    const labelRoom = width() - 1 - short.length
    if (labelRoom >= MIN_LABEL_COLUMNS) return `${fitWidthEnd(label, labelRoom)} ${short}`
    // The numbers alone; whole fields give way from the end (a cut "ETA 0:0" reads as a value):
    // the retries, the ETA, the rate, the percentage. Only the bytes are ever cut.
    const kept = [...fields, ...(retried === '' ? [] : [retried])]
    while (kept.length > 1 && kept.join('').length > width()) kept.pop()
    return fitWidth(kept.join(''), width())
  }
  // One column short of the terminal's width: a line that fills the last column wraps on some terminals.
  const width = (): number => (out.columns || 80) - 1
  const draw = (): void => {
    // A terminal that cannot erase a line (TERM=dumb), or too narrow for even one character: no
    // bar, the summary line only.
    if (!redraw || width() < 1) return
    out.write(`\r\x1b[2K${line()}`)
    drawn = true
  }
  const update = (): void => {
    if (finished) return
    const wait = last + MIN_REDRAW_MS - performance.now()
    if (wait <= 0) {
      last = performance.now()
      draw()
    } else if (pending === undefined) {
      pending = setTimeout(() => {
        pending = undefined
        update()
      }, wait)
      // A redraw never keeps the process alive.
      ;(pending as { unref?: () => void }).unref?.()
    }
  }
  return {
    event(e) {
      tally.apply(e)
      update()
    },
    skipped(bytes) {
      tally.skippedBytes += bytes
      update()
    },
    above(print) {
      if (!drawn || finished) {
        print()
        return
      }
      out.write('\r\x1b[2K')
      print()
      last = performance.now()
      draw()
    },
    finish(outcome) {
      finished = true
      clearTimeout(pending)
      if (drawn) out.write('\r\x1b[2K')
      const seconds = (performance.now() - tally.started) / 1000
      const verb = outcome === 'done' ? 'uploaded' : outcome === 'failed' ? 'failed after' : 'interrupted after'
      const reused = tally.reusedBytes > 0 ? ` (${human(tally.reusedBytes)} reused from the interrupted upload)` : ''
      const skipped = tally.skippedBytes > 0 ? ` (${human(tally.skippedBytes)} skipped, already in S3)` : ''
      out.write(`${label}: ${verb} ${human(tally.bytesAcked)}${reused}${skipped} in ${seconds.toFixed(1)} s (${human(tally.rate())}/s)\n`)
    },
  }
}

/**
 * One JSON object per event on stderr, each naming its file, ending with `done` (or `failed` /
 * `interrupted`): the upload's own `done` event, or for a tree (which has none) one with its totals.
 */
export function jsonRenderer(out: ProgressOutput, label: string): ProgressRenderer {
  let ended = false
  return {
    event(e, file) {
      const { type } = e
      if (type === 'done') ended = true
      const fields: Record<string, unknown> = { ...e, file: file ?? label }
      if (type === 'part-retried') fields['error'] = { code: e.error.code, message: e.error.message }
      out.write(jsonLine(fields))
    },
    above(print) {
      print()
    },
    finish(outcome, fields) {
      if (!ended) out.write(jsonLine({ type: outcome, file: label, ...fields }))
    },
  }
}

export const noRenderer: ProgressRenderer = { event() {}, above: (print) => print(), finish() {} }
