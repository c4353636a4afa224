/**
 * The environment of a client process under test: this process's, without the variables that
 * point TLS clients at a machine-wide CA bundle (`NODE_EXTRA_CA_CERTS`, `AWS_CA_BUNDLE`,
 * `SSL_CERT_FILE`…). A user's machine rarely sets them; the VM the bench ran on sets all of them
 * for its network, and Node reads and parses the ~140 certificates of `NODE_EXTRA_CA_CERTS` at
 * every start, HTTP or not: `node -e 0` 0.06 s instead of 0.02, a 1000-byte `partstream cp` 0.19–0.23 s
 * instead of 0.13–0.16 and +1.7 MiB RSS (Node 20, 2026-11-30), a cost the Python AWS CLI does not
 * pay over plain HTTP. With `--tls` the bench passes its own certificate (`trustEnv`) on top.
 */
export function clientEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const name of MACHINE_CA_VARIABLES) delete env[name]
  return { ...env, ...extra }
}

const MACHINE_CA_VARIABLES = ['NODE_EXTRA_CA_CERTS', 'DENO_CERT', 'AWS_CA_BUNDLE', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'] as const
