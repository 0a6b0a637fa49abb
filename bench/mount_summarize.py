#!/usr/bin/env python3
"""Markdown summary of bench/mount_bench.sh's raw.tsv: medians per tool, ratios, the issue's goals.

  mount_summarize.py RAW.tsv [--machine machine.txt] [--cache-mib N]

Rows of RAW: rep tool phase mount_s op_s count rate unit hwm_kb load1, one per fresh mount
(phase find, read or cp). "mount" is the median over every fresh mount of a tool; peak RSS is the
largest VmHWM of a repetition (over its three mounts), then the median over repetitions.
Ratios are strata / other: above 1 means strata is faster for rates, larger for time and RSS.
"""

import argparse
import csv
import statistics
from collections import defaultdict

# Goals from issue 3 (the mount issue), as ratios against restic's mount or absolute numbers.
GOAL_FIND_VS_RESTIC = 5.0      # stat walk: at least 5x restic (aim 10x)
AIM_FIND_VS_RESTIC = 10.0
GOAL_READ_VS_RESTIC = 3.0      # sequential read: at least 3x restic (aim 1 GB/s)
AIM_READ_MBS = 1000.0
GOAL_CP_VS_RESTIC = 10.0       # cp -a of small files: at least 10x restic's files/s
RSS_BUDGET_MIB = 64.0          # plus the configured chunk cache


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("--machine")
    ap.add_argument("--cache-mib", type=float, default=64.0)
    args = ap.parse_args()

    rows = list(csv.DictReader(open(args.raw), delimiter="\t"))
    tools = []
    rate = defaultdict(list)        # (tool, phase) -> rates
    mount_s = defaultdict(list)     # tool -> every mount time
    hwm = defaultdict(dict)         # tool -> rep -> max hwm kB
    loads = []
    for r in rows:
        t = r["tool"]
        if t not in tools:
            tools.append(t)
        rate[(t, r["phase"])].append(float(r["rate"]))
        mount_s[t].append(float(r["mount_s"]))
        if r["hwm_kb"]:
            hwm[t][r["rep"]] = max(hwm[t].get(r["rep"], 0), int(r["hwm_kb"]))
        loads.append(float(r["load1"]))

    def med(xs):
        return statistics.median(xs) if xs else None

    metrics = [  # label, unit, value per tool, higher is better
        ("mount to listed snapshot", "s", lambda t: med(mount_s[t]), False),
        ("stat walk (`find -printf`), cold", "entries/s", lambda t: med(rate[(t, "find")]), True),
        ("sequential read of big.img, cold", "MB/s", lambda t: med(rate[(t, "read")]), True),
        ("`cp -a` of the small-file subtree, cold", "files/s", lambda t: med(rate[(t, "cp")]), True),
        ("peak RSS of the mount process", "MiB", lambda t: med([v / 1024 for v in hwm[t].values()]), False),
    ]
    others = [t for t in tools if t != "strata"]
    head = ["what", "unit"] + tools + [f"strata/{o}" for o in others if "strata" in tools]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    values = {}
    for label, unit, fn, _ in metrics:
        vals = {t: fn(t) for t in tools}
        values[label] = vals
        cells = [label, unit]
        for t in tools:
            v = vals[t]
            cells.append("-" if v is None else (f"{v:.2f}" if unit == "s" else f"{v:,.0f}"))
        if "strata" in tools:
            for o in others:
                a, b = vals["strata"], vals[o]
                cells.append(f"{a / b:.2f}x" if a and b else "-")
        print("| " + " | ".join(cells) + " |")
    n_reps = len({r["rep"] for r in rows})
    print()
    print(f"Medians of {n_reps} repetitions (each measurement on a fresh mount after dropping caches); "
          f"load average (1 min) during the measurements: {min(loads):.1f}-{max(loads):.1f}.")
    for t in tools:
        print(f"- {t}: mount {', '.join(f'{x:.2f}' for x in mount_s[t])} s; "
              f"find {', '.join(f'{x:,.0f}' for x in rate[(t, 'find')])} entries/s; "
              f"read {', '.join(f'{x:,.0f}' for x in rate[(t, 'read')])} MB/s; "
              f"cp {', '.join(f'{x:,.0f}' for x in rate[(t, 'cp')])} files/s; "
              f"peak RSS per repetition {', '.join(f'{v / 1024:.0f}' for v in hwm[t].values())} MiB")

    if "strata" in tools and "restic" in tools:
        s = {k: v["strata"] for k, v in values.items()}
        r = {k: v["restic"] for k, v in values.items()}
        find_l, read_l, cp_l, rss_l = (metrics[i][0] for i in (1, 2, 3, 4))
        print()
        print("Goals (issue 3):")

        def verdict(ok):
            return "met" if ok else "NOT met"

        if s[find_l] and r[find_l]:
            x = s[find_l] / r[find_l]
            print(f"- stat walk >= {GOAL_FIND_VS_RESTIC:g}x restic (aim {AIM_FIND_VS_RESTIC:g}x): {x:.1f}x, "
                  f"{verdict(x >= GOAL_FIND_VS_RESTIC)}; aim {verdict(x >= AIM_FIND_VS_RESTIC)}")
        if s[read_l] and r[read_l]:
            x = s[read_l] / r[read_l]
            print(f"- sequential read >= {GOAL_READ_VS_RESTIC:g}x restic: {x:.1f}x, {verdict(x >= GOAL_READ_VS_RESTIC)}; "
                  f"aim {AIM_READ_MBS:g} MB/s: {s[read_l]:,.0f} MB/s, {verdict(s[read_l] >= AIM_READ_MBS)}")
        if s[cp_l] and r[cp_l]:
            x = s[cp_l] / r[cp_l]
            print(f"- cp -a small files >= {GOAL_CP_VS_RESTIC:g}x restic: {x:.1f}x, {verdict(x >= GOAL_CP_VS_RESTIC)}")
        if hwm["strata"]:
            peak = max(hwm["strata"].values()) / 1024
            budget = RSS_BUDGET_MIB + args.cache_mib
            print(f"- RSS <= {RSS_BUDGET_MIB:g} MiB + cache ({args.cache_mib:g} MiB) = {budget:g} MiB: "
                  f"largest peak {peak:.0f} MiB, {verdict(peak <= budget)} (flatness across repository "
                  f"sizes is not measured here: one repository size)")


if __name__ == "__main__":
    main()
