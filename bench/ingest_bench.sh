#!/usr/bin/env bash
# Ingest benchmark: strata against restic (--compression auto) and borg (--compression zstd,3
# --encryption none) on the same generated data (bench/gen_data.py), in one run.
#
# For each repetition, on a fresh copy of version 1 of the data and fresh repositories:
#   first      ingest of version 1 into an empty repository
#   unchanged  ingest of the same, unchanged tree (each tool uses its parent / files cache)
#   changed    ingest after bench/gen_data.py mutate turned the tree into version 2 in place
# Each timed run starts with `sync; echo 3 > /proc/sys/vm/drop_caches` (cold page cache: the data,
# the repository and the tools' caches are all read from disk), unless --warm is given.
# The order of the tools rotates from one repetition to the next. Prints a markdown table of the
# medians and the ratios strata/restic and strata/borg on stdout; progress goes to stderr, the raw
# numbers and every tool's output to the results directory.
#
# Usage: bench/ingest_bench.sh [-n REPS] [--scale S] [--work DIR] [--tools "strata restic borg"]
#                              [--strata PATH] [--warm]
# Environment defaults: BENCH_REPS (3), BENCH_SCALE (1.0: 200k small files + a 2 GiB file),
# BENCH_WORK (/var/tmp/strata-bench), STRATA (build-bench/tools/strata of this checkout).
# Needs root (dropping caches, installing packages) and about 4x the data size free in BENCH_WORK
# (10-12 GB at full scale); BENCH_WORK is kept between runs so the data is generated once.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
REPS=${BENCH_REPS:-3}
SCALE=${BENCH_SCALE:-1.0}
WORK=${BENCH_WORK:-/var/tmp/strata-bench}
TOOLS="strata restic borg"
STRATA=${STRATA:-$TOP/build-bench/tools/strata}
DROP_CACHES=1

while [ $# -gt 0 ]; do
    case "$1" in
        -n) REPS=$2; shift 2 ;;
        --scale) SCALE=$2; shift 2 ;;
        --work) WORK=$2; shift 2 ;;
        --tools) TOOLS=$2; shift 2 ;;
        --strata) STRATA=$2; shift 2 ;;
        --warm) DROP_CACHES=0; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "ingest_bench: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

BENCH_NAME=ingest_bench
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"

# --- what the benchmark needs, installed the way a fresh Debian 12 machine (as root) would ---------
need python3 python3
need rsync rsync
[ -x /usr/bin/time ] || install_pkg time /usr/bin/time
need_tools
build_strata "$TOP/build-bench"
if [ $DROP_CACHES = 1 ]; then
    drop_caches 2>/dev/null ||
        die "cannot drop the page cache (needs root and a writable /proc/sys); run as root or pass --warm"
fi

# --- data ---------------------------------------------------------------------------------------
export BENCH_SCALE=$SCALE
mkdir -p "$WORK"
PRISTINE=$WORK/data-v1
DATA=$WORK/data   # the tree every tool ingests: version 1, then version 2 in place
WANT=$(python3 "$HERE/gen_data.py" describe "$PRISTINE")
say "data: $WANT in $PRISTINE (generated once, reused while the parameters match)"
python3 "$HERE/gen_data.py" ensure "$PRISTINE"
file_bytes() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {printf "%.0f\n", s}'; }
V1_BYTES=$(file_bytes "$PRISTINE")
V1_FILES=$(find "$PRISTINE" -type f | wc -l)

RESULTS=$WORK/results-$(date +%Y%m%d-%H%M%S)
mkdir -p "$RESULTS"
RAW=$RESULTS/raw.tsv
printf 'rep\ttool\tphase\twall_s\tcpu_s\tmaxrss_kb\trepo_bytes\tcache_bytes\tload1\tindex_bytes\n' > "$RAW"

# --- the tools ----------------------------------------------------------------------------------
export RESTIC_PASSWORD=strata-bench
export BORG_PASSPHRASE=
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
repo_of() { echo "$WORK/repo-$1"; }
cache_of() { echo "$WORK/cache-$1"; }  # restic's cache and borg's base dir; strata has none
index_bytes() {  # the part of a repository that indexes the blobs (rebuildable from the packs)
    local r; r=$(repo_of "$1")
    case "$1" in
        strata|restic) du -sb "$r/index" | cut -f1 ;;
        borg) cat "$r"/index.* 2>/dev/null | wc -c ;;
    esac
}

