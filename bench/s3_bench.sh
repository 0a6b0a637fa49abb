#!/usr/bin/env bash
# strata against restic on the same radosgw, in one run: a single-node Ceph cluster started for
# the run (tests/ceph/cluster.sh, on 127.0.0.1), the same generated data (bench/gen_data.py), a
# fresh bucket per tool and repetition.
#
# Phases, each timed (wall seconds) and counted (requests radosgw answered, from its log):
#   first      ingest of the data into an empty repository
#   unchanged  ingest of the same tree again
#   restore    restore of the latest snapshot into an empty directory
#   list-cold  `snapshots` on a machine that has never seen the repository (empty cache dir for
#              strata, --no-cache for restic)
#   mount-start   `strata mount` / `restic mount` with an empty cache, until the mount answers
#   mount-walk    a stat walk of the latest snapshot through that mount (find -printf, lstat each)
#   mount-read    a new mount (index and tree caches kept, strata's chunk cache emptied, the
#                 kernel's page cache gone with the old mount): one sequential read of big.img
#   mount-reread  another new mount: the same read again (strata: from its on-disk chunk cache;
#                 restic keeps no data in its cache)
# Tools rotate order between repetitions. Prints a markdown table of the medians and the ratios
# strata/restic on stdout; progress on stderr; raw numbers and outputs in the results directory.
#
# Usage: bench/s3_bench.sh [-n REPS] [--scale S] [--work DIR] [--strata PATH]
# Defaults: BENCH_REPS (3), BENCH_SCALE (0.05: 10k small files + a 100 MiB file),
# BENCH_WORK (/var/tmp/strata-s3-bench), STRATA (build-bench/tools/strata, built if missing).
# Needs root (packages) and the Ceph packages of .ci/install-deps.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
REPS=${BENCH_REPS:-3}
SCALE=${BENCH_SCALE:-0.05}
WORK=${BENCH_WORK:-/var/tmp/strata-s3-bench}
STRATA=${STRATA:-$TOP/build-bench/tools/strata}
TOOLS="strata restic"
while [ $# -gt 0 ]; do
    case "$1" in
        -n) REPS=$2; shift 2 ;;
        --scale) SCALE=$2; shift 2 ;;
        --work) WORK=$2; shift 2 ;;
        --strata) STRATA=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "s3_bench: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
BENCH_NAME=s3_bench
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
need python3 python3
[ -x /usr/bin/time ] || install_pkg time /usr/bin/time
need_tools
build_strata "$TOP/build-bench"

export BENCH_SCALE=$SCALE
mkdir -p "$WORK"
DATA=$WORK/data
python3 "$HERE/gen_data.py" ensure "$DATA"
RESULTS=$WORK/results-$(date +%Y%m%d-%H%M%S)
mkdir -p "$RESULTS"
RAW=$RESULTS/raw.tsv
printf 'rep\ttool\tphase\twall_s\trequests\tload1\n' > "$RAW"

CEPH=$WORK/ceph
cleanup() {
    unmount_tool restic >&2 || true
    bash "$TOP/tests/ceph/cluster.sh" stop "$CEPH" >&2 || true
}
trap cleanup EXIT
say "starting the Ceph cluster in $CEPH"
bash "$TOP/tests/ceph/cluster.sh" start "$CEPH" >&2
set -a; . "$CEPH/env"; set +a
RGW_LOG=$CEPH/log/client.rgw.log
requests() { grep -c 'req done' "$RGW_LOG" || true; }
export RESTIC_PASSWORD=strata-bench

