// The environment the CLI benchmarks give the CLIs they time: the machine's CA variables removed
// (Node parses NODE_EXTRA_CA_CERTS at every start), everything else and the bench's own kept.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { clientEnv } from '../src/internal/env.ts'

test('clientEnv drops the machine-wide CA variables, keeps the rest, and takes the given ones on top', () => {
  const saved = { ...process.env }
  try {
    Object.assign(process.env, { NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt', AWS_CA_BUNDLE: '/x.pem', SSL_CERT_FILE: '/y.pem', PARTSTREAM_BENCH_KEPT: 'yes' })
    const env = clientEnv({ AWS_REGION: 'us-east-1' })
    for (const name of ['NODE_EXTRA_CA_CERTS', 'AWS_CA_BUNDLE', 'SSL_CERT_FILE']) assert.equal(env[name], undefined, name)
    assert.equal(env['PARTSTREAM_BENCH_KEPT'], 'yes')
    assert.equal(env['AWS_REGION'], 'us-east-1')
    assert.equal(env['PATH'], process.env['PATH'])
    // --tls: the run's own certificate goes back in on top.
    assert.equal(clientEnv({ NODE_EXTRA_CA_CERTS: '/run.pem' })['NODE_EXTRA_CA_CERTS'], '/run.pem')
    assert.equal(process.env['NODE_EXTRA_CA_CERTS'], '/etc/ssl/certs/ca-certificates.crt', "this process's own environment is untouched")
  } finally {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name]
    Object.assign(process.env, saved)
  }
})
