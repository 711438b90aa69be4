#!/usr/bin/env python3
"""figures_test.py — the report's figures add up, on real programs run under memscope.

  figures_test.py peak   MEMSCOPE PEAK_FINAL WORKDIR
      peak_final.c at MEMSCOPE_SAMPLE_RATE=1: the sites' bytes live at the peak sum to the
      summary's peak_live_bytes exactly (JSON), the allocation that set the peak (final_join,
      4 MiB) holds its bytes at the peak, and `memscope report` lists it first under PEAK.
  figures_test.py inline MEMSCOPE INLINE_SITE INLINE_SOURCE WORKDIR
      inline_site.c (-O2): the stack of the inlined malloc reads record_new <- make_records <-
      main with the lines marked in the source, the inlined frames flagged "inlined".
  figures_test.py overhead MEMSCOPE PEAK_FINAL WORKDIR
      one overhead vocabulary: rounding = usable - requested, metadata apart, overhead = their sum,
      the same numbers in the JSON summary, the fragmentation object and the text report.
  figures_test.py truncated MEMSCOPE PEAK_FINAL WORKDIR
      stacks cut at MEMSCOPE_STACK_DEPTH=2 are flagged (JSON stack_truncated, summary
      truncated_stacks), the text report and the SVG flame graph say "[truncated]"; at the
      default depth nothing is flagged.
  figures_test.py timeline MEMSCOPE TIMELINE_GROWTH WORKDIR
      timeline_growth.c (phases grown by grow_a, grow_b, grow_c) at MEMSCOPE_INTERVAL_MS=1: every
      JSON timeline point lists its biggest sites, whose bytes and other_bytes add up to the
      point's live_bytes; a point in phase a names grow_a first and not grow_b, the point before
      the frees names grow_b (16 MiB) then grow_a (8 MiB), the last grow_c; with --top 1 sites
      past the cut are not listed and count as other.
Prints ok/FAIL per check; exit 1 when anything failed.
"""
import json
import os
import re
import subprocess
import sys

failed = 0


def check(name, cond, detail=""):
    global failed
    if cond:
        print("ok   " + name)
    else:
        failed += 1
        print("FAIL " + name + (": " + str(detail) if detail != "" else ""))


def run_and_convert(ms, prog, work, name, rate="1", args=(), env_extra=None):
    os.makedirs(work, exist_ok=True)
    dump = os.path.join(work, name + ".msp")
    out = os.path.join(work, name + ".json")
    for p in (dump, out):
        if os.path.exists(p):
            os.unlink(p)
    env = dict(os.environ, MEMSCOPE_SAMPLE_RATE=rate, **(env_extra or {}))
    r = subprocess.run([ms, "run", "-q", "--sample-rate", rate, "-o", dump, "--", prog, *args],
                       env=env, capture_output=True, text=True, timeout=120)
    check(f"run {name}: exit 0", r.returncode == 0, r.stderr)
    r = subprocess.run([ms, "convert", dump, "-o", out], capture_output=True, text=True, timeout=120)
    check(f"convert {name}: exit 0", r.returncode == 0, r.stderr)
    return dump, json.load(open(out))


def fn_of(site):
    return (site.get("location") or "").split(" (")[0]


def peak(ms, prog, work):
    dump, doc = run_and_convert(ms, prog, work, "peak_final")
    s = doc["summary"]
    check("exact run (sample_rate 1)", s["sample_rate"] == 1, s["sample_rate"])
    total = sum(x["peak_bytes"] for x in doc["sites"])
    check("sum of sites' peak_bytes == summary peak_live_bytes",
          total == s["peak_live_bytes"],
          f"sites {total} vs peak {s['peak_live_bytes']} (missing {s['peak_live_bytes'] - total})")
    check("summary peak_site_bytes is that sum", s.get("peak_site_bytes") == total,
          f"{s.get('peak_site_bytes')} vs {total}")
    join = [x for x in doc["sites"] if fn_of(x) == "final_join"]
    check("final_join is a site", len(join) == 1, [fn_of(x) for x in doc["sites"]])
    if join:
        check("final_join holds its 4 MiB at the peak", join[0]["peak_bytes"] == 4 << 20, join[0]["peak_bytes"])
    r = subprocess.run([ms, "report", dump], capture_output=True, text=True, timeout=120)
    sec = r.stdout.split("PEAK CONTRIBUTIONS", 1)
    first = sec[1].split("\n  2.", 1)[0] if len(sec) == 2 else ""
    check("report: final_join is the first peak contribution", "final_join" in first, first[:400])


