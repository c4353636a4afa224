import { spawnSync } from 'node:child_process'
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os'
import { basename } from 'node:path'
import { GiB } from './units.ts'

/** What a result was measured on: recorded with every table so numbers are never quoted bare. */
export interface SystemInfo {
  readonly date: string
  readonly runtime: string
  readonly runtimeVersion: string
  readonly v8: string | undefined
  /** Set when the client runs on another runtime: the driver and the sink always run on this Node. */
  readonly driver: string | undefined
  readonly os: string
  readonly cpuModel: string
  readonly cores: number
  readonly memoryGiB: number
  /** 1-minute load average when the benchmark started: other work on the machine skews results. */
  readonly loadAverage: number
}

/** `runtime`: the client runtime (`node`, or a path or name of bun/deno); the driver and sink always run on this Node. */
export function describeSystem(runtime = 'node'): SystemInfo {
  const list = cpus()
  const isThisNode = runtime === 'node' || runtime === process.execPath
  const version = isThisNode ? process.version : (/(\d+\.\d+\.\d+)/.exec(spawnSync(runtime, ['--version'], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? '?')
  const name = isThisNode ? 'node' : /deno/.test(basename(runtime)) ? 'deno' : /bun/.test(basename(runtime)) ? 'bun' : basename(runtime)
  return {
    date: new Date().toISOString(),
    runtime: name,
    runtimeVersion: version,
    driver: isThisNode ? undefined : `node ${process.version}`,
    v8: isThisNode ? process.versions.v8 : undefined,
    os: `${platform()} ${arch()} ${release()}`,
    cpuModel: (list[0]?.model ?? 'unknown').trim(),
    cores: list.length,
    memoryGiB: Math.round((totalmem() / GiB) * 10) / 10,
    loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  }
}

export function systemLine(info: SystemInfo): string {
  const runtime = `${info.runtime} ${info.runtimeVersion}${info.v8 === undefined ? '' : ` (V8 ${info.v8})`}`
  return `${info.date} · ${runtime}${info.driver === undefined ? '' : ` (client; driver and sink on ${info.driver})`} · ${info.os} · ${info.cpuModel} × ${info.cores} cores · ${info.memoryGiB} GiB RAM · load ${info.loadAverage} at start`
}
