import { InvalidArgumentError } from '@partstream/core'

/** AWS-style credentials. */
export interface Credentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string | undefined
  /**
   * When the credentials stop working. A context fetches them again before that: 5 minutes
   * before, or at half their lifetime when they live less than 10 minutes.
   * @default undefined: they never expire
   */
  readonly expiration?: Date | undefined
}

/**
 * A function returning credentials. A context calls it once, then again only when the
 * credentials it returned carry an `expiration` that is near (see {@link Credentials}); the
 * requests in flight meanwhile share that one call.
 */
export type CredentialsProvider = () => Promise<Credentials>

/** smithy's identity shape: `sessionToken` absent rather than `undefined`. */
export interface SigningIdentity {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string
}

const SHAPE = '{ accessKeyId: string, secretAccessKey: string, sessionToken?: string, expiration?: Date }'

/**
 * Checks a credentials object (given, or returned by a provider) and returns it in our shape.
 * Never echoes a value: any of them may be a secret.
 * @throws {InvalidArgumentError}
 */
export function checkCredentials(c: unknown, from: string): Credentials {
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
  const { expiration } = creds
  if (expiration !== undefined && !(expiration instanceof Date && !Number.isNaN(expiration.getTime()))) {
    throw new InvalidArgumentError(`Expected ${from}.expiration to be a valid Date or undefined, got ${expiration instanceof Date ? 'an invalid Date' : `a ${typeof expiration}`}.`)
  }
  return {
    accessKeyId: creds.accessKeyId,
    secretAccessKey: creds.secretAccessKey,
    ...(creds.sessionToken === undefined || creds.sessionToken === '' ? {} : { sessionToken: creds.sessionToken }),
    ...(expiration === undefined ? {} : { expiration }),
  }
}

/** What the signer gets: the keys and the token, nothing else. */
export function toIdentity(creds: Credentials): SigningIdentity {
  return creds.sessionToken === undefined || creds.sessionToken === ''
    ? { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey }
    : { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, sessionToken: creds.sessionToken }
}
