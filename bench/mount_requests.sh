#!/usr/bin/env bash
# FUSE requests of one cold `cp -a` out of a strata mount: how many of each kind, and how long each
# took from the kernel sending it to the answer arriving (the kernel's fuse:fuse_request_send and
# fuse:fuse_request_end tracepoints, recorded with `perf record -a`; only requests of this mount
# are counted). Uses the data and repository that bench/mount_bench.sh leaves in BENCH_WORK.
#
# Per repetition: drop caches, mount (strata mount -f, in the background), list the snapshot, drop
# caches again, then record the tracepoints while `cp -a SNAPSHOT/SUBTREE /dev/shm/...` runs.
# Prints, per repetition, the copy's time and a table: opcode, requests, requests per copied
# file, mean and total time in the kernel waiting for the answer.
#
# Usage: bench/mount_requests.sh --strata PATH [-n REPS] [--work DIR] [--subtree src/map12]
# Needs root, perf with the fuse tracepoints (Linux 6.15 or later), and a repository made by
# bench/mount_bench.sh in BENCH_WORK (default /var/tmp/strata-mbench).
set -euo pipefail

REPS=3
WORK=${BENCH_WORK:-/var/tmp/strata-mbench}
STRATA=
SUBTREE=src/map12  # the subtree mount_bench.sh picks at its default data size
while [ $# -gt 0 ]; do
    case "$1" in
        -n) REPS=$2; shift 2 ;;
        --work) WORK=$2; shift 2 ;;
        --strata) STRATA=$2; shift 2 ;;
        --subtree) SUBTREE=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "mount_requests: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
die() { echo "mount_requests: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (drops caches, mounts, records kernel tracepoints)"
[ -x "$STRATA" ] || die "--strata PATH: a strata binary is needed"
[ -d "$WORK/repo-strata" ] || die "no repository in $WORK/repo-strata: run bench/mount_bench.sh first"
[[ "$(perf list 2>/dev/null)" == *fuse:fuse_request_send* ]] || die "perf or the kernel's fuse tracepoints are missing"

POLL_S=0.02
MNT=$(mktemp -d /tmp/strata-mreq-mnt.XXXXXX)
OUT=$(mktemp -d /dev/shm/strata-mreq-out.XXXXXX)
TRACE=$(mktemp /tmp/strata-mreq-trace.XXXXXX)
PID=
cleanup() {
    if mountpoint -q "$MNT"; then fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT" || true; fi
    if [ -n "$PID" ]; then wait "$PID" 2>/dev/null || true; fi
    rm -rf "$OUT" "$TRACE"; rmdir "$MNT" 2>/dev/null || true
}
trap cleanup EXIT
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }

for rep in $(seq "$REPS"); do
    drop_caches
    "$STRATA" mount "$WORK/repo-strata" "$MNT" -f 2>/dev/null & PID=$!
    SNAP=
    for _ in $(seq 500); do
        SNAP=$(ls -d "$MNT"/snapshots/2*/ 2>/dev/null | head -n 1) && [ -n "$SNAP" ] && ls "$SNAP" >/dev/null 2>&1 && break
        sleep $POLL_S
    done
    [ -n "$SNAP" ] || die "the mount did not list a snapshot"
    CONN=$(stat -c %d "$MNT")
    FILES=$(find "$WORK/data/$SUBTREE" -type f | wc -l)
    drop_caches
    rm -rf "${OUT:?}"/*
    perf record -q -a -e fuse:fuse_request_send -e fuse:fuse_request_end -o "$TRACE" -- \
        bash -c 't0=$(date +%s%N); cp -a "$1" "$2"; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )) > "$2.ms"' \
        _ "$SNAP$SUBTREE" "$OUT/copy" 2>/dev/null
    MS=$(cat "$OUT/copy.ms")
    echo "repetition $rep: cp -a of $FILES files in $MS ms ($(awk -v f="$FILES" -v ms="$MS" 'BEGIN {printf "%.0f", f / ms * 1000}') files/s), load $(cut -d' ' -f1 /proc/loadavg)"
    perf script -i "$TRACE" -F time,event,trace 2>/dev/null | awk -v conn="$CONN" -v files="$FILES" '
        {
            t = $1; sub(":", "", t); t *= 1e6   # microseconds
            if ($2 ~ /send/ && $4 == conn) { op = $9; gsub(/[()]|FUSE_/, "", op); sent[$6] = t; kind[$6] = op; n[op]++ }
            else if ($2 ~ /end/ && $4 == conn && ($6 in sent)) { us[kind[$6]] += t - sent[$6]; delete sent[$6] }
        }
        END {
            printf "| request | count | per file | mean us | total ms |\n|---|---|---|---|---|\n"
            for (op in n) printf "| %s | %d | %.2f | %.1f | %.1f |\n", op, n[op], n[op] / files, us[op] / n[op], us[op] / 1000 | "sort -t\"|\" -k3,3nr"
        }'
    fusermount3 -u "$MNT"; wait "$PID" || true; PID=
done
