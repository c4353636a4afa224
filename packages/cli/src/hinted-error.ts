/** An error printed with a hint on the line after it (`partstream: hint: …`; `--progress json`: the error line's `hint`). */
export class HintedError extends Error {
  override readonly name = 'HintedError'
  readonly error: unknown
  readonly hint: string
  constructor(error: unknown, hint: string) {
    super(error instanceof Error ? error.message : String(error))
    this.error = error
    this.hint = hint
  }
}
