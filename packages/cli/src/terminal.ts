/**
 * What the CLI shows on a terminal: names made safe to print, and text measured in columns.
 * @module
 */

/**
 * `text` with its control characters escaped (`\n`, `\x1b`…), for a file name in a line meant
 * for people: a name may hold any byte but `/` and NUL, and an ESC or a newline printed raw would
 * move the cursor, recolour the terminal, or fake a line of output.
 */
export function printable(text: string): string {
  // C0, DEL and C1 (a lone 0x9b is a CSI on some terminals).
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }
    return named[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`
  })
}

/**
 * `value` as one line of JSON that is safe on a terminal: JSON.stringify escapes C0 but leaves DEL
 * and C1 (a lone U+009B is a CSI on some terminals) raw, and a key or a server's text may hold them.
 */
export function jsonLine(value: unknown): string {
  return `${JSON.stringify(value).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`
}

/**
 * Code points a terminal draws two columns wide (East Asian Wide and Fullwidth, and the emoji
 * blocks), as [first, last] ranges: a label of CJK characters measured with `.length` overflows
 * the line, which then wraps and leaves one line per redraw. The ranges are Unicode's
 * EastAsianWidth.txt W and F, merged where they touch; rarer ones count as one column.
 */
const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd],
]

/** Columns one code point takes: 0 for combining marks and zero-width ones, 2 for wide ones, else 1. */
function columnsOf(codePoint: number): number {
  if ((codePoint >= 0x300 && codePoint <= 0x36f) || (codePoint >= 0x200b && codePoint <= 0x200f) || (codePoint >= 0xfe00 && codePoint <= 0xfe0f)) return 0
  for (const [first, last] of WIDE) if (codePoint >= first && codePoint <= last) return 2
  return 1
}

/** The columns `text` takes on a terminal (it holds no control characters: see {@link printable}). */
export function displayWidth(text: string): number {
  let width = 0
  for (const c of text) width += columnsOf(c.codePointAt(0) as number)
  return width
}

/** The longest start of `text` that fits in `columns` (a wide character is never cut in half). */
export function fitWidth(text: string, columns: number): string {
  let width = 0
  let end = 0
  for (const c of text) {
    width += columnsOf(c.codePointAt(0) as number)
    if (width > columns) break
    end += c.length
  }
  return text.slice(0, end)
}

/**
 * `text` in at most `columns` (≥ 4), shortened from its start when longer: `...` and the longest
 * end that fits, from a `/` in it when there is one (`.../backup.tar`), so a path keeps its file's
 * name. A wide character is never cut in half.
 */
export function fitWidthEnd(text: string, columns: number): string {
  if (displayWidth(text) <= columns) return text
  const chars = [...text]
  let width = 0
  let start = chars.length
  while (start > 0) {
    const next = width + columnsOf(chars[start - 1]?.codePointAt(0) as number)
    if (next > columns - 3) break
    width = next
    start--
  }
  const end = chars.slice(start).join('')
  const slash = end.indexOf('/')
  return `...${slash >= 0 && slash < end.length - 1 ? end.slice(slash) : end}`
}
