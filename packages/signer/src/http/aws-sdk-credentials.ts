/**
 * The AWS SDK's own Node.js credential chain, used when the user installed it (an optional peer
 * dependency) and nothing partstream reads itself yields credentials: SSO, `role_arn` with
 * `source_profile` or `credential_source` (STS), web identity (EKS), ECS/EKS container
 * credentials, EC2 instance metadata (IMDSv2). Those need STS, SSO-OIDC and IMDS clients that
 * the SDK maintains; partstream does not write them again.
 * @module
 */
import { redact } from './redact.ts'
import { builtinModule } from './hash.ts'

/** The packages tried, in order, with the export that makes the chain. */
export const AWS_SDK_PROVIDER_PACKAGES: readonly { readonly specifier: string; readonly exportName: string }[] = [
  // defaultProvider(init): the chain every SDK v3 client uses by default.
  { specifier: '@aws-sdk/credential-provider-node', exportName: 'defaultProvider' },
  // fromNodeProviderChain(init): the same chain, re-exported by the all-providers package.
  { specifier: '@aws-sdk/credential-providers', exportName: 'fromNodeProviderChain' },
]

/** The install command named in errors. */
export const AWS_SDK_INSTALL_HINT = 'npm install @aws-sdk/credential-provider-node'

/** The SDK's logger interface (`@smithy/types` Logger). */
interface SdkLogger {
  debug(...content: unknown[]): void
  info(...content: unknown[]): void
  warn(...content: unknown[]): void
  error(...content: unknown[]): void
}

/** The SDK's chain factory, typed only as far as we use it (no compile-time dependency on the SDK). */
export type AwsSdkChainFactory = (init: { readonly profile?: string; readonly logger: SdkLogger }) => () => Promise<unknown>

/** How a module is imported; the tests swap it to simulate a missing package. */
export type ModuleImporter = (specifier: string) => Promise<unknown>

/** `import(specifier)` with a computed specifier, so bundlers and type checkers leave it alone. */
export const importModule: ModuleImporter = (specifier) => import(specifier)

/**
 * Library code never prints (STYLE 28): the SDK warns through `console.warn` unless given a
 * logger (e.g. "Multiple credential sources detected" when AWS_PROFILE and keys are both set).
 */
const SILENT_LOGGER: SdkLogger = { debug(): void {}, info(): void {}, warn(): void {}, error(): void {} }

export type LoadedAwsSdk =
  | { readonly kind: 'loaded'; readonly specifier: string; readonly create: AwsSdkChainFactory }
  | { readonly kind: 'missing' }
  | { readonly kind: 'broken'; readonly specifier: string; readonly error: Error }

function isModuleNotFound(error: unknown, specifier: string): boolean {
  const code = (error as { code?: unknown } | null)?.code
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return true
  // Deno and Bun: "Cannot find module/package '…'", "Could not resolve '…'", "… not found".
  const message = error instanceof Error ? error.message : ''
  return message.includes(specifier) && /cannot find|could not (?:find|resolve)|not found|unable to (?:find|resolve)/i.test(message)
}

/** Loads the first installed package of `AWS_SDK_PROVIDER_PACKAGES`. */
export async function loadAwsSdk(importer: ModuleImporter): Promise<LoadedAwsSdk> {
  for (const { specifier, exportName } of AWS_SDK_PROVIDER_PACKAGES) {
    let mod: Record<string, unknown>
    try {
      mod = (await importer(specifier)) as Record<string, unknown>
    } catch (error) {
      if (isModuleNotFound(error, specifier)) continue
      return { kind: 'broken', specifier, error: sanitizeError(error) }
    }
    let create = mod[exportName] ?? (mod['default'] as Record<string, unknown> | undefined)?.[exportName]
    // Node 22 can hand over a CommonJS package's namespace with every named export undefined and
    // an empty default (seen in the CLI with stdin a pipe: the import came back before the
    // package's module.exports was filled, and importing again gives the same namespace), where
    // require() returns the filled module.exports. It was reported as "installed but could not
    // be loaded".
    if (typeof create !== 'function') create = requireExport(specifier, exportName)
    if (typeof create !== 'function') {
      return { kind: 'broken', specifier, error: new Error(`${specifier} has no ${exportName} export`) }
    }
    return { kind: 'loaded', specifier, create: create as AwsSdkChainFactory }
  }
  return { kind: 'missing' }
}

/** Runs the SDK chain for `profile` (its own order: env, SSO, ini, process, token file, container, IMDS). */
export function runAwsSdkChain(sdk: { readonly create: AwsSdkChainFactory }, profile: string | undefined): Promise<unknown> {
  return sdk.create(profile === undefined ? { logger: SILENT_LOGGER } : { profile, logger: SILENT_LOGGER })()
}

/**
 * An SDK error reduced to its name and redacted message: the original may carry the HTTP
 * response, the request, or a process's output, so it never becomes a `cause` itself.
 */
export function sanitizeError(error: unknown): Error {
  // V8's JSON.parse message quotes the text around the fault ("…"cessKey": wJalrXUtnF"… is not
  // valid JSON"): a piece of a secret too short for redact() to recognise.
  const message = !(error instanceof Error) ? `a non-Error was thrown (${typeof error})` : error instanceof SyntaxError ? 'an answer that is not valid JSON (not quoted: it may hold a secret)' : redact(error.message)
  const sanitized = new Error(message)
  if (error instanceof Error) sanitized.name = error.name
  return sanitized
}

/** `require(specifier)[exportName]` from this module, where `node:module` has `createRequire`; else `undefined`. */
function requireExport(specifier: string, exportName: string): unknown {
  const nodeModule = builtinModule<{ createRequire?: (from: string) => (id: string) => unknown }>('node:module')
  try {
    const exports = nodeModule?.createRequire?.(import.meta.url)(specifier) as Record<string, unknown> | undefined
    return exports?.[exportName]
  } catch {
    return undefined
  }
}

