/**
 * @packageDocumentation
 * The `partstream` command: `partstream cp <src> <dst>` streams stdin, a file or a directory to
 * S3 through `@partstream/signer`, with its memory bound, a progress bar and clean failure
 * (exit 1, the upload aborted; 130 on Ctrl-C, nothing left behind).
 * @example
 * import { main } from '@partstream/cli'
 * process.exitCode = await main({ argv: ['cp', 'backup.tar', 's3://backups/'], stdin: 0, … }) // 0: read stdin's descriptor with uploadFd
 */
export { main, EXIT, type CliIO } from './main.ts'
export { parseCommand, parseSize, parseS3Url, UsageError, type Command } from './args.ts'
