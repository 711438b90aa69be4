#!/usr/bin/env python3
"""formats_test.py — the ecosystem formats of `memscope convert`, read by their real tools.

  formats_test.py pprof MEMSCOPE GOLDEN_PROG FORMATS_PROG WORKDIR
      runs both programs on memscope, converts to .pb.gz and reads it with `go tool pprof`
      (-top, -traces, every -sample_index): totals equal the dump's own figures (JSON), the
      top function is the dump's top site, inline chains show up. Exit 77 (a ctest SKIP) when
      Go is not installed.
  formats_test.py massif MEMSCOPE GOLDEN_PROG WORKDIR
      converts to massif.out.* (format from the name) and runs ms_print: the peak figure, the
      peak tree's top function, the final snapshot's total, and timeline points (with their
      biggest sites) as detailed snapshots. Exit 77 without ms_print.
  formats_test.py folded MEMSCOPE GOLDEN_PROG FORMATS_PROG WORKDIR
      merged lines (each stack once), full C++ names (> 1023 bytes), every --value and what it
      adds up to, usage errors.
  formats_test.py location MEMSCOPE FORMATS_PROG FORMATS_SRC WORKDIR
      the `location` rule on a C++ program: std::vector growth, std::map nodes and std::string
      buffers are located at the user's line that called them, not in new_allocator.h, while
      the full stacks keep the standard library frames.
  formats_test.py typenames MEMSCOPE WORKDIR PROG...
      MS_TRACK type names from DWARF: each typenames_{c,cpp}_{g,nog,g2} program (test/cli/
      typenames_prog.*, built with -g, without, and -g -O2) run and converted; variables'
      types are the pointee names with debug info, "?" without (except _Generic's "int *").
  formats_test.py corpus MEMSCOPE CORPUS_DIR WORKDIR
      every file of the reader's fuzz corpus converted to pprof and massif: exit 0 or 1,
      one clean line on error, no sanitizer report (under ASan in `make test`).
  formats_test.py golden MEMSCOPE GEN_DUMP GOLDEN_DIR WORKDIR
      the fixed example dump (gen_dump example 0, --no-symbols) as folded (every --value),
      massif and pprof (decoded by pprof_decode.py), compared byte for byte with
      test/golden/example.*; MEMSCOPE_UPDATE_GOLDEN=1 rewrites them.
Prints one line per check and "N passed, N failed"; exits 1 on any failure.
"""
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pprof_decode  # noqa: E402

from checks import check, summary  # noqa: E402
from checks import run as _run  # noqa: E402

SKIP = 77


def run(args, **kw):
    return _run(args, timeout=300, **kw)


def record(ms, prog, work, name):
    """Run prog on memscope (every allocation) and return (dump path, its JSON)."""
    os.makedirs(work, exist_ok=True)
    dump = os.path.join(work, name + ".msp")
    if os.path.exists(dump):
        os.unlink(dump)
    r = run([ms, "run", "-q", "-o", dump, "--", prog])
    check(f"run {name}: exit 0 and a dump", r.returncode == 0 and os.path.exists(dump), r.stderr)
    js = os.path.join(work, name + ".json")
    r = run([ms, "convert", dump, "-o", js])
    check(f"convert {name} to json", r.returncode == 0, r.stderr)
    return dump, json.load(open(js))


def top_function(doc, key):
    """Function of the first frame of the site with the largest `key`."""
    site = max(doc["sites"], key=lambda s: s[key])
    return site["stack"][0]["function"] if site["stack"] else None


# ------------------------------------------------------------------ pprof

def pprof_top(path, index):
    """(total, [(flat, function)]) from `go tool pprof -top -unit=B`."""
    r = run(["go", "tool", "pprof", "-top", "-unit=B", "-nodecount=1000", f"-sample_index={index}", path])
    if r.returncode != 0:
        return None, [], r.stderr
    m = re.search(r"Total samples = (\d+)", r.stdout)
    total = int(m.group(1)) if m else None
    rows = []
    for line in r.stdout.splitlines():
        mm = re.match(r"^\s*(\d+)B?\s+[\d.]+%\s+[\d.]+%\s+\d+B?\s+[\d.]+%\s+(.*)$", line)
        if mm:
            rows.append((int(mm.group(1)), mm.group(2).strip()))
    return total, rows, r.stderr


