#!/usr/bin/env node
import { main } from './main.ts'

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
