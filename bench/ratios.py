#!/usr/bin/env python3
"""ratios.py RESULTS CONFIG... — the tables of the interleaved benchmarks (bench/lean.sh,
bench/exact.sh). RESULTS holds one line per run, "round workload configuration wall user sys
rss_kb" (/usr/bin/time's %e %U %S %M); lines of another shape (a run that failed) are skipped.
The first CONFIG is the baseline. Prints per workload, in the order they first appear: for each
configuration the median and min-max of wall, user+sys and peak RSS, and the median (min-max)
of the per-round ratios to the baseline (a ratio is taken within one round)."""
import statistics
import sys
from collections import defaultdict

path, order = sys.argv[1], sys.argv[2:]
data = defaultdict(dict)  # (workload, config) -> round -> (wall, cpu, rss)
workloads = []
for line in open(path):
    f = line.split()
    if len(f) != 7:
        continue
    r, w, c, wall, user, sys_, rss = f
    if w not in workloads:
        workloads.append(w)
    data[(w, c)][int(r)] = (float(wall), float(user) + float(sys_), int(rss))


def fmt(v):
    return f"{statistics.median(v):.3g} ({min(v):.3g}-{max(v):.3g})"


for w in workloads:
    print(f"\n### {w}\n")
    print("| configuration | wall s | user+sys s | peak RSS MB | wall ratio | cpu ratio | RSS ratio |")
    print("|---|---|---|---|---|---|---|")
    base = data[(w, order[0])]
    for c in order:
        d = data[(w, c)]
        rs = sorted(r for r in d if r in base)
        if not rs:
            continue
        ratios = [[d[r][k] / base[r][k] for r in rs] for k in range(3)]
        rat = [f"{statistics.median(x):.2f} ({min(x):.2f}-{max(x):.2f})" for x in ratios]
        print(f"| {c} | {fmt([d[r][0] for r in rs])} | {fmt([d[r][1] for r in rs])} | "
              f"{fmt([d[r][2] / 1024 for r in rs])} | {rat[0]} | {rat[1]} | {rat[2]} |")
