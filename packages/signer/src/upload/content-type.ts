/**
 * Content types by file extension, for `uploadDirectory`. A small built-in table instead of a
 * dependency: `mime-types`/`mime` carry ~1,000 entries (and `mime-db` ~180 KB of JSON) for types a
 * static site, a backup or a build output never holds; this is the set browsers and CDNs act on
 * (the WHATWG/IANA registrations of the common web, image, font, media, archive and data types).
 * Unknown extensions get no `Content-Type` (S3 stores `binary/octet-stream`). Add a type with
 * the `contentType` option or per entry.
 * @module
 */

import { describeValue, InvalidArgumentError } from '@partstream/core'

const TEXT = '; charset=utf-8'

/** Lower-case extension (no dot) → content type. */
const TYPES: Readonly<Record<string, string>> = {
  // Web
  html: `text/html${TEXT}`,
  htm: `text/html${TEXT}`,
  css: `text/css${TEXT}`,
  js: `text/javascript${TEXT}`,
  mjs: `text/javascript${TEXT}`,
  cjs: `text/javascript${TEXT}`,
  json: 'application/json',
  map: 'application/json',
  jsonld: 'application/ld+json',
  webmanifest: 'application/manifest+json',
  xml: 'application/xml',
  wasm: 'application/wasm',
  txt: `text/plain${TEXT}`,
  md: `text/markdown${TEXT}`,
  csv: `text/csv${TEXT}`,
  tsv: `text/tab-separated-values${TEXT}`,
  ics: 'text/calendar',
  yaml: 'application/yaml',
  yml: 'application/yaml',
  // Images
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  svg: 'image/svg+xml',
  ico: 'image/vnd.microsoft.icon',
  bmp: 'image/bmp',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  heic: 'image/heic',
  // Fonts
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  otf: 'font/otf',
  // Media
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  flac: 'audio/flac',
  m4a: 'audio/mp4',
  aac: 'audio/aac',
  opus: 'audio/opus',
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  webm: 'video/webm',
  ogv: 'video/ogg',
  mov: 'video/quicktime',
  m3u8: 'application/vnd.apple.mpegurl',
  vtt: 'text/vtt',
  // Documents and archives
  pdf: 'application/pdf',
  zip: 'application/zip',
  gz: 'application/gzip',
  tgz: 'application/gzip',
  bz2: 'application/x-bzip2',
  xz: 'application/x-xz',
  zst: 'application/zstd',
  tar: 'application/x-tar',
  '7z': 'application/x-7z-compressed',
  // Data
  parquet: 'application/vnd.apache.parquet',
  avro: 'application/avro',
  ndjson: 'application/x-ndjson',
  jsonl: 'application/jsonl',
}

/** The file extension of each `Content-Encoding` a pre-compressed file is served with. */
const ENCODED_EXTENSIONS: Readonly<Record<string, string>> = { gzip: 'gz', br: 'br', zstd: 'zst', compress: 'z' }

/**
 * The content type for a file name, by its extension; `undefined` when unknown. With the
 * `contentEncoding` the object is stored with, a name ending in that encoding's extension is
 * typed by the extension before it: `app.js.gz` sent as `Content-Encoding: gzip` is
 * `text/javascript` (a browser decodes it, then reads it as what it is; it got
 * `application/gzip`). The AWS CLI types `app.js.gz` so whatever the encoding; without one, a
 * `.gz` stays `application/gzip` here, which is what such a file then is.
 */
export function contentTypeFor(name: string, contentEncoding?: string): string | undefined {
  if (typeof name !== 'string') throw new InvalidArgumentError(`Expected a file name (a string), got ${describeValue(name)}.`)
  const outer = typeof contentEncoding === 'string' ? ENCODED_EXTENSIONS[contentEncoding.trim().toLowerCase().split(',').pop()?.trim() ?? ''] : undefined
  if (outer !== undefined && name.toLowerCase().endsWith(`.${outer}`)) {
    const inner = contentTypeFor(name.slice(0, -(outer.length + 1)))
    if (inner !== undefined) return inner
  }
  const base = name.slice(name.lastIndexOf('/') + 1)
  const dot = base.lastIndexOf('.')
  if (dot <= 0) return undefined // no extension, or a dotfile such as `.env`
  const extension = base.slice(dot + 1).toLowerCase()
  // Own entries only: `x.constructor` or `x.__proto__` is a file name, not Object.prototype.
  return Object.hasOwn(TYPES, extension) ? TYPES[extension] : undefined
}
