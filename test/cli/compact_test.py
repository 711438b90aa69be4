#!/usr/bin/env python3
"""compact_test.py — `memscope convert --compact` on real dumps (test cli_compact).

For each dump, the compact JSON (docs/JSON.md, "Compact form") with every stack_id replaced by
the frames it names must be exactly the default JSON; the compact document must carry no
inline stack, list each frame and each stack once, and list nothing unused. Also with --top
(fewer sites: fewer stacks) and the usage error of --compact with another format.

usage: compact_test.py MEMSCOPE GEN_DUMP WORKDIR [DEMO_PROGRAM]
"""
import json
import os
import subprocess
import sys

STACK_KEYS = ("stack", "alloc_stack", "free_stack")
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok   " + name)
    else:
        failed += 1
        print("FAIL " + name + (": " + str(detail)[:500] if detail else ""))


def resolve(node, frames, stacks, seen):
    """The default form of a compact document's subtree; records the stack ids used."""
    if isinstance(node, list):
        return [resolve(x, frames, stacks, seen) for x in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        base = k[:-3] if k.endswith("_id") else None
        if base in STACK_KEYS:
            if v is None:
                out[base] = []
            else:
                seen.add(v)
                out[base] = [frames[i] for i in stacks[v]]
        else:
            out[k] = resolve(v, frames, stacks, seen)
    return out


def has_inline_stack(node):
    if isinstance(node, list):
        return any(has_inline_stack(x) for x in node)
    if isinstance(node, dict):
        return any(k in STACK_KEYS or has_inline_stack(v) for k, v in node.items())
    return False


def convert(ms, dump, out, *extra):
    r = subprocess.run([ms, "convert", dump, "-o", out, "-q", *extra], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("convert %s %s: %s" % (dump, " ".join(extra), r.stderr))
    with open(out) as f:
        return json.load(f), os.path.getsize(out)


def compare(ms, name, dump, work, *extra):
    full, full_size = convert(ms, dump, os.path.join(work, name + ".json"), *extra)
    comp, comp_size = convert(ms, dump, os.path.join(work, name + ".compact.json"), "--compact", *extra)
    frames, stacks = comp.get("frames"), comp.get("stacks")
    check(name + ": compact has frame and stack tables", comp.get("compact") is True and
          isinstance(frames, list) and isinstance(stacks, list))
    body = {k: v for k, v in comp.items() if k not in ("frames", "stacks", "compact")}
    check(name + ": no inline stack left", not has_inline_stack(body))
    seen = set()
    try:
        resolved = resolve(body, frames, stacks, seen)
    except (IndexError, TypeError) as e:
        check(name + ": every stack_id and frame index is in range", False, e)
        return
    check(name + ": resolved compact == default JSON", resolved == full,
          next((k for k in full if full.get(k) != resolved.get(k)), "key sets differ"))
    used_frames = {i for s in stacks for i in s}
    check(name + ": every listed stack is used", seen == set(range(len(stacks))),
          "%d listed, %d used" % (len(stacks), len(seen)))
    check(name + ": every listed frame is used", used_frames == set(range(len(frames))),
          "%d listed, %d used" % (len(frames), len(used_frames)))
    check(name + ": stacks listed once", len({tuple(s) for s in stacks}) == len(stacks))
    check(name + ": frames listed once", len({json.dumps(f, sort_keys=True) for f in frames}) == len(frames))
    print("%s: %d bytes -> %d bytes compact (%d stacks, %d frames)" % (name, full_size, comp_size, len(stacks), len(frames)))
    return full, comp, full_size, comp_size


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 2
    ms, gen, work = sys.argv[1:4]
    demo = sys.argv[4] if len(sys.argv) > 4 else None
    os.makedirs(work, exist_ok=True)
    example = os.path.join(work, "example.msp")
    subprocess.run([gen, "example", "0", example], check=True)
    compare(ms, "example", example, work)
    empty = os.path.join(work, "empty.msp")
    subprocess.run([gen, "example", "1", empty], check=True)
    compare(ms, "empty", empty, work)

    big = os.path.join(work, "synthetic.msp")
    subprocess.run([gen, "synthetic", big, "20000", "5000", "12"], check=True)
    res = compare(ms, "synthetic", big, work)
    if res:
        check("synthetic: compact is under a third of the size", res[3] * 3 < res[2], "%d vs %d" % (res[3], res[2]))
        check("synthetic: leaks and sites share stack ids", len(res[1]["stacks"]) <= 5000)
    top = compare(ms, "synthetic-top10", big, work, "--top", "10")
    if top:
        full, comp = top[0], top[1]
        check("--top 10: only the stacks of what is listed",
              len(comp["sites"]) == 10 and len(comp["stacks"]) <= 20 + len(comp.get("findings", [])), len(comp["stacks"]))

    if demo:
        # A real run: memscope's own frames are hidden, so stacks can merge.
        dmsp = os.path.join(work, "demo.msp")
        if os.path.exists(dmsp):
            os.unlink(dmsp)
        r = subprocess.run([ms, "run", "-o", dmsp, "--", demo], capture_output=True, text=True)
        check("demo: memscope run", r.returncode == 0 and os.path.exists(dmsp), r.stderr)
        if os.path.exists(dmsp):
            compare(ms, "demo", dmsp, work)

    r = subprocess.run([ms, "convert", example, "-o", os.path.join(work, "x.svg"), "--compact"],
                       capture_output=True, text=True)
    check("--compact with svg is a usage error", r.returncode == 2 and "--compact" in r.stderr, r.stderr)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
