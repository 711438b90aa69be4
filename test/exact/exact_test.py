#!/usr/bin/env python3
"""exact_test.py MEMSCOPE WORKDIR PROG... — exact mode stays exact (issue: exact-mode speed).

Each PROG counts its own allocations per call site and writes them as JSON to the path it gets
as its argument (exact_totals.c: 8 threads exiting with pending per-thread site figures, a
longjmp out of a nested allocation, a signal handler that allocates; exact_cxx.cpp: C++
exceptions unwinding through frames that allocate). Run at rate 1 through `memscope run`, once
in lean mode (MEMSCOPE_CHECKS=none: the default layout) and once with every check (header
mode, `memscope run`'s default), the dump's sites, grouped by the function that called the
allocator, must hold exactly the program's totals and live (leaked at exit) counts and bytes.
The build makes each PROG with and without frame pointers, at -O0 and -O2.
Prints ok/FAIL per check; exit 1 when anything failed."""
import json
import os
import subprocess
import sys

ms, work, progs = sys.argv[1], sys.argv[2], sys.argv[3:]
os.makedirs(work, exist_ok=True)
failed = 0


def check(name, cond, detail=""):
    global failed
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else f": {detail}"))
    failed += not cond


def fn_of(site):
    """The function of a site's location, without C++ parameter lists."""
    return (site.get("location") or "").split(" (")[0].split("(")[0]


for prog in progs:
    for mode, checks in (("lean", "none"), ("checked", "all")):
        name = f"{os.path.basename(prog)}-{mode}"
        dump, out, want_path = (os.path.join(work, name + x) for x in (".msp", ".json", ".want.json"))
        for p in (dump, out, want_path):
            if os.path.exists(p):
                os.unlink(p)
        env = dict(os.environ, MEMSCOPE_CHECKS=checks)
        r = subprocess.run([ms, "run", "-q", "--sample-rate", "1", "-o", dump, "--", prog, want_path],
                           env=env, capture_output=True, text=True, timeout=300)
        check(f"{name}: runs", r.returncode == 0, r.stderr[-2000:])
        if r.returncode != 0:
            continue
        r = subprocess.run([ms, "convert", dump, "-o", out], capture_output=True, text=True, timeout=300)
        check(f"{name}: converts", r.returncode == 0, r.stderr[-2000:])
        if r.returncode != 0:
            continue
        doc, want = json.load(open(out)), json.load(open(want_path))
        for fn, w in want.items():
            sites = [s for s in doc["sites"] if fn_of(s) == fn]
            field = {"total_count": "total_count", "total_bytes": "total_bytes",
                     "live_count": "count", "live_bytes": "bytes"}  # the JSON's names for live
            got = {k: sum(s[field[k]] for s in sites) for k in w}
            check(f"{name}: {fn} figures equal the program's own", got == w, f"memscope {got}, program {w}")
sys.exit(1 if failed else 0)
