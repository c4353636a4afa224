/** What {@link measure} saw: the value, wall time, CPU and the wall-clock span in µs. */
export interface Measured<T> {
  readonly value: T
  readonly seconds: number
  readonly cpuUserSeconds: number
  readonly cpuSystemSeconds: number
  /** Wall clock (`process.hrtime`) at the start and end, µs: lines runs up across processes. */
  readonly startUs: number
  readonly endUs: number
}

/** Runs `run` and measures its wall time and CPU; `cleanup` runs after it either way (stop samplers). */
export async function measure<T>(run: () => Promise<T>, cleanup: () => void): Promise<Measured<T>> {
  const cpu0 = process.cpuUsage()
  const startUs = Number(process.hrtime.bigint() / 1000n)
  const t0 = performance.now()
  let value: T
  try {
    value = await run()
  } finally {
    cleanup()
  }
  const seconds = (performance.now() - t0) / 1000
  const endUs = Number(process.hrtime.bigint() / 1000n)
  const cpu = process.cpuUsage(cpu0)
  return { value, seconds, cpuUserSeconds: cpu.user / 1e6, cpuSystemSeconds: cpu.system / 1e6, startUs, endUs }
}
