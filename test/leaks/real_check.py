#!/usr/bin/env python3
"""real_check.py — the leak check on a real, unmodified program, against valgrind memcheck:
bytes and blocks of each class (definitely / indirectly / possibly lost, still reachable)
must be equal. valgrind runs with --run-libc-freeres=no so that both see the C library's own
blocks still allocated at exit. Exits 77 (a ctest skip) when valgrind or the program is
missing.

usage: real_check.py MEMSCOPE LIB -- PROG [ARGS...]"""
import json, os, re, shutil, subprocess, sys, tempfile

KINDS = ["definitely_lost", "indirectly_lost", "possibly_lost", "still_reachable"]


def main():
    ms, lib = sys.argv[1:3]
    prog = sys.argv[sys.argv.index("--") + 1:]
    if not shutil.which("valgrind") or not shutil.which(prog[0]):
        print("SKIP: valgrind or %s not installed" % prog[0])
        return 77
    r = subprocess.run(["valgrind", "--run-libc-freeres=no", "--leak-check=full"] + prog,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
    vg = {}
    for k in KINDS:
        m = re.search(r"%s: ([\d,]+) bytes in ([\d,]+) blocks" % k.replace("_", " "), r.stderr)
        vg[k] = (int(m.group(1).replace(",", "")), int(m.group(2).replace(",", ""))) if m else (0, 0)
    tmp = tempfile.mkdtemp()
    try:
        dump, js = os.path.join(tmp, "d.msp"), os.path.join(tmp, "d.json")
        env = dict(os.environ, LD_PRELOAD=lib, MEMSCOPE_LEAK_CHECK="1", MEMSCOPE_SAMPLE_RATE="1",
                   MEMSCOPE_OUTPUT=dump)
        subprocess.run(prog, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=600, check=True)
        subprocess.run([ms, "convert", dump, "-o", js], check=True, timeout=300)
        lc = json.load(open(js))["leak_check"]
        got = {k: (lc[k]["bytes"] + 0, lc[k]["blocks"]) for k in KINDS}
        # built-in suppressions hide runtime blocks valgrind counts: add them back
        sup = lc["suppressed"]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("memscope", got, "suppressed", sup)
    print("valgrind", vg)
    ok = lc["status"] == "done" and got == vg and sup["blocks"] == 0
    print("ok" if ok else "FAIL: classes differ from valgrind's")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
