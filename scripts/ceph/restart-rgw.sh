#!/usr/bin/env bash
# Crash-restarts only the radosgw of the cluster ceph/start.sh brought up (mon and osd keep
# running, and so does the data in the memstore): SIGKILL, wait until the process is gone, fence
# its RADOS client (below), start it with start.sh's command line, wait until it answers HTTP.
# Used by the fault soak.
#   ceph/restart-rgw.sh            (env: CEPH_DIR, RGW_PORT, as for start.sh)
# Prints `killed <pid>` once the old process is gone (the caller may act on it while radosgw is
# down), then `started <pid>` once the new one answers. Exits non-zero if either step fails.
set -euo pipefail
CEPH_DIR=${CEPH_DIR:-/tmp/partstream-ceph}
RGW_PORT=${RGW_PORT:-7480}
CONF="$CEPH_DIR/ceph.conf"
PID_FILE="$CEPH_DIR/client.rgw.a.pid"

[ -f "$CONF" ] && [ -f "$PID_FILE" ] || { echo "no radosgw started by ceph/start.sh in $CEPH_DIR" >&2; exit 1; }
pid=$(cat "$PID_FILE")
# The pid file may be stale: only a live radosgw process of this cluster is killed.
if ! kill -0 "$pid" 2>/dev/null || ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "^radosgw -c $CONF "; then
  echo "pid $pid from $PID_FILE is not a running radosgw of $CONF" >&2; exit 1
fi

# A killed radosgw leaves its watches on the control objects (RGW's cache notifications) until
# osd_client_watch_timeout (30 s), and every bucket create/delete waits for the dead watcher
# meanwhile (measured: DELETE bucket 25 s instead of 25 ms). Ceph's answer to a crashed client is
# to blocklist it: its watcher addresses are read before the kill, and fenced only when it is the
# cluster's one radosgw (as start.sh makes it), so no live instance's watches can be among them.
watchers=""
if [ "$(pgrep -c -f "^radosgw -c $CONF " || true)" = 1 ]; then
  for obj in $(rados -c "$CONF" -p default.rgw.control ls 2>/dev/null); do
    watchers+=" $(rados -c "$CONF" -p default.rgw.control listwatchers "$obj" 2>/dev/null | sed -n 's/^watcher=\([^ ]*\) .*/\1/p')"
  done
fi

kill -KILL "$pid"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then echo "radosgw $pid did not die" >&2; exit 1; fi
echo "killed $pid"
for addr in $(tr ' ' '\n' <<<"$watchers" | sort -u); do
  ceph -c "$CONF" osd blocklist add "$addr" 600 >/dev/null 2>&1 || echo "could not blocklist $addr" >&2
done

# The command line of ceph/start.sh (radosgw daemonizes and writes its pid file).
radosgw -c "$CONF" -n client.rgw.a
for _ in $(seq 1 240); do
  if curl -s -o /dev/null "http://127.0.0.1:$RGW_PORT/"; then
    echo "started $(cat "$PID_FILE")"
    exit 0
  fi
  sleep 0.25
done
echo "radosgw did not answer on 127.0.0.1:$RGW_PORT within 60 s" >&2
exit 1
