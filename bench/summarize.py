#!/usr/bin/env python3
"""Turns the raw.tsv of bench/ingest_bench.sh into a markdown table of medians and ratios.

Each cell is the median over the repetitions; a ratio column is strata's median divided by the
other tool's. For times, sizes and memory a ratio below 1 means strata is better; for throughput,
above 1.
"""

import argparse
import csv
import statistics
import sys
from collections import defaultdict

MB = 1_000_000
TOOLS = ("strata", "restic", "borg")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("raw")
    ap.add_argument("--v1-bytes", type=int, required=True, help="logical bytes of version 1")
    ap.add_argument("--v2-bytes", type=int, required=True, help="logical bytes of version 2")
    ap.add_argument("--caches", default="cold", help="cold or warm: said in the table's caption")
    args = ap.parse_args()

    values = defaultdict(list)  # (tool, phase, field) -> [value per repetition]
    reps = set()
    loads = []
    with open(args.raw) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            reps.add(row["rep"])
            if row.get("load1"):
                loads.append(float(row["load1"]))
            for field in ("wall_s", "cpu_s", "maxrss_kb", "repo_bytes", "cache_bytes", "index_bytes"):
                if row.get(field):  # index_bytes: not in raw files of older runs
                    values[(row["tool"], row["phase"], field)].append(float(row[field]))
    tools = [t for t in TOOLS if (t, "first", "wall_s") in values]

    def med(tool, phase, field):
        v = values.get((tool, phase, field))
        return statistics.median(v) if v else None

    def total(t):
        return (med(t, "changed", "repo_bytes") + med(t, "changed", "cache_bytes")) / MB

    rows = [  # (label, function of tool -> value or None, format[, no ratio])
        ("first ingest: time (s)", lambda t: med(t, "first", "wall_s"), "{:.1f}"),
        ("first ingest: throughput (MB/s)",
         lambda t: args.v1_bytes / MB / med(t, "first", "wall_s"), "{:.0f}"),
        ("first ingest: CPU user+sys (s)", lambda t: med(t, "first", "cpu_s"), "{:.1f}"),
        ("unchanged re-ingest: time (s)", lambda t: med(t, "unchanged", "wall_s"), "{:.2f}"),
        ("unchanged re-ingest: CPU user+sys (s)", lambda t: med(t, "unchanged", "cpu_s"), "{:.2f}"),
        ("changed version (v2): time (s)", lambda t: med(t, "changed", "wall_s"), "{:.1f}"),
        ("changed version (v2): CPU user+sys (s)", lambda t: med(t, "changed", "cpu_s"), "{:.1f}"),
        ("repository after v1 + re-ingest (MB)", lambda t: med(t, "unchanged", "repo_bytes") / MB, "{:.1f}"),
        ("repository after v2 (MB)", lambda t: med(t, "changed", "repo_bytes") / MB, "{:.1f}"),
        ("  of which the blob index, after v2 (MB)",
         lambda t: med(t, "changed", "index_bytes") / MB, "{:.1f}"),
        ("  repository without the index, after v2 (MB)",
         lambda t: (med(t, "changed", "repo_bytes") - med(t, "changed", "index_bytes")) / MB, "{:.1f}"),
        ("client cache outside the repository, after v2 (MB)",
         lambda t: med(t, "changed", "cache_bytes") / MB, "{:.1f}", False),
        ("repository + client cache after v2 (MB)", total, "{:.1f}"),
        ("peak RSS, first ingest (MiB)", lambda t: med(t, "first", "maxrss_kb") / 1024, "{:.0f}"),
        ("peak RSS, unchanged (MiB)", lambda t: med(t, "unchanged", "maxrss_kb") / 1024, "{:.0f}"),
        ("peak RSS, changed (MiB)", lambda t: med(t, "changed", "maxrss_kb") / 1024, "{:.0f}"),
    ]
    others = [t for t in tools if t != "strata"]
    out = sys.stdout
    out.write(f"Medians of {len(reps)} repetition(s), page cache {args.caches} before each run; "
              f"v1 = {args.v1_bytes / MB:.0f} MB, v2 = {args.v2_bytes / MB:.0f} MB.")
    if loads:
        out.write(f" Load average (1 min) as the runs started: median {statistics.median(loads):.1f}, "
                  f"{min(loads):.1f} to {max(loads):.1f}.")
    out.write("\n\n")
    header = ["metric"] + tools + [f"strata/{o}" for o in others if "strata" in tools]
    out.write("| " + " | ".join(header) + " |\n")
    out.write("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|\n")
    for label, fn, fmt, *ratio in rows:
        cells = [label]
        got = {}
        for t in tools:
            try:
                got[t] = fn(t)
            except TypeError:  # a phase missing for this tool
                got[t] = None
            cells.append("–" if got[t] is None else fmt.format(got[t]))
        if "strata" in tools:
            for o in others:
                s, v = got.get("strata"), got.get(o)
                cells.append("–" if not s or not v or ratio == [False] else f"{s / v:.2f}")
        out.write("| " + " | ".join(cells) + " |\n")


if __name__ == "__main__":
    main()
