#!/usr/bin/env bash
# Mount benchmark: `strata mount` against `restic mount` and `borg mount` on the same generated data
# (bench/gen_data.py: many small source-like files plus one large, mostly incompressible big.img),
# ingested once into each tool's repository.
#
# For each repetition and each tool (the order rotates between repetitions), three fresh mounts:
#   find   drop caches, start the mount, time until `ls` of the snapshot's root succeeds (mount_s),
#          drop caches, then time  find DATA -printf '%i %m %s %T@ %p\n' | wc -l   (entries/s)
#   read   drop caches, fresh mount, drop caches, time  dd if=DATA/big.img of=/dev/null bs=1M  (MB/s)
#   cp     drop caches, fresh mount, drop caches, time  cp -a DATA/<subtree> /dev/shm/...     (files/s)
# DATA is the ingested directory inside the snapshot (strata: the snapshot root; restic and borg
# keep the absolute path). Every mount runs in the foreground in the background of this script
# (strata mount -f, restic mount, borg mount -f) and is polled with `ls` every 20 ms, so the three
# are started and timed the same way. Before each unmount the mount process's peak resident size
# (VmHWM in /proc/PID/status) is recorded. The load average is recorded with every measurement
# (the machine may be shared). Unmounting: fusermount3 -u (retried), then -uz; the process is
# then waited for, and killed by PID if it does not end.
#
# Prints a markdown table of medians and ratios on stdout; progress goes to stderr, raw numbers and
# every tool's output to the results directory.
#
# Usage: bench/mount_bench.sh [-n REPS] [--work DIR] [--tools "strata restic borg"] [--strata PATH]
#                             [--files N] [--big-size BYTES] [--cache-size SIZE]
# Environment defaults: BENCH_REPS (3), BENCH_WORK (/var/tmp/strata-mbench), STRATA
# (build-mbench/tools/strata of this checkout), MBENCH_FILES (60000 small files), MBENCH_BIG
# (1.5 GiB big.img), MBENCH_CACHE (strata's --cache-size; empty: its default, 64 MiB).
# Needs root (dropping caches, mounting, installing packages), /dev/fuse, about 4x the data size
# free in BENCH_WORK (~8 GB at the defaults) and ~0.5 GB in /dev/shm. BENCH_WORK is kept between
# runs: the data and the repositories are reused while their parameters match.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
REPS=${BENCH_REPS:-3}
WORK=${BENCH_WORK:-/var/tmp/strata-mbench}
TOOLS="strata restic borg"
STRATA=${STRATA:-$TOP/build-mbench/tools/strata}
FILES=${MBENCH_FILES:-60000}
BIG=${MBENCH_BIG:-$((1536 << 20))}
CACHE=${MBENCH_CACHE:-}

while [ $# -gt 0 ]; do
    case "$1" in
        -n) REPS=$2; shift 2 ;;
        --work) WORK=$2; shift 2 ;;
        --tools) TOOLS=$2; shift 2 ;;
        --strata) STRATA=$2; shift 2 ;;
        --files) FILES=$2; shift 2 ;;
        --big-size) BIG=$2; shift 2 ;;
        --cache-size) CACHE=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "mount_bench: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

# How long a mount may take to list its snapshot before the run is abandoned (borg reads the whole
# archive's metadata on first access; restic loads its index).
LIST_TIMEOUT_S=600
POLL_S=0.02           # polling interval while waiting for the listing: resolution of mount_s
UNMOUNT_TRIES=10      # fusermount3 -u attempts (0.5 s apart) before a lazy unmount
EXIT_WAIT_S=20        # how long a mount process may take to end after its unmount
CP_TARGET_FILES=3000  # the cp -a subtree: the top-level directory whose file count is nearest this

BENCH_NAME=mount_bench
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"

# --- what the benchmark needs, installed the way a fresh Debian 12 machine (as root) would ---------
[ "$(id -u)" = 0 ] || die "needs root: it drops the page cache, mounts, and may install packages"
need python3 python3
need fusermount3 fuse3
[ -x /usr/bin/time ] || install_pkg time /usr/bin/time
need_tools --fuse
[ -c /dev/fuse ] || die "/dev/fuse is missing: load the fuse module (modprobe fuse) or run where FUSE is available"
build_strata "$TOP/build-mbench"
drop_caches 2>/dev/null || die "cannot drop the page cache (needs a writable /proc/sys/vm/drop_caches)"

