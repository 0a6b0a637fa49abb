#!/usr/bin/env bash
# Maintenance benchmark: forget + prune, and a full data verification, strata against restic
# (--compression auto) and borg (--compression zstd,3, --encryption none), on repositories that hold
# the same snapshots of the same generated data (bench/gen_data.py).
#
# Setup (once, not timed): version 1 of the data, then versions 2..V (each made by
# `gen_data.py mutate` from a fresh copy of version 1), are ingested in that order into one base
# repository per tool, so each holds V snapshots. The base repositories (and restic's cache and
# borg's base dir) are kept in WORK and reused while the parameters match.
# Each repetition copies the base repositories afresh, then times, per tool:
#   prune   strata forget REPO --keep-last 2 --prune --grace 0
#           restic forget --keep-last 2 --prune
#           borg prune --keep-last 2 REPO && borg compact REPO
#   verify  (on the pruned repository: 2 snapshots)
#           strata verify REPO --read-data
#           restic check --read-data
#           borg check --verify-data REPO
# Each timed run starts with `sync; echo 3 > /proc/sys/vm/drop_caches` and runs under
# /usr/bin/time -v (wall time, CPU time, "Maximum resident set size"; for borg's prune+compact the
# sum of the two wall times and the larger RSS). The order of the tools rotates between repetitions.
# Prints a markdown table of medians and ratios strata/restic, strata/borg on stdout; progress goes
# to stderr, raw numbers and every tool's output to the results directory.
#
# Usage: bench/maintenance_bench.sh [-n REPS] [--files N] [--big-size BYTES] [--versions V]
#                                   [--work DIR] [--strata PATH] [--tools "strata restic borg"]
#                                   [--setup-only] [--distinct-versions] [--max-unused PCT]
# --distinct-versions: version v is generated whole with seed v instead of mutated from version 1,
# so the versions share nothing and forgetting 3 of 5 frees about 60% of the repository.
# --max-unused PCT (e.g. 0): passed to strata's and restic's prune as --max-unused PCT% and to
# borg compact as --threshold PCT, so every tool rewrites partly used packs/segments until at most
# PCT% is unused (with 0: the same work, a full repack). Default: each tool's own default.
# Defaults: 3 repetitions, 20000 small files, a 512 MiB big file, 5 versions,
# WORK=/var/tmp/strata-pbench, STRATA=build-pbench/tools/strata of this checkout (built if missing).
# Needs root (dropping caches, installing packages) and about 8x the data size free in WORK.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
REPS=3
FILES=20000
BIG=$((512 * 1024 * 1024))
VERSIONS=5
KEEP=2   # snapshots kept by the timed forget: the issue's "forget + prune" with most data freed
WORK=${BENCH_WORK:-/var/tmp/strata-pbench}
STRATA=${STRATA:-$TOP/build-pbench/tools/strata}
TOOLS="strata restic borg"
SETUP_ONLY=0
DISTINCT=0  # 1: version v is generated with seed v (nothing shared), so prune frees most data
MAX_UNUSED=""  # percent of unused space prune may leave; "": each tool's default

while [ $# -gt 0 ]; do
    case "$1" in
        -n) REPS=$2; shift 2 ;;
        --files) FILES=$2; shift 2 ;;
        --big-size) BIG=$2; shift 2 ;;
        --versions) VERSIONS=$2; shift 2 ;;
        --work) WORK=$2; shift 2 ;;
        --strata) STRATA=$2; shift 2 ;;
        --tools) TOOLS=$2; shift 2 ;;
        --setup-only) SETUP_ONLY=1; shift ;;
        --distinct-versions) DISTINCT=1; shift ;;
        --max-unused) MAX_UNUSED=${2%\%}; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "maintenance_bench: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

BENCH_NAME=maintenance_bench
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"

# --- what the benchmark needs, installed as on a fresh Debian 12 machine (as root) ----------------
need python3 python3
need rsync rsync
need restic restic
need borg borgbackup
[ -x /usr/bin/time ] || install_pkg time /usr/bin/time
build_strata "$TOP/build-pbench"
drop_caches 2>/dev/null || die "cannot drop the page cache (needs root and a writable /proc/sys)"

export RESTIC_PASSWORD=strata-bench
export BORG_PASSPHRASE=
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
export BORG_CHECK_I_KNOW_WHAT_I_AM_DOING=YES

# --- data and the base repositories (setup, not timed) ------------------------------------------
mkdir -p "$WORK"
PRISTINE=$WORK/data-v1
GEN=(python3 "$HERE/gen_data.py" --files "$FILES" --big-size "$BIG")
say "data: $("${GEN[@]}" describe "$PRISTINE")"
"${GEN[@]}" ensure "$PRISTINE" >&2
BASE=$WORK/base
DATA_PARAMS="$("${GEN[@]}" describe "$PRISTINE") versions=$VERSIONS distinct=$DISTINCT"
if [ $DISTINCT = 1 ]; then
    for ((v = 1; v <= VERSIONS; v++)); do "${GEN[@]}" --seed $v ensure "$WORK/data-seed$v" >&2; done