def pprof(ms, golden_prog, formats_prog, work):
    if not shutil.which("go") or run(["go", "tool", "pprof", "-h"]).returncode not in (0, 2):
        print("SKIP: `go tool pprof` is not installed (Debian package golang-go)")
        return SKIP
    dump, doc = record(ms, golden_prog, work, "golden")
    pb = os.path.join(work, "golden.pb.gz")
    r = run([ms, "convert", dump, "-o", pb])   # format from the .pb.gz name
    check("convert -o X.pb.gz: exit 0", r.returncode == 0, r.stderr)
    check("X.pb.gz is gzip", open(pb, "rb").read(2) == b"\x1f\x8b")
    sites = doc["sites"]
    want = {"alloc_space": sum(s["total_bytes"] for s in sites),
            "alloc_objects": sum(s["total_count"] for s in sites),
            "inuse_space": sum(s["bytes"] for s in sites),
            "inuse_objects": sum(s["count"] for s in sites)}
    check("dump: inuse bytes are the leaked bytes", want["inuse_space"] == doc["summary"]["leaked_bytes"] == 329,
          str(want))
    for index, total in want.items():
        got, rows, err = pprof_top(pb, index)
        check(f"pprof -top -sample_index={index}: total {total}", got == total, f"got {got} {err}")
    _, rows, _ = pprof_top(pb, "inuse_space")
    check("pprof top inuse_space function = the dump's top live site (leak_three)",
          rows and rows[0][1] == top_function(doc, "bytes") == "leak_three" and rows[0][0] == 300, str(rows[:3]))
    _, rows, _ = pprof_top(pb, "alloc_space")
    check("pprof top alloc_space function = the dump's top site by bytes allocated (grow)",
          rows and rows[0][1] == top_function(doc, "total_bytes") == "grow", str(rows[:3]))
    r = run(["go", "tool", "pprof", "-traces", "-sample_index=alloc_objects", pb])
    traces = r.stdout.split("-----------+")
    vals = [int(m.group(1)) for t in traces[1:] for m in [re.match(r"\s*(\d+)", t.strip("-\n "))] if m]
    check("pprof -traces: one trace per stack, counts add up to the allocations",
          r.returncode == 0 and sum(vals) == want["alloc_objects"] and len(vals) == len(sites), f"{vals} {r.stderr}")
    check("pprof -traces: main calls leak_three", re.search(r"leak_three\n\s+main\n", r.stdout) is not None)
    p = pprof_decode.load(pb)
    st = [s.decode() for s in p["string_table"]]
    check("profile: period = sample rate, period_type space/bytes",
          p["period"][0] == doc["summary"]["sample_rate"] and
          [st[p["period_type"][0]["type"][0]], st[p["period_type"][0]["unit"][0]]] == ["space", "bytes"])
    exe_maps = [m for m in p["mapping"] if st[m["filename"][0]] == doc["process"]["exe"]]
    mods = {m["path"]: m for m in doc.get("modules", [])}
    bid = mods.get(doc["process"]["exe"], {}).get("build_id")
    check("profile: the program's mapping carries its build id",
          exe_maps and bid and st[exe_maps[0]["build_id"][0]] == bid, f"{bid}")
    check("profile: time = process start + dump time",
          p["time_nanos"][0] > 1_600_000_000 * 10**9 and p["duration_nanos"][0] > 0)

    # C++ at -O2: inline chains as several lines of one location.
    dump2, doc2 = record(ms, formats_prog, work, "formats")
    pb2 = os.path.join(work, "formats.pb.gz")
    r = run([ms, "convert", dump2, "-o", pb2, "--format", "pprof"])
    check("convert --format pprof (C++): exit 0", r.returncode == 0, r.stderr)
    r = run(["go", "tool", "pprof", "-traces", pb2])
    check("pprof -traces: make_node inlined into build_nodes",
          re.search(r"make_node \(inline\)\n\s+build_nodes\(\)\n\s+main", r.stdout) is not None, r.stdout[-1500:])
    got, rows, err = pprof_top(pb2, "inuse_space")
    check("pprof (C++): inuse total = live bytes", got == doc2["summary"]["live_bytes"], f"{got} {doc2['summary']['live_bytes']}")
    p2 = pprof_decode.load(pb2)
    multi = [l for l in p2["location"] if len(l.get("line", [])) > 1]
    check("profile: locations with inline chains (several lines)", len(multi) >= 2, str(len(multi)))
    r = run([ms, "convert", dump2, "-o", os.path.join(work, "nosym.pb.gz"), "--no-symbols"])
    got, rows, err = pprof_top(os.path.join(work, "nosym.pb.gz"), "inuse_space")
    check("pprof --no-symbols: still readable, same total", r.returncode == 0 and got == doc2["summary"]["live_bytes"], err)
    return 0


# ------------------------------------------------------------------ massif

