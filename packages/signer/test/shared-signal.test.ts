// One AbortSignal shared by many low-level operations at once (Promise.all of headObject calls on
// one context): each request listens on it while it waits (a socket of the pool, credentials, the
// answer), which is expected, not a leak: no MaxListenersExceededWarning, and no listener left.
import assert from 'node:assert/strict'
import { getEventListeners, getMaxListeners, setMaxListeners } from 'node:events'
import { after, before, describe, test } from 'node:test'
import { createS3Context, headObject, type Credentials } from '../src/index.ts'
import { startStubServer, type StubServer } from './stub-server.ts'

const TEST = { timeout: 20_000 }
const credentials: Credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }
const REQUESTS = 30

let server: StubServer
before(async () => {
  server = await startStubServer((_req, res) => res.writeHead(200, { etag: '"0123456789abcdef0123456789abcdef"', 'content-length': '0' }).end())
})
after(() => server.close())

/** The process warnings emitted while `run` runs (and the tick after, when Node emits them). */
async function warningsDuring(run: () => Promise<unknown>): Promise<string[]> {
  const warnings: string[] = []
  const onWarning = (warning: Error): void => void warnings.push(`${warning.name}: ${warning.message}`)
  process.on('warning', onWarning)
  try {
    await run()
    await new Promise((resolve) => setImmediate(resolve))
  } finally {
    process.off('warning', onWarning)
  }
  return warnings
}

/** Abort listeners on `signal`, where the runtime can count them. */
function abortListeners(signal: AbortSignal): number | undefined {
  try {
    return getEventListeners(signal, 'abort').length
  } catch {
    return undefined
  }
}

describe(`${REQUESTS} operations at once sharing one signal`, () => {
  for (const [name, connections] of [['sockets as needed', undefined], ['queued for one socket (`connections: 1`)', 1]] as const) {
    test(`${name}: no MaxListenersExceededWarning, no listener left`, TEST, async () => {
      const ctx = createS3Context({ bucket: 'bkt', endpoint: server.endpoint, credentials }, { retry: false, ...(connections === undefined ? {} : { connections }) })
      const { signal } = new AbortController()
      try {
        const warnings = await warningsDuring(() => Promise.all(Array.from({ length: REQUESTS }, (_, i) => headObject(ctx, { key: `k${i}`, signal }))))
        assert.deepEqual(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')), [])
        const left = abortListeners(signal)
        if (left !== undefined) assert.equal(left, 0, 'every request removed its listeners')
      } finally {
        await ctx.close()
      }
    })
  }

  test("a limit the caller set on the signal is left as it is", TEST, async () => {
    const ctx = createS3Context({ bucket: 'bkt', endpoint: server.endpoint, credentials }, { retry: false })
    const { signal } = new AbortController()
    try {
      setMaxListeners(5, signal)
      await headObject(ctx, { key: 'k', signal })
      assert.equal(getMaxListeners(signal), 5)
    } finally {
      await ctx.close()
    }
  })
})
