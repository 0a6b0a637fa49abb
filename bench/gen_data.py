#!/usr/bin/env python3
"""Deterministic benchmark data for bench/ingest_bench.sh and bench/chunk_sizes.

  gen_data.py generate OUT   writes version 1 into OUT (which must not exist):
      OUT/src/...   a source-like tree: many small text-like files in nested directories
      OUT/big.img   one large file of mostly incompressible data (a disk image, a database)
  gen_data.py mutate OUT --version K
      turns the tree in OUT, as `generate` left it, into version K in place: a few small edits in
      big.img plus an insertion in its middle, some small files changed, added and removed.
  gen_data.py ensure OUT [--version K]
      makes OUT hold version K (default 1) of the data the other flags describe, reusing it when
      OUT.params says it already does (the drivers call this so the data is generated once).

Everything is derived from --seed, so the same flags give byte-identical data on every machine
(the Python version matters only through random.Random, whose algorithms are stable). Sizes are
flags, with environment defaults so the shell driver can pass a scale once:
  BENCH_SCALE (1.0)       multiplies the file count and the big file size (0.1 for a quick run)
  BENCH_SEED (1)
"""

import argparse
import math
import os
import random
import shutil
import sys

# Bump when a change to this file changes the data it writes (ensure then regenerates).
GENERATOR_VERSION = 1

# Full-scale sizes, from issue 2: about 200k small files and a 2 GiB file.
FULL_FILE_COUNT = 200_000
FULL_BIG_SIZE = 2 << 30

# Small files: log-normal sizes around a median of 2.5 KB (mean about 5 KB, like a source tree),
# capped so that a handful of files are larger than a chunk and get cut by the chunker too.
SMALL_MEDIAN = 2500
SMALL_SIGMA = 1.2
SMALL_CAP = 4 << 20
FILES_PER_DIR = 20          # average; directories form a tree up to MAX_DEPTH deep
MAX_DEPTH = 7
DEPTH_WEIGHTS = (10, 20, 25, 20, 13, 8, 4)  # share of directories at depth 1..MAX_DEPTH
DUPLICATE_FRACTION = 0.02   # copies of an earlier file (licences, vendored headers)
LINE_POOL = 40_000          # distinct synthetic source lines the files are built from

# big.img: written in blocks; a fraction of blocks hold text so compression is not useless.
BIG_BLOCK = 1 << 20
BIG_TEXT_FRACTION = 0.10

# Mutation to version K (see mutate()).
BIG_EDITS = 8               # places overwritten in big.img
BIG_EDIT_SIZE = 512         # bytes per edit: "small edits"
BIG_INSERT_SIZE = 100_000   # bytes inserted near the middle (not a multiple of anything)
CHANGED_FRACTION = 0.01     # of the small files: edited
REMOVED_FRACTION = 0.005
ADDED_FRACTION = 0.005

WORDS = ("buffer size count index value result error state node entry table list map key data "
         "offset length pack blob tree chunk snapshot stream reader writer parent child name path "
         "mode flags time begin end first last next prev lock cache queue worker thread task").split()
KEYWORDS = ("if for while return const auto static struct class int void bool char unsigned "
            "std::size_t std::string std::vector uint64_t throw try catch switch case break").split()
EXTENSIONS = (".c", ".h", ".cpp", ".py", ".go", ".rs", ".md", ".txt", ".json", ".sh")


def env_float(name, default):
    v = os.environ.get(name)
    return float(v) if v else default


def params(args):
    scale = args.scale
    files = args.files if args.files is not None else max(100, int(FULL_FILE_COUNT * scale))
    big = args.big_size if args.big_size is not None else int(FULL_BIG_SIZE * scale)
    return files, big


def make_line_pool(rng):
    """Synthetic source lines: indentation, keywords, identifiers, operators, comments."""
    pool = []
    for _ in range(LINE_POOL):
        indent = "    " * rng.randrange(0, 4)
        kind = rng.random()
        ident = lambda: "_".join(rng.choices(WORDS, k=rng.randrange(1, 4)))
        if kind < 0.15:
            line = f"{indent}// {' '.join(rng.choices(WORDS, k=rng.randrange(3, 12)))}"
        elif kind < 0.35:
            line = f"{indent}{rng.choice(KEYWORDS)} ({ident()} < {ident()}.size()) {{"
        elif kind < 0.45:
            line = f"{indent}}}"
        elif kind < 0.75:
            line = f"{indent}{rng.choice(KEYWORDS)} {ident()} = {ident()}({ident()}, {rng.randrange(1 << 16)});"
        else:
            line = f"{indent}{ident()}->{ident()}({ident()});"
        pool.append(line)
    return pool


