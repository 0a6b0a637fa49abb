#!/usr/bin/env bash
# Memory of `strata mount` on a repository with a million files over a hundred snapshots: is the
# mount process's resident size flat (bounded by the configured caches), whatever the repository
# holds and however much of it is walked?
#
# The repository (built once, reused while the parameters match):
#   big/    DIRS x FILES empty files (default 1,000 x 1,000 = 1M files), ingested twice (the second
#           time with one file changed): two snapshots of a million files each;
#   small/  SMALL_DIRS x FILES empty files (default 10 x 1,000), ingested SNAPSHOTS - 2 times, each
#           time with small/d0000/changed rewritten (so history/ of it has that many versions).
# Empty files keep the build fast (a re-ingest of big/ takes ~30 s here, so only two snapshots
# hold all of it); the mount's memory depends on entries, not on file sizes.
#
# Then one mount (strata mount -f, in the background of this script), and in order:
#   list      ls -l snapshots/ ids/ hosts/*/ and the root of every snapshot
#   walk-1M   find -printf (stat of every entry) over the first million-file snapshot
#   walk-2M   the same over the second one (now 2M entries visited)
#   walk-all  find over every small snapshot
#   history   ls -l history/small/d0000/changed/ and cat of every version
#   read      cat of 1,000 files of big/
# After each step the mount process's VmRSS, VmHWM, RssAnon and RssFile (file-backed pages: the
# LMDB index's memory map) are read from /proc/PID/status. Prints a markdown table on stdout.
#
# Usage: bench/mount_rss_bench.sh [--work DIR] [--strata PATH] [--dirs N] [--files N]
#                                 [--snapshots N] [--cache-size SIZE]
# Needs root (drops caches), /dev/fuse, fusermount3, ~5 GB free for 1M inodes in DIR.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
WORK=${BENCH_WORK:-/var/tmp/strata-rss}
STRATA=${STRATA:-$TOP/build-mbench/tools/strata}
DIRS=1000
FILES=1000
SMALL_DIRS=10
SNAPSHOTS=100
CACHE=""
while [ $# -gt 0 ]; do
    case "$1" in
        --work) WORK=$2; shift 2 ;;
        --strata) STRATA=$2; shift 2 ;;
        --dirs) DIRS=$2; shift 2 ;;
        --files) FILES=$2; shift 2 ;;
        --snapshots) SNAPSHOTS=$2; shift 2 ;;
        --cache-size) CACHE=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "mount_rss_bench: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
BENCH_NAME=mount_rss_bench
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
[ "$(id -u)" = 0 ] || die "needs root (drops the page cache, mounts)"
[ -x "$STRATA" ] || die "$STRATA is not built (cmake --build build-mbench --target strata)"
[ -c /dev/fuse ] || die "/dev/fuse is missing"
command -v fusermount3 >/dev/null || die "fusermount3 is missing (apt-get install fuse3)"
[ "$SNAPSHOTS" -ge 3 ] || die "--snapshots must be at least 3"

PARAMS="dirs=$DIRS files=$FILES small_dirs=$SMALL_DIRS snapshots=$SNAPSHOTS layout=1"
REPO=$WORK/repo
MNT=$WORK/mnt
mkdir -p "$WORK"

make_tree() {  # make_tree DIR NDIRS: NDIRS directories of FILES empty files
    python3 - "$1" "$2" "$FILES" <<'EOF'
import os, sys
root, ndirs, nfiles = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for d in range(ndirs):
    p = os.path.join(root, "d%04d" % d)
    os.makedirs(p, exist_ok=True)
    for f in range(nfiles):
        open(os.path.join(p, "f%04d" % f), "w").close()
EOF
}