url_of() { echo "s3:$STRATA_TEST_S3_ENDPOINT/bench-$1-$2"; }  # TOOL REP
argv_of() {  # sets CMD for TOOL PHASE REP
    local u; u=$(url_of "$1" "$3")
    case "$1/$2" in
        strata/init) CMD=("$STRATA" init --cache-dir "$WORK/cache-strata" "$u") ;;
        strata/first|strata/unchanged) CMD=("$STRATA" ingest --cache-dir "$WORK/cache-strata" "$u" "$DATA") ;;
        strata/restore) CMD=("$STRATA" restore --cache-dir "$WORK/cache-strata" "$u" latest "$WORK/restored") ;;
        strata/list-cold) CMD=("$STRATA" snapshots --cache-dir "$WORK/cache-cold" "$u") ;;
        restic/init) CMD=(restic -r "$u" --cache-dir "$WORK/cache-restic" init) ;;
        restic/first|restic/unchanged) CMD=(restic -r "$u" --cache-dir "$WORK/cache-restic" --compression auto backup "$DATA") ;;
        restic/restore) CMD=(restic -r "$u" --cache-dir "$WORK/cache-restic" restore latest --target "$WORK/restored") ;;
        restic/list-cold) CMD=(restic -r "$u" --no-cache snapshots) ;;
    esac
}
MNT=$WORK/mnt
RESTIC_MOUNT_PID=
mount_tool() {  # TOOL REP CACHE: mounts at $MNT and returns once it answers
    local u; u=$(url_of "$1" "$2")
    mkdir -p "$MNT"
    if [ "$1" = strata ]; then
        "$STRATA" mount --cache-dir "$3" "$u" "$MNT" || die "strata mount failed"
    else
        restic -r "$u" --cache-dir "$3" mount "$MNT" > "$RESULTS/restic-mount-$2.log" 2>&1 &
        RESTIC_MOUNT_PID=$!
        local i
        for ((i = 0; i < 600; i++)); do
            [ -e "$MNT/snapshots/latest" ] && return 0
            kill -0 "$RESTIC_MOUNT_PID" 2>/dev/null || die "restic mount exited: $RESULTS/restic-mount-$2.log"
            sleep 0.05
        done
        die "restic mount did not answer in 30 s"
    fi
}
unmount_tool() {  # TOOL
    if [ "$1" = restic ] && [ -n "$RESTIC_MOUNT_PID" ]; then
        kill -INT "$RESTIC_MOUNT_PID" 2>/dev/null || true
        wait "$RESTIC_MOUNT_PID" 2>/dev/null || true
        RESTIC_MOUNT_PID=
    fi
    mountpoint -q "$MNT" && fusermount3 -u "$MNT"
    return 0
}
latest_in_mount() {  # TOOL: the data's folder in the latest snapshot, through the mount
    if [ "$1" = strata ]; then echo "$MNT/snapshots/latest"; else echo "$MNT/snapshots/latest$DATA"; fi
}
run_mount_phase() {  # REP TOOL PHASE
    local cache=$WORK/mcache-$2 before t0 t1 load
    case $3 in
        mount-start) rm -rf "$cache" ;;
        mount-read) rm -rf "$cache"/*/chunks ;;
    esac
    load=$(cut -d' ' -f1 /proc/loadavg)
    before=$(requests)
    t0=$(date +%s.%N)
    case $3 in
        mount-start) mount_tool "$2" "$1" "$cache" ;;
        mount-walk) find "$(latest_in_mount "$2")/" -printf '%s %m\n' > /dev/null ;;
        mount-read|mount-reread)
            mount_tool "$2" "$1" "$cache"
            t0=$(date +%s.%N)
            before=$(requests)
            cat "$(latest_in_mount "$2")/big.img" > /dev/null ;;
    esac
    t1=$(date +%s.%N)
    case $3 in mount-walk|mount-read|mount-reread) unmount_tool "$2" ;; esac
    sleep 0.2
    local n=$(($(requests) - before))
    local wall; wall=$(awk "BEGIN {print $t1 - $t0}")
    printf '%s\t%s\t%s\t%.3f\t%s\t%s\n' "$1" "$2" "$3" "$wall" "$n" "$load" >> "$RAW"
    say "  $2 $3: $(printf '%.2f' "$wall") s, $n requests (load $load)"
}
run_phase() {  # REP TOOL PHASE
    local log=$RESULTS/$2-$3-$1
    argv_of "$2" "$3" "$1"
    [ "$3" = restore ] && rm -rf "$WORK/restored"
    [ "$3" = list-cold ] && rm -rf "$WORK/cache-cold"
    echo "${CMD[*]}" > "$log.cmd"
    local before t0 t1 load
    load=$(cut -d' ' -f1 /proc/loadavg)
    before=$(requests)
    t0=$(date +%s.%N)
    "${CMD[@]}" > "$log.out" 2>&1 || { tail -n 20 "$log.out" >&2; die "$2 $3 failed (rep $1): $log.out"; }
    t1=$(date +%s.%N)
    sleep 0.2  # radosgw logs a request once it is done
    local n=$(($(requests) - before))
    local wall; wall=$(awk "BEGIN {print $t1 - $t0}")
    printf '%s\t%s\t%s\t%.3f\t%s\t%s\n' "$1" "$2" "$3" "$wall" "$n" "$load" >> "$RAW"
    say "  $2 $3: $(printf '%.2f' "$wall") s, $n requests (load $load)"
}

{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "strata: $STRATA, checkout at $(git -C "$TOP" describe --always --dirty 2>/dev/null || echo unknown)"
    restic version
    echo "nproc: $(nproc)"
    echo "data: $(python3 "$HERE/gen_data.py" describe "$DATA"), $(find "$DATA" -type f | wc -l) files, $(du -sb "$DATA" | cut -f1) bytes"
} > "$RESULTS/machine.txt" 2>&1
say "results in $RESULTS; $REPS repetitions"
for ((rep = 1; rep <= REPS; rep++)); do
    if ((rep % 2)); then order="strata restic"; else order="restic strata"; fi
    rm -rf "$WORK/cache-strata" "$WORK/cache-restic"
    for t in $order; do argv_of "$t" init "$rep"; "${CMD[@]}" > "$RESULTS/$t-init-$rep.out" 2>&1 || die "$t init failed"; done
    for phase in first unchanged restore list-cold; do
        for t in $order; do run_phase "$rep" "$t" "$phase"; done
    done
    for t in $order; do
        for phase in mount-start mount-walk mount-read mount-reread; do run_mount_phase "$rep" "$t" "$phase"; done
    done
done

python3 - "$RAW" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
phases = ["first", "unchanged", "restore", "list-cold", "mount-start", "mount-walk", "mount-read", "mount-reread"]
def med(tool, phase, key):
    v = [float(r[key]) for r in rows if r["tool"] == tool and r["phase"] == phase]
    return statistics.median(v) if v else float("nan")
loads = [float(r["load1"]) for r in rows]
print(f"| phase | strata s | restic s | strata/restic time | strata requests | restic requests |")
print("|---|---|---|---|---|---|")
for p in phases:
    s, r = med("strata", p, "wall_s"), med("restic", p, "wall_s")
    print(f"| {p} | {s:.2f} | {r:.2f} | {s / r:.2f} | {med('strata', p, 'requests'):.0f} | {med('restic', p, 'requests'):.0f} |")
print(f"\nmedians of {len(set(r['rep'] for r in rows))} repetitions; load average (1 min) at the phases' starts: "
      f"{min(loads):.1f} to {max(loads):.1f}, median {statistics.median(loads):.1f}")
PY
