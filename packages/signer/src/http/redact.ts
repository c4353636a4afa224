/**
 * Server-provided text (an S3 `<Message>`, a proxy's error page) goes into error messages, and an
 * S3-compatible server may echo the request back in it: the `Authorization` header, a presigned
 * query, the session token. Everything that looks like a credential, a signature or a token is
 * replaced by `[redacted]` before the text enters an error.
 */
const PATTERNS: readonly RegExp[] = [
  // A whole Authorization header value, or a SigV4 one anywhere.
  /\bauthorization\s*[:=]\s*[^\r\n<"]*/gi,
  /AWS4-HMAC-SHA256[^\r\n<"]*/g,
  // Query or header forms of the signature, credential and token (JSON-quoted too: "name":"value").
  /\b(x-amz-(?:signature|credential|security-token)|signature|credential)"?\s*[:=]\s*"?[^\s&<"',;]+/gi,
  // JSON Web Tokens (MinIO's and STS web identity session tokens): header.payload.signature in base64url.
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
  // AWS access key ids (long-term AKIA, temporary ASIA, …).
  /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g,
  // Long base64 or hex runs: secret keys (40), signatures (64 hex), session tokens (hundreds).
  /[A-Za-z0-9+/=]{40,}/g,
]

/** `text` with anything credential-like replaced by `[redacted]`. */
export function redact(text: string): string {
  let out = text
  for (const pattern of PATTERNS) out = out.replace(pattern, (match) => redactMatch(match))
  return out
}

/** Keeps the name of a `name: value` / `name=value` match so the message still says what was there. */
function redactMatch(match: string): string {
  const named = /^([A-Za-z-]+\s*[:=]\s*)/.exec(match)
  return named === null || /^AWS4/.test(match) ? '[redacted]' : `${named[1]}[redacted]`
}
