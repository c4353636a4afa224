#!/usr/bin/env node
import { main } from './main.ts'

const code = await main({
  argv: process.argv.slice(2),
  stdin: process.stdin,
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
