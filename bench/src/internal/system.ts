import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os'
import { GiB } from './units.ts'

/** What a result was measured on: recorded with every table so numbers are never quoted bare. */
export interface SystemInfo {
  readonly date: string
  readonly runtime: string
  readonly runtimeVersion: string
  readonly v8: string | undefined
  readonly os: string
  readonly cpuModel: string
  readonly cores: number
  readonly memoryGiB: number
  /** 1-minute load average when the benchmark started: other work on the machine skews results. */
  readonly loadAverage: number
}

export function describeSystem(runtime = 'node'): SystemInfo {
  const list = cpus()
  return {
    date: new Date().toISOString(),
    runtime,
    runtimeVersion: runtime === 'node' ? process.version : runtime,
    v8: process.versions.v8,
    os: `${platform()} ${arch()} ${release()}`,
    cpuModel: (list[0]?.model ?? 'unknown').trim(),
    cores: list.length,
    memoryGiB: Math.round((totalmem() / GiB) * 10) / 10,
    loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  }
}

export function systemLine(info: SystemInfo): string {
  return `${info.date} · ${info.runtime} ${info.runtimeVersion}${info.v8 === undefined ? '' : ` (V8 ${info.v8})`} · ${info.os} · ${info.cpuModel} × ${info.cores} cores · ${info.memoryGiB} GiB RAM · load ${info.loadAverage} at start`
}
