/**
 * The file a walk that does not follow links found for an entry (`uploadDirectory` without
 * `followSymlinks`): its inode (and device), from an `lstat` just before the entry was handed out.
 * `uploadAll` opens the entry's path without following a link in its last component and checks
 * the opened file is that one, so a file or a directory swapped for a link meanwhile (the walk is
 * lazy: a file may be opened minutes after its directory was listed) is not followed out of the
 * tree. A WeakMap, not a field: entries are the caller's to read, copy and filter.
 */
export interface FileIdentity {
  readonly dev: number
  readonly ino: number
}

const identities = new WeakMap<object, FileIdentity>()

export function expectIdentity(entry: object, identity: FileIdentity): void {
  identities.set(entry, identity)
}

export function identityOf(entry: unknown): FileIdentity | undefined {
  return typeof entry === 'object' && entry !== null ? identities.get(entry) : undefined
}
