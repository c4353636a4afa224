/**
 * Content types by file extension, for `cp` without `--content-type`: the common web, archive,
 * data and media types (IANA names, as nginx's and Apache's mime.types map them). Anything else
 * is left to S3's default, `application/octet-stream`. A small table instead of a dependency: the
 * CLI needs a default, not a registry; `--content-type` covers the rest.
 */
const TYPES: Readonly<Record<string, string>> = {
  txt: 'text/plain; charset=utf-8',
  log: 'text/plain; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  tsv: 'text/tab-separated-values; charset=utf-8',
  html: 'text/html; charset=utf-8',
  htm: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  json: 'application/json',
  ndjson: 'application/x-ndjson',
  xml: 'application/xml',
  yaml: 'application/yaml',
  yml: 'application/yaml',
  wasm: 'application/wasm',
  pdf: 'application/pdf',
  zip: 'application/zip',
  gz: 'application/gzip',
  tgz: 'application/gzip',
  bz2: 'application/x-bzip2',
  xz: 'application/x-xz',
  zst: 'application/zstd',
  tar: 'application/x-tar',
  '7z': 'application/x-7z-compressed',
  parquet: 'application/vnd.apache.parquet',
  avro: 'application/avro',
  sql: 'application/sql',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  svg: 'image/svg+xml',
  ico: 'image/vnd.microsoft.icon',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  mp4: 'video/mp4',
  webm: 'video/webm',
  mov: 'video/quicktime',
  woff: 'font/woff',
  woff2: 'font/woff2',
}

/** The content type for a file name, or `undefined` (S3's default then applies). */
export function contentTypeFor(name: string): string | undefined {
  const dot = name.lastIndexOf('.')
  if (dot <= 0 || dot < name.lastIndexOf('/') + 1) return undefined
  return TYPES[name.slice(dot + 1).toLowerCase()]
}
