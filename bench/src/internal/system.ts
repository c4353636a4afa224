import { spawnSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { arch, cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os'
import { basename, join } from 'node:path'
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
  /** See {@link kernelFirstTouchMicros}. */
  readonly kernelFirstTouchMicros: number
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
    kernelFirstTouchMicros: kernelFirstTouchMicros(),
  }
}

/**
 * What the kernel pays, in µs per 4 KiB page, the first time it copies from a page of a process
 * that only the process itself has touched (a `write` from it): the system CPU of writing 64 MiB
 * to a file once, minus writing the same buffer again. ~0 on bare metal and ordinary VMs. Under a
 * hypervisor with shadow page tables (this project's dev VM reports "Hypervisor detected: PVM")
 * it was ~11 µs: 3 CPU s per GiB sent from a buffer the socket never saw before (a 1 GiB
 * `Uint8Array`, a fresh buffer per chunk), against 0.3–0.6 from one reused 16 MiB buffer. Both
 * libraries pay it, so it compresses their ratio; it is printed so a table says when it applied.
 */
export function kernelFirstTouchMicros(): number {
  const size = 64 * 1024 * 1024
  const buffer = Buffer.allocUnsafe(size)
  for (let i = 0; i < size; i += 4096) buffer[i] = i & 0xff // resident, touched by the process only
  const dir = mkdtempSync(join(tmpdir(), 'partstream-touch-'))
  const systemSeconds = (): number => {
    const fd = openSync(join(dir, 'f'), 'w')
    const before = process.cpuUsage().system
    for (let offset = 0; offset < size; offset += 1024 * 1024) writeSync(fd, buffer, offset, 1024 * 1024)
    const spent = process.cpuUsage().system - before
    closeSync(fd)
    return spent
  }
  try {
    const first = systemSeconds()
    const again = systemSeconds()
    return Math.max(0, Math.round(((first - again) / (size / 4096)) * 10) / 10)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export function systemLine(info: SystemInfo): string {
  const runtime = `${info.runtime} ${info.runtimeVersion}${info.v8 === undefined ? '' : ` (V8 ${info.v8})`}`
  return `${info.date} · ${runtime}${info.driver === undefined ? '' : ` (client; driver and sink on ${info.driver})`} · ${info.os} · ${info.cpuModel} × ${info.cores} cores · ${info.memoryGiB} GiB RAM · load ${info.loadAverage} at start · kernel first touch ${info.kernelFirstTouchMicros} µs/page`
}
