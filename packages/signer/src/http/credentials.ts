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
  return checkKeyText(
    {
      accessKeyId: creds.accessKeyId,
      secretAccessKey: creds.secretAccessKey,
      ...(creds.sessionToken === undefined || creds.sessionToken === '' ? {} : { sessionToken: creds.sessionToken }),
      ...(expiration === undefined ? {} : { expiration }),
    },
    (field) => `${from}.${field}`,
  )
}

/** What goes in a header (the key id in `Authorization`, the token in `x-amz-security-token`). */
const HEADER_TEXT = /^[\x21-\x7e]+$/
const CONTROL = /[\x00-\x1f\x7f]/

/**
 * Checks the keys' text wherever they came from (`nameOf` names a field's source: the option, a
 * variable, a profile's key): the key id and the token go in headers, so printable ASCII without
 * whitespace; the secret, which only keys the HMAC, has no control character. A "\r" left by a
 * .env file with Windows line ends failed as "PutObject failed without a response: invalid
 * authorization header" (undici refused the header), or as SignatureDoesNotMatch for the secret.
 * The value is never shown.
 * @throws {InvalidArgumentError}
 */
export function checkKeyText(creds: Credentials, nameOf: (field: 'accessKeyId' | 'secretAccessKey' | 'sessionToken') => string): Credentials {
  const problem = (field: 'accessKeyId' | 'secretAccessKey' | 'sessionToken', value: string, expected: string): InvalidArgumentError => {
    const crlf = /[\r\n]$/.test(value) ? ' (a .env file with Windows line ends leaves a "\\r" at the end)' : ''
    return new InvalidArgumentError(`Expected ${nameOf(field)} to be ${expected}, but it holds whitespace, a control character or non-ASCII text${crlf}: check where it is set (its value is not shown).`)
  }
  if (!HEADER_TEXT.test(creds.accessKeyId)) throw problem('accessKeyId', creds.accessKeyId, 'printable ASCII without whitespace (it is sent in the Authorization header)')
  if (creds.sessionToken !== undefined && !HEADER_TEXT.test(creds.sessionToken)) {
    throw problem('sessionToken', creds.sessionToken, 'printable ASCII without whitespace (it is sent as x-amz-security-token)')
  }
  if (CONTROL.test(creds.secretAccessKey)) throw problem('secretAccessKey', creds.secretAccessKey, 'a secret key without control characters')
  return creds
}

/** What the signer gets: the keys and the token, nothing else. */
export function toIdentity(creds: Credentials): SigningIdentity {
  return creds.sessionToken === undefined || creds.sessionToken === ''
    ? { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey }
    : { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, sessionToken: creds.sessionToken }
}
