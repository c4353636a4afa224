import { Buffer } from 'node:buffer'
import type { Credentials } from './credentials.ts'
import type { Env } from './shared-config.ts'

/** `2026-11-30T05:00:00Z`, with optional fractions and a numeric offset. */
const ISO_8601_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i

/** More output than this is not a credentials document (Node's `exec` buffers 1 MiB by default). */
const MAX_OUTPUT_BYTES = 1024 * 1024

/**
 * Why a `credential_process` gave no credentials, in words safe to show: never the command line
 * (it may carry a password), nor anything the process printed (it may carry the secret).
 */
export class CredentialProcessFailure extends Error {}

/**
 * Runs a profile's `credential_process` and reads its answer, the documented format
 * (https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-sourcing-external.html):
 * `{ "Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken"?, "Expiration"? (ISO 8601) }`.
 *
 * The command runs through the shell, as the AWS SDK for JavaScript runs it (`child_process.exec`
 * in @aws-sdk/credential-provider-process), with `env` as its environment, no stdin, and its
 * stdout and stderr captured; stderr is dropped (only its size is reported). Like the SDK, the
 * answer is refused when `Version` is not 1, a key is missing, or `Expiration` is already past.
 * @throws {CredentialProcessFailure}
 */
export async function runCredentialProcess(command: string, env: Env, nowMs: number, stop?: AbortSignal): Promise<Credentials> {
  const { code, signal, stdout, stderrBytes, spawnError } = await run(command, env, stop)
  const stderrNote = stderrBytes > 0 ? `; it wrote ${stderrBytes} bytes to stderr, not shown: run the command yourself to see them` : ''
  if (spawnError !== undefined) throw new CredentialProcessFailure(`could not be started (${spawnError})`)
  if (stdout === undefined) throw new CredentialProcessFailure(`printed more than ${MAX_OUTPUT_BYTES} bytes and was stopped${stderrNote}`)
  if (code !== 0) {
    throw new CredentialProcessFailure(`${signal !== null ? `was killed by ${signal}` : `exited with code ${code}`}${stderrNote}`)
  }
  let data: unknown
  try {
    data = JSON.parse(stdout)
  } catch {
    // JSON.parse's own message quotes the text: it is not kept.
    data = undefined
  }
  const shown = `(${Buffer.byteLength(stdout)} bytes on stdout, not shown: they may hold secrets${stderrNote})`
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new CredentialProcessFailure(`printed something that is not a JSON object ${shown}`)
  }
  const doc = data as Record<string, unknown>
  if (doc['Version'] !== 1) throw new CredentialProcessFailure(`printed JSON without "Version": 1 ${shown}`)
  const { AccessKeyId, SecretAccessKey, SessionToken, Expiration } = doc
  if (typeof AccessKeyId !== 'string' || AccessKeyId === '' || typeof SecretAccessKey !== 'string' || SecretAccessKey === '') {
    throw new CredentialProcessFailure(`printed JSON without non-empty "AccessKeyId" and "SecretAccessKey" strings ${shown}`)
  }
  if (SessionToken !== undefined && SessionToken !== null && typeof SessionToken !== 'string') {
    throw new CredentialProcessFailure(`printed a "SessionToken" that is not a string ${shown}`)
  }
  let expiration: Date | undefined
  if (Expiration !== undefined && Expiration !== null) {
    // An ISO 8601 date and time, the format the credential_process documentation gives: `new Date`
    // alone takes "1" for 2001-01-01 and would report credentials that "expired" 25 years ago.
    // RFC 3339's space between date and time is taken too, as the AWS CLI and SDK take it (read as a T: JavaScriptCore's Date does not).
    expiration = typeof Expiration === 'string' && ISO_8601_DATE_TIME.test(Expiration) ? new Date(Expiration.replace(' ', 'T')) : undefined
    if (expiration === undefined || Number.isNaN(expiration.getTime())) {
      throw new CredentialProcessFailure(`printed an "Expiration" that is not an ISO 8601 date ${shown}`)
    }
    if (expiration.getTime() <= nowMs) {
      throw new CredentialProcessFailure(`printed credentials that expired at ${expiration.toISOString()}`)
    }
  }
  return {
    accessKeyId: AccessKeyId,
    secretAccessKey: SecretAccessKey,
    ...(typeof SessionToken === 'string' && SessionToken !== '' ? { sessionToken: SessionToken } : {}),
    ...(expiration !== undefined ? { expiration } : {}),
  }
}

interface ProcessOutcome {
  readonly code: number | null
  readonly signal: string | null
  /** `undefined` when the output passed the limit. */
  readonly stdout: string | undefined
  readonly stderrBytes: number
  /** The spawn error's code (`ENOENT`, `EACCES`), never its message. */
  readonly spawnError: string | undefined
}

/**
 * node:child_process is imported here, on first use: an upload with other credentials never loads it.
 *
 * A process that never ends (one waiting for an MFA code it cannot read) must not hold the caller:
 * under `stop` (the signer's loads, whose deadline, `idleTimeoutMs`, aborts it) the child is
 * killed at the deadline, and it and its pipes are unref'd, so they alone do not keep the event
 * loop alive once no request waits (the deadline's timer does while one does). It used to run on, and kept the process alive
 * after the upload had already failed for want of its answer.
 */
async function run(command: string, env: Env, stop: AbortSignal | undefined): Promise<ProcessOutcome> {
  const { spawn } = await import('node:child_process')
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let stdoutBytes = 0
    let stderrBytes = 0
    let overflow = false
    const child = spawn(command, { shell: true, env: { ...env }, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true })
    if (stop !== undefined) {
      // Only under a deadline: `await resolveCredentials()` alone must keep the process up meanwhile.
      child.unref()
      unref(child.stdout)
      unref(child.stderr)
    }
    const kill = (): void => void child.kill()
    if (stop?.aborted === true) kill()
    stop?.addEventListener('abort', kill, { once: true })
    child.once('close', () => stop?.removeEventListener('abort', kill))
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.byteLength
      if (stdoutBytes > MAX_OUTPUT_BYTES) {
        overflow = true
        child.kill()
      } else {
        chunks.push(chunk)
      }
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderrBytes += chunk.byteLength
    })
    child.once('error', (error: Error & { code?: unknown }) => {
      // A process that could not be started may never emit 'close'.
      resolve({ code: null, signal: null, stdout: '', stderrBytes, spawnError: typeof error.code === 'string' ? error.code : 'error' })
    })
    child.once('close', (code: number | null, signal: string | null) => {
      resolve({
        code,
        signal,
        stdout: overflow ? undefined : Buffer.concat(chunks).toString('utf8').trim(),
        stderrBytes,
        spawnError: undefined,
      })
    })
  })
}

/** A pipe's `unref` (a net.Socket's; absent on runtimes whose child pipes are other streams). */
function unref(stream: unknown): void {
  ;(stream as { unref?: () => void } | null)?.unref?.()
}
