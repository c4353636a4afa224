#!/usr/bin/env node
import { closeSync } from 'node:fs'
import * as nodeModule from 'node:module'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { isatty } from 'node:tty'
import { setFlagsFromString } from 'node:v8'
import { cacheDir, makePrivateDir } from './checkpoint.ts'

// SIGUSR1 makes Node open its inspector on 127.0.0.1:9229, in a process holding AWS credentials:
// any local user who can signal it (and the port is anyone's on the machine) could then run code
// in it. A listener of our own keeps Node from doing that (Node 20, 22, 24, 26), and the signal
// is ignored: the upload goes on. On Bun 1.4 the signal would otherwise end the process, leaving
// the multipart upload open. Deno 2.9.2+ opens its inspector on SIGUSR1 whatever listeners there
// are (denoland/deno#35738): nothing to do there from here. Windows has no SIGUSR1. As early as
// can be: until this line runs, the runtime's own handling applies.
if (process.platform !== 'win32') process.on('SIGUSR1', () => {})

// V8 flags for this process (the CLI's own), set before anything else loads: `main` comes in by a
// dynamic import below, after them.
const onNode = typeof (globalThis as { Deno?: unknown }).Deno === 'undefined' && typeof (globalThis as { Bun?: unknown }).Bun === 'undefined'
// (undici's HTTP parser, a WebAssembly module, is kept on V8's baseline code by the library
// itself, around its instantiation only: signer's transport/parser-tiering.ts. The bin set
// `--wasm-tiering-budget` for the whole process until 2026-11-30.)
// V8's young generation doubles each time a scavenge finds it busy, up to 2 × 16 MiB; an upload's
// garbage is short-lived (requests, promises, header strings), and a 1 GiB `cp -` grew it to 8 MiB
// for nothing. Kept at its starting size: peak RSS 84-85 -> 78-79 MiB, throughput unchanged
// (bench:cli, Node 20). V8 reads this flag at each growth, so setting it now takes effect; a
// `#!/usr/bin/env -S node --max-semi-space-size=1` line would too, but busybox (Alpine), OpenBSD
// and NetBSD `env` have no -S, and the bin would not start there.
if (onNode) setFlagsFromString('--semi-space-growth-factor=1')

// Node 22.1+ keeps V8's compiled code of the modules loaded after this call on disk, as
// TypeScript's own bin does. The published bin is this file plus `main.js`, one bundle of the
// rest, loaded below: from the cache, a run skips parsing and compiling its 450 kB. Measured
// (`cp` of a 1000-byte file, bench sink, 15-25 runs each): Node 22 0.26 -> 0.24 s, Node 24 peak
// RSS 73 -> 66 MiB; Node 20 has no such API and nothing changes there.
// Where: `<user cache dir>/partstream/compile-cache` (the checkpoints' cache dir), mode 0700, and
// only if it and its parent are this user's and writable by no one else (`makePrivateDir`); else
// no cache. Not Node's default, os.tmpdir()/node-compile-cache: in a /tmp shared by all users,
// another user can make that directory first, writable by all; Node only puts the uid in the name
// of the folder it makes inside, and checks a cache file by CRC32s anyone can compute, so they
// could swap the code of main.js and have it run as whoever runs partstream. NODE_COMPILE_CACHE
// (Node turned the cache on there at start-up: the user's choice) and NODE_DISABLE_COMPILE_CACHE
// are left to Node. On Deno and Bun (Bun has a no-op enableCompileCache) nothing is made.
const compileCache = nodeModule as { enableCompileCache?: (directory: string) => unknown }
if (onNode && typeof compileCache.enableCompileCache === 'function' && !process.env['NODE_COMPILE_CACHE'] && process.env['NODE_DISABLE_COMPILE_CACHE'] === undefined) {
  try {
    const dir = join(cacheDir(process.env, process.platform, homedir()), 'compile-cache')
    if (makePrivateDir(dir) === undefined) compileCache.enableCompileCache(dir)
  } catch {
    // No home directory (os.homedir() throws): no cache.
  }
}

// Output that cannot be written any more: its reader went away (`partstream cp … --json | head -c
// 0`: Node ignores SIGPIPE, so each write fails with EPIPE), the terminal hung up (EIO), the disk
// is full (ENOSPC, `>/dev/full`). An 'error' event nobody handles would crash the process with a
// stack trace, after the upload succeeded or while it runs (leaving the multipart upload open).
// Stop writing to that stream instead, as a program that SIGPIPE stops does: the upload completes
// or is aborted as it would have been, and the exit code stays the upload's. A failed write shows
// as an 'error' event (pipes, terminals) or, on some runtimes, as a throw from write() itself.
const broken = new Set<NodeJS.WriteStream>()
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => broken.add(stream))
const writerOf =
  (stream: NodeJS.WriteStream) =>
  (text: string): void => {
    if (broken.has(stream)) return
    try {
      stream.write(text)
    } catch {
      broken.add(stream)
    }
  }

// Node 20 (not 22 and later) puts each terminal's settings back as it exits and asserts that this
// worked: on a terminal that hung up (tcsetattr fails with EIO) it aborts with SIGABRT, after an
// upload that succeeded. It skips a descriptor that is closed, so close those whose terminal is
// gone (isatty's TCGETS fails on a hung-up terminal too).
if (onNode) {
  const terminals = [0, 1, 2].filter((fd) => isatty(fd))
  process.on('exit', () => {
    for (const fd of terminals) {
      if (isatty(fd)) continue
      try {
        closeSync(fd)
      } catch {
        // Closed already.
      }
    }
  })
}

const { main } = await import('./main.ts')

const code = await main({
  argv: process.argv.slice(2),
  // The descriptor, not process.stdin: uploadFd reads it into the part buffers (no 64 KiB Buffer
  // per read), and touching process.stdin would make a pipe non-blocking.
  stdin: 0,
  stdout: {
    write: writerOf(process.stdout),
    // A failed write's 'error' comes on a later tick (a file: next tick; a pipe or terminal: once
    // libuv reports it): ask once every write has been handed on (the callback of an empty one).
    written: () => new Promise<boolean>((resolve) => (broken.has(process.stdout) ? resolve(false) : process.stdout.write('', () => setImmediate(() => resolve(!broken.has(process.stdout)))))),
  },
  stderr: {
    write: writerOf(process.stderr),
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
    // The terminal closed (or the ssh session dropped): as SIGTERM, abort the upload rather than
    // die with it open. What is printed after it may go nowhere (the writers above).
    const onHup = (): void => handler('SIGHUP')
    process.on('SIGINT', onInt)
    process.on('SIGTERM', onTerm)
    process.on('SIGHUP', onHup)
    return () => {
      process.off('SIGINT', onInt)
      process.off('SIGTERM', onTerm)
      process.off('SIGHUP', onHup)
    }
  },
  exit: (c) => process.exit(c),
})
process.exitCode = code
// A failed or interrupted `cp -` may leave a read of stdin waiting for the producer on a worker
// thread (a blocking read cannot be cancelled): exit now instead of waiting for its next byte.
if (code !== 0) process.exit(code)
