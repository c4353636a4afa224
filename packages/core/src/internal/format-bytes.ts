const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['TiB', 1024 ** 4],
  ['GiB', 1024 ** 3],
  ['MiB', 1024 ** 2],
  ['KiB', 1024],
]

/**
 * Render a byte count for messages and policy descriptions: `6 MiB` for exact multiples of a
 * binary unit, otherwise the exact number (`6291457 bytes`), so a message never rounds away the
 * byte that made a value invalid.
 */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of UNITS) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`
  }
  return bytes === 1 ? '1 byte' : `${bytes} bytes`
}

/** `5 MiB (5242880)`: the readable size and the exact number to paste into code. */
export function formatBytesExact(bytes: number): string {
  const readable = formatBytes(bytes)
  return readable.endsWith('bytes') || readable.endsWith('byte') ? readable : `${readable} (${bytes})`
}