def inline(ms, prog, src, work):
    lines = open(src).read().splitlines()
    mark = {}
    for i, l in enumerate(lines, 1):
        m = re.search(r"MARK:(\w+)", l)
        if m:
            mark[m.group(1)] = i
    _, doc = run_and_convert(ms, prog, work, "inline_site")
    want = [("record_new", mark["record_new"]), ("make_records", mark["make_records"]), ("main", mark["main"])]
    site = None
    for x in doc["sites"]:
        st = [(f["function"], f["line"]) for f in x["stack"] if os.path.basename(f["file"] or "") == "inline_site.c"]
        if st[:1] == want[:1]:
            site = x
    check("a site starts at the inlined record_new with the malloc's line", site is not None,
          [[(f["function"], f["line"]) for f in x["stack"]][:5] for x in doc["sites"]][:6])
    if not site:
        return
    ours = [f for f in site["stack"] if os.path.basename(f["file"] or "") == "inline_site.c"]
    got = [(f["function"], f["line"]) for f in ours]
    check("stack reads record_new <- make_records <- main, with the call lines", got[:3] == want, got)
    check("inlined frames are flagged, main is not",
          [bool(f.get("inlined")) for f in ours[:3]] == [True, True, False], [f.get("inlined") for f in ours[:3]])
    check("the site's location names the inlined function", site["location"].startswith("record_new (")
          and site["location"].endswith(f"inline_site.c:{mark['record_new']})"), site["location"])
    check("inlined frames share the call's address", len({f["address"] for f in ours[:3]}) == 1,
          [f["address"] for f in ours[:3]])


def overhead(ms, prog, work):
    dump, doc = run_and_convert(ms, prog, work, "overhead", rate="1", args=("keep",))
    s, fr = doc["summary"], doc["fragmentation"]
    req, use = s["live_bytes"], s["usable_bytes"]
    check("blocks are live at the dump (the figures are not all zero)", req > 4 << 20 and use >= req, (req, use))
    check("summary: rounding_bytes == usable - requested", s.get("rounding_bytes") == max(0, use - req),
          (s.get("rounding_bytes"), use, req))
    check("summary: metadata_bytes is memscope's per-sampled-block metadata", s.get("metadata_bytes") == s["header_bytes"],
          (s.get("metadata_bytes"), s["header_bytes"]))
    check("summary: overhead_bytes == rounding + metadata",
          s.get("overhead_bytes") == s.get("rounding_bytes", -1) + s.get("metadata_bytes", -1), s)
    for k in ("requested_bytes", "usable_bytes", "rounding_bytes", "metadata_bytes", "overhead_bytes"):
        sk = {"requested_bytes": "live_bytes"}.get(k, k)
        check(f"fragmentation.{k} == summary.{sk}", fr.get(k) is not None and fr.get(k) == s.get(sk), (fr.get(k), s.get(sk)))
    cls = doc["size_classes"]
    if cls:
        check("size classes' rounding adds up to the summary's",
              sum(max(0, c["usable_bytes"] - c["requested_bytes"]) for c in cls) == s["rounding_bytes"],
              (sum(c["usable_bytes"] - c["requested_bytes"] for c in cls), s["rounding_bytes"]))
    r = subprocess.run([ms, "report", dump], capture_output=True, text=True, timeout=120)
    line = [l for l in r.stdout.splitlines() if "overhead" in l]
    check("text report has one overhead line", len(line) == 1, line)
    if line:
        for w in ("requested", "usable", "rounding", "metadata"):
            check(f"text report overhead line says {w}", w in line[0], line[0])


def truncated(ms, prog, work):
    dump, doc = run_and_convert(ms, prog, work, "truncated", env_extra={"MEMSCOPE_STACK_DEPTH": "2"})
    s = doc["summary"]
    check("summary: stack_depth 2", s.get("stack_depth") == 2, s.get("stack_depth"))
    flagged = [x for x in doc["sites"] if x.get("stack_truncated")]
    check("sites cut at 2 frames are flagged stack_truncated", len(flagged) == len(doc["sites"]) and flagged,
          [(fn_of(x), len(x["stack"]), x.get("stack_truncated")) for x in doc["sites"]])
    check("summary truncated_stacks counts them", s.get("truncated_stacks", 0) >= len(flagged) > 0, s.get("truncated_stacks"))
    r = subprocess.run([ms, "report", dump], capture_output=True, text=True, timeout=120)
    check("text report marks truncated stacks", "[truncated" in r.stdout and "truncated stacks:" in r.stdout, r.stdout[:600])
    svg = os.path.join(work, "truncated.svg")
    r = subprocess.run([ms, "convert", dump, "-o", svg, "--chart", "flamegraph"], capture_output=True, text=True, timeout=120)
    check("SVG flame graph has a [truncated] root", r.returncode == 0 and "[truncated]" in open(svg).read(), r.stderr)
    _, doc = run_and_convert(ms, prog, work, "not_truncated")
    check("at the default depth nothing is flagged", not any(x.get("stack_truncated") for x in doc["sites"])
          and doc["summary"].get("truncated_stacks") == 0, doc["summary"].get("truncated_stacks"))


