#!/usr/bin/env node
import * as nodeModule from 'node:module'
import { setFlagsFromString } from 'node:v8'

// V8 flags for this process (the CLI's own; the library never sets any), set before anything else
// loads: `main` comes in by a dynamic import below, after them.
const onNode = typeof (globalThis as { Deno?: unknown }).Deno === 'undefined' && typeof (globalThis as { Bun?: unknown }).Bun === 'undefined'
// V8 compiles undici's HTTP parser, a WebAssembly module that is one large function, a second
// time with TurboFan (Node 20 / V8 11.3: whether or not it gets hot, and the process waits ~240 ms
// for it before it can exit; Node 22+: once it has parsed a few hundred answers). That compile's
// memory shows in peak RSS. The parser reads a few hundred bytes per S3 answer: its baseline
// (Liftoff) code is plenty. A tiering budget no upload spends keeps it there. `--liftoff-only`
// did that on Node 20 and 22, but Node 24 and 26 ignore it when set at run time; the budget works
// on all four. Measured here, 1 GiB `cp -` (171 parts), peak RSS without -> with: Node 20 94 ->
// 59 MiB (for a 1000-byte `cp`), Node 22 95 -> 83, Node 24 100 -> 85, Node 26 90 -> 86, at the
// same speed. core's WebAssembly CRCs (--checksum) start on Liftoff too, at 2.5 (CRC64NVME) and
// 1.4 GiB/s (CRC32C) here, far above any upload rate.
if (onNode) setFlagsFromString('--wasm-tiering-budget=2000000000')
// V8's young generation doubles each time a scavenge finds it busy, up to 2 × 16 MiB; an upload's
// garbage is short-lived (requests, promises, header strings), and a 1 GiB `cp -` grew it to 8 MiB
// for nothing. Kept at its starting size: peak RSS 84-85 -> 78-79 MiB, throughput unchanged
// (bench:cli, Node 20). V8 reads this flag at each growth, so setting it now takes effect; a
// `#!/usr/bin/env -S node --max-semi-space-size=1` line would too, but busybox (Alpine), OpenBSD
// and NetBSD `env` have no -S, and the bin would not start there.
if (onNode) setFlagsFromString('--semi-space-growth-factor=1')

// Node 22.1+ keeps V8's compiled code of the modules loaded after this call on disk (in
// os.tmpdir()/node-compile-cache, or $NODE_COMPILE_CACHE; NODE_DISABLE_COMPILE_CACHE=1 turns it
// off), as TypeScript's own bin does. The published bin is this file plus `main.js`, one bundle of
// the rest, loaded below: from the cache, a run skips parsing and compiling its 450 kB. Measured
// (`cp` of a 1000-byte file, bench sink, 15-25 runs each): Node 22 0.26 -> 0.24 s, Node 24 peak
// RSS 73 -> 66 MiB; Node 20 has no such API and nothing changes there.
;(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.()

// Output whose reader went away (`partstream cp … --json | head -c 0`, a closed terminal): Node
// ignores SIGPIPE, so each write fails with EPIPE, and an 'error' event nobody handles would crash
// the process with a stack trace after the upload itself succeeded. Stop writing instead, as a
// program that SIGPIPE stops does; the exit code stays the upload's.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error
  })
}

const { main } = await import('./main.ts')

const code = await main({
  argv: process.argv.slice(2),
  // The descriptor, not process.stdin: uploadFd reads it into the part buffers (no 64 KiB Buffer
  // per read), and touching process.stdin would make a pipe non-blocking.
  stdin: 0,
  stdout: process.stdout,
  stderr: {
    write: (text) => process.stderr.write(text),
    get isTTY() {
      return process.stderr.isTTY === true
    },
    // A pseudo-terminal without a size (script, CI) reports 0 columns: fall back to $COLUMNS.
    get columns() {
      return process.stderr.columns || Number(process.env['COLUMNS']) || undefined
    },
  },
  onSignal(handler) {
    const onInt = (): void => handler('SIGINT')
    const onTerm = (): void => handler('SIGTERM')
    process.on('SIGINT', onInt)
    process.on('SIGTERM', onTerm)
    return () => {
      process.off('SIGINT', onInt)
      process.off('SIGTERM', onTerm)
    }
  },
  exit: (c) => process.exit(c),
})
process.exitCode = code
// A failed or interrupted `cp -` may leave a read of stdin waiting for the producer on a worker
// thread (a blocking read cannot be cancelled): exit now instead of waiting for its next byte.
if (code !== 0) process.exit(code)