def massif(ms, golden_prog, work):
    if not shutil.which("ms_print"):
        print("SKIP: ms_print is not installed (Debian package valgrind)")
        return SKIP
    dump, doc = record(ms, golden_prog, work, "golden")
    out = os.path.join(work, "massif.out.golden")
    r = run([ms, "convert", dump, "-o", out])   # format from the massif.out.* name
    check("convert -o massif.out.X: exit 0", r.returncode == 0, r.stderr)
    r = run(["ms_print", out])
    check("ms_print reads it", r.returncode == 0 and "Detailed snapshots" in r.stdout, r.stderr)
    text = r.stdout
    peak = doc["summary"]["peak_live_bytes"]
    m = re.search(r"Detailed snapshots: \[([^\]]*)\]", text)
    peak_num = re.search(r"(\d+) \(peak\)", m.group(1)).group(1) if m else None
    row = re.search(rf"^\s*{peak_num}\s+[\d,]+\s+([\d,]+)\s", text, re.M) if peak_num else None
    check(f"ms_print: the peak snapshot's total is the dump's peak ({peak})",
          row and int(row.group(1).replace(",", "")) == peak, row.group(0) if row else text[:500])
    # The graph's top label is the peak in KB (ms_print scales): 32329 B = 31.57 KB.
    check("ms_print: graph peak", f"{peak / 1024:.2f}^" in text, text[:400])
    tree = text[row.end():] if row else ""
    first = re.search(r"^->[\d.]+% \(([\d,]+)B\) 0x[0-9a-f]+: (\S+)", tree, re.M)
    want = top_function(doc, "peak_bytes")
    check(f"ms_print: peak tree's top function is the dump's top site at the peak ({want})",
          first and first.group(2) == want, first.group(0) if first else tree[:400])
    check("ms_print: the peak tree starts at 100% of the peak",
          re.search(rf"^100\.00% \({peak:,}B\) \(heap allocation functions\)", tree, re.M) is not None)
    # Format-3 timeline points list their biggest sites: every snapshot is a detailed one.
    if doc["timeline"] and "sites" in doc["timeline"][0]:
        n = re.search(r"Number of snapshots: (\d+)", text)
        det = m.group(1).split(",") if m else []
        check("ms_print: timeline points with their sites are detailed snapshots",
              n and len(det) == int(n.group(1)), (n.group(0) if n else None, m.group(0) if m else None))
    live = doc["summary"]["live_bytes"]
    check(f"ms_print: last snapshot holds the live bytes at the dump ({live})",
          re.search(rf"^100\.00% \({live:,}B\) \(heap allocation functions\)", text, re.M) is not None)
    return 0


# ------------------------------------------------------------------ folded

def folded_lines(text):
    out = []
    for line in text.splitlines():
        stack, _, n = line.rpartition(" ")
        out.append((stack, int(n)))
    return out


def folded(ms, golden_prog, formats_prog, work):
    dump, doc = record(ms, golden_prog, work, "golden")
    sums = {"live": ("bytes", doc["sites"]), "bytes": ("total_bytes", doc["sites"]),
            "count": ("total_count", doc["sites"]), "peak": ("peak_bytes", doc["sites"]),
            "leaked": ("bytes", doc["leaks"]), "live-count": ("count", doc["sites"])}
    for value, (key, items) in sums.items():
        r = run([ms, "convert", dump, "-o", "-", "--format", "folded", "--value", value])
        lines = folded_lines(r.stdout)
        stacks = [s for s, _ in lines]
        check(f"folded --value {value}: adds up to the dump's figure",
              r.returncode == 0 and sum(n for _, n in lines) == sum(i[key] for i in items), r.stderr)
        check(f"folded --value {value}: each stack once", len(stacks) == len(set(stacks)))
    r = run([ms, "convert", dump, "-o", "-", "--format", "folded", "--value", "count"])
    tiny = [n for s, n in folded_lines(r.stdout) if s.endswith(";tiny")]
    check("folded: tiny()'s two sites (lines 33 and 34) merged into one line of 2001",
          tiny == [2001], r.stdout)
    r2 = run([ms, "convert", dump, "-o", "-", "--format", "folded", "--weight", "total"])
    r3 = run([ms, "convert", dump, "-o", "-", "--format", "folded", "--value", "bytes"])
    check("folded: --weight total is --value bytes", r2.stdout == r3.stdout and r2.returncode == 0)
    r = run([ms, "convert", dump, "-o", "x.folded", "--value", "mass"])
    check("folded: unknown --value is a usage error", r.returncode == 2 and "mass" in r.stderr, r.stderr)
    r = run([ms, "convert", dump, "-o", "x.json", "--value", "bytes"])
    check("--value with json is a usage error", r.returncode == 2, r.stderr)

    dump2, doc2 = record(ms, formats_prog, work, "formats")
    r = run([ms, "convert", dump2, "-o", os.path.join(work, "formats.folded")])
    lines = folded_lines(open(os.path.join(work, "formats.folded")).read()) if r.returncode == 0 else []
    longest = max((len(f) for s, _ in lines for f in s.split(";")), default=0)
    check("folded: a 1500+ character C++ name is kept whole", longest > 1500 and
          any(s.endswith("a_type_with_a_rather_long_name_for_the_folded_name_test>, "
                         "Tpl<a_type_with_a_rather_long_name_for_the_folded_name_test, "
                         "a_type_with_a_rather_long_name_for_the_folded_name_test, "
                         "a_type_with_a_rather_long_name_for_the_folded_name_test> > > >()")
              for s, _ in lines), str(longest))
    check("folded (C++): adds up to the live bytes", sum(n for _, n in lines) == doc2["summary"]["live_bytes"])
    return 0


