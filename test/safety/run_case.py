#!/usr/bin/env python3
"""run_case.py — run one safety test program (test/safety/*.c) under libmemscope.so and check
the memory-error report it must produce.

  run_case.py --lib LIB --prog PROG [--arg A] --kind KIND [--checks C] [--address block|access]
              [--where F,F] [--alloc F] [--free F] [--files] [--cli MEMSCOPE] [--continue]
              [--symbolize dladdr|libdw|off] [--sample-rate N]

Checks, in order:
 1. with MEMSCOPE_CHECKS=C (default: library default), the program is stopped by SIGABRT (or,
    with --continue and action=continue, finishes) and stderr holds exactly the report
    "memscope: error: KIND at ADDR" with ADDR the address the program announced ("block=" or
    "access=" on stdout); the "at", "allocated at" and "freed at" stacks name the expected
    functions (and, with --files, the test's source file with a line number);
 2. with --cli: the dump written before the abort (MEMSCOPE_OUTPUT) converts to JSON whose
    errors[0] has the same kind and address, and whose stacks name the same functions;
 3. with MEMSCOPE_CHECKS=off the program behaves as on a plain malloc: exit 0, prints
    "survived", and memscope prints nothing.
Exit status 0 when everything holds; otherwise the failures are printed.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def run(cmd, env):
    full = dict(os.environ)
    for k in list(full):
        if k.startswith("MEMSCOPE_") or k == "LD_PRELOAD":
            del full[k]
    full.update(env)
    return subprocess.run(cmd, env=full, capture_output=True, text=True, timeout=120)


def announced(stdout):
    return {m.group(1): int(m.group(2), 16) for m in re.finditer(r"^(\w+)=(0x[0-9a-f]+)$", stdout, re.M)}


def parse_report(stderr):
    """The first report: kind, address, and the frames of each stack section."""
    m = re.search(r"^memscope: error: (\w+) at (0x[0-9a-f]+|\(nil\))", stderr, re.M)
    if not m:
        return None
    rep = {"kind": m.group(1), "address": int(m.group(2), 16) if m.group(2) != "(nil)" else 0,
           "stacks": {}}
    section = None
    for line in stderr[m.end():].splitlines()[1:]:
        if line.startswith("memscope:"):
            break
        sm = re.match(r"^  (at|allocated at|freed at):", line)
        if sm:
            section = sm.group(1)
            rep["stacks"][section] = []
            continue
        if section and line.startswith("    #"):
            rep["stacks"][section].append(line)
    return rep


def expect_functions(where, frames, names, files, src):
    for name in names:
        hit = [f for f in frames if re.search(r" in %s( |$)" % re.escape(name), f)]
        if not hit:
            fail("%s stack does not name %s:\n%s" % (where, name, "\n".join(frames) or "(empty)"))
        elif files and not any(re.search(r"[ /]%s:\d+ " % re.escape(src), f) for f in hit):
            fail("%s stack frame of %s has no %s:LINE: %s" % (where, name, src, hit[0]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    ap.add_argument("--prog", required=True)
    ap.add_argument("--arg", action="append", default=[])
    ap.add_argument("--kind", required=True)
    ap.add_argument("--checks")
    ap.add_argument("--address", default="access")
    ap.add_argument("--where", default="")
    ap.add_argument("--alloc", default="")
    ap.add_argument("--free", default="")
    ap.add_argument("--files", action="store_true")
    ap.add_argument("--cli")
    ap.add_argument("--sample-rate", default="1")
    ap.add_argument("--continue", dest="cont", action="store_true")
    ap.add_argument("--symbolize", help="add symbolize=MODE to MEMSCOPE_CHECKS")
    a = ap.parse_args()

    src = os.path.basename(a.prog).replace("_rdynamic", "") + ".c"
    cmd = [a.prog] + a.arg
    tmp = tempfile.mkdtemp(prefix="ms-safety-")
    env = {"LD_PRELOAD": a.lib, "MEMSCOPE_SAMPLE_RATE": a.sample_rate,
           "MEMSCOPE_OUTPUT": os.path.join(tmp, "dump.%p.msp")}
    checks = a.checks
    if a.symbolize:
        checks = (checks + "," if checks else "") + "symbolize=" + a.symbolize
    if checks is not None:
        env["MEMSCOPE_CHECKS"] = checks

    # 1. the report
    r = run(cmd, env)
    addrs = announced(r.stdout)
    if a.cont:
        if r.returncode != 0 or "survived" not in r.stdout:
            fail("action=continue: expected exit 0 and 'survived', got %d" % r.returncode)
    elif r.returncode != -6:
        fail("expected SIGABRT (-6), got exit status %d" % r.returncode)
    rep = parse_report(r.stderr)
    if rep is None:
        fail("no 'memscope: error:' report on stderr:\n" + r.stderr[-3000:])
    else:
        if rep["kind"] != a.kind:
            fail("report kind %s, expected %s" % (rep["kind"], a.kind))
        want = addrs.get(a.address)
        if want is None or rep["address"] != want:
            fail("report address %#x, expected %s=%s" % (rep["address"], a.address,
                                                         hex(want) if want else "?"))
        for title, names in (("at", a.where), ("allocated at", a.alloc), ("freed at", a.free)):
            names = [n for n in names.split(",") if n]
            if names:
                expect_functions(title, rep["stacks"].get(title, []), names, a.files, src)
        if r.stderr.count("memscope: error:") != 1:
            fail("expected exactly one report, got %d" % r.stderr.count("memscope: error:"))

    # 2. the dump written before the abort
    if a.cli and not failures:
        dumps = glob.glob(os.path.join(tmp, "dump.*.msp"))
        if len(dumps) != 1:
            fail("expected one dump in %s, found %s" % (tmp, dumps))
        else:
            out = os.path.join(tmp, "d.json")
            c = subprocess.run([a.cli, "convert", dumps[0], "-o", out], capture_output=True,
                               text=True, timeout=120)
            if c.returncode != 0:
                fail("memscope convert failed: " + c.stderr)
            else:
                d = json.load(open(out))
                errs = d.get("errors", [])
                if not errs:
                    fail("the dump has no errors")
                else:
                    e = errs[0]
                    if e.get("kind") != a.kind:
                        fail("dump error kind %s, expected %s" % (e.get("kind"), a.kind))
                    addr = e.get("address")
                    addr = int(addr, 16) if isinstance(addr, str) else addr
                    if addr != addrs.get(a.address):
                        fail("dump error address %s, expected %s" % (e.get("address"), hex(addrs.get(a.address, 0))))
                    for key, names in (("stack", a.where), ("alloc_stack", a.alloc), ("free_stack", a.free)):
                        fns = [f.get("function") or "" for f in (e.get(key) or [])]
                        for n in [n for n in names.split(",") if n]:
                            if not any(f == n or f.startswith(n + " ") or f.startswith(n + "(") for f in fns):
                                fail("dump %s does not name %s: %s" % (key, n, fns))

    # 3. checks off: plain malloc behaviour
    env_off = dict(env, MEMSCOPE_CHECKS="off")
    del env_off["MEMSCOPE_OUTPUT"]
    r = run(cmd, env_off)
    if r.returncode != 0 or "survived" not in r.stdout:
        fail("MEMSCOPE_CHECKS=off: expected exit 0 and 'survived', got %d" % r.returncode)
    if "memscope" in r.stderr:
        fail("MEMSCOPE_CHECKS=off: memscope printed: " + r.stderr[:500])

    subprocess.run(["rm", "-rf", tmp])
    name = " ".join([os.path.basename(a.prog)] + a.arg)
    if failures:
        print("FAILED: %s (%d problems)" % (name, len(failures)))
        return 1
    print("PASS: %s: %s reported with its stacks" % (name, a.kind))
    return 0


if __name__ == "__main__":
    sys.exit(main())
