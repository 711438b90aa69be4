#!/usr/bin/env python3
"""check.py — run one leak-check shape program on memscope (MEMSCOPE_LEAK_CHECK=1, rate 1) and,
when installed, under valgrind memcheck; compare the classes of the blocks allocated by
shape_alloc() (bytes and blocks per kind) with valgrind's and with the recorded expectation.

usage: check.py MEMSCOPE LIB EXPECT -- PROG [ARGS...]
EXPECT: "definitely_lost=100/1,indirectly_lost=0/0,..." (kinds not named must be 0/0).
Exit 0 when memscope matches both; 1 otherwise, with both tables printed."""
import json, os, re, shutil, subprocess, sys, tempfile

KINDS = ["definitely_lost", "indirectly_lost", "possibly_lost", "still_reachable"]


def parse_expect(s):
    out = {k: (0, 0) for k in KINDS}
    for item in filter(None, s.split(",")):
        k, v = item.split("=")
        b, n = v.split("/")
        out[k] = (int(b), int(n))
    return out


def memscope_classes(memscope, lib, prog):
    tmp = tempfile.mkdtemp()
    try:
        dump, js = os.path.join(tmp, "d.msp"), os.path.join(tmp, "d.json")
        env = dict(os.environ, LD_PRELOAD=lib, MEMSCOPE_LEAK_CHECK="1", MEMSCOPE_SAMPLE_RATE="1",
                   MEMSCOPE_OUTPUT=dump)
        r = subprocess.run(prog, env=env, timeout=120, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("FAIL: %s exited %d on memscope: %s" % (prog[0], r.returncode, r.stderr[-2000:]))
        subprocess.run([memscope, "convert", dump, "-o", js], check=True, timeout=120)
        d = json.load(open(js))
        if d["leak_check"]["status"] != "done":
            sys.exit("FAIL: leak check status %s" % d["leak_check"]["status"])
        out = {k: [0, 0] for k in KINDS}
        for leak in d["leaks"]:
            if any(f.get("function") == "shape_alloc" for f in leak["stack"]):
                out[leak["kind"]][0] += leak["bytes"]
                out[leak["kind"]][1] += leak["count"]
        return {k: tuple(v) for k, v in out.items()}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


REC = re.compile(r"==\d+== ([\d,]+)(?: \(([\d,]+) direct, [\d,]+ indirect\))? bytes in ([\d,]+) blocks are "
                 r"(definitely lost|indirectly lost|possibly lost|still reachable) in loss record")


def valgrind_classes(prog):
    r = subprocess.run(["valgrind", "--leak-check=full", "--show-leak-kinds=all",
                        "--num-callers=40"] + prog, timeout=600, capture_output=True, text=True)
    out = {k: [0, 0] for k in KINDS}
    lines = r.stderr.splitlines()
    for i, line in enumerate(lines):
        m = REC.search(line)
        if not m:
            continue
        stack = []
        for nxt in lines[i + 1:]:
            if not re.search(r"==\d+==\s+(at|by) ", nxt):
                break
            stack.append(nxt)
        if not any(" shape_alloc " in s or "shape_alloc (" in s for s in stack):
            continue
        kind = m.group(4).replace(" ", "_")
        direct = int((m.group(2) or m.group(1)).replace(",", ""))
        out[kind][0] += direct
        out[kind][1] += int(m.group(3).replace(",", ""))
    return {k: tuple(v) for k, v in out.items()}


def table(name, c):
    return "%-10s " % name + "  ".join("%s %d/%d" % (k, c[k][0], c[k][1]) for k in KINDS)


def main():
    memscope, lib, expect = sys.argv[1:4]
    prog = sys.argv[sys.argv.index("--") + 1:]
    want = parse_expect(expect)
    got = memscope_classes(memscope, lib, prog)
    ok = got == want
    print(table("memscope", got))
    print(table("recorded", want))
    if shutil.which("valgrind"):
        vg = valgrind_classes(prog)
        print(table("valgrind", vg))
        if vg != want:
            print("FAIL: valgrind disagrees with the recorded expectation (update the test)")
            ok = False
        ok = ok and got == vg
    else:
        print("valgrind not installed: compared with the recorded expectation only")
    print("ok" if ok else "FAIL: memscope's classes differ")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
