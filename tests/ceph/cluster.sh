#!/usr/bin/env bash
# A throwaway single-node Ceph cluster for the S3 tests: one ceph-mon, one ceph-osd (bluestore on a
# sparse file) and radosgw (beast), all on 127.0.0.1, auth off, everything inside one directory.
#
#   cluster.sh start DIR    stop and wipe an old cluster in DIR, start a new one, wait until a
#                           SigV4-signed S3 request succeeds, write DIR/env (endpoints and keys)
#   cluster.sh stop DIR     stop the daemons named by DIR/*.pid, remove DIR's data (keeps DIR/log)
#   cluster.sh status DIR   exit 0 if the radosgw of DIR/env answers a signed request
#   cluster.sh stop-rgw DIR / start-rgw DIR   kill radosgw alone (SIGKILL), start it again: an
#                           object store that goes away and comes back, for the outage tests
#
# Nothing outside DIR is touched except /tmp/strata-ceph-ports/ (short-lived port claims, so that
# clusters started at the same time in other directories pick other ports). Every ceph command gets
# -c DIR/ceph.conf; /etc/ceph and /var/lib/ceph are never read or written.
#
# Environment (all optional):
#   STRATA_CEPH_RGW_PORT   radosgw's port (default: the first free one from 17480 up)
#   STRATA_CEPH_MON_PORT   the mon's port (default: the first free one from 17300 up)
#   STRATA_CEPH_TLS_PORT   radosgw's https port (default: the first free one from 18443 up)
#   STRATA_CEPH_TIMEOUT    seconds to wait for the cluster to become ready (default 90)
set -euo pipefail