fi
params_of() {  # what a tool's base repository was made from
    if [ "$1" = strata ]; then echo "$DATA_PARAMS strata=$(stat -c %Y "$STRATA")"; else echo "$DATA_PARAMS"; fi
}
setup_tool() {  # setup_tool TOOL: a base repository holding versions 1..V, unless one is there
    local t=$1 r=$BASE/repo-$1 c=$BASE/cache-$1 data=$WORK/data-$1 v
    [ "$(cat "$BASE/params-$t" 2>/dev/null)" = "$(params_of "$t")" ] && return 0
    say "setup: ingesting $VERSIONS versions into a fresh base repository $r"
    rm -rf "$r" "$c" "$BASE/params-$t"; mkdir -p "$c"
    case $t in
        strata) "$STRATA" init "$r" ;;
        restic) restic -r "$r" --cache-dir "$c" init --repository-version 2 ;;
        borg) BORG_BASE_DIR=$c borg init --encryption none "$r" ;;
    esac > "$BASE/init-$t.out" 2>&1 || die "$t init failed: $BASE/init-$t.out"
    for ((v = 1; v <= VERSIONS; v++)); do
        # The same path every time (tools group snapshots by host and paths), version v in it.
        if [ $DISTINCT = 1 ]; then
            rsync -a --delete "$WORK/data-seed$v/" "$data/"
        else
            rsync -a --delete "$PRISTINE/" "$data/"
            [ $v = 1 ] || "${GEN[@]}" mutate "$data" --version $v > /dev/null
        fi
        say "  $t: version $v"
        case $t in
            strata) "$STRATA" ingest "$r" "$data" ;;
            restic) restic -r "$r" --cache-dir "$c" --compression auto backup "$data" ;;
            borg) BORG_BASE_DIR=$c borg create --compression zstd,3 "$r::v$v" "$data" ;;
        esac > "$BASE/ingest-$t-$v.out" 2>&1 || die "$t ingest of version $v failed: $BASE/ingest-$t-$v.out"
        sleep 1  # distinct snapshot times, so "the last 2" are the same two versions for every tool
    done
    rm -rf "$data"
    params_of "$t" > "$BASE/params-$t"
}
mkdir -p "$BASE"
for t in $TOOLS; do setup_tool "$t"; done
[ "$SETUP_ONLY" = 1 ] && { say "setup done"; exit 0; }

RESULTS=$WORK/results-$(date +%Y%m%d-%H%M%S)
mkdir -p "$RESULTS"
RAW=$RESULTS/raw.tsv
printf 'rep\ttool\tphase\twall_s\tcpu_s\tmaxrss_kb\trepo_bytes_after\tload1\n' > "$RAW"
{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "strata: $STRATA, checkout at $(git -C "$TOP" describe --always --dirty 2>/dev/null || echo unknown)"
    restic version; borg --version
    echo "nproc: $(nproc)"; free -g | head -2
    echo "data: $DATA_PARAMS"
    echo "max-unused: ${MAX_UNUSED:-the default of each tool}"
    for t in $TOOLS; do echo "base repository $t: $(du -sb "$BASE/repo-$t" | cut -f1) bytes"; done
} > "$RESULTS/machine.txt" 2>&1

