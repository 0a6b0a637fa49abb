#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 10) on its committed corpus, new inputs going to
# a scratch corpus so the committed one stays small. A finding (crash, sanitizer report, leak,
# timeout, memory blow-up) stops the run with exit status 1 and leaves the input in
# $STRATA_FUZZ_BUILD/findings/. Build first (docs/reliability.md):
#   cmake -S tests/fuzz -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ && cmake --build build-fuzz -j2
# Usage: bash tests/fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${1:-10}
shift || true
build=${STRATA_FUZZ_BUILD:-build-fuzz}
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(pack tree snapshot index_values decompress repo_config lock_holder s3_listing index_object deletion_records key_object envelope forget_record)
fi
# Generous for a decoder: no input of a few KiB should take a second or a fraction of this memory.
timeout_seconds=10
rss_limit_mb=2048

mkdir -p "$build/findings"
for t in "${targets[@]}"; do
  scratch="$build/scratch-corpus/$t"
  mkdir -p "$scratch"
  echo "fuzzing $t for ${seconds}s"
  if ! "$build/fuzz_$t" -max_total_time="$seconds" -timeout="$timeout_seconds" \
      -rss_limit_mb="$rss_limit_mb" -print_final_stats=1 \
      -artifact_prefix="$build/findings/$t-" "$scratch" "tests/fuzz/corpus/$t" \
      >"$build/fuzz-$t.log" 2>&1; then
    tail -n 60 "$build/fuzz-$t.log" >&2
    echo "fuzz target $t found a problem; input saved under $build/findings/ (log: $build/fuzz-$t.log)" >&2
    exit 1
  fi
  grep -E "^stat::number_of_executed_units" "$build/fuzz-$t.log" || true
done
echo "fuzzing: no findings"