# ------------------------------------------------------------------ location

def location(ms, prog, src, work):
    dump, doc = record(ms, prog, work, "formats")
    lines = open(src).read().splitlines()
    def line_of(text):
        return next(i + 1 for i, l in enumerate(lines) if text in l)
    name = os.path.basename(src)
    want = {"vector": f"build_table() ({src}:{line_of('table->push_back(i)')})",
            "map": f"fill_names() ({src}:{line_of('(*names)[i] = std::string')})",
            "leak": f"leak_block() ({src}:{line_of('sink = malloc(4096)')})"}
    sites = sorted(doc["sites"], key=lambda s: -s["bytes"])
    vec = sites[0]
    check("location: std::vector growth points at the push_back line in build_table()",
          vec["location"] == want["vector"], f"{vec['location']!r} want {want['vector']!r}")
    check("location: the full stack keeps the standard library frames",
          any("/include/c++/" in (f["file"] or "") or (f["function"] or "").startswith(("std::", "void std::"))
              for f in vec["stack"]), json.dumps(vec["stack"][:2]))
    str_sites = [s for s in doc["sites"] if any("basic_string" in (f["function"] or "") for f in s["stack"][:2])]
    check("location: std::string buffers point at fill_names()'s line",
          str_sites and all(s["location"] == want["map"] for s in str_sites),
          str([s["location"] for s in str_sites]))
    # The map's node allocation is inlined into fill_names(): its innermost frames are the
    # standard library's (inlined frames of their own, or fill_names() at a line of
    # new_allocator.h when the converter shows no inline frames), fill_names() follows.
    def in_std(f):
        return "/include/c++/" in (f["file"] or "") or (f["function"] or "").startswith(("std::", "void std::", "__gnu_cxx::"))
    node_sites = [s for s in doc["sites"] if s["stack"] and in_std(s["stack"][0]) and
                  any(f["function"] == "fill_names()" for f in s["stack"]) and
                  "_Rb_tree" in (s["stack"][0]["function"] or "") + (s["stack"][0]["file"] or "")]
    check("location: std::map nodes (inlined into fill_names) point at fill_names()'s line",
          node_sites and all(s["location"] == want["map"] for s in node_sites),
          str([s["location"] for s in node_sites]))
    check("location: a plain malloc keeps its own line",
          any(l["location"] == want["leak"] for l in doc["leaks"]), str([l["location"] for l in doc["leaks"]]))
    check("location: no site is located in a C++ header",
          not any("/include/c++/" in (s["location"] or "") for s in doc["sites"]),
          str([s["location"] for s in doc["sites"] if "/include/c++/" in (s["location"] or "")]))
    r = run([ms, "report", dump])
    check("report: findings/leaks name the user's line, not new_allocator.h",
          r.returncode == 0 and "new_allocator.h" not in "\n".join(
              l for l in r.stdout.splitlines() if l.startswith("  ") and " at " not in l and "  at" not in l),
          r.stdout[:800])
    return 0


# ------------------------------------------------------------------ typenames

TYPES_C = {"p": "struct point", "q": "point_t", "v": "vec4", "pp": "struct point",
           "cp": "const struct point", "i": "int *"}
TYPES_CPP = {"v": "std::vector<int, std::allocator<int> >", "p": "geo::point", "b": "geo::box<double>",
             "t": "pt", "m": "std::map<std::__cxx11::basic_string<char, std::char_traits<char>, "
             "std::allocator<char> >, int, std::less<std::__cxx11::basic_string<char, "
             "std::char_traits<char>, std::allocator<char> > >, std::allocator<std::pair<const "
             "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >, int> > >"}