def text_bytes(rng, pool, size):
    out = []
    n = 0
    while n < size:
        lines = rng.choices(pool, k=max(1, (size - n) // 36 + 1))
        chunk = "\n".join(lines) + "\n"
        out.append(chunk)
        n += len(chunk)
    return "".join(out).encode()[:size]


class Layout:
    """The version-1 tree: directory paths and file (path, size, duplicate-of) in creation order."""

    def __init__(self, seed, file_count):
        rng = random.Random(f"layout-{seed}")
        dir_count = max(1, file_count // FILES_PER_DIR)
        self.dirs = ["src"]
        at_depth = {0: [0]}
        for i in range(1, dir_count):
            # Depths like a source tree's: most directories two to four levels down.
            want = rng.choices(range(1, MAX_DEPTH + 1), weights=DEPTH_WEIGHTS)[0]
            while want - 1 not in at_depth:
                want -= 1
            p = rng.choice(at_depth[want - 1])
            self.dirs.append(f"{self.dirs[p]}/{rng.choice(WORDS)}{i}")
            at_depth.setdefault(want, []).append(i)
        self.files = []
        for i in range(file_count):
            d = self.dirs[rng.randrange(dir_count)]
            name = f"{rng.choice(WORDS)}_{i}{rng.choice(EXTENSIONS)}"
            size = min(SMALL_CAP, int(rng.lognormvariate(math.log(SMALL_MEDIAN), SMALL_SIGMA)))
            dup = rng.randrange(i) if i > 0 and rng.random() < DUPLICATE_FRACTION else None
            self.files.append((f"{d}/{name}", size, dup))


def write_file(path, data):
    with open(path, "wb") as f:
        f.write(data)


def big_block(rng, pool, size):
    if rng.random() < BIG_TEXT_FRACTION:
        return text_bytes(rng, pool, size)
    return rng.randbytes(size)


def generate(out, seed, file_count, big_size):
    if os.path.exists(out):
        sys.exit(f"gen_data: {out} already exists; remove it or choose another OUT")
    os.makedirs(out)
    pool = make_line_pool(random.Random(f"lines-{seed}"))
    layout = Layout(seed, file_count)
    for d in layout.dirs:
        os.makedirs(os.path.join(out, d), exist_ok=True)
    rng = random.Random(f"content-{seed}")
    contents_of = {}
    total = 0
    for i, (rel, size, dup) in enumerate(layout.files):
        if dup is not None:
            data = contents_of.get(dup)
            if data is None:  # only small originals are remembered; regenerate otherwise
                data = text_bytes(random.Random(f"file-{seed}-{dup}"), pool, layout.files[dup][1])
        else:
            data = text_bytes(random.Random(f"file-{seed}-{i}"), pool, size)
            if size < 64 << 10:
                contents_of[i] = data
        write_file(os.path.join(out, rel), data)
        total += len(data)
    del contents_of
    rng = random.Random(f"big-{seed}")
    with open(os.path.join(out, "big.img"), "wb") as f:
        left = big_size
        while left > 0:
            n = min(BIG_BLOCK, left)
            f.write(big_block(rng, pool, n))
            left -= n
    total += big_size
    print(f"gen_data: {out}: {len(layout.dirs)} dirs, {file_count} small files, "
          f"big.img {big_size} bytes, {total} bytes in all", file=sys.stderr)


def mutate(out, seed, file_count, version):
    """Version `version` from version 1, in place. Run once on a fresh copy of version 1."""
    rng = random.Random(f"mutate-{seed}-{version}")
    pool = make_line_pool(random.Random(f"lines-{seed}"))
    layout = Layout(seed, file_count)
    n = len(layout.files)
    picks = rng.sample(range(n), int(n * (CHANGED_FRACTION + REMOVED_FRACTION)))
    n_changed = int(n * CHANGED_FRACTION)
    changed, removed = picks[:n_changed], picks[n_changed:]
    for i in changed:
        path = os.path.join(out, layout.files[i][0])
        with open(path, "rb") as f:
            data = f.read()
        at = rng.randrange(len(data) + 1)
        edit = text_bytes(rng, pool, rng.randrange(20, 400))
        cut = rng.randrange(0, 200)
        write_file(path, data[:at] + edit + data[at + cut:])
    for i in removed:
        os.remove(os.path.join(out, layout.files[i][0]))
    n_added = int(n * ADDED_FRACTION)
    for j in range(n_added):
        d = layout.dirs[rng.randrange(len(layout.dirs))]
        size = min(SMALL_CAP, int(rng.lognormvariate(math.log(SMALL_MEDIAN), SMALL_SIGMA)))
        write_file(os.path.join(out, d, f"new_v{version}_{j}.c"), text_bytes(rng, pool, size))

    big = os.path.join(out, "big.img")
    size = os.path.getsize(big)
    edits = sorted(rng.randrange(0, max(1, size - BIG_EDIT_SIZE)) for _ in range(BIG_EDITS))
    insert_at = size // 2 + rng.randrange(-(size // 64) - 1, size // 64 + 1)
    insert_at = max(0, min(size, insert_at))
    insertion = rng.randbytes(BIG_INSERT_SIZE)
    tmp = big + ".new"
    with open(big, "rb") as src, open(tmp, "wb") as dst:
        pos = 0
        while pos < size:
            n = min(BIG_BLOCK, size - pos)
            if pos < insert_at < pos + n:
                n = insert_at - pos
            block = bytearray(src.read(n))
            for e in edits:
                # Overwrite the part of edit [e, e+BIG_EDIT_SIZE) that falls into this block.
                lo, hi = max(e, pos), min(e + BIG_EDIT_SIZE, pos + n)
                if lo < hi:
                    fill = random.Random(f"edit-{seed}-{version}-{e}").randbytes(BIG_EDIT_SIZE)
                    block[lo - pos:hi - pos] = fill[lo - e:hi - e]
            if pos == insert_at:
                dst.write(insertion)
            dst.write(block)
            pos += n
        if insert_at == size:
            dst.write(insertion)
    os.replace(tmp, big)
    print(f"gen_data: {out} is now version {version}: {len(changed)} files changed, "
          f"{len(removed)} removed, {n_added} added; big.img: {BIG_EDITS} edits of "
          f"{BIG_EDIT_SIZE} bytes, {BIG_INSERT_SIZE} bytes inserted at {insert_at}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=("generate", "mutate", "ensure", "describe"))
    ap.add_argument("out")
    ap.add_argument("--scale", type=float, default=env_float("BENCH_SCALE", 1.0),
                    help="multiplies the full-size file count and big file size (default $BENCH_SCALE or 1)")
    ap.add_argument("--seed", type=int, default=int(env_float("BENCH_SEED", 1)))
    ap.add_argument("--files", type=int, help="small file count (default 200000 x scale)")
    ap.add_argument("--big-size", type=int, help="big.img size in bytes (default 2 GiB x scale)")
    ap.add_argument("--version", type=int, help="mutate (default 2), ensure (default 1): the version to produce")
    args = ap.parse_args()
    files, big = params(args)
    ident = f"seed={args.seed} files={files} big={big} generator={GENERATOR_VERSION}"
    if args.action == "describe":
        # One line that identifies version 1 of the data.
        print(ident)
    elif args.action == "generate":
        generate(args.out, args.seed, files, big)
    elif args.action == "mutate":
        version = args.version or 2
        if version < 2:
            sys.exit("gen_data: --version must be 2 or more (version 1 is what generate writes)")
        mutate(args.out, args.seed, files, version)
    else:
        version = args.version or 1
        stamp = args.out.rstrip("/") + ".params"
        want = f"{ident} version={version}"
        try:
            with open(stamp) as f:
                if f.read().strip() == want and os.path.isdir(args.out):
                    return
        except FileNotFoundError:
            pass
        if os.path.exists(stamp):
            os.remove(stamp)
        shutil.rmtree(args.out, ignore_errors=True)
        generate(args.out, args.seed, files, big)
        if version > 1:
            mutate(args.out, args.seed, files, version)
        with open(stamp, "w") as f:
            f.write(want + "\n")


if __name__ == "__main__":
    main()
