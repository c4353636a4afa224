import { readFileSync, writeFileSync } from 'node:fs'

/** Linux high-water mark of this process's resident set, in bytes (`undefined` elsewhere). */
export function readHwm(): number | undefined {
  try {
    const status = readFileSync('/proc/self/status', 'utf8')
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status)
    return match === null ? undefined : Number(match[1]) * 1024
  } catch {
    return undefined
  }
}

/**
 * Linux ≥ 4.0: writing 5 to clear_refs resets VmHWM to the current RSS, so the high-water mark
 * read at the end covers the measured call only, not import-time peaks. Best effort (a fresh
 * process per measurement is what isolates measurements from each other).
 */
export function resetHwm(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5')
  } catch {
    // Not Linux, or not permitted: VmHWM then covers the whole (short) process life.
  }
}