def typenames(ms, work, *progs):
    for prog in progs:
        name = os.path.basename(prog)
        dump, doc = record(ms, prog, work, name)
        want = dict(TYPES_CPP if "_cpp_" in name else TYPES_C)
        if name.endswith("_nog"):   # no DWARF: honest "?", compile-time names stay
            want = {k: (t if t == "int *" else "?") for k, t in want.items()}
        got = {v["name"]: v["type"] for v in doc["variables"]}
        check(f"{name}: variable types", got == want,
              "\n" + "\n".join(f"  {k}: want {want.get(k)!r} got {got.get(k)!r}"
                                 for k in sorted(set(want) | set(got)) if want.get(k) != got.get(k)))
        r = run([ms, "convert", dump, "-o", "-", "-f", "json", "--no-symbols"])
        nosym = {v["name"]: v["type"] for v in json.loads(r.stdout)["variables"]} if r.returncode == 0 else {}
        check(f"{name}: --no-symbols keeps '?'", all(t in ("?", "int *") for t in nosym.values()) and nosym,
              str(nosym))
    return 0


# ------------------------------------------------------------------ corpus

def corpus(ms, cdir, work):
    os.makedirs(work, exist_ok=True)
    files = sorted(os.path.join(cdir, f) for f in os.listdir(cdir))
    check("corpus is there", len(files) > 0, cdir)
    for f in files:
        for out in ("c.pb.gz", "massif.out.c"):
            r = run([ms, "convert", f, "-o", os.path.join(work, out), "-q"])
            sane = (r.returncode == 0 or (r.returncode == 1 and len(r.stderr.splitlines()) == 1)) and \
                "Sanitizer" not in r.stderr and "runtime error" not in r.stderr
            check(f"corpus {os.path.basename(f)} -> {out}: exit 0/1 cleanly", sane,
                  f"{r.returncode} {r.stderr[-400:]!r}")
    return 0


# ------------------------------------------------------------------ golden

def golden(ms, gen, gdir, work):
    os.makedirs(work, exist_ok=True)
    dump = os.path.join(work, "example.msp")
    subprocess.run([gen, "example", "0", dump], check=True)
    outputs = {}
    for value in ("live", "bytes", "count", "peak", "leaked"):
        r = run([ms, "convert", dump, "-o", "-", "-f", "folded", "--value", value, "--no-symbols"])
        check(f"golden: folded --value {value} converts", r.returncode in (0, 1), r.stderr)
        outputs[f"example.folded.{value}"] = r.stdout if r.returncode == 0 else f"exit {r.returncode}: {r.stderr}"
    r = run([ms, "convert", dump, "-o", "-", "-f", "massif", "--no-symbols"])
    check("golden: massif converts", r.returncode == 0, r.stderr)
    outputs["example.massif"] = r.stdout
    pb = os.path.join(work, "example.pb.gz")
    r = run([ms, "convert", dump, "-o", pb, "--no-symbols"])
    check("golden: pprof converts", r.returncode == 0, r.stderr)
    outputs["example.pprof.txt"] = pprof_decode.text(pprof_decode.load(pb)) if r.returncode == 0 else ""
    r2 = run([ms, "convert", dump, "-o", pb + "2.pb.gz", "--no-symbols"])
    check("golden: pprof output is reproducible byte for byte",
          r2.returncode == 0 and open(pb, "rb").read() == open(pb + "2.pb.gz", "rb").read())
    if os.environ.get("MEMSCOPE_UPDATE_GOLDEN") == "1":
        for name, text in outputs.items():
            open(os.path.join(gdir, name), "w").write(text)
        print(f"updated {len(outputs)} files in {gdir}")
        return 0
    for name, text in outputs.items():
        path = os.path.join(gdir, name)
        want = open(path).read() if os.path.exists(path) else None
        check(f"golden: {name}", want == text,
              "missing" if want is None else f"\n--- want\n{want[:1500]}--- got\n{text[:1500]}")
    return 0


def main():
    a = sys.argv[1:]
    modes = {"pprof": (pprof, 5), "massif": (massif, 4), "folded": (folded, 5), "golden": (golden, 5),
             "location": (location, 5), "corpus": (corpus, 4)}
    if a and a[0] == "typenames" and len(a) >= 4:
        modes["typenames"] = (typenames, len(a))
    if not a or a[0] not in modes or len(a) != modes[a[0]][1]:
        print(__doc__)
        return 2
    rc = modes[a[0]][0](*a[1:])
    if rc == SKIP:
        return SKIP
    return summary()


if __name__ == "__main__":
    sys.exit(main())
