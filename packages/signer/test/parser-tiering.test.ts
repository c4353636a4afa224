// undici's HTTP parser (llhttp, WebAssembly) kept on V8's baseline code: the connector raises the
// tiering budget only around the callback in which undici instantiates it, once per process, and
// sets it back (src/transport/parser-tiering.ts).
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { buildConnector } from 'undici'
import { baselineParserConnector, defaultTieringBudget, raiseTieringBudget, resetParserTiering, type TieringHost } from '../src/transport/parser-tiering.ts'
import { startStubServer } from './stub-server.ts'

const onNode = !('Deno' in globalThis) && !('Bun' in globalThis)

describe('raiseTieringBudget', () => {
  const host = (over: Partial<TieringHost>, calls: string[]): TieringHost => ({
    setFlagsFromString: (flags) => void calls.push(flags),
    v8Version: '11.3.244.8-node.38',
    execArgv: [],
    ...over,
  })

  test("raises the budget out of reach, and sets V8's default for this version back", () => {
    for (const [v8Version, budget] of [
      ['11.3.244.8-node.38', 1_800_000],
      ['12.4.254.21-node.33', 13_000_000],
      ['13.6.233.10-node.20', 13_000_000],
    ] as const) {
      const calls: string[] = []
      const restore = raiseTieringBudget(host({ v8Version }, calls))
      assert.deepEqual(calls, ['--wasm-tiering-budget=2000000000'])
      restore?.()
      assert.deepEqual(calls, ['--wasm-tiering-budget=2000000000', `--wasm-tiering-budget=${budget}`])
      assert.equal(defaultTieringBudget(v8Version), budget)
    }
  })

  test("the user's own --wasm-tiering-budget stands; nothing is touched off V8 or without setFlagsFromString", () => {
    const calls: string[] = []
    for (const execArgv of [['--wasm-tiering-budget=5'], ['--wasm_tiering_budget', '5'], ['--expose-gc', '--wasm-tiering-budget=0']]) {
      assert.equal(raiseTieringBudget(host({ execArgv }, calls)), undefined)
    }
    assert.equal(raiseTieringBudget(host({ v8Version: undefined }, calls)), undefined)
    assert.equal(raiseTieringBudget(host({ setFlagsFromString: undefined }, calls)), undefined)
    assert.deepEqual(calls, [])
  })

  test('a setFlagsFromString that throws is nothing to report', () => {
    const throwing = host({ setFlagsFromString: () => { throw new Error('no flags here') } }, [])
    assert.equal(raiseTieringBudget(throwing), undefined)
  })
})

describe('baselineParserConnector', () => {
  /** A connector that answers each call with the next of `answers`. */
  const fake = (answers: Array<[Error, null] | [null, object]>): buildConnector.connector =>
    ((_options: unknown, callback: (...args: unknown[]) => void) => callback(...(answers.shift() as unknown[]))) as never

  test('raises the budget around the first successful connection only, and sets it back once undici has taken the socket', () => {
    resetParserTiering()
    const events: string[] = []
    const raise = (): (() => void) => {
      events.push('raise')
      return () => void events.push('restore')
    }
    const socket = {}
    const connect = baselineParserConnector(fake([[new Error('ECONNREFUSED'), null], [null, socket], [null, socket]]), raise)
    const callback = (error: Error | null, got: unknown): void => void events.push(error === null ? `socket ${got === socket}` : `error ${error.message}`)
    connect({} as never, callback as never)
    connect({} as never, callback as never)
    connect({} as never, callback as never)
    assert.deepEqual(events, ['error ECONNREFUSED', 'raise', 'socket true', 'restore', 'socket true'])
  })

  test('sets the budget back when undici throws in the callback', () => {
    resetParserTiering()
    const events: string[] = []
    const connect = baselineParserConnector(fake([[null, {}]]), () => () => void events.push('restore'))
    assert.throws(() => connect({} as never, (() => { throw new Error('connectH1 failed') }) as never), /connectH1 failed/)
    assert.deepEqual(events, ['restore'])
  })
})

// The effect itself, seen in V8's own trace of its WebAssembly compiles: without the raised budget,
// Node 20 compiles llhttp with TurboFan after the first answer, Node 22-26 within 200 answers
// ("Compiled function … using TurboFan, took 113 ms and 29445768 / 42603904 max/total bytes").
// Node only: the flag is V8's, and the trace is Node's stderr (Deno and Bun: see the module).
if (onNode) {
  test("200 answers through the context's own Agent: undici's parser is never compiled a second time", async () => {
    const server = await startStubServer((_req, res) => res.writeHead(200, { etag: '"e"' }).end())
    try {
      const script = `
        const { upload } = await import('@partstream/signer')
        const target = { bucket: 'bkt', key: 'k', region: 'us-east-1', endpoint: ${JSON.stringify(server.endpoint)}, credentials: { accessKeyId: 'a', secretAccessKey: 's' } }
        for (let i = 0; i < 200; i++) await upload(new Uint8Array(10), target)
        // Node 20 compiles in the background after the first answer: give it time to show.
        await new Promise((resolve) => setTimeout(resolve, 1500))`
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        // The built files (the test run builds them first), not the TypeScript sources: Node strips
        // types with a WebAssembly module of its own, whose compiles would show in the trace.
        ['--trace-wasm-compilation-times', '--input-type=module', '-e', script],
        { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      )
      const lines = (stdout + stderr).split('\n')
      assert.ok(lines.some((line) => /using Liftoff/.test(line)), `V8 traced no baseline compile at all: ${stderr.slice(0, 500)}`)
      assert.deepEqual(lines.filter((line) => /using TurboFan/.test(line)), [])
    } finally {
      await server.close()
    }
  })
}
