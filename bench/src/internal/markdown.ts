/** A markdown table with columns padded so it also reads well in a terminal. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[], align?: readonly ('l' | 'r')[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length), 3))
  const line = (cells: readonly string[]): string =>
    '| ' + widths.map((w, i) => (align?.[i] === 'r' ? (cells[i] ?? '').padStart(w) : (cells[i] ?? '').padEnd(w))).join(' | ') + ' |'
  const rule = '|' + widths.map((w, i) => (align?.[i] === 'r' ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|') + '|'
  return [line(header), rule, ...rows.map(line)].join('\n')
}
