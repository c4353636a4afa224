import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { ClientConfig, ClientResult } from './protocol.ts'

export interface RunClientOptions {
  /** `taskset -c <cpus>` for the client process (e.g. `0`). */
  readonly cpus?: string | undefined
  /** Runtime command: `node` (this one), `bun`, `deno`, or a path. */
  readonly runtime?: string | undefined
  /** Write a V8 CPU profile of the client into this directory (Node only). */
  readonly cpuProfDir?: string | undefined
  /** Kill the client after this long. */
  readonly timeoutMs?: number | undefined
  /** Extra environment for the client process (e.g. the trust of a TLS sink's certificate). */
  readonly env?: Readonly<Record<string, string>> | undefined
}

const CLIENT_SCRIPT = fileURLToPath(new URL('../client.js', import.meta.url))

function runtimeCommand(runtime: string | undefined, cpuProfDir: string | undefined): [string, string[]] {
  if (runtime === undefined || runtime === 'node') {
    // --expose-gc: the client collects garbage once before reading its baseline RSS.
    const flags = ['--expose-gc', ...(cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`])]
    return [process.execPath, flags]
  }
  if (runtime === 'deno' || runtime.endsWith('/deno')) return [runtime, ['run', '-A', '--v8-flags=--expose-gc']]
  if (runtime === 'bun' || runtime.endsWith('/bun')) return [runtime, []]
  return [runtime, []]
}

/** Runs one upload in a fresh client process and returns what it measured. */
export function runClient(config: ClientConfig, options: RunClientOptions = {}): Promise<ClientResult> {
  const [runtime, flags] = runtimeCommand(options.runtime, options.cpuProfDir)
  const args = [...flags, CLIENT_SCRIPT, JSON.stringify(config)]
  const [command, commandArgs] = options.cpus === undefined ? [runtime, args] : ['taskset', ['-c', options.cpus, runtime, ...args]]
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000)
    child.once('error', (error) => {
      clearTimeout(timer)
      resolve({ ok: false, error: `could not start ${command}: ${error.message}` })
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      const line = stdout.trim().split('\n').pop() ?? ''
      try {
        const result = JSON.parse(line) as ClientResult
        if (!result.ok && stderr !== '') resolve({ ok: false, error: `${result.error}\n${stderr.trim()}` })
        else resolve(result)
      } catch {
        resolve({ ok: false, error: `client exited (code ${code}, signal ${signal}) without a result\n${stderr.trim()}\n${stdout.trim()}`.trim() })
      }
    })
  })
}
