#!/usr/bin/env bash
# Chooses the chunker parameters: runs bench/chunk_sizes (C++, uses strata::Chunker and the store's
# SHA-256) on version 1 and version 2 of the generated data (bench/gen_data.py) for candidate
# (min, avg, max) sets and prints a markdown table on stdout.
#
# Usage: bench/chunk_sizes.sh [--scale S] [--work DIR] [MIN,AVG,MAX ...]   (sizes in KiB)
# Environment defaults: BENCH_SCALE (1.0), BENCH_WORK (/var/tmp/strata-bench),
# CHUNK_SIZES (a chunk_sizes binary; default: built from bench/ into build-bench/bench-only).
# Data in the page cache: the chunker is measured, not the disk (run it twice if the first run
# had to generate the data).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
SCALE=${BENCH_SCALE:-1.0}
WORK=${BENCH_WORK:-/var/tmp/strata-bench}
SETS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) SCALE=$2; shift 2 ;;
        --work) WORK=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) SETS+=("$1"); shift ;;
    esac
done
export BENCH_SCALE=$SCALE

BIN=${CHUNK_SIZES:-}
if [ -z "$BIN" ]; then
    if [ -x "$TOP/build-bench/bench/chunk_sizes" ]; then
        BIN=$TOP/build-bench/bench/chunk_sizes  # built with the project (STRATA_BUILD_BENCH)
    else
        command -v cmake >/dev/null || { echo "chunk_sizes.sh: cmake is missing: run the install command from README.md first" >&2; exit 1; }
        cmake -S "$HERE" -B "$TOP/build-bench/bench-only" -DCMAKE_BUILD_TYPE=Release >&2
        cmake --build "$TOP/build-bench/bench-only" -j2 >&2
        BIN=$TOP/build-bench/bench-only/chunk_sizes
    fi
fi

mkdir -p "$WORK"
echo "[chunk_sizes] data: $(python3 "$HERE/gen_data.py" describe x), versions 1 and 2 in $WORK" >&2
python3 "$HERE/gen_data.py" ensure "$WORK/data-v1"
python3 "$HERE/gen_data.py" ensure "$WORK/data-v2" --version 2
# Warm the page cache so the first candidate is not charged for the disk.
cat "$WORK/data-v1/big.img" "$WORK/data-v2/big.img" > /dev/null
"$BIN" "$WORK/data-v1" "$WORK/data-v2" "${SETS[@]}"
