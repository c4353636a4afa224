/**
 * Just enough XML for S3's answers: S3 bodies are flat, machine-written and small, so a
 * tag lookup with entity decoding is exact for them; no dependency needed.
 */
const ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

export function decodeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)))
    return ENTITY[e] ?? _
  })
}

export function encodeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${c === '&' ? 'amp' : c === '<' ? 'lt' : c === '>' ? 'gt' : c === '"' ? 'quot' : 'apos'};`)
}

/** Text of the first `<tag>` in `xml` (entity-decoded), or `undefined`. */
export function xmlText(xml: string, tag: string): string | undefined {
  const open = xml.indexOf(`<${tag}>`)
  if (open === -1) {
    return xml.includes(`<${tag}/>`) ? '' : undefined
  }
  const start = open + tag.length + 2
  const end = xml.indexOf(`</${tag}>`, start)
  return end === -1 ? undefined : decodeXml(xml.slice(start, end))
}

/** Every `<tag>…</tag>` block's inner XML, in order. */
export function xmlBlocks(xml: string, tag: string): string[] {
  const out: string[] = []
  let from = 0
  for (;;) {
    const open = xml.indexOf(`<${tag}>`, from)
    if (open === -1) return out
    const start = open + tag.length + 2
    const end = xml.indexOf(`</${tag}>`, start)
    if (end === -1) return out
    out.push(xml.slice(start, end))
    from = end + tag.length + 3
  }
}

/** `true` when the document's root element is `<Error>` (possibly after an XML declaration). */
export function isErrorDocument(xml: string): boolean {
  return /^\s*(<\?xml[^>]*\?>\s*)?<Error>/.test(xml)
}

/**
 * Whether an XML document is whole: it ends with the closing tag of its root element. An answer
 * cut short would otherwise parse as one with fewer parts or uploads, or none.
 */
export function isCompleteXml(xml: string): boolean {
  const root = xmlRoot(xml)
  if (root === undefined) return false
  const trimmed = xml.trimEnd()
  return trimmed.endsWith(`</${root}>`) || new RegExp(`<${root}[^>]*/>$`).test(trimmed)
}

/** The name of the document's root element (after any declaration and comments), or `undefined`. */
export function xmlRoot(xml: string): string | undefined {
  return /<([A-Za-z][\w.-]*)[\s>/]/.exec(xml.replace(/<\?[^>]*\?>/g, '').replace(/<!--[\s\S]*?-->/g, ''))?.[1]
}