if [ "$(cat "$REPO.params" 2>/dev/null)" != "$PARAMS" ]; then
    rm -rf "$REPO" "$REPO.params" "$WORK/big" "$WORK/small"
    say "making $WORK/big ($DIRS x $FILES empty files) and $WORK/small ($SMALL_DIRS x $FILES)"
    make_tree "$WORK/big" "$DIRS"
    make_tree "$WORK/small" "$SMALL_DIRS"
    "$STRATA" init "$REPO" > /dev/null
    say "ingesting big/ (1/$SNAPSHOTS)"
    "$STRATA" ingest "$REPO" "$WORK/big" > /dev/null 2>> "$WORK/ingest.log"
    echo 1 > "$WORK/big/d0000/changed"
    say "ingesting big/ again (2/$SNAPSHOTS)"
    "$STRATA" ingest "$REPO" "$WORK/big" > /dev/null 2>> "$WORK/ingest.log"
    for ((k = 3; k <= SNAPSHOTS; k++)); do
        echo "$k" > "$WORK/small/d0000/changed"
        "$STRATA" ingest "$REPO" "$WORK/small" > /dev/null 2>> "$WORK/ingest.log"
        ((k % 20 == 0)) && say "  $k/$SNAPSHOTS snapshots"
    done
    echo "$PARAMS" > "$REPO.params"
fi
NSNAP=$(ls "$REPO/snapshots" | wc -l)
REPO_KB=$(du -sk "$REPO" | cut -f1)
say "repository $REPO: $NSNAP snapshots, $((REPO_KB / 1024)) MiB"

MPID=""
mounted() { grep -q " $MNT " /proc/self/mounts; }
cleanup() {
    local rc=$?
    if mounted; then fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT" || true; fi
    if [ -n "$MPID" ]; then wait "$MPID" 2>/dev/null || true; fi
    exit $rc
}
trap cleanup EXIT
mkdir -p "$MNT"
mounted && die "$MNT is already mounted"
sync; echo 3 > /proc/sys/vm/drop_caches
ARGS=("$STRATA" mount "$REPO" "$MNT" -f)
[ -n "$CACHE" ] && ARGS+=(--cache-size "$CACHE")
"${ARGS[@]}" > "$WORK/mount.log" 2>&1 &
MPID=$!
until ls "$MNT/snapshots/" > /dev/null 2>&1; do
    kill -0 "$MPID" 2>/dev/null || die "the mount ended; see $WORK/mount.log"
    sleep 0.05
done

echo "| step | entries | seconds | VmRSS MiB | VmHWM MiB | RssAnon MiB | RssFile MiB |"
echo "|---|---|---|---|---|---|---|"
step() {  # step NAME COMMAND...: runs it (its stdout counted as entries), then reads the status
    local name=$1 t0 t1 n; shift
    t0=$(date +%s.%N)
    n=$("$@" | wc -l)
    t1=$(date +%s.%N)
    awk -v name="$name" -v n="$n" -v s="$(awk "BEGIN {print $t1 - $t0}")" '
        /^VmRSS:/ {rss = $2} /^VmHWM:/ {hwm = $2} /^RssAnon:/ {anon = $2} /^RssFile:/ {file = $2}
        END {printf "| %s | %d | %.1f | %.0f | %.0f | %.0f | %.0f |\n", name, n, s, rss / 1024, hwm / 1024, anon / 1024, file / 1024}' \
        "/proc/$MPID/status"
}
SNAPS=("$MNT"/snapshots/*Z*)
step mounted true
step list bash -c "ls -l '$MNT/snapshots/' '$MNT/ids/' '$MNT'/hosts/*/ && ls -l '$MNT'/snapshots/*Z*/"
walk() { find "$1" -printf '%i %m %s %T@ %p\n'; }
step walk-1M walk "${SNAPS[0]}/"
step walk-2M walk "${SNAPS[1]}/"
step walk-all bash -c "$(declare -f walk); for s in '$MNT'/snapshots/*Z*/; do walk \"\$s\"; done"
step history bash -c "ls -l '$MNT/history/d0000/changed/' && cat '$MNT/history/d0000/changed'/*"
step read bash -c "for f in '${SNAPS[1]}'/d0001/*; do cat \"\$f\"; echo; done"
echo
echo "repository: $NSNAP snapshots, $((REPO_KB / 1024)) MiB on disk; strata $("$STRATA" --version 2>/dev/null || echo "$STRATA"); cache ${CACHE:-default}"
