#!/usr/bin/env python3
"""cli_check.py — the leak check from the command line: `memscope run --leak-check
--error-exitcode N`, suppressions (file, environment, bad files), and sampling mode (classes
unknown, said plainly).

usage: cli_check.py MEMSCOPE LOST_PROG REACHABLE_PROG WORKDIR"""
import json, os, subprocess, sys

failed = 0


def check(name, ok, detail=""):
    global failed
    print(("ok: " if ok else "FAIL: ") + name + ("" if ok else " " + str(detail)[-1500:]))
    failed += 0 if ok else 1


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=300, **kw)


def convert(ms, dump, extra=(), env=None):
    out = dump + ".json"
    r = run([ms, "convert", dump, "-o", out] + list(extra), env=env)
    return (json.load(open(out)) if r.returncode == 0 else None), r


def main():
    ms, lost, reach, work = sys.argv[1:5]
    os.makedirs(work, exist_ok=True)
    d1 = os.path.join(work, "lost.msp")
    r = run([ms, "run", "--error-exitcode", "7", "-o", d1, "--", lost])
    check("--error-exitcode: definitely lost bytes -> N", r.returncode == 7, r)
    check("run --leak-check prints the classes", "definitely lost 100 B in 1 blocks" in r.stderr, r.stderr)
    r = run([ms, "run", "--error-exitcode", "7", "-o", os.path.join(work, "reach.msp"), "--", reach])
    check("--error-exitcode: only reachable -> the program's status", r.returncode == 0, r)

    supp = os.path.join(work, "supp.txt")
    open(supp, "w").write("# shapes\n\nleak:shape_*\n")
    r = run([ms, "run", "--error-exitcode", "7", "--suppressions", supp, "-o", d1, "--", lost])
    check("suppressed definitely lost -> exit 0", r.returncode == 0, r)
    check("suppressed bytes shown by run", "suppressed 100 B in 1 blocks" in r.stderr, r.stderr)
    doc, r = convert(ms, d1, ["--suppressions", supp]) if False else convert(
        ms, d1, env=dict(os.environ, MEMSCOPE_SUPPRESSIONS=supp))
    check("MEMSCOPE_SUPPRESSIONS read by convert", doc is not None, r)
    if doc:
        lc = doc["leak_check"]
        check("JSON leak_check.suppressed", lc["suppressed"]["bytes"] >= 100 and lc["suppressed"]["blocks"] >= 1, lc)
        rules = [s for s in lc["suppressions"] if s["pattern"] == "shape_*"]
        check("JSON per-rule figures", rules and rules[0]["bytes"] == 100 and rules[0]["blocks"] == 1, lc)
        check("suppressed leaks leave leaks[]",
              not any(any(f.get("function") == "shape_alloc" for f in l["stack"]) for l in doc["leaks"]),
              doc["leaks"])
    r = run([ms, "report", d1], env=dict(os.environ, MEMSCOPE_SUPPRESSIONS=supp))
    check("report shows suppressed figures", "suppressed:" in r.stdout and "100 B in 1 blocks" in r.stdout, r.stdout)

    bad = os.path.join(work, "bad.txt")
    open(bad, "w").write("leak:ok\nfun:nope\n")
    r = run([ms, "report", d1], env=dict(os.environ, MEMSCOPE_SUPPRESSIONS=bad))
    check("bad suppressions line: one line, exit 1",
          r.returncode == 1 and "bad.txt:2: expected 'leak:PATTERN'" in r.stderr and r.stderr.count("\n") == 1, r)
    r = run([ms, "run", "--suppressions", os.path.join(work, "missing"), "--", lost])
    check("missing suppressions file: exit 1 before running", r.returncode == 1 and "missing" in r.stderr, r)
    r = run([ms, "run", "--error-exitcode", "x", "--", lost])
    check("bad --error-exitcode: usage error", r.returncode == 2, r)

    # unsuppressed: the leak is listed first, definitely lost
    doc, r = convert(ms, d1)
    check("convert: exit 0", doc is not None, r)
    if doc:
        check("leak_check done", doc["leak_check"]["status"] == "done", doc["leak_check"])
        check("lost first", doc["leaks"] and doc["leaks"][0]["kind"] == "definitely_lost", doc["leaks"][:2])

    # sampling: classes cannot be computed, and the outputs say so
    d2 = os.path.join(work, "sampled.msp")
    r = run([ms, "run", "--leak-check", "--sample-rate", "1K", "-o", d2, "--", lost])
    check("sampled run: status kept", r.returncode == 0, r)
    check("sampled run says classes unknown", "not possible while sampling" in r.stderr, r.stderr)
    doc, r = convert(ms, d2)
    if doc:
        check("sampled: leak_check.status sampled", doc["leak_check"]["status"] == "sampled", doc["leak_check"])
        check("sampled: every kind unknown", all(l["kind"] == "unknown" for l in doc["leaks"]), doc["leaks"])
    r = run([ms, "report", d2])
    check("sampled: report explains", "classes unknown: sampling mode" in r.stdout, r.stdout)

    # no check requested: unknown, and the report says how to get classes
    d3 = os.path.join(work, "nocheck.msp")
    run([ms, "run", "-o", d3, "--", lost])
    doc, r = convert(ms, d3)
    if doc:
        check("no check: status off, kinds unknown", doc["leak_check"]["status"] == "off" and
              all(l["kind"] == "unknown" for l in doc["leaks"]), doc["leak_check"])
    # MEMSCOPE_LEAK_REPORT with the check on: the classes on stderr at exit
    r = run([lost], env=dict(os.environ, LD_PRELOAD=os.environ["MEMSCOPE_LIB"], MEMSCOPE_LEAK_REPORT="1",
                             MEMSCOPE_LEAK_CHECK="1", MEMSCOPE_SAMPLE_RATE="1"))
    check("MEMSCOPE_LEAK_REPORT prints the classes",
          "leak check: definitely lost 100 bytes in 1 blocks" in r.stderr, r.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