# --- the timed commands ---------------------------------------------------------------------------
repo_of() { echo "$WORK/repo-$1"; }
cache_of() { echo "$WORK/cache-$1"; }
argv_of() {  # argv_of TOOL PHASE [STEP]: sets CMD
    local r c; r=$(repo_of "$1"); c=$(cache_of "$1")
    case "$1/$2${3:+/$3}" in
        strata/prune) CMD=("$STRATA" forget "$r" --keep-last $KEEP --prune --grace 0 ${MAX_UNUSED:+--max-unused "$MAX_UNUSED%"}) ;;
        strata/verify) CMD=("$STRATA" verify "$r" --read-data) ;;
        restic/prune) CMD=(restic -r "$r" --cache-dir "$c" forget --keep-last $KEEP --prune ${MAX_UNUSED:+--max-unused "$MAX_UNUSED%"}) ;;
        restic/verify) CMD=(restic -r "$r" --cache-dir "$c" check --read-data) ;;
        borg/prune/1) CMD=(env "BORG_BASE_DIR=$c" borg prune --keep-last $KEEP "$r") ;;
        borg/prune/2) CMD=(env "BORG_BASE_DIR=$c" borg compact ${MAX_UNUSED:+--threshold "$MAX_UNUSED"} "$r") ;;
        borg/verify) CMD=(env "BORG_BASE_DIR=$c" borg check --verify-data "$r") ;;
    esac
}
run_timed() {  # run_timed LOG: runs CMD under /usr/bin/time -v; sets WALL CPU RSS
    echo "${CMD[*]}" >> "$1.cmd"
    local t0 t1
    t0=$(date +%s.%N)
    if ! /usr/bin/time -v -o "$1.time" "${CMD[@]}" >> "$1.out" 2>&1; then
        tail -n 20 "$1.out" >&2; die "failed: ${CMD[*]} (output in $1.out)"
    fi
    t1=$(date +%s.%N)
    WALL=$(awk "BEGIN {print $t1 - $t0}")
    CPU=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$1.time")
    RSS=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$1.time")
}
timed() {  # timed REP TOOL PHASE
    local rep=$1 tool=$2 phase=$3 log=$RESULTS/$2-$3-$1 load wall cpu rss
    drop_caches
    load=$(cut -d' ' -f1 /proc/loadavg)
    if [ "$tool/$phase" = borg/prune ]; then
        argv_of borg prune 1; run_timed "$log"; wall=$WALL; cpu=$CPU; rss=$RSS
        argv_of borg prune 2; run_timed "$log"
        wall=$(awk "BEGIN {print $wall + $WALL}"); cpu=$(awk "BEGIN {print $cpu + $CPU}")
        [ "$RSS" -gt "$rss" ] && rss=$RSS
    else
        argv_of "$tool" "$phase"; run_timed "$log"; wall=$WALL; cpu=$CPU; rss=$RSS
    fi
    sync
    local repo; repo=$(du -sb "$(repo_of "$tool")" | cut -f1)
    printf '%s\t%s\t%s\t%.3f\t%.2f\t%s\t%s\t%s\n' "$rep" "$tool" "$phase" "$wall" "$cpu" "$rss" "$repo" "$load" >> "$RAW"
    say "  $tool $phase: $(printf '%.1f' "$wall") s wall, $cpu s cpu, $((rss / 1024)) MiB peak RSS, repository after $((repo / 1000000)) MB (load $load)"
}
rotate() {  # rotate N WORDS...: the words, starting at the N-th (mod count)
    local n=$1; shift
    local a=("$@") i out=()
    for ((i = 0; i < ${#a[@]}; i++)); do out+=("${a[(i + n) % ${#a[@]}]}"); done
    echo "${out[@]}"
}

say "results in $RESULTS; $REPS repetitions"
for ((rep = 1; rep <= REPS; rep++)); do
    order=$(rotate $((rep - 1)) $TOOLS)
    say "repetition $rep/$REPS (order: $order): fresh copies of the base repositories"
    for t in $TOOLS; do
        rm -rf "$(repo_of "$t")" "$(cache_of "$t")"
        cp -a "$BASE/repo-$t" "$(repo_of "$t")"
        if [ -d "$BASE/cache-$t" ]; then cp -a "$BASE/cache-$t" "$(cache_of "$t")"; else mkdir -p "$(cache_of "$t")"; fi
    done
    for t in $order; do timed "$rep" "$t" prune; done
    for t in $order; do timed "$rep" "$t" verify; done
    for t in $TOOLS; do rm -rf "$(repo_of "$t")" "$(cache_of "$t")"; done
done

# --- the table -------------------------------------------------------------------------------------
python3 - "$RAW" <<'EOF' | tee "$RESULTS/table.md"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
def med(tool, phase, key):
    v = [float(r[key]) for r in rows if r["tool"] == tool and r["phase"] == phase]
    return (statistics.median(v), len(v)) if v else (None, 0)
loads = [float(r["load1"]) for r in rows]
print(f"load average (1 min) at the start of the timed runs: {min(loads):.1f} to {max(loads):.1f}\n")
print("| operation | tool | runs | wall s (median) | CPU s | peak RSS MiB | repo after MB | strata/tool wall | strata/tool RSS |")
print("|---|---|---|---|---|---|---|---|---|")
for phase, name in (("prune", "forget --keep-last 2 + prune"), ("verify", "verify --read-data")):
    sw, _ = med("strata", phase, "wall_s"); sr, _ = med("strata", phase, "maxrss_kb")
    for tool in ("strata", "restic", "borg"):
        w, n = med(tool, phase, "wall_s")
        if n == 0: continue
        c, _ = med(tool, phase, "cpu_s"); r, _ = med(tool, phase, "maxrss_kb"); b, _ = med(tool, phase, "repo_bytes_after")
        ratio = "" if tool == "strata" else f"{sw / w:.2f}"
        rratio = "" if tool == "strata" else f"{sr / r:.2f}"
        print(f"| {name} | {tool} | {n} | {w:.1f} | {c:.1f} | {r / 1024:.0f} | {b / 1e6:.0f} | {ratio} | {rratio} |")
print()
for phase, name in (("prune", "forget + prune"), ("verify", "verify --read-data")):
    sw, _ = med("strata", phase, "wall_s"); rw, n = med("restic", phase, "wall_s")
    sr, _ = med("strata", phase, "maxrss_kb"); rr, _ = med("restic", phase, "maxrss_kb")
    if n == 0 or sw is None: continue
    speed = rw / sw
    ok = speed >= 2 and sr <= rr
    print(f"- {name}: strata {speed:.2f}x as fast as restic (goal >= 2x), peak RSS {sr/1024:.0f} vs {rr/1024:.0f} MiB "
          f"(goal: no higher): {'MET' if ok else 'NOT MET'}")
EOF
say "raw numbers: $RAW"
