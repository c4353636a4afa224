import type { ContextState } from './state.ts'

/** SHA-256 of the empty string: the payload hash of body-less requests. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD'

/** One request to sign. The payload hash is given, so no body is ever read here. */
export interface SignInput {
  readonly method: string
  /** Encoded path, exactly as sent (S3 signs the path as sent). */
  readonly path: string
  readonly query?: Readonly<Record<string, string>> | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`. */
  readonly payloadHash: string
}

/**
 * SigV4 headers for one request, signed at the clock's time (afresh for every attempt).
 * @throws {InvalidArgumentError} when the clock returns something that is not a valid Date.
 */
export async function signRequest(state: ContextState, input: SignInput): Promise<Record<string, string>> {
  const signingDate = state.clock.now()
  const { endpoint } = state
  const signed = await state.signer.sign(
    {
      method: input.method,
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      ...(endpoint.port === undefined ? {} : { port: endpoint.port }),
      path: input.path,
      query: input.query === undefined ? {} : { ...input.query },
      headers: { host: state.host, 'x-amz-content-sha256': input.payloadHash, ...input.headers },
    },
    { signingDate },
  )
  return signed.headers as Record<string, string>
}
