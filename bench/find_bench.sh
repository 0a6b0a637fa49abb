#!/usr/bin/env bash
# find and diff benchmark: `strata find` across many snapshots that share most of their subtrees,
# and `strata diff` of two of them, against one full walk of a snapshot (`strata ls -R`) for scale.
#
# Setup (once, not timed; kept in WORK and reused while the parameters match): a generated tree of
# FILES small files, 20 per directory in directories 3 levels deep, one in 50 named *.odt; then
# SNAPSHOTS ingests of it into one repository (--encryption none), where before each ingest but the
# first CHANGES files are rewritten, one file is added and one removed.
# Timed (REPS times each, the median printed), output to /dev/null:
#   find-all    strata find REPO '*.odt'           every version of about FILES/50 paths
#   find-one    strata find REPO 'd1/d2/d3/x.odt'  one path (with '/': matched on the whole path)
#   find-newest strata find REPO --newest '*.odt'
#   diff        strata diff REPO FIRST latest      every change of SNAPSHOTS-1 rounds
#   ls-R        strata ls -R REPO latest           one full walk of one snapshot, for comparison
# A walk of every snapshot would cost about SNAPSHOTS times ls-R; find loads each distinct subtree
# once (store/browse/snapshot_finder.h), diff only the subtrees whose ids differ.
# Prints a markdown table (wall seconds, max RSS) and the load average on stdout; progress goes to
# stderr.
#
# Usage: bench/find_bench.sh [-n REPS] [--files N] [--snapshots S] [--changes C] [--work DIR]
#                            [--strata PATH]
# Defaults: 3 repetitions, 50000 files, 20 snapshots, 20 changes, WORK=/var/tmp/strata-fbench,
# STRATA=build-pbench/tools/strata of this checkout (built if missing).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
REPS=3
FILES=50000
SNAPSHOTS=20
CHANGES=20
WORK=${BENCH_WORK:-/var/tmp/strata-fbench}
STRATA=${STRATA:-$TOP/build-pbench/tools/strata}
TOOLS=strata

while [ $# -gt 0 ]; do
    case "$1" in
        -n) REPS=$2; shift 2 ;;
        --files) FILES=$2; shift 2 ;;
        --snapshots) SNAPSHOTS=$2; shift 2 ;;
        --changes) CHANGES=$2; shift 2 ;;
        --work) WORK=$2; shift 2 ;;
        --strata) STRATA=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "find_bench: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

BENCH_NAME=find_bench
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
need python3 python3
[ -x /usr/bin/time ] || install_pkg time /usr/bin/time
build_strata "$TOP/build-pbench"
STRATA=$(cd "$(dirname "$STRATA")" && pwd)/$(basename "$STRATA")

# --- the repository (setup, not timed) ----------------------------------------------------------
REPO=$WORK/repo
SRC=$WORK/src
PARAMS="files=$FILES snapshots=$SNAPSHOTS changes=$CHANGES strata=$(stat -c %Y "$STRATA")"
if [ "$(cat "$WORK/params" 2>/dev/null)" != "$PARAMS" ]; then
    say "setup: $FILES files, $SNAPSHOTS snapshots of $CHANGES changes each, in $WORK"
    rm -rf "$WORK"
    mkdir -p "$WORK"
    "$STRATA" init --encryption none "$REPO" > "$WORK/init.out" 2>&1 || die "init failed: $WORK/init.out"
    for ((s = 1; s <= SNAPSHOTS; s++)); do
        python3 - "$SRC" "$FILES" "$CHANGES" "$s" <<'PY'
import os, random, sys
src, files, changes, round_ = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def path(i):  # 20 files a directory, 3 levels: d<a>/d<b>/d<c>/f<i>[.odt]
    d = i // 20
    name = "f%07d%s" % (i, ".odt" if i % 50 == 0 else ".txt")
    return os.path.join(src, "d%d" % (d // 400), "d%d" % (d // 20 % 20), "d%d" % (d % 20), name)
def write(i, text):
    p = path(i)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(text)
if round_ == 1:
    for i in range(files):
        write(i, "file %d\n" % i * 4)
else:
    rnd = random.Random(round_)
    for i in rnd.sample(range(files), changes):
        write(i, "file %d, round %d\n" % (i, round_))
    write(files + round_, "added in round %d\n" % round_)
    gone = path(rnd.randrange(files))
    if os.path.exists(gone):
        os.unlink(gone)
PY
        "$STRATA" ingest "$REPO" "$SRC" > "$WORK/ingest-$s.out" 2>&1 ||
            die "ingest $s failed: $WORK/ingest-$s.out"
        say "  snapshot $s of $SNAPSHOTS"
    done
    echo "$PARAMS" > "$WORK/params"
fi
FIRST=$("$STRATA" snapshots --json "$REPO" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["short_id"])')
ONE=$(cd "$SRC" && find . -name '*.odt' | sort | sed -n 7p | cut -c3-)

# --- timed runs ---------------------------------------------------------------------------------
LOAD_BEFORE=$(uptime | sed "s/.*load average: //")
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run() {  # run NAME ARGS...: REPS timed runs, prints a table row
    local name=$1 wall=() rss=() i out
    shift
    for ((i = 0; i < REPS; i++)); do
        /usr/bin/time -o "$WORK/time.out" -f '%e %M' "$STRATA" "$@" > /dev/null 2> "$WORK/run.err" ||
            die "strata $* failed: $WORK/run.err"
        out=$(tail -1 "$WORK/time.out")
        wall+=("${out% *}")
        rss+=("${out#* }")
    done
    printf '| %s | `strata %s` | %s | %s |\n' "$name" "$*" \
        "$(printf '%s\n' "${wall[@]}" | median)" \
        "$(( $(printf '%s\n' "${rss[@]}" | median) / 1024 ))"
}
echo "$FILES files, $SNAPSHOTS snapshots, $CHANGES files changed between snapshots; $REPS runs each, median"
echo
echo "| what | command | wall s | max RSS MiB |"
echo "|---|---|---|---|"
run find-all find "$REPO" '*.odt'
run find-one find "$REPO" "$ONE"
run find-newest find "$REPO" --newest '*.odt'
run diff diff "$REPO" "$FIRST" latest
run ls-R ls -R "$REPO" latest
echo
echo "lines: find-all $("$STRATA" find "$REPO" '*.odt' | wc -l), diff $("$STRATA" diff "$REPO" "$FIRST" latest | wc -l)"
echo "load average before and after: $LOAD_BEFORE / $(uptime | sed 's/.*load average: //')"
