#!/usr/bin/env bash
# What encryption costs (issue 14's goals): the first ingest of the same tree into a plain strata
# repository, an encrypted one (default Argon2id costs) and restic (always encrypted), a cold
# sequential read of one large file through the mount of each strata repository, and the time
# to open the encrypted one (`strata snapshots`: key derivation included). Medians of -n runs
# (default 3), with the load average; every repository on local disk, so the numbers are CPU
# and page cache, not network.
#
#   BENCH_WORK=/var/tmp/strata-enc-bench STRATA=build/tools/strata bash bench/encryption_bench.sh -n 3
set -euo pipefail
runs=3
while getopts n: o; do case $o in n) runs=$OPTARG ;; *) exit 2 ;; esac; done
STRATA=$(realpath "${STRATA:-build/tools/strata}")
work=${BENCH_WORK:-/var/tmp/strata-enc-bench}
command -v restic >/dev/null || { echo "restic is missing: apt-get install restic" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work/src"
cd "$work"

# 512 MiB: half random (stored raw), half text-like (compresses), in files of 1 to 64 MiB.
python3 - <<'EOF'
import os, random
random.seed(14)
words = [b"backup", b"strata", b"snapshot", b"chunk", b"pack", b"index", b"restore", b"tree"]
for i in range(8):
    with open(f"src/random-{i}.bin", "wb") as f: f.write(os.urandom(32 << 20))
for i in range(8):
    with open(f"src/text-{i}.txt", "wb") as f:
        line = b" ".join(random.choice(words) for _ in range(12)) + b"\n"
        f.write((line * ((32 << 20) // len(line) + 1))[: 32 << 20])
EOF
printf 'bench password\n' > pw
export STRATA_PASSWORD_FILE=$work/pw RESTIC_PASSWORD_FILE=$work/pw

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
secs() { local s=$(date +%s.%N); "$@" >/dev/null 2>&1; echo "$(date +%s.%N) - $s" | bc; }
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }

declare -A t
for rep in $(seq "$runs"); do
    rm -rf plain enc restic-repo mnt && mkdir mnt
    "$STRATA" init --encryption none plain >/dev/null
    "$STRATA" init enc >/dev/null
    restic -r restic-repo init >/dev/null 2>&1
    drop_caches; t[plain]+="$(secs "$STRATA" ingest plain src) "
    drop_caches; t[enc]+="$(secs "$STRATA" ingest enc src) "
    drop_caches; t[restic]+="$(secs restic -r restic-repo backup src) "
    t[open]+="$(secs "$STRATA" snapshots enc) "
    t[open_plain]+="$(secs "$STRATA" snapshots plain) "
    for r in plain enc; do
        "$STRATA" mount "$r" mnt
        drop_caches
        t[read_$r]+="$(secs cat mnt/snapshots/latest/random-[0-3].bin mnt/snapshots/latest/text-[0-3].txt) "
        fusermount3 -u mnt
    done
done
load=$(cut -d' ' -f1-3 /proc/loadavg)
m() { echo "${t[$1]}" | tr ' ' '\n' | grep . | median; }
mib=512
printf 'runs %s, load %s\n' "$runs" "$load"
printf 'ingest plain      %6.2f s  %6.0f MiB/s\n' "$(m plain)" "$(echo "$mib / $(m plain)" | bc -l)"
printf 'ingest encrypted  %6.2f s  %6.0f MiB/s  (%.0f%% of plain)\n' "$(m enc)" \
    "$(echo "$mib / $(m enc)" | bc -l)" "$(echo "100 * $(m plain) / $(m enc)" | bc -l)"
printf 'ingest restic     %6.2f s  %6.0f MiB/s  (encrypted strata %.1fx restic)\n' "$(m restic)" \
    "$(echo "$mib / $(m restic)" | bc -l)" "$(echo "$(m restic) / $(m enc)" | bc -l)"
# The key derivation is paid once per command, whatever the size: without it (each ingest less
# the open of its repository, `strata snapshots`), what encryption costs per byte.
enc_body=$(echo "$(m enc) - $(m open) + $(m open_plain)" | bc -l)
printf 'ingest encrypted, less the key derivation  %6.2f s  (%.0f%% of plain; %.1fx restic)\n' \
    "$enc_body" "$(echo "100 * $(m plain) / $enc_body" | bc -l)" "$(echo "$(m restic) / $enc_body" | bc -l)"
printf 'mount read plain  %6.2f s (256 MiB cold)\n' "$(m read_plain)"
printf 'mount read enc    %6.2f s (%.0f%% of plain)\n' "$(m read_enc)" \
    "$(echo "100 * $(m read_plain) / $(m read_enc)" | bc -l)"
printf 'open encrypted    %6.2f s (strata snapshots, Argon2id t=3 128 MiB included; plain %.2f s)\n' \
    "$(m open)" "$(m open_plain)"
