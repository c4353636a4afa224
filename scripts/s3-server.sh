#!/usr/bin/env bash
# Brings the test S3 server up or down.
#   scripts/s3-server.sh up     -> prints KEY=VALUE lines (S3_ENDPOINT, S3_REGION, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY)
#   scripts/s3-server.sh down
# With S3_ENDPOINT already set (plus S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY), that server is used
# and nothing is started. Otherwise a single-node Ceph RGW (a real S3: SigV4, payload hashes,
# multipart rules) is started on 127.0.0.1:${RGW_PORT:-7480}, data in RAM; its Debian packages are
# installed with apt-get when missing (needs root).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export CEPH_DIR=${CEPH_DIR:-/tmp/partstream-ceph}
export RGW_PORT=${RGW_PORT:-7480}
export MON_PORT=${MON_PORT:-6789}
# memstore keeps objects in RAM; the suites delete what they write, and RGW GC frees it after 30 s.
export MEMSTORE_BYTES=${MEMSTORE_BYTES:-12884901888}
export S3_AK=${S3_AK:-TESTACCESSKEY0000001}
export S3_SK=${S3_SK:-testsecretkey000000000000000000000000001}

case "${1:-}" in
  up)
    if [ -n "${S3_ENDPOINT:-}" ]; then
      echo "S3_ENDPOINT=$S3_ENDPOINT"; exit 0
    fi
    if ! command -v radosgw >/dev/null || ! command -v ceph-mon >/dev/null || ! command -v ceph-osd >/dev/null || ! command -v monmaptool >/dev/null; then
      if [ "$(id -u)" != 0 ]; then
        echo "Ceph RGW is not installed and this is not root: run as root, install 'radosgw ceph-mon ceph-osd ceph-common', or set S3_ENDPOINT." >&2
        exit 1
      fi
      echo "installing Ceph RGW (radosgw ceph-mon ceph-osd ceph-common) with apt-get..." >&2
      apt-get update -qq >&2 || true
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends radosgw ceph-mon ceph-osd ceph-common curl >&2
    fi
    command -v curl >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >&2; }
    if [ -e "$CEPH_DIR/mon.a.pid" ] && kill -0 "$(cat "$CEPH_DIR/mon.a.pid")" 2>/dev/null; then
      "$here/ceph/stop.sh" >&2 || true
    fi
    # A cold start right after the packages are installed has been seen to fail once (EPERM from
    # the monitor); a second attempt from a clean directory has always worked.
    if ! "$here/ceph/start.sh" >&2; then
      echo "Ceph RGW did not start; retrying once from a clean state..." >&2
      "$here/ceph/stop.sh" >&2 || true
      sleep 2
      "$here/ceph/start.sh" >&2
    fi
    echo "S3_ENDPOINT=http://127.0.0.1:$RGW_PORT"
    echo "S3_REGION=us-east-1"
    echo "S3_ACCESS_KEY_ID=$S3_AK"
    echo "S3_SECRET_ACCESS_KEY=$S3_SK"
    # Where radosgw-admin finds the cluster (tests that create a second RGW user).
    echo "S3_CEPH_DIR=${CEPH_DIR:-/tmp/partstream-ceph}"
    ;;
  down)
    [ -n "${S3_ENDPOINT:-}" ] && exit 0
    "$here/ceph/stop.sh"
    ;;
  *)
    echo "usage: $0 up|down" >&2; exit 2 ;;
esac
