#!/usr/bin/env bash
# Adapted from the project's reference setup; used by scripts/s3-server.sh.
# Minimal single-node Ceph (Pacific 16.2.15, Debian bookworm packages) serving S3 via radosgw on loopback.
# 1 mon + 1 osd (memstore, in RAM) + radosgw (beast frontend on 127.0.0.1:$RGW_PORT). No mgr. cephx auth off.
# Needs: apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd ceph-common
# Usage: ceph/start.sh            (env: CEPH_DIR, RGW_PORT, MON_PORT, MEMSTORE_BYTES, S3_AK, S3_SK)
# Prints the endpoint and keys at the end; also writes $CEPH_DIR/s3.env
set -euo pipefail
T0=$(date +%s.%N)
CEPH_DIR=${CEPH_DIR:-/tmp/partstream-ceph}
RGW_PORT=${RGW_PORT:-7480}
MON_PORT=${MON_PORT:-6789}
MEMSTORE_BYTES=${MEMSTORE_BYTES:-4294967296}
S3_AK=${S3_AK:-TESTACCESSKEY0000001}
S3_SK=${S3_SK:-testsecretkey000000000000000000000000001}

if [ -e "$CEPH_DIR/mon.a.pid" ] && kill -0 "$(cat "$CEPH_DIR/mon.a.pid")" 2>/dev/null; then
  echo "already running in $CEPH_DIR (run stop.sh first)" >&2; exit 1
fi
rm -rf "$CEPH_DIR"; mkdir -p "$CEPH_DIR"/{mon.a,osd.0,run,log}
FSID=$(cat /proc/sys/kernel/random/uuid)
CONF="$CEPH_DIR/ceph.conf"
cat > "$CONF" <<EOF
[global]
fsid = $FSID
mon_host = v1:127.0.0.1:$MON_PORT
mon_initial_members = a
public_network = 127.0.0.0/8
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
auth_supported = none
ms_bind_ipv4 = true
ms_bind_ipv6 = false
ms_bind_msgr2 = false
run_dir = $CEPH_DIR/run
admin_socket = $CEPH_DIR/run/\$name.asok
log_file = $CEPH_DIR/log/\$name.log
pid_file = $CEPH_DIR/\$name.pid
keyring = /dev/null
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_max_pg_per_osd = 1000
mon_warn_on_pool_no_redundancy = false
osd_crush_chooseleaf_type = 0
# tiny footprint
osd_memory_target = 939524096
osd_op_num_shards = 1
osd_op_num_threads_per_shard = 2
[mon]
mon_data = $CEPH_DIR/mon.\$id
[osd]
osd_data = $CEPH_DIR/osd.\$id
osd_objectstore = memstore
memstore_device_bytes = $MEMSTORE_BYTES
osd_max_object_size = 134217728
osd_crush_update_on_start = false
osd_class_update_on_start = false
[client.rgw.a]
rgw_frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw_data = $CEPH_DIR/rgw.a
rgw_thread_pool_size = 64
rgw_dns_name = localhost
# reclaim deleted/overwritten data quickly (memstore lives in RAM)
rgw_gc_obj_min_wait = 30
rgw_gc_processor_period = 30
EOF

# --- monitor
monmaptool --create --clobber --fsid "$FSID" --addv a "[v1:127.0.0.1:$MON_PORT]" "$CEPH_DIR/monmap" >/dev/null
ceph-mon -c "$CONF" --mkfs -i a --monmap "$CEPH_DIR/monmap" 2>>"$CEPH_DIR/log/setup.log"
ceph-mon -c "$CONF" -i a
# wait for the mon to answer
for i in $(seq 1 60); do ceph -c "$CONF" -s --connect-timeout 2 >/dev/null 2>&1 && break; sleep 0.5; done

# --- osd
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
OSD_ID=$(ceph -c "$CONF" osd new "$OSD_UUID")
ceph-osd -c "$CONF" -i "$OSD_ID" --mkfs --osd-uuid "$OSD_UUID" 2>>"$CEPH_DIR/log/setup.log"
ceph -c "$CONF" osd crush add "osd.$OSD_ID" 1.0 root=default host=localhost >/dev/null 2>>"$CEPH_DIR/log/setup.log"
ceph-osd -c "$CONF" -i "$OSD_ID"
for i in $(seq 1 120); do
  ceph -c "$CONF" osd dump 2>/dev/null | grep -q "^osd.$OSD_ID up" && break; sleep 0.5
done

# --- radosgw (creates its pools on first start)
mkdir -p "$CEPH_DIR/rgw.a"
radosgw -c "$CONF" -n client.rgw.a
for i in $(seq 1 120); do
  curl -s -o /dev/null "http://127.0.0.1:$RGW_PORT/" && break; sleep 0.5
done
radosgw-admin -c "$CONF" user create --uid=tester --display-name=tester \
  --access-key="$S3_AK" --secret-key="$S3_SK" >"$CEPH_DIR/user.json" 2>>"$CEPH_DIR/log/setup.log"
cat > "$CEPH_DIR/s3.env" <<EOF
S3_ENDPOINT=http://127.0.0.1:$RGW_PORT
S3_REGION=us-east-1
S3_AK=$S3_AK
S3_SK=$S3_SK
EOF
T1=$(date +%s.%N)
echo "radosgw serving on http://127.0.0.1:$RGW_PORT  AK=$S3_AK SK=$S3_SK  (startup $(awk "BEGIN{print $T1 - $T0}") s)"
echo "pids: mon=$(cat "$CEPH_DIR/mon.a.pid") osd=$(cat "$CEPH_DIR/osd.$OSD_ID.pid") rgw=$(cat "$CEPH_DIR/client.rgw.a.pid")"
