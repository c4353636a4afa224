import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generate } from 'selfsigned'

/** A certificate for 127.0.0.1 made for this run: the sink serves it, the clients trust it. */
export interface BenchCertificate {
  readonly keyPath: string
  readonly certPath: string
  remove(): void
}

/**
 * Generates a self-signed certificate (EC P-256, valid one day, SAN 127.0.0.1 and localhost)
 * into a temporary directory. Nothing is installed system-wide: each client process trusts it
 * through NODE_EXTRA_CA_CERTS (Node, Bun) or DENO_CERT (Deno), so both libraries verify the
 * sink exactly as they would verify S3.
 */
export async function makeCertificate(): Promise<BenchCertificate> {
  const notBeforeDate = new Date(Date.now() - 60_000)
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
    ],
  })
  const dir = mkdtempSync(join(tmpdir(), 'partstream-bench-tls-'))
  const keyPath = join(dir, 'key.pem')
  const certPath = join(dir, 'cert.pem')
  writeFileSync(keyPath, pems.private, { mode: 0o600 })
  writeFileSync(certPath, pems.cert)
  return { keyPath, certPath, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** The environment that makes a client process of `runtime` trust `certPath`. */
export function trustEnv(certPath: string): Record<string, string> {
  return { NODE_EXTRA_CA_CERTS: certPath, DENO_CERT: certPath }
}
