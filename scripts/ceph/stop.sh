#!/usr/bin/env bash
# Stop the radosgw/osd/mon started by ceph/start.sh (by PID from their pid files) and wipe the data dir.
CEPH_DIR=${CEPH_DIR:-/tmp/partstream-ceph}
for p in client.rgw.a osd.0 mon.a; do
  f="$CEPH_DIR/$p.pid"
  [ -f "$f" ] || continue
  pid=$(cat "$f")
  kill "$pid" 2>/dev/null || continue
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
done
[ "${KEEP_DATA:-0}" = 1 ] || rm -rf "$CEPH_DIR"
