/**
 * S3's key order: UTF-8 binary order, which is Unicode code point order. JavaScript's `<` on
 * strings compares UTF-16 code units, which differs where a character above U+FFFF (a surrogate
 * pair, D800–DFFF) meets one in U+E000–U+FFFF: S3 puts the former after, `<` before.
 * @example
 * compareKeys('a-b', 'a/x') < 0 // '-' (0x2D) before '/' (0x2F), as S3 lists them
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) return codePointRank(x) - codePointRank(y)
  }
  return a.length - b.length
}

/** Moves surrogates (D800–DFFF) above E000–FFFF, keeping every other unit in place. */
function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000
}
