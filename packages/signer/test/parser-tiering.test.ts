// undici's HTTP parser (llhttp, WebAssembly) kept on V8's baseline code: the connector tells V8
// to keep WebAssembly on Liftoff only around the callback in which undici creates the parser, once
// per process, and sets V8's defaults back (src/transport/parser-tiering.ts).
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { buildConnector } from 'undici'
import { baselineParserConnector, holdBaseline, resetParserTiering, type TieringHost } from '../src/transport/parser-tiering.ts'
import { startStubServer } from './stub-server.ts'

const onNode = !('Deno' in globalThis) && !('Bun' in globalThis)

describe('holdBaseline', () => {
  const host = (over: Partial<TieringHost>, calls: string[]): TieringHost => ({
    setFlagsFromString: (flags) => void calls.push(flags),
    isMainThread: true,
    execArgv: [],
    ...over,
  })

  test("keeps WebAssembly on Liftoff (--liftoff-only and the two flags it implies), then sets V8's defaults back", () => {
    const calls: string[] = []
    const release = holdBaseline(host({}, calls))
    assert.deepEqual(calls, ['--liftoff-only --no-wasm-dynamic-tiering --no-wasm-tier-up --no-wasm-lazy-compilation'])
    release?.()
    assert.deepEqual(calls, ['--liftoff-only --no-wasm-dynamic-tiering --no-wasm-tier-up --no-wasm-lazy-compilation', '--no-liftoff-only --wasm-dynamic-tiering --wasm-tier-up --wasm-lazy-compilation'])
  })

  test("a WebAssembly flag the process was started with stands; nothing is touched off the main thread or without setFlagsFromString", () => {
    const calls: string[] = []
    for (const execArgv of [['--wasm-tiering-budget=5'], ['--liftoff-only'], ['--no-liftoff'], ['--expose-gc', '--no-wasm-tier-up'], ['--wasm_dynamic_tiering']]) {
      assert.equal(holdBaseline(host({ execArgv }, calls)), undefined, execArgv.join(' '))
    }
    assert.equal(holdBaseline(host({ isMainThread: false }, calls)), undefined)
    assert.equal(holdBaseline(host({ setFlagsFromString: undefined }, calls)), undefined)
    assert.deepEqual(calls, [])
    assert.notEqual(holdBaseline(host({ execArgv: ['--expose-gc', '--max-old-space-size=100'] }, calls)), undefined)
  })

  test('a setFlagsFromString that throws is nothing to report', () => {
    const throwing = host({ setFlagsFromString: () => { throw new Error('no flags here') } }, [])
    assert.equal(holdBaseline(throwing), undefined)
  })
})

describe('baselineParserConnector', () => {
  /** A connector that answers each call with the next of `answers`. */
  const fake = (answers: Array<[Error, null] | [null, object]>): buildConnector.connector =>
    ((_options: unknown, callback: (...args: unknown[]) => void) => callback(...(answers.shift() as unknown[]))) as never

  test('holds WebAssembly on Liftoff around the first successful connection only, and lets go once undici has taken the socket', () => {
    resetParserTiering()
    const events: string[] = []
    const raise = (): (() => void) => {
      events.push('hold')
      return () => void events.push('release')
    }
    const socket = {}
    const connect = baselineParserConnector(fake([[new Error('ECONNREFUSED'), null], [null, socket], [null, socket]]), raise)
    const callback = (error: Error | null, got: unknown): void => void events.push(error === null ? `socket ${got === socket}` : `error ${error.message}`)
    connect({} as never, callback as never)
    connect({} as never, callback as never)
    connect({} as never, callback as never)
    assert.deepEqual(events, ['error ECONNREFUSED', 'hold', 'socket true', 'release', 'socket true'])
  })

  test('lets go when undici throws in the callback', () => {
    resetParserTiering()
    const events: string[] = []
    const connect = baselineParserConnector(fake([[null, {}]]), () => () => void events.push('release'))
    assert.throws(() => connect({} as never, (() => { throw new Error('connectH1 failed') }) as never), /connectH1 failed/)
    assert.deepEqual(events, ['release'])
  })
})

// The effect itself, seen in V8's own trace of its WebAssembly compiles: without it, Node 20
// compiles llhttp with TurboFan after the first answer, Node 22-26 within 200 S3 answers (a raised
// tiering budget only delays that to ~200: "Compiled function … using TurboFan, took 113 ms and
// 29445768 / 42603904 max/total bytes"). A module of the application's own, created afterwards,
// still tiers up. Node only: the flags are V8's, and the trace is Node's (Deno and Bun: see the module).
if (onNode) {
  test("400 S3-like answers through the context's own Agent: undici's parser is never compiled a second time; a module created later still is", async () => {
    // An S3 answer's headers (x-amz-id-2, request id, date, ETag, SSE, server): what the parser spends its budget on.
    const server = await startStubServer((_req, res) =>
      res
        .writeHead(200, {
          'x-amz-id-2': 'a'.repeat(76),
          'x-amz-request-id': 'B'.repeat(16),
          date: new Date().toUTCString(),
          etag: `"${'c'.repeat(32)}"`,
          'x-amz-server-side-encryption': 'AES256',
          server: 'AmazonS3',
        })
        .end(),
    )
    try {
      // A tiny module of the application's: f(n) counts to n in a loop (hot enough to tier up).
      const wasm = [0, 97, 115, 109, 1, 0, 0, 0, 1, 6, 1, 96, 1, 127, 1, 127, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0, 10, 25, 1, 23, 1, 1, 127, 3, 64, 32, 1, 65, 1, 106, 33, 1, 32, 1, 32, 0, 72, 13, 0, 11, 32, 1, 11]
      const script = `
        const { upload } = await import('@partstream/signer')
        const target = { bucket: 'bkt', key: 'k', region: 'us-east-1', endpoint: ${JSON.stringify(server.endpoint)}, credentials: { accessKeyId: 'a', secretAccessKey: 's' } }
        for (let i = 0; i < 400; i++) await upload(new Uint8Array(10), target)
        console.log('APPLICATION MODULE')
        const { f } = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(${JSON.stringify(wasm)}))).exports
        for (let i = 0; i < 200; i++) f(1e6)
        // Node 20 compiles in the background after the first answer: give it time to show.
        await new Promise((resolve) => setTimeout(resolve, 1500))`
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        // The built files (the test run builds them first), not the TypeScript sources: Node strips
        // types with a WebAssembly module of its own, whose compiles would show in the trace.
        ['--trace-wasm-compilation-times', '--input-type=module', '-e', script],
        { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      )
      const [parserPart = '', applicationPart = ''] = (stdout + stderr).split('APPLICATION MODULE')
      const turbofan = (text: string): string[] => text.split('\n').filter((line) => /using TurboFan/.test(line))
      assert.ok(/using Liftoff/.test(parserPart), `V8 traced no baseline compile at all: ${parserPart.slice(0, 500)}`)
      assert.deepEqual(turbofan(parserPart), [])
      assert.ok(turbofan(applicationPart).length > 0, `the application's own module was kept on Liftoff too: ${applicationPart.slice(0, 500)}`)
    } finally {
      await server.close()
    }
  })
}
