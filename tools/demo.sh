#!/usr/bin/env bash
# The README's demo: installs dependencies, builds strata, ingests three versions of a small
# sample tree, lists them, mounts the repository and browses it (every snapshot, one file's
# history, a moment in time), copies a file out, and restores the oldest snapshot.
# Everything it makes lives under $DEMO_DIR (default /tmp/strata-demo) and is replaced each run.
set -euo pipefail
cd "$(dirname "$0")/.."

bash .ci/install-deps
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target strata
strata=$PWD/build/tools/strata

demo=${DEMO_DIR:-/tmp/strata-demo}
rm -rf "$demo"
mkdir -p "$demo/home/docs" "$demo/home/src" "$demo/home/photos"
cd "$demo"
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

# Version 1 of the sample tree.
printf 'Quarterly report\n\nRevenue grew.\n' > home/docs/report.txt
for i in 1 2 3; do printf 'int f%d(void) { return %d; }\n' "$i" "$i" > "home/src/f$i.c"; done
head -c 3000000 /dev/urandom > home/photos/beach.jpg
ln -s ../docs/report.txt home/src/REPORT
ln home/docs/report.txt home/docs/report-hardlink.txt

# The repository is encrypted; its password is in a file only its owner may read (docs/cli.md,
# "Passwords": a terminal would be asked instead).
(umask 077 && printf 'demo password, change me\n' > password)
export STRATA_PASSWORD_FILE=$demo/password
say "$strata" init repo
say "$strata" ingest repo home --tag demo --note "first version"

# Version 2: an edit and a new file.
sleep 1
printf 'Quarterly report\n\nRevenue grew by 12%%.\n' > home/docs/report.txt
printf 'notes for next quarter\n' > home/docs/notes.txt
say "$strata" ingest repo home --note "edited the report"

# Version 3: a deletion.
sleep 1
rm home/src/f3.c
say "$strata" ingest repo home --tag demo

say "$strata" snapshots repo
say "$strata" ls repo latest -l
first=$("$strata" snapshots repo --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["short_id"])')
say "$strata" cat repo "$first" docs/report.txt
say "$strata" cat repo latest docs/report.txt
say "$strata" restore repo "$first" restored
say ls -la restored restored/docs
echo
if [ -f restored/src/f3.c ] && cmp -s restored/photos/beach.jpg home/photos/beach.jpg; then
  echo "demo: the oldest snapshot was restored with the file deleted later (src/f3.c) back in place"
else
  echo "demo: restore did not give back the first version" >&2
  exit 1
fi

if [ ! -e /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
  echo "demo: skipping the mount: /dev/fuse or fusermount3 is missing on this machine"
  echo "demo: everything is under $demo"
  exit 0
fi
mkdir -p mnt
unmount() { fusermount3 -u "$demo/mnt" 2>/dev/null || true; }
trap unmount EXIT
say "$strata" mount repo mnt
say ls mnt
say ls -l mnt/snapshots
say ls -l mnt/snapshots/latest/docs
say ls -l mnt/history/docs/report.txt
second=$(ls mnt/snapshots | sed -n 2p)
say cat "mnt/at/$second/docs/report.txt"
say cp -a mnt/snapshots/latest/docs/report.txt copied-report.txt
say touch mnt/snapshots/latest/new-file || echo "(the mount is read-only, as it should be)"
say fusermount3 -u mnt
trap - EXIT
echo "demo: everything is under $demo"