# --- data ---------------------------------------------------------------------------------------
mkdir -p "$WORK"
DATA=$WORK/data
GEN=(python3 "$HERE/gen_data.py" --files "$FILES" --big-size "$BIG")
WANT=$("${GEN[@]}" describe "$DATA")
say "data: $WANT in $DATA (generated once, reused while the parameters match)"
"${GEN[@]}" ensure "$DATA"
DATA_ENTRIES=$(find "$DATA" | wc -l)
DATA_FILES=$(find "$DATA" -type f | wc -l)
BIG_BYTES=$(stat -c %s "$DATA/big.img")
# The cp -a subtree: the directory under src/ whose file count is nearest CP_TARGET_FILES.
CP_SUB=$(cd "$DATA" && for d in src/*/; do printf '%s %s\n' "$(find "$d" -type f | wc -l)" "${d%/}"; done |
    awk -v want=$CP_TARGET_FILES '{d = $1 - want; if (d < 0) d = -d; if (best == "" || d < best) {best = d; p = $2}} END {print p}')
CP_FILES=$(find "$DATA/$CP_SUB" -type f | wc -l)
CP_ENTRIES=$(find "$DATA/$CP_SUB" | wc -l)
CP_BYTES=$(du -sb --apparent-size "$DATA/$CP_SUB" | cut -f1)

RESULTS=$WORK/results-$(date +%Y%m%d-%H%M%S)
mkdir -p "$RESULTS"
RAW=$RESULTS/raw.tsv
printf 'rep\ttool\tphase\tmount_s\top_s\tcount\trate\tunit\thwm_kb\tload1\n' > "$RAW"

# --- repositories -------------------------------------------------------------------------------
export RESTIC_PASSWORD=strata-bench
export BORG_PASSPHRASE=
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
ARCHIVE=v1   # borg's archive name
repo_of() { echo "$WORK/repo-$1"; }
cache_of() { echo "$WORK/cache-$1"; }  # restic's cache dir and borg's base dir; strata has none

ingest_once() {  # ingest_once TOOL: $DATA into a fresh repository, unless one with this data exists
    local tool=$1 r c stamp log
    r=$(repo_of "$tool"); c=$(cache_of "$tool"); stamp=$r.params; log=$RESULTS/$tool-ingest.out
    if [ -d "$r" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$WANT" ]; then
        say "$tool: reusing $r"; return
    fi
    rm -rf "$r" "$c" "$stamp"; mkdir -p "$c"
    say "$tool: ingesting $DATA into $r (not timed)"
    case "$tool" in
        strata) { "$STRATA" init "$r" && "$STRATA" ingest "$r" "$DATA"; } > "$log" 2>&1 ;;
        restic) { restic -r "$r" --cache-dir "$c" init --repository-version 2 &&
                  restic -r "$r" --cache-dir "$c" --compression auto backup "$DATA"; } > "$log" 2>&1 ;;
        borg) { BORG_BASE_DIR=$c borg init --encryption none "$r" &&
                BORG_BASE_DIR=$c borg create --compression zstd,3 "$r::$ARCHIVE" "$DATA"; } > "$log" 2>&1 ;;
    esac || { tail -n 20 "$log" >&2; die "$tool ingest failed; output in $log"; }
    echo "$WANT" > "$stamp"
}

# --- mounting -----------------------------------------------------------------------------------
MNT=$WORK/mnt
MPID=""        # the mount process currently running (started by this script)
mount_argv() {  # sets MOUNT to the command that mounts tool $1's repository on $MNT in the foreground
    local r c; r=$(repo_of "$1"); c=$(cache_of "$1")
    case "$1" in
        strata) MOUNT=("$STRATA" mount "$r" "$MNT" -f)
                if [ -n "$CACHE" ]; then MOUNT+=(--cache-size "$CACHE"); fi ;;
        restic) MOUNT=(restic -r "$r" --cache-dir "$c" mount "$MNT") ;;
        borg) MOUNT=(env "BORG_BASE_DIR=$c" borg mount -f "$r" "$MNT") ;;  # env execs: $! is borg
    esac
}
snapshot_root() {  # the snapshot's root directory in the mount
    case "$1" in
        strata|restic) echo "$MNT/snapshots/latest/" ;;
        borg) echo "$MNT/$ARCHIVE/" ;;
    esac
}
data_dir() {  # where $DATA is inside the snapshot
    case "$1" in
        strata) echo "$MNT/snapshots/latest/" ;;  # a symlink: the slash makes find follow it
        restic) echo "$MNT/snapshots/latest$DATA" ;;
        borg) echo "$MNT/$ARCHIVE$DATA" ;;
    esac
}

mounted() { grep -q " $MNT " /proc/self/mounts; }

unmount() {  # unmount: records the peak RSS of the mount process in HWM_KB, unmounts, ends it
    HWM_KB=$( [ -n "$MPID" ] && awk '/^VmHWM:/ {print $2}' "/proc/$MPID/status" 2>/dev/null || true)
    local i
    for ((i = 0; i < UNMOUNT_TRIES && $(mounted && echo 1 || echo 0); i++)); do
        fusermount3 -u "$MNT" 2>/dev/null || sleep 0.5
    done
    if mounted; then say "  $MNT still busy after $UNMOUNT_TRIES tries: lazy unmount"; fusermount3 -uz "$MNT" || true; fi
    if [ -n "$MPID" ]; then
        for ((i = 0; i < EXIT_WAIT_S * 10; i++)); do kill -0 "$MPID" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$MPID" 2>/dev/null; then
            say "  mount process $MPID did not end after its unmount: SIGTERM, then SIGKILL"
            kill -TERM "$MPID" 2>/dev/null || true; sleep 2; kill -KILL "$MPID" 2>/dev/null || true
        fi
        wait "$MPID" 2>/dev/null || true
    fi
    # A process stopped while still starting may have mounted after the check above.
    if mounted; then fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT" || true; fi
    MPID=""
}
cleanup() {
    local rc=$?
    if [ -n "$MPID" ] || mounted 2>/dev/null; then unmount || true; fi
    rm -rf /dev/shm/mount-bench-cp.$$
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fresh_mount() {  # fresh_mount TOOL LOG: drop caches, mount, wait for the listing; sets MOUNT_S
    local tool=$1 log=$2 t0 t1 root
    mounted && die "$MNT is still mounted"
    mkdir -p "$MNT"
    [ -z "$(ls -A "$MNT")" ] || die "$MNT is not empty"
    mount_argv "$tool"
    root=$(snapshot_root "$tool")
    drop_caches
    t0=$(date +%s.%N)
    "${MOUNT[@]}" >> "$log" 2>&1 &
    MPID=$!
    until ls "$root" > /dev/null 2>&1; do
        kill -0 "$MPID" 2>/dev/null || { tail -n 20 "$log" >&2; die "$tool mount ended before listing $root; output in $log"; }
        t1=$(date +%s.%N)
        awk "BEGIN {exit !($t1 - $t0 > $LIST_TIMEOUT_S)}" && die "$tool mount did not list $root within $LIST_TIMEOUT_S s"
        sleep "$POLL_S"
    done
    t1=$(date +%s.%N)
    MOUNT_S=$(awk "BEGIN {printf \"%.3f\", $t1 - $t0}")
    [ -d "$(data_dir "$tool")" ] || die "$tool: the data is not at $(data_dir "$tool") in the mount"
}

record() {  # record REP TOOL PHASE OP_S COUNT UNIT LOAD: one raw row (rate = COUNT / OP_S)
    local rate
    rate=$(awk "BEGIN {printf \"%.1f\", $5 / $4}")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$MOUNT_S" "$4" "$5" "$rate" "$6" "$HWM_KB" "$7" >> "$RAW"
    say "  $2 $3: mounted+listed in ${MOUNT_S} s; $(printf '%.2f' "$4") s, $rate $6; peak RSS $((HWM_KB / 1024)) MiB (load $7)"
}

timed() {  # timed COMMAND...: runs it, sets OP_S to its wall time
    local t0 t1
    t0=$(date +%s.%N)
    "$@"
    t1=$(date +%s.%N)
    OP_S=$(awk "BEGIN {printf \"%.3f\", $t1 - $t0}")
}

bench_tool() {  # bench_tool REP TOOL
    local rep=$1 tool=$2 log=$RESULTS/$2-mount-$1.log dir load n out
    dir=$(data_dir "$tool")

    fresh_mount "$tool" "$log"
    drop_caches; load=$(cut -d' ' -f1 /proc/loadavg)
    timed bash -c "find '$dir' -printf '%i %m %s %T@ %p\n' | wc -l > '$RESULTS/$tool-find-$rep.count'"
    n=$(cat "$RESULTS/$tool-find-$rep.count")
    [ "$n" = "$DATA_ENTRIES" ] || say "  WARNING: $tool's find saw $n entries, the source has $DATA_ENTRIES"
    unmount; record "$rep" "$tool" find "$OP_S" "$n" entries/s "$load"

    fresh_mount "$tool" "$log"
    drop_caches; load=$(cut -d' ' -f1 /proc/loadavg)
    timed dd if="$dir/big.img" of=/dev/null bs=1M status=none
    unmount; record "$rep" "$tool" read "$OP_S" "$(awk "BEGIN {print $BIG_BYTES / 1e6}")" MB/s "$load"

    out=/dev/shm/mount-bench-cp.$$
    rm -rf "$out"; mkdir -p "$out"
    fresh_mount "$tool" "$log"
    drop_caches; load=$(cut -d' ' -f1 /proc/loadavg)
    timed cp -a "$dir/$CP_SUB" "$out/"
    n=$(find "$out" -type f | wc -l)
    [ "$n" = "$CP_FILES" ] || say "  WARNING: $tool's cp -a copied $n files, the subtree has $CP_FILES"
    rm -rf "$out"
    unmount; record "$rep" "$tool" cp "$OP_S" "$n" files/s "$load"
}

rotate() {  # rotate N WORDS...: the words, starting at the N-th (mod count)
    local n=$1; shift
    local a=("$@") i out=()
    for ((i = 0; i < ${#a[@]}; i++)); do out+=("${a[(i + n) % ${#a[@]}]}"); done
    echo "${out[@]}"
}

# --- the run ------------------------------------------------------------------------------------
{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "command: $0 -n $REPS --work $WORK --tools \"$TOOLS\" --strata $STRATA --files $FILES --big-size $BIG${CACHE:+ --cache-size $CACHE}"
    echo "strata: $STRATA, built $(date -u -r "$STRATA" +%Y-%m-%dT%H:%M:%SZ), checkout at $(git -C "$TOP" describe --always --dirty 2>/dev/null || echo unknown)"
    echo "strata cache size: ${CACHE:-default (64 MiB)}"
    for t in $TOOLS; do case $t in restic) restic version ;; borg) borg --version ;; esac; done
    echo "kernel: $(uname -r); nproc: $(nproc)"; free -g
    echo "data: $WANT; $DATA_ENTRIES entries, $DATA_FILES files; big.img $BIG_BYTES bytes"
    echo "cp subtree: $CP_SUB: $CP_FILES files, $CP_ENTRIES entries, $CP_BYTES bytes"
} > "$RESULTS/machine.txt" 2>&1
say "results in $RESULTS; data: $DATA_ENTRIES entries, big.img $((BIG_BYTES >> 20)) MiB; cp subtree $CP_SUB ($CP_FILES files); tools: $TOOLS; $REPS repetitions"

for t in $TOOLS; do ingest_once "$t"; done

for ((rep = 1; rep <= REPS; rep++)); do
    order=$(rotate $((rep - 1)) $TOOLS)
    say "repetition $rep/$REPS (order: $order)"
    for t in $order; do bench_tool "$rep" "$t"; done
done

python3 "$HERE/mount_summarize.py" "$RAW" --machine "$RESULTS/machine.txt" \
    --cache-mib "$(python3 -c "
import sys; s = sys.argv[1].strip().upper() or '64M'
m = {'K': 1 / 1024, 'M': 1, 'G': 1024}
print(float(s[:-1]) * m[s[-1]] if s[-1] in m else float(s) / 2**20)" "$CACHE")" | tee "$RESULTS/table.md"
say "raw numbers: $RAW"
