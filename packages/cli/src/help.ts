/** The package version, printed by `--version`. */
export const VERSION = '0.1.0'

const COMMON = `Where and as whom (the library's resolution: AWS_* variables, ~/.aws files and profiles; flags win):
  --endpoint-url URL      any S3-compatible endpoint (else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL / AWS)
  --region REGION         signing region (else AWS_REGION, AWS_DEFAULT_REGION, us-east-1)
  --profile NAME          AWS profile for credentials, region and endpoint_url (else AWS_PROFILE)
  --force-path-style      https://host/bucket/key instead of https://bucket.host/key
  --ca-bundle FILE        PEM file of the CAs to trust over TLS (else AWS_CA_BUNDLE, the
                          profile's ca_bundle, the runtime's CAs)
  --cli-read-timeout SEC  a request with no progress for this long fails and is retried
                          (default 60; 0: none); attempts per request: AWS_MAX_ATTEMPTS or
                          the profile's max_attempts (default 5), as the AWS CLI reads them
  --json                  results as JSON lines on stdout
  -q, --quiet             print nothing on success (--only-show-errors: the same)
  -h, --help              this help

A proxy, as the AWS CLI finds it: HTTPS_PROXY for an https endpoint, HTTP_PROXY for an http one
(https_proxy / http_proxy first), except for the hosts in NO_PROXY (no_proxy).
`

export const HELP: Record<'main' | 'cp' | 'uploads', string> = {
  main: `partstream: stream bytes to S3 with bounded memory

Usage:
  partstream cp <src> <dst> [options]            upload stdin (-), a file, or a directory (-r)
  partstream uploads ls s3://bucket[/prefix]     list open multipart uploads
  partstream uploads abort s3://bucket[/prefix] --older-than 24h
  partstream --version

  pg_dump mydb | gzip | partstream cp - s3://backups/mydb.sql.gz

Exit codes: 0 done, 1 the upload failed (it was aborted), 2 usage error (nothing sent),
129 SIGHUP / 130 SIGINT / 143 SIGTERM (the upload was aborted; a second signal exits at once,
naming what may remain).
Run \`partstream cp --help\` for the options.
`,
  cp: `partstream cp <src> <dst> [options]

  <src>  - (stdin), a file, a named pipe or device read to its end like stdin (<(cmd),
         /dev/stdin, a FIFO, whose open waits for a writer; a disk), or a directory with -r
  <dst>  s3://bucket/key, or s3://bucket/prefix/ (a file keeps its name; a directory's files go
         to prefix/ + their path relative to it, with or without the final /; stdin, <(cmd)
         and /dev/stdin have no name: give the key)

  -r, --recursive         upload the regular files under a directory (symbolic links skipped)
  --follow-symlinks       with -r: upload what links point to (files and directories; a
                          directory reached twice is walked once). The AWS CLI follows by default
  --exclude PATTERN       with -r: leave out files whose path under the directory matches
                          (* matches any characters, / included; ? one; [a-z] one of them)
  --include PATTERN       with -r: take matching files back; as with the AWS CLI, the last
                          --exclude/--include that matches a file decides (repeatable, in order)
  --skip-existing size|etag
                          with -r: do not send a file S3 already holds with the same size
                          (size: no read) or the same size and ETag (etag: the file is read
                          and MD5-hashed here); S3's side comes from listing the prefix
  --dryrun                print what would be uploaded (after --exclude/--include); send nothing
  --concurrency N         parts in flight (default 4); memory ≈ (N + 1) × part size
  --hash-threads N|auto   worker threads that hash the parts of a single file or of stdin (-r
                          hashes on the main thread). Default auto: for a file of 256 MiB or
                          more, one per free core, at most 4; for stdin, one once 256 MiB have
                          passed, where there are 3 cores or more; only for SHA-256, SHA-1 or
                          MD5 (a CRC alone stays on the main thread). 0: the main thread
  --part-size SIZE        e.g. 8MiB (default 6 MiB, or what fits 10,000 parts of a known size)
  --size-hint SIZE        expected size of stdin or a pipe: part size and progress percentage
                          (--expected-size, the AWS CLI's name, is the same flag); at most
                          5 TiB; ignored for a regular file (its size is known); not with -r
  --content-type TYPE     default: from the file extension (stdin: none)
  --metadata K=V          x-amz-meta-K (repeatable, or K=V,K2=V2, or JSON as the AWS CLI
                          takes them; each name once, in any case)
  --cache-control, --content-disposition, --content-encoding VALUE
                          the object's headers of these names
  --storage-class CLASS   e.g. STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR, DEEP_ARCHIVE
  --sse MODE              server-side encryption: AES256 (SSE-S3), aws:kms or aws:kms:dsse
  --sse-kms-key-id ID     the KMS key for --sse aws:kms (else the AWS managed aws/s3 key)
  --acl ACL               a canned ACL, e.g. bucket-owner-full-control
  --tag K=V               an object tag (repeatable, or K=V,K2=V2; at most 10)
  --if-none-match         fail if the object exists (nothing is overwritten)
  --checksum ALGORITHM    CRC64NVME, CRC32C, CRC32, SHA1 or SHA256: an S3 checksum with every
                          part, verified by servers that support it (see the README's table)
  --content-md5           send each part's MD5 as Content-MD5 (Object Lock buckets, B2, GCS)
  --payload MODE          sha256: each part's SHA-256 signed, checked by S3 (the default for
                          http endpoints); unsigned: no SHA-256 (the default for https ones,
                          with --checksum CRC32 unless another is given, as the AWS CLI does)
  --progress MODE         bar (default on a terminal, not TERM=dumb), json (stderr is one JSON
                          object per line: events, each naming its file, ending with done,
                          failed or interrupted; then the error, or a notice, if any) or
                          none (--no-progress: none, as with the AWS CLI)
  --no-resume             start a file over instead of resuming its interrupted upload (not
                          with -r)

A file upload that was interrupted (crash, kill -9, network loss) resumes when the same command
is run again: the parts S3 holds are checked and not sent again. The checkpoint (upload id, part
size, file size and mtime; no secret) lives in $XDG_CACHE_HOME/partstream (else ~/.cache/partstream,
~/Library/Caches/partstream on macOS, %LOCALAPPDATA%\\partstream\\cache on Windows) and is removed
when the upload completes or is aborted. A changed file, or other options, start over.
${COMMON}`,
  uploads: `partstream uploads ls s3://bucket[/prefix]
partstream uploads abort s3://bucket[/prefix] --older-than DURATION

  --older-than DURATION   only uploads started before now - DURATION (e.g. 24h, 30m, 0s);
                          required by abort, which prints each upload as it is aborted
${COMMON}`,
}