def timeline(ms, prog, work):
    dump, doc = run_and_convert(ms, prog, work, "timeline_growth", env_extra={"MEMSCOPE_INTERVAL_MS": "1"})
    tl, sites = doc["timeline"], doc["sites"]
    check("the timeline has points", len(tl) >= 6, len(tl))
    check("every point lists sites and other_bytes", all(isinstance(p.get("sites"), list) and "other_bytes" in p for p in tl),
          tl[:2])
    bad = [p for p in tl if sum(e["bytes"] for e in p["sites"]) + p["other_bytes"] != p["live_bytes"]
           and sum(e["bytes"] for e in p["sites"]) <= p["live_bytes"]]
    check("listed sites + other_bytes == live_bytes at every point", not bad, bad[:2])
    check("at most 12 sites a point, biggest first", all(len(p["sites"]) <= 12 and
          all(a["bytes"] >= b["bytes"] for a, b in zip(p["sites"], p["sites"][1:])) for p in tl))
    names = lambda p: [fn_of(sites[e["site"]]) for e in p["sites"]]
    check("a point in phase a: grow_a first, no grow_b",
          any(names(p)[:1] == ["grow_a"] and "grow_b" not in names(p) for p in tl), [names(p) for p in tl])
    both = [p for p in tl if names(p)[:2] == ["grow_b", "grow_a"]]
    check("the peak phase: grow_b then grow_a with their bytes", any(p["sites"][0]["bytes"] == 16 << 20 and
          p["sites"][1]["bytes"] == 8 << 20 for p in both), [p["sites"][:2] for p in both][-2:])
    check("the last point: grow_c", names(tl[-1])[:1] == ["grow_c"] and tl[-1]["sites"][0]["bytes"] == 4 << 20,
          tl[-1])
    r = subprocess.run([ms, "report", dump], capture_output=True, text=True, timeout=120)
    sec = r.stdout.split("GROWTH TO THE PEAK", 1)
    body = sec[1].split("\n\n", 1)[0] if len(sec) == 2 else ""
    entries = re.findall(r"^  \d+\. \+(.*)$", body, re.M)
    check("report: a GROWTH TO THE PEAK section", len(sec) == 2, r.stdout[-1500:])
    # (grow_a may have begun before the first point: up to 8 MiB of growth)
    check("report: grow_b grew most (+16 MiB), then grow_a (about +8 MiB)",
          body.find("grow_b") >= 0 and body.find("grow_a") > body.find("grow_b") and
          len(entries) >= 2 and entries[0].startswith("16.0 MiB") and
          entries[1].split()[0] in ("7.8", "7.9", "8.0") and entries[1].split()[1] == "MiB",
          body[:800])
    out = os.path.join(work, "timeline_top1.json")
    r = subprocess.run([ms, "convert", dump, "-o", out, "--top", "1"], capture_output=True, text=True, timeout=120)
    check("convert --top 1: exit 0", r.returncode == 0, r.stderr)
    cut = json.load(open(out))["timeline"]
    check("--top 1: only site 0 is listed, the rest counts as other",
          all(all(e["site"] == 0 for e in p["sites"]) and
              sum(e["bytes"] for e in p["sites"]) + p["other_bytes"] == p["live_bytes"] for p in cut), cut[:3])


def main():
    a = sys.argv[1:]
    if len(a) == 4 and a[0] == "peak":
        peak(*a[1:])
    elif len(a) == 5 and a[0] == "inline":
        inline(*a[1:])
    elif len(a) == 4 and a[0] == "overhead":
        overhead(*a[1:])
    elif len(a) == 4 and a[0] == "truncated":
        truncated(*a[1:])
    elif len(a) == 4 and a[0] == "timeline":
        timeline(*a[1:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(("FAILED: %d checks" % failed) if failed else "all checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
