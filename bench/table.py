#!/usr/bin/env python3
"""table.py - turn bench/run.sh's results (hyperfine JSON + peak RSS TSV) into markdown tables.

    python3 bench/table.py RESULTS_DIR > report.md

For each workload: every configuration's median and mean time +- stddev (hyperfine), its ratio to
bare mimalloc (the runs of `mimalloc` and `mimalloc-again`, the same configuration measured first
and last, pooled; median / that median: on a shared, noisy machine the median resists the odd
slow run better than the mean; also min / mimalloc min, the least disturbed runs), the median of
3 peak RSS readings and the RSS ratio to mimalloc, and, for memscope's modes, whether the target
of DESIGN.md is met (judged on the median ratio). The relative stddev says how noisy the run was;
the CPU-time ratio (user+sys means) is less disturbed by other processes competing for the cores.
"""
import json
import os
import statistics
import sys

WORKLOADS = [("st", "single-thread churn"), ("mt", "4-thread churn"), ("py", "python3 PYTHONMALLOC=malloc")]
ORDER = ["glibc", "mimalloc", "header-floor", "ms-stats", "ms-default", "ms-rate1", "mimalloc-again", "heaptrack"]
# time-ratio and RSS-ratio targets per configuration and workload (None: no target)
TARGETS = {
    "ms-stats": {"st": (1.03, 1.10), "mt": (1.03, 1.10), "py": (1.03, 1.10)},
    "ms-default": {"st": (1.05, None), "mt": (1.05, None), "py": (1.05, None)},
    "ms-rate1": {"st": (2.0, None), "mt": (3.0, None), "py": (2.0, None)},
}


def merge(results):
    """One configuration measured in several hyperfine invocations (interleaved rounds): pool
    the run times and recompute the statistics; user/system are means weighted by runs."""
    times = [t for r in results for t in r["times"]]
    n = len(times)
    mean = sum(times) / n
    sd = statistics.stdev(times) if n > 1 else 0.0
    user = sum(r["user"] * len(r["times"]) for r in results) / n
    system = sum(r["system"] * len(r["times"]) for r in results) / n
    return {"command": results[0]["command"], "times": times, "mean": mean, "stddev": sd,
            "median": statistics.median(times), "min": min(times), "max": max(times),
            "user": user, "system": system}


def load(out):
    collected, rss = {}, {}
    names = sorted(os.listdir(out))
    for w, _ in WORKLOADS:
        for name in names:
            if not (name.startswith("time-%s." % w) or name.startswith("time-%s-" % w)) or not name.endswith(".json"):
                continue
            with open(os.path.join(out, name)) as f:
                for r in json.load(f)["results"]:
                    collected.setdefault((w, r["command"]), []).append(r)
    times = {key: merge(rs) for key, rs in collected.items()}
    path = os.path.join(out, "rss.tsv")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3:
                    rss[(parts[0], parts[1])] = statistics.median(int(x) for x in parts[2:])
    return times, rss


def pooled_baseline(first, again):
    """Bare mimalloc measured twice in the run (first and last): pool both sets of runs so the
    baseline is not whichever of the two the machine happened to disturb more."""
    if first is None or again is None:
        return first
    runs = list(first["times"]) + list(again["times"])
    return {"median": statistics.median(runs), "min": min(runs),
            "user": (first["user"] + again["user"]) / 2, "system": (first["system"] + again["system"]) / 2}


def main():
    out = sys.argv[1]
    times, rss = load(out)
    with open(os.path.join(out, "machine.txt")) as f:
        print("```\n" + f.read().rstrip() + "\n```\n")
    summary = []
    for w, title in WORKLOADS:
        base = pooled_baseline(times.get((w, "mimalloc")), times.get((w, "mimalloc-again")))
        base_rss = rss.get((w, "mimalloc"))
        print("### %s (`%s`)\n" % (title, w))
        print("| allocator | median (s) | mean +- stddev (s) | rel. stddev | time / mimalloc (median) | min / mimalloc min | CPU (user+sys) / mimalloc | peak RSS (MiB) | RSS / mimalloc | target |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for c in ORDER:
            r = times.get((w, c))
            if r is None:
                continue
            mean, sd, med = r["mean"], r["stddev"] or 0.0, r["median"]
            ratio = min_ratio = cpu_ratio = None
            if base:
                cpu_ratio = (r["user"] + r["system"]) / (base["user"] + base["system"])
                ratio = med / base["median"]
                min_ratio = r["min"] / base["min"]
            kb = rss.get((w, c))
            rss_ratio = kb / base_rss if kb and base_rss else None
            verdict = ""
            t = TARGETS.get(c, {}).get(w)
            if t and ratio is not None:
                ok_t = ratio <= t[0]
                ok_r = t[1] is None or (rss_ratio is not None and rss_ratio <= t[1])
                verdict = "time <= %.2fx%s: %s" % (t[0], ", RSS <= %.2fx" % t[1] if t[1] else "",
                                                  "met" if ok_t and ok_r else "**missed**")
                summary.append((w, c, ratio, rss_ratio, verdict))
            print("| %s | %.3f | %.3f +- %.3f | %.1f%% | %s | %s | %s | %s | %s | %s |" % (
                c, med, mean, sd, 100 * sd / mean,
                "%.2fx" % ratio if ratio is not None else "-",
                "%.2fx" % min_ratio if min_ratio is not None else "-",
                "%.2fx" % cpu_ratio if cpu_ratio is not None else "-",
                "%.1f" % (kb / 1024) if kb else "-",
                "%.2fx" % rss_ratio if rss_ratio else "-", verdict))
        print()
    unwind = os.path.join(out, "unwind.txt")
    if os.path.exists(unwind):
        with open(unwind) as f:
            print("### stack capture (bench_unwind)\n\n```\n" + f.read().rstrip() + "\n```")


if __name__ == "__main__":
    main()