tool_init() {
    local r c; r=$(repo_of "$1"); c=$(cache_of "$1")
    rm -rf "$r" "$c"; mkdir -p "$c"
    case "$1" in
        strata) "$STRATA" init "$r" ;;
        restic) restic -r "$r" --cache-dir "$c" init --repository-version 2 ;;
        borg) BORG_BASE_DIR=$c borg init --encryption none "$r" ;;
    esac
}
ingest_argv() {  # sets INGEST to the command line that ingests $DATA with tool $1, labelled $2
    local r c; r=$(repo_of "$1"); c=$(cache_of "$1")
    case "$1" in
        strata) INGEST=("$STRATA" ingest "$r" "$DATA") ;;
        restic) INGEST=(restic -r "$r" --cache-dir "$c" --compression auto backup "$DATA") ;;
        borg) INGEST=(env "BORG_BASE_DIR=$c" borg create --compression zstd,3 "$r::$2" "$DATA") ;;
    esac
}

timed_ingest() {  # timed_ingest REP TOOL PHASE
    local rep=$1 tool=$2 phase=$3 log=$RESULTS/$2-$3-$1
    if [ $DROP_CACHES = 1 ]; then sync; echo 3 > /proc/sys/vm/drop_caches; fi
    local t0 t1 load
    load=$(cut -d' ' -f1 /proc/loadavg)  # how busy the shared machine was as the run started
    t0=$(date +%s.%N)
    ingest_argv "$tool" "$phase"
    echo "${INGEST[*]}" > "$log.cmd"
    if ! /usr/bin/time -v -o "$log.time" "${INGEST[@]}" > "$log.out" 2>&1; then
        tail -n 20 "$log.out" >&2
        die "$tool failed in phase $phase (repetition $rep); output in $log.out"
    fi
    t1=$(date +%s.%N)
    local wall cpu rss repo cache index
    wall=$(awk "BEGIN {print $t1 - $t0}")
    cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$log.time")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log.time")
    sync
    repo=$(du -sb "$(repo_of "$tool")" | cut -f1)
    cache=$(du -sb "$(cache_of "$tool")" | cut -f1)
    index=$(index_bytes "$tool")
    printf '%s\t%s\t%s\t%.3f\t%.2f\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$tool" "$phase" "$wall" "$cpu" "$rss" "$repo" "$cache" "$load" "$index" >> "$RAW"
    say "  $tool $phase: $(printf '%.1f' "$wall") s wall, $cpu s cpu, $((rss / 1024)) MiB peak RSS, repository $((repo / 1000000)) MB (load $load)"
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
    echo "strata: $STRATA, built $(date -u -r "$STRATA" +%Y-%m-%dT%H:%M:%SZ), checkout at $(git -C "$TOP" describe --always --dirty 2>/dev/null || echo unknown)"
    for t in $TOOLS; do case $t in restic) restic version ;; borg) borg --version ;; esac; done
    echo "nproc: $(nproc)"; free -g
    echo "data: $WANT, $V1_FILES files, $V1_BYTES bytes (version 1)"
    echo "caches dropped before each timed run: $([ $DROP_CACHES = 1 ] && echo yes || echo no)"
} > "$RESULTS/machine.txt" 2>&1
say "results in $RESULTS; data: $V1_FILES files, $((V1_BYTES / 1000000)) MB; tools: $TOOLS; $REPS repetitions"

for ((rep = 1; rep <= REPS; rep++)); do
    order=$(rotate $((rep - 1)) $TOOLS)
    # rsync turns a left-over version 2 back into version 1 by copying only what differs, far
    # quicker than deleting and copying 200k files again.
    say "repetition $rep/$REPS (order: $order): syncing version 1 into $DATA"
    rsync -a --delete "$PRISTINE/" "$DATA/"
    for t in $order; do tool_init "$t" > "$RESULTS/$t-init-$rep.out" 2>&1 || die "$t init failed: $RESULTS/$t-init-$rep.out"; done
    for t in $order; do timed_ingest "$rep" "$t" first; done
    for t in $order; do timed_ingest "$rep" "$t" unchanged; done
    say "making version 2 in place"
    python3 "$HERE/gen_data.py" mutate "$DATA" --version 2 2> "$RESULTS/mutate-$rep.out"
    for t in $order; do timed_ingest "$rep" "$t" changed; done
    [ "$rep" = 1 ] && V2_BYTES=$(file_bytes "$DATA")
    for t in $order; do rm -rf "$(repo_of "$t")" "$(cache_of "$t")"; done
done
# $DATA stays (version 2) for the next run's rsync; rm -rf "$WORK" frees the space.

python3 "$HERE/summarize.py" "$RAW" --v1-bytes "$V1_BYTES" --v2-bytes "$V2_BYTES" \
    --caches "$([ $DROP_CACHES = 1 ] && echo cold || echo warm)" | tee "$RESULTS/table.md"
say "raw numbers: $RAW"
