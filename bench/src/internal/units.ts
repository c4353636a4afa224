/** Byte units and number formatting shared by every benchmark. */

export const KiB = 1024
export const MiB = 1024 * KiB
export const GiB = 1024 * MiB

/** `12.3`, `1234`: three significant digits at most, no exponent. */
export function fmt(value: number | undefined, digits = 3): string {
  if (value === undefined || !Number.isFinite(value)) return '–'
  if (value === 0) return '0'
  const abs = Math.abs(value)
  if (abs >= 10 ** digits) return Math.round(value).toString()
  return Number(value.toPrecision(digits)).toString()
}

/** Bytes as MiB with one decimal. */
export function mib(bytes: number | undefined): string {
  return bytes === undefined ? '–' : (bytes / MiB).toFixed(1)
}

/** `64 KiB`, `6 MiB`, `1 GiB`, `1.5 GiB`. */
export function formatSize(bytes: number): string {
  if (bytes >= GiB) return `${fmt(bytes / GiB)} GiB`
  if (bytes >= MiB) return `${fmt(bytes / MiB)} MiB`
  if (bytes >= KiB) return `${fmt(bytes / KiB)} KiB`
  return `${bytes} B`
}
