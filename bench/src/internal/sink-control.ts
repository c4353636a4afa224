import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { DriverToSink, SinkStats, SinkToDriver } from './protocol.ts'

export interface SinkOptions {
  /** Check `x-amz-content-sha256` against every body (costs sink CPU). */
  readonly verify?: boolean | undefined
  /** CPU list for `taskset -c` (e.g. `1`), or undefined for no pinning. */
  readonly cpus?: string | undefined
  /** Serve HTTPS with this key and certificate (PEM files). */
  readonly tls?: { readonly keyPath: string; readonly certPath: string } | undefined
}

export interface Sink {
  readonly endpoint: string
  /** Zeroes the counters and forgets uploads and objects. */
  reset(): Promise<void>
  stats(): Promise<SinkStats>
  close(): Promise<void>
}

const SINK_SCRIPT = fileURLToPath(new URL('../sink.js', import.meta.url))

/** Starts the sink in its own process and waits until it listens. */
export async function startSink(options: SinkOptions = {}): Promise<Sink> {
  const args = [
    SINK_SCRIPT,
    ...(options.verify === true ? ['--verify'] : []),
    ...(options.tls === undefined ? [] : ['--tls-key', options.tls.keyPath, '--tls-cert', options.tls.certPath]),
  ]
  const [command, commandArgs] =
    options.cpus === undefined ? [process.execPath, args] : ['taskset', ['-c', options.cpus, process.execPath, ...args]]
  const child: ChildProcess = spawn(command, commandArgs, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })

  const waiters: ((message: SinkToDriver) => void)[] = []
  let exited: Error | undefined
  child.on('message', (message: SinkToDriver) => waiters.shift()?.(message))
  const next = (): Promise<SinkToDriver> =>
    new Promise((resolve, reject) => {
      if (exited !== undefined) return reject(exited)
      waiters.push(resolve)
    })
  child.once('exit', (code, signal) => {
    exited = new Error(`the sink exited (code ${code}, signal ${signal})`)
  })
  const ready = await Promise.race([
    next(),
    new Promise<never>((_, reject) => child.once('error', reject)),
    new Promise<never>((_, reject) => child.once('exit', () => reject(exited))),
  ])
  if (ready.type !== 'ready') throw new Error(`sink: expected ready, got ${ready.type}`)

  const request = async (message: DriverToSink): Promise<SinkToDriver> => {
    if (exited !== undefined) throw exited
    const answer = next()
    child.send(message)
    return answer
  }
  return {
    endpoint: `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${ready.port}`,
    async reset() {
      await request({ type: 'reset' })
    },
    async stats() {
      const answer = await request({ type: 'stats' })
      if (answer.type !== 'stats') throw new Error(`sink: expected stats, got ${answer.type}`)
      return answer.stats
    },
    async close() {
      if (exited !== undefined) return
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.send({ type: 'exit' } satisfies DriverToSink)
      const timer = setTimeout(() => child.kill(), 2_000)
      await gone
      clearTimeout(timer)
    },
  }
}