usage() {
  echo "usage: $0 start|stop|status DIR" >&2
  exit 2
}
(($# == 2)) || usage
cmd=$1
[[ $2 == /* ]] && DIR=$2 || DIR=$PWD/$2
DIR=${DIR%/}
[[ -n $DIR && $DIR != / ]] || {
  echo "cluster.sh: refusing to use '$2' as the cluster directory" >&2
  exit 2
}
CONF=$DIR/ceph.conf
MARK=$DIR/.strata-ceph-cluster # a directory holding this file was made by this script
CLAIMS=/tmp/strata-ceph-ports
DAEMONS=(ceph-mon ceph-osd radosgw) # DIR/<daemon>.pid
timeout_s=${STRATA_CEPH_TIMEOUT:-90}

log() { echo "cluster.sh: $*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# True if $1 is a live (not zombie) process whose command line names this DIR's ceph.conf: a pid
# file is only trusted that far, so a recycled pid is never killed.
ours() {
  local pid=$1 state
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]] || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$CONF"
}

pid_of() { if [[ -f $DIR/$1.pid ]]; then cat "$DIR/$1.pid"; fi; }

release_claims() {
  local f
  [[ -d $CLAIMS ]] || return 0
  for f in "$CLAIMS"/[0-9]*; do
    [[ -f $f && $(cat "$f" 2>/dev/null) == "$DIR" ]] && rm -f "$f"
  done
  return 0
}

# SIGTERM to the given pids, up to 15 s for them to exit, then SIGKILL.
terminate() {
  local live=() p still deadline
  for p in "$@"; do
    if ours "$p"; then
      kill -TERM "$p" 2>/dev/null || true
      live+=("$p")
    fi
  done
  deadline=$((SECONDS + 15))
  while ((${#live[@]})) && ((SECONDS < deadline)); do
    sleep 0.1
    still=()
    for p in "${live[@]}"; do ours "$p" && still+=("$p"); done
    live=(${still[@]+"${still[@]}"})
  done
  ((${#live[@]})) || return 0
  log "still running 15 s after SIGTERM, sending SIGKILL: ${live[*]}"
  for p in "${live[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  deadline=$((SECONDS + 5))
  while ((SECONDS < deadline)); do
    still=()
    for p in "${live[@]}"; do ours "$p" && still+=("$p"); done
    ((${#still[@]})) || return 0
    sleep 0.1
  done
  log "could not kill: ${still[*]}"
  return 1
}

stop_cluster() {
  [[ -d $DIR ]] || return 0
  # One after the other, clients first: radosgw's shutdown waits on the OSD (rados requests have
  # no timeout), the OSD's on the mon (it reports itself down and waits up to 5 s for the answer).
  terminate "$(pid_of radosgw)"
  terminate "$(pid_of ceph-osd)"
  terminate "$(pid_of ceph-mon)"
  local name
  for name in "${DAEMONS[@]}"; do rm -f "$DIR/$name.pid"; done
  rm -rf "$DIR/data" "$DIR/run" "$DIR/env" "$DIR/tls"
  release_claims
}

port_free() {
  python3 - "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
EOF
}

# The first port from $1 upward that can be bound on 127.0.0.1 and that no other start claimed in
# the last 5 minutes (the claim covers the time between this check and the daemon's bind). Called
# under the lock of $CLAIMS/.lock.
pick_port() {
  local p f
  for ((p = $1; p < $1 + 2000; p++)); do
    f=$CLAIMS/$p
    if [[ -f $f ]] && (($(date +%s) - $(stat -c %Y "$f") < 300)); then continue; fi
    if port_free "$p"; then
      rm -f "$f" 2>/dev/null || true
      # (Another user's stale claim cannot be replaced in the sticky directory: skip its port.)
      if (echo "$DIR" >"$f") 2>/dev/null; then
        echo "$p"
        return 0
      fi
    fi
  done
  log "no free port from $1 to $((p - 1))"
  return 1
}

# A SigV4-signed S3 request: s3 METHOD PATH [curl arguments...]; prints the body.
s3() {
  local method=$1 path=$2
  shift 2
  curl -sS -f --max-time 10 --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AK:$SK" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -X "$method" "$@" "$ENDPOINT$path"
}

random_key() { # $1 characters from [A-Z0-9] (or [A-Za-z0-9] with a second argument)
  local set='A-Z0-9'
  (($# > 1)) && set='A-Za-z0-9'
  LC_ALL=C tr -dc "$set" </dev/urandom | head -c "$1" || true
}

load_env() {
  [[ -f $DIR/env ]] || return 1
  ENDPOINT=$(sed -n 's/^STRATA_TEST_S3_ENDPOINT=//p' "$DIR/env")
  AK=$(sed -n 's/^AWS_ACCESS_KEY_ID=//p' "$DIR/env")
  SK=$(sed -n 's/^AWS_SECRET_ACCESS_KEY=//p' "$DIR/env")
  [[ -n $ENDPOINT && -n $AK && -n $SK ]]
}

dump_logs() {
  local f
  for f in "$DIR"/log/*; do
    [[ -f $f && -s $f ]] || continue
    echo "----- tail of $f -----" >&2
    grep -v '^[[:space:]]*$' "$f" | tail -n 30 >&2 || true
  done
  # The lines that usually name the cause, last so that they are what a reader sees first.
  echo "----- errors in $DIR/log -----" >&2
  grep -hE 'failed to bind|Address already in use|ERROR|FAILED|Invalid argument|No space|Permission denied|unable to|fatal' \
    "$DIR"/log/* 2>/dev/null |
    grep -vE '_read_bdev_label|_read_fsid|F_SET_FILE_RW_HINT|set_numa_affinity' | awk '!seen[$0]++' |
    tail -n 15 >&2 || true
}

# Runs a daemon in the foreground (-f), in its own session so that neither the caller's terminal
# nor CTest's process group takes it along, with stdin/stdout/stderr off the caller's pipes (CTest
# would otherwise wait for the daemon to close them). Its pid goes to DIR/$1.pid.
launch() {
  local name=$1
  shift
  setsid "$@" </dev/null >>"$DIR/log/$name.out" 2>&1 &
  echo $! >"$DIR/$name.pid"
}

# Fails if a daemon started so far has exited.
check_alive() {
  local name pid
  for name in "${DAEMONS[@]}"; do
    pid=$(pid_of "$name")
    if [[ -n $pid ]] && ! ours "$pid"; then
      why="$name (pid $pid) exited"
      log "$why"
      return 1
    fi
  done
}

# wait_until DESCRIPTION COMMAND...: polls COMMAND until it succeeds, failing if a daemon dies or
# the start deadline passes.
wait_until() {
  local what=$1
  shift
  while ! "$@" >/dev/null 2>&1; do
    check_alive || return 1
    if (($(date +%s) >= deadline)); then
      why="timed out after ${timeout_s} s"
      log "$why waiting for $what"
      return 1
    fi
    sleep 0.3
  done
}

# A private CA (DIR/tls/ca.pem) and the certificate radosgw serves on https, issued by it for
# 127.0.0.1 and localhost; and a second CA (other-ca.pem) that did not issue it, for the tests of a
# wrong --cacert.
make_certificates() {
  local t=$DIR/tls ca
  mkdir -p "$t"
  {
    for ca in ca other-ca; do
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=strata test $ca" -keyout "$t/$ca.key" -out "$t/$ca.pem"
    done
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -subj "/CN=127.0.0.1" -keyout "$t/server.key" -out "$t/server.csr"
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >"$t/server.ext"
    openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -CAcreateserial \
      -days 2 -extfile "$t/server.ext" -out "$t/server.pem"
  } >"$DIR/log/openssl.out" 2>&1
}

tls_answers() { # any HTTPS answer, with the certificate checked against the private CA
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$DIR/tls/ca.pem" \
    "$TLS_ENDPOINT/" 2>/dev/null) || true
  [[ $code != 000 && -n $code ]]
}

rgw_answers() { # any HTTP answer at all
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$ENDPOINT/" 2>/dev/null) || true
  [[ $code != 000 && -n $code ]]
}

probe() { # the readiness check: create a bucket, list it, delete it, all signed
  local listing
  s3 PUT /strata-harness-probe >/dev/null &&
    listing=$(s3 GET "/strata-harness-probe?list-type=2") &&
    [[ $listing == *'<ListBucketResult'* ]] &&
    s3 DELETE /strata-harness-probe >/dev/null
}

start_failed() {
  local rc=$?
  ((ready)) && return 0
  trap - EXIT
  log "start of the Ceph cluster in $DIR FAILED (exit $rc); daemon logs follow"
  dump_logs
  stop_cluster || true
  log "FAILED while $step${why:+: $why} (exit $rc; the daemons are stopped, logs in $DIR/log)"
  exit $((rc ? rc : 1))
}

start_cluster() {
  local t0 mon_port rgw_port tls_port fsid osd_uuid
  t0=$(now)
  deadline=$(($(date +%s) + timeout_s))
  local tool
  for tool in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool curl python3 setsid flock timeout openssl; do
    command -v "$tool" >/dev/null || {
      log "$tool is not installed (apt-get install ceph-mon ceph-osd radosgw ceph-common curl)"
      exit 1
    }
  done

  if [[ -e $DIR ]]; then
    if [[ -n $(ls -A "$DIR" 2>/dev/null) && ! -f $MARK ]]; then
      log "refusing to wipe $DIR: it is not empty and was not made by cluster.sh"
      exit 1
    fi
    stop_cluster
    rm -rf "$DIR"
  fi
  mkdir -p "$DIR/log" "$DIR/run" "$DIR/data/mon.a" "$DIR/data/osd.0" "$DIR/data/rgw" "$DIR/data/crash"
  touch "$MARK"

  ready=0 step="choosing ports" why=""
  trap start_failed EXIT
  trap 'why="interrupted"; exit 143' TERM INT HUP

  # Shared by every user who runs the tests: world-writable and sticky, like /tmp.
  if [[ ! -d $CLAIMS ]]; then
    mkdir -p "$CLAIMS"
    chmod 1777 "$CLAIMS" 2>/dev/null || true
  fi
  [[ -e $CLAIMS/.lock ]] || { : >"$CLAIMS/.lock" && chmod 0666 "$CLAIMS/.lock"; } 2>/dev/null || true
  exec 9<"$CLAIMS/.lock" # flock needs no write access
  flock -w 30 9
  if [[ -n ${STRATA_CEPH_MON_PORT:-} ]]; then mon_port=$STRATA_CEPH_MON_PORT; else mon_port=$(pick_port 17300); fi
  if [[ -n ${STRATA_CEPH_RGW_PORT:-} ]]; then rgw_port=$STRATA_CEPH_RGW_PORT; else rgw_port=$(pick_port 17480); fi
  if [[ -n ${STRATA_CEPH_TLS_PORT:-} ]]; then tls_port=$STRATA_CEPH_TLS_PORT; else tls_port=$(pick_port 18443); fi
  exec 9>&- # closed before any daemon starts, or the daemon would hold the lock
  ENDPOINT=http://127.0.0.1:$rgw_port
  TLS_ENDPOINT=https://127.0.0.1:$tls_port
  step="making the TLS certificates (log/openssl.out)"
  make_certificates
  fsid=$(cat /proc/sys/kernel/random/uuid)
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)

  # $name and $id are Ceph's own metavariables, expanded per daemon.
  cat >"$CONF" <<EOF
# Written by tests/ceph/cluster.sh: a single-node test cluster, nothing outside $DIR.
[global]
fsid = $fsid
mon_host = [v2:127.0.0.1:$mon_port]
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_ipv4 = true
ms_bind_ipv6 = false
ms_bind_msgr1 = false
# No cephx. radosgw's client of the mon asks for "secure" mode by default and, with auth off,
# hangs in AUTH_CONNECTING: ms_mon_client_mode = crc is the one that matters; all are crc.
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
ms_cluster_mode = crc
ms_service_mode = crc
ms_client_mode = crc
ms_mon_cluster_mode = crc
ms_mon_service_mode = crc
ms_mon_client_mode = crc
keyring = $DIR/keyring
run_dir = $DIR/run
admin_socket = $DIR/run/\$name.asok
pid_file = $DIR/run/\$name.pid
crash_dir = $DIR/data/crash
log_to_stderr = false
# One OSD: pools of size 1 (allowed explicitly), placement over OSDs rather than hosts, and 8 PGs
# per pool rather than 32 (radosgw makes 6-7 pools: fewer PGs to create at start, less memory).
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
mon_max_pg_per_osd = 1000
# A warning that only concerns clusters with cephx.
mon_warn_on_insecure_global_id_reclaim_allowed = false

[mon]
mon_data = $DIR/data/mon.\$id
log_file = $DIR/log/\$name.log
mon_cluster_log_file = $DIR/log/cluster.log
mon_allow_pool_delete = true
# Each map change (radosgw makes its pools one command at a time) waits out the propose interval,
# 1 s by default: about 15 of them at start.
paxos_propose_interval = 0.05

[osd]
osd_data = $DIR/data/osd.\$id
log_file = $DIR/log/\$name.log
osd_objectstore = bluestore
# The block device is a sparse file inside osd_data (only what is written takes disk space).
bluestore_block_create = true
bluestore_block_size = 10737418240
bluestore_fsck_on_mkfs = false
osd_memory_target = 1073741824

[client.rgw]
log_file = $DIR/log/\$name.log
rgw_data = $DIR/data/rgw
rgw_frontends = beast endpoint=127.0.0.1:$rgw_port ssl_endpoint=127.0.0.1:$tls_port ssl_certificate=$DIR/tls/server.pem ssl_private_key=$DIR/tls/server.key
rgw_thread_pool_size = 64
# Lifecycle workers sleep in 5 s steps that shutdown waits out; the tests set no lifecycle rules.
rgw_enable_lc_threads = false
EOF
  : >"$DIR/keyring"
  local C=(-c "$CONF")

  # The mon.
  step="making the mon's store (log/monmaptool.out, log/ceph-mon-mkfs.out)"
  monmaptool --create --clobber --enable-all-features --fsid "$fsid" \
    --addv a "[v2:127.0.0.1:$mon_port]" "$DIR/data/monmap" >"$DIR/log/monmaptool.out" 2>&1
  ceph-mon "${C[@]}" --mkfs -i a --monmap "$DIR/data/monmap" >"$DIR/log/ceph-mon-mkfs.out" 2>&1
  step="starting the mon (log/mon.a.log)"
  launch ceph-mon ceph-mon "${C[@]}" -f -i a
  step="making the OSD's store (log/ceph-osd-mkfs.out)"
  # The OSD's store is made while the mon starts (mkfs needs no mon with --no-mon-config; the
  # first OSD of a new cluster gets id 0).
  ceph-osd "${C[@]}" --no-mon-config --mkfs -i 0 --osd-uuid "$osd_uuid" \
    >"$DIR/log/ceph-osd-mkfs.out" 2>&1
  step="waiting for the mon on 127.0.0.1:$mon_port (log/mon.a.log)"
  wait_until "the mon" timeout 10 ceph "${C[@]}" --connect-timeout 3 mon stat
  timeout 60 ceph "${C[@]}" --connect-timeout 30 osd new "$osd_uuid" 0 >"$DIR/log/osd-new.out" 2>&1
  step="starting the OSD and radosgw (log/osd.0.log, log/client.rgw.log)"
  launch ceph-osd ceph-osd "${C[@]}" -f -i 0
  # radosgw waits on its own until the OSD is up and its pools exist.
  launch radosgw radosgw "${C[@]}" -f -n client.rgw
  wait_until "radosgw to answer on $ENDPOINT" rgw_answers

  step="creating the S3 user (log/radosgw-admin.out)"
  AK=$(random_key 20)
  SK=$(random_key 40 mixed)
  timeout 60 radosgw-admin "${C[@]}" user create --uid strata-test --display-name "strata tests" \
    --access-key "$AK" --secret-key "$SK" >"$DIR/log/radosgw-admin.out" 2>&1
  step="waiting for a signed S3 request to succeed (log/client.rgw.log)"
  wait_until "a signed S3 request to succeed on $ENDPOINT" probe
  step="waiting for radosgw's https endpoint $TLS_ENDPOINT (log/client.rgw.log)"
  wait_until "radosgw to answer on $TLS_ENDPOINT" tls_answers

  cat >"$DIR/env.tmp" <<EOF
STRATA_TEST_S3_ENDPOINT=$ENDPOINT
STRATA_TEST_S3_TLS_ENDPOINT=$TLS_ENDPOINT
STRATA_TEST_S3_CA_FILE=$DIR/tls/ca.pem
STRATA_TEST_S3_OTHER_CA_FILE=$DIR/tls/other-ca.pem
AWS_ACCESS_KEY_ID=$AK
AWS_SECRET_ACCESS_KEY=$SK
AWS_DEFAULT_REGION=us-east-1
EOF
  mv "$DIR/env.tmp" "$DIR/env"
  release_claims # the ports are bound now
  ready=1
  trap - EXIT TERM INT HUP
  echo "ceph cluster ready in $(elapsed "$t0") s: $ENDPOINT and $TLS_ENDPOINT (mon 127.0.0.1:$mon_port;" \
    "pids mon $(pid_of ceph-mon), osd $(pid_of ceph-osd), radosgw $(pid_of radosgw));" \
    "env in $DIR/env, logs in $DIR/log"
}

case $cmd in
start) start_cluster ;;
stop)
  if [[ -e $DIR && ! -f $MARK && -n $(ls -A "$DIR" 2>/dev/null) ]]; then
    log "$DIR was not made by cluster.sh; nothing to stop"
    exit 0
  fi
  if [[ ! -d $DIR ]]; then
    echo "no cluster in $DIR"
    exit 0
  fi
  stop_cluster
  echo "ceph cluster in $DIR stopped (logs kept in $DIR/log)"
  ;;
stop-rgw)
  # The object store going away (the S3 tests' outage): radosgw killed outright, the rest kept.
  terminate_now() { ours "$1" && kill -KILL "$1" 2>/dev/null; }
  pid=$(pid_of radosgw)
  if ! ours "$pid"; then
    log "radosgw of $DIR (pid file: ${pid:-none}) is not running"
    exit 1
  fi
  terminate_now "$pid" || true
  while ours "$pid"; do sleep 0.05; done
  echo "radosgw of $DIR stopped"
  ;;
start-rgw)
  load_env || {
    echo "no cluster in $DIR (no $DIR/env)" >&2
    exit 1
  }
  launch radosgw radosgw -c "$CONF" -f -n client.rgw
  deadline=$((SECONDS + timeout_s))
  until rgw_answers; do
    ((SECONDS < deadline)) || {
      log "radosgw did not answer again within ${timeout_s} s (log/client.rgw.log)"
      exit 1
    }
    sleep 0.1
  done
  echo "radosgw of $DIR answers again on $ENDPOINT"
  ;;
status)
  load_env || {
    echo "no cluster in $DIR (no $DIR/env)" >&2
    exit 1
  }
  if s3 GET / >/dev/null; then
    echo "radosgw answers on $ENDPOINT"
  else
    echo "radosgw does not answer on $ENDPOINT" >&2
    exit 1
  fi
  ;;
*) usage ;;
esac
