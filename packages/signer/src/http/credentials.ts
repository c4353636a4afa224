import { InvalidArgumentError } from '@partstream/core'

/** AWS-style credentials. */
export interface Credentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string | undefined
  /**
   * When the credentials stop working.
   * @default undefined: they never expire
   */
  readonly expiration?: Date | undefined
}

/** A function returning credentials, called before each signature (cache inside it if needed). */
export type CredentialsProvider = () => Promise<Credentials>

/** smithy's identity shape: `sessionToken` absent rather than `undefined`. */
export interface SigningIdentity {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string
}

export function env(name: string): string | undefined {
  const value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name]
  return value === '' ? undefined : value
}

const SHAPE = '{ accessKeyId: string, secretAccessKey: string, sessionToken?: string }'

/**
 * Checks a credentials object (given, or returned by a provider) and returns smithy's shape.
 * Never echoes a value: any of them may be a secret.
 * @throws {InvalidArgumentError}
 */
export function toIdentity(c: unknown, from: string): SigningIdentity {
  const creds = c as Partial<Record<keyof Credentials, unknown>> | null
  if (
    typeof creds !== 'object' ||
    creds === null ||
    typeof creds.accessKeyId !== 'string' ||
    typeof creds.secretAccessKey !== 'string' ||
    creds.accessKeyId === '' ||
    creds.secretAccessKey === ''
  ) {
    throw new InvalidArgumentError(`Expected ${from} to be ${SHAPE}${from === '`credentials`' ? ' or an async function returning one' : ''}.`)
  }
  if (creds.sessionToken !== undefined && typeof creds.sessionToken !== 'string') {
    throw new InvalidArgumentError(`Expected ${from}.sessionToken to be a string or undefined, got a ${typeof creds.sessionToken}.`)
  }
  return creds.sessionToken === undefined || creds.sessionToken === ''
    ? { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey }
    : { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, sessionToken: creds.sessionToken }
}

/**
 * The signer's identity source: the given credentials (checked now), a provider (its answer is
 * checked at each call), or the `AWS_*` environment variables.
 * @throws {InvalidArgumentError} when nothing yields credentials.
 */
export function resolveCredentials(
  credentials: Credentials | CredentialsProvider | undefined,
): SigningIdentity | (() => Promise<SigningIdentity>) {
  if (typeof credentials === 'function') {
    return async () => toIdentity(await credentials(), 'the `credentials` provider\'s result')
  }
  if (credentials !== undefined) return toIdentity(credentials, '`credentials`')
  const accessKeyId = env('AWS_ACCESS_KEY_ID')
  const secretAccessKey = env('AWS_SECRET_ACCESS_KEY')
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    throw new InvalidArgumentError('No credentials: pass `credentials` in the target or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.')
  }
  return toIdentity({ accessKeyId, secretAccessKey, sessionToken: env('AWS_SESSION_TOKEN') }, 'the AWS_* environment variables')
}
