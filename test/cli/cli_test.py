#!/usr/bin/env python3
"""cli_test.py — end-to-end tests of the `memscope` command (export/cli/).

  cli_test.py errors  MEMSCOPE GEN_DUMP WORKDIR [CORPUS_DIR]
      exit codes and one-line messages for every kind of bad input and usage error,
      --help on every command, conversions of msdump's example dumps (valid JSON, folded),
      and `diff` matching sites across an ASLR shift; every file of the reader's fuzz corpus
      through report/convert/diff (exit 0 or 1, no sanitizer report when built with ASan).
  cli_test.py golden  MEMSCOPE GOLDEN_PROG GOLDEN_DIR WORKDIR
      `memscope run` on the fixed program test/cli/golden_prog.c, then `convert` to JSON and
      `report`, compared on stable fields only with test/golden/golden_prog.{json,report.txt}.
      MEMSCOPE_UPDATE_GOLDEN=1 rewrites the expected files instead.

Prints one line per check and "N passed, N failed" at the end; exits 1 on any failure.
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, summary  # noqa: E402
from checks import run as _run  # noqa: E402



def run(args, **kw):
    return _run(args, timeout=120, **kw)


def bad_input(ms, name, path, words, cmd="report"):
    """A bad file: exit 1, exactly one stderr line naming the file and the problem, no crash."""
    r = run([ms, cmd, path] + (["-o", path + ".json"] if cmd == "convert" else []))
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    check(f"{name}: exit 1", r.returncode == 1, f"got {r.returncode} stderr={r.stderr!r}")
    check(f"{name}: one stderr line", len(lines) == 1, repr(r.stderr))
    check(f"{name}: names the file", bool(lines) and path in lines[0], repr(r.stderr))
    ok = bool(lines) and any(w in lines[0].lower() for w in words)
    check(f"{name}: says why ({'/'.join(words)})", ok, repr(r.stderr))
    if cmd == "convert":
        check(f"{name}: no output left", not os.path.exists(path + ".json"))


def corpus(ms, cdir, work):
    """Every fuzz-corpus file, valid or not: report/convert/diff exit 0 or 1, never crash."""
    files = sorted(os.path.join(cdir, f) for f in os.listdir(cdir)) if os.path.isdir(cdir) else []
    for f in files:
        for args in (["report", f], ["convert", f, "-o", os.path.join(work, "c.json")],
                     ["convert", f, "-o", os.path.join(work, "c.folded")], ["diff", f, f]):
            r = run([ms] + args)
            sane = r.returncode in (0, 1) and "Sanitizer" not in r.stderr and "runtime error" not in r.stderr
            check(f"corpus {os.path.basename(f)}: {args[0]} exits 0/1 cleanly", sane,
                  f"{r.returncode} {r.stderr[-400:]!r}")
            if r.returncode == 0 and args[0] == "convert" and args[2].endswith(".json"):
                try:
                    json.load(open(args[2], encoding="utf-8"))
                    check(f"corpus {os.path.basename(f)}: JSON parses", True)
                except ValueError as e:
                    check(f"corpus {os.path.basename(f)}: JSON parses", False, str(e))


def errors(ms, gen, work, cdir=None):
    os.makedirs(work, exist_ok=True)
    if cdir:
        corpus(ms, cdir, work)
    good = os.path.join(work, "example.msp")
    subprocess.run([gen, "example", "0", good], check=True)
    data = open(good, "rb").read()

    # --- bad input files
    bad_input(ms, "missing", os.path.join(work, "does-not-exist.msp"), ["cannot open", "no such"])
    empty = os.path.join(work, "empty.msp")
    open(empty, "wb").close()
    bad_input(ms, "empty", empty, ["empty"])
    trunc = os.path.join(work, "truncated.msp")
    open(trunc, "wb").write(data[: len(data) // 2])
    bad_input(ms, "truncated", trunc, ["truncated"])
    bad_input(ms, "truncated (convert)", trunc, ["truncated"], cmd="convert")
    corrupt = os.path.join(work, "corrupt.msp")
    b = bytearray(data)
    for i in range(40, len(b), 97):
        b[i] = 0xC1  # never a valid MessagePack type byte
    open(corrupt, "wb").write(bytes(b))
    bad_input(ms, "corrupt", corrupt, ["invalid", "expected", "corrupt", "bad", "truncated", "range"])
    foreign = os.path.join(work, "foreign.msp")
    open(foreign, "wb").write(open("/bin/sh", "rb").read()[:4096])
    bad_input(ms, "foreign (ELF)", foreign, ["not a memscope dump"])
    text = os.path.join(work, "text.msp")
    open(text, "w").write("hello, this is not a dump\n")
    bad_input(ms, "foreign (text)", text, ["not a memscope dump", "invalid", "expected"])
    newer = os.path.join(work, "newer.msp")
    b = bytearray(data)
    check("example starts with the magic", b[1:10] == b"\xa8MEMSCOPE")
    b[10] = 99  # format version (positive fixint right after the magic)
    open(newer, "wb").write(bytes(b))
    bad_input(ms, "newer version", newer, ["newer"])
    bad_input(ms, "directory", work, ["not a regular file", "directory"])
    r = run([ms, "diff", good, trunc])
    check("diff with a bad NEW: exit 1", r.returncode == 1 and trunc in r.stderr, r.stderr)

    # --- usage errors: exit 2
    for args, what in [([], "no command"), (["frobnicate"], "unknown command"),
                       (["convert", good], "convert without -o"),
                       (["convert", good, "-o", os.path.join(work, "x.unknownext")], "unknown extension"),
                       (["convert", good, "-o", "x.json", "--format", "pdf"], "unknown format"),
                       (["convert", good, "-o", "x.json", "--bogus"], "unknown option"),
                       (["convert", good, "-o", "x.folded", "--weight", "mass"], "unknown weight"),
                       (["report"], "report without DUMP"), (["report", good, good], "report with 2 dumps"),
                       (["diff", good], "diff with one dump"), (["run"], "run without CMD"),
                       (["run", "--sample-rate", "lots", "--", "true"], "bad sample rate"),
                       (["report", good, "--top"], "report --top without a value"),
                       (["diff", good, good, "--top", "0"], "diff --top 0"),
                       (["diff", "-f", "xml", good, good], "diff unknown format"),
                       (["run", "--bogus", "true"], "run unknown option"),
                       (["convert", good, "-o", "x.json", "--top", "lots"], "convert bad --top")]:
        r = run([ms] + args)
        check(f"usage: {what}: exit 2", r.returncode == 2, f"got {r.returncode} {r.stderr!r}")
        check(f"usage: {what}: message", r.stderr.startswith("memscope:") or "usage" in r.stderr, r.stderr)
        # Every command's usage errors are one line naming the command (cli_common.c's
        # _ms_cli_options); only a bare `memscope` prints the whole usage.
        if args and args[0] in ("convert", "report", "diff", "run"):
            check(f"usage: {what}: one line naming the command",
                  r.stderr.startswith(f"memscope: {args[0]}: ") and r.stderr.count("\n") == 1, r.stderr)

    # --- --help everywhere: exit 0, usage on stdout
    for cmd in [[], ["run"], ["convert"], ["report"], ["diff"]]:
        r = run([ms] + cmd + ["--help"])
        check(f"--help {' '.join(cmd) or '(top)'}", r.returncode == 0 and "usage: memscope" in r.stdout, r.stderr)
    r = run([ms, "help", "diff"])
    check("help diff", r.returncode == 0 and "memscope diff OLD NEW" in r.stdout)

    # --- good conversions
    for variant in ("0", "1", "2"):
        p = os.path.join(work, f"ex{variant}.msp")
        subprocess.run([gen, "example", variant, p], check=True)
        out = p + ".json"
        r = run([ms, "convert", p, "-o", out])
        check(f"convert example {variant}: exit 0", r.returncode == 0, r.stderr)
        try:
            doc = json.load(open(out, encoding="utf-8"))
            need = ["format_version", "process", "summary", "sites", "leaks", "variables", "errors",
                    "timeline", "size_classes", "threads", "findings", "modules", "crossings",
                    "fragmentation", "tags"]
            missing = [k for k in need if k not in doc]
            check(f"convert example {variant}: valid JSON with all sections", not missing, str(missing))
            check(f"convert example {variant}: summary fields",
                  all(k in doc["summary"] for k in ["total_allocations", "total_frees", "total_bytes",
                                                   "live_bytes", "live_allocations", "peak_live_bytes",
                                                   "sample_rate"]))
        except Exception as e:  # noqa: BLE001 - any parse error is the failure being tested
            check(f"convert example {variant}: valid JSON", False, str(e))
        r = run([ms, "convert", p, "-o", "-", "--format", "folded"])
        check(f"folded example {variant}", r.returncode == 0 and
              all(re.match(r"^.* \d+$", l) for l in r.stdout.splitlines()), r.stdout[:200])
        r = run([ms, "report", p])
        check(f"report example {variant}", r.returncode == 0 and "SUMMARY" in r.stdout, r.stderr)
    r = run([ms, "convert", good, "-o", os.path.join(work, "nodir", "x.json")])
    check("unwritable output: exit 1", r.returncode == 1 and "x.json" in r.stderr, r.stderr)
    r = run([ms, "convert", good, "-o", os.path.join(work, "x.html")])
    check("html: works or says it is not available",
          (r.returncode == 0 and os.path.getsize(os.path.join(work, "x.html")) > 0) or
          (r.returncode == 2 and "not available" in r.stderr), r.stderr)

    # --- a scaled-down large dump (the full 1M/100k measurement is in docs/CLI.md)
    big = os.path.join(work, "big.msp")
    subprocess.run([gen, "synthetic", big, "200000", "20000", "16"], check=True)
    r = run([ms, "report", big, "--top", "3"])
    check("large dump: report", r.returncode == 0 and "LEAKS (" in r.stdout and "stacks: 20000" in r.stdout,
          r.stderr + r.stdout[:300])
    r = run([ms, "convert", big, "-o", os.path.join(work, "big.json"), "--top", "50"])
    doc = json.load(open(os.path.join(work, "big.json"))) if r.returncode == 0 else {}
    check("large dump: convert --top 50", r.returncode == 0 and len(doc.get("sites", [])) == 50 and
          doc["summary"]["live_allocations"] == 200000 and doc["sites"][0]["stack"][0]["line"], r.stderr)

    # --- diff across an ASLR shift: every site matches, the grown one comes first
    old, new = os.path.join(work, "old.msp"), os.path.join(work, "new.msp")
    subprocess.run([gen, "pair", old, new, "0x7654000"], check=True)
    r = run([ms, "diff", old, new, "--format", "json"])
    check("diff: exit 0", r.returncode == 0, r.stderr)
    d = json.loads(r.stdout)
    check("diff: all sites matched across ASLR", d["only_old"] == 0 and d["only_new"] == 0 and d["matched"] > 0,
          str({k: d[k] for k in ("matched", "only_old", "only_new")}))
    check("diff: grown site first", d["sites"][0]["delta_bytes"] == 1 << 20 and d["sites"][0]["delta_count"] == 10,
          json.dumps(d["sites"][:1]))
    r = run([ms, "diff", old, new])
    check("diff text", r.returncode == 0 and "+1.0 MiB" in r.stdout and "matched" in r.stdout, r.stdout[:300])
    r = run([ms, "diff", old, new, "--no-symbols", "--format", "json"])
    d = json.loads(r.stdout)
    check("diff without symbols still matches (module+offset)", d["only_old"] == 0 and d["matched"] > 0)


def base(p):
    return os.path.basename(p) if p else p


def stable_json(doc, prog):
    """The parts of the JSON that do not depend on the machine, libc or timing."""
    def ours(stack):
        return [[f["function"], base(f["file"]), f["line"]] for f in stack if base(f["file"]) == prog]

    out = {
        "format_version": doc["format_version"],
        "reason": doc["process"]["reason"],
        "exe": base(doc["process"]["exe"]),
        "sample_rate": doc["summary"]["sample_rate"],
        "leaked_bytes": doc["summary"]["leaked_bytes"],
        "leaked_allocations": doc["summary"]["leaked_allocations"],
        "leaks": [{"bytes": l["bytes"], "count": l["count"], "kind": l["kind"], "stack": ours(l["stack"])}
                  for l in doc["leaks"] if ours(l["stack"])],
        "sites": sorted([{"total_bytes": s["total_bytes"], "total_count": s["total_count"],
                          "bytes": s["bytes"], "count": s["count"], "stack": ours(s["stack"])}
                         for s in doc["sites"] if ours(s["stack"])], key=lambda s: json.dumps(s)),
        "findings": sorted([[f["kind"], re.sub(r"\(/[^ ]*/", "(", f["location"])]
                            for f in doc["findings"] if prog in (f["location"] or "")]),
    }
    return out


def stable_report(text, prog):
    """LEAKS and FINDINGS sections, with absolute paths shortened to file names."""
    keep, sec = [], None
    for line in text.splitlines():
        if line and not line.startswith(" "):
            sec = line.split(" (")[0]
            if sec in ("LEAKS", "FINDINGS"):
                keep.append(line)
            continue
        if sec in ("LEAKS", "FINDINGS") and (prog in line or re.match(r"^  \d+\. ", line)):
            keep.append(re.sub(r"/[^ ()]*/", "", line).rstrip())
    return "\n".join(keep) + "\n"


def golden(ms, prog_path, gdir, work):
    os.makedirs(work, exist_ok=True)
    dump = os.path.join(work, "golden.msp")
    if os.path.exists(dump):
        os.unlink(dump)
    r = run([ms, "run", "--leak-check", "-o", dump, "--", prog_path])
    check("run golden_prog: exit 0", r.returncode == 0, r.stderr)
    check("run --leak-check: prints the classes", "definitely lost" in r.stderr, r.stderr)
    check("run: prints the dump path", dump in r.stderr, r.stderr)
    check("run: prints a summary", "leaked" in r.stderr, r.stderr)
    if not os.path.exists(dump):
        return
    out = os.path.join(work, "golden.json")
    r = run([ms, "convert", dump, "-o", out])
    check("convert golden: exit 0", r.returncode == 0, r.stderr)
    prog = os.path.basename(prog_path) + ".c"
    got = stable_json(json.load(open(out)), prog)
    r = run([ms, "report", dump])
    check("report golden: exit 0", r.returncode == 0, r.stderr)
    got_report = stable_report(r.stdout, prog)
    gj, gr = os.path.join(gdir, "golden_prog.json"), os.path.join(gdir, "golden_prog.report.txt")
    if os.environ.get("MEMSCOPE_UPDATE_GOLDEN") == "1":
        os.makedirs(gdir, exist_ok=True)
        json.dump(got, open(gj, "w"), indent=1, sort_keys=True)
        open(gj, "a").write("\n")
        open(gr, "w").write(got_report)
        print(f"updated {gj} and {gr}")
        return
    want = json.load(open(gj))
    for k in sorted(set(want) | set(got)):
        check(f"golden json: {k}", want.get(k) == got.get(k),
              f"\n  want {json.dumps(want.get(k))}\n  got  {json.dumps(got.get(k))}")
    want_report = open(gr).read()
    check("golden report: LEAKS and FINDINGS", want_report == got_report,
          f"\n--- want\n{want_report}--- got\n{got_report}")

    # run keeps the program's exit status, and a killed program gives 128+signal.
    r = run([ms, "run", "-q", "-o", os.path.join(work, "st.%p.msp"), "--", "sh", "-c", "exit 3"])
    check("run keeps the exit status", r.returncode == 3, f"{r.returncode} {r.stderr}")
    r = run([ms, "run", "-q", "-o", os.path.join(work, "kill.%p.msp"), "--", "sh", "-c", "kill -TERM $$"])
    check("run: killed program gives 128+signal", r.returncode == 128 + 15, f"{r.returncode} {r.stderr}")
    r = run([ms, "run", "--", "/nonexistent/program"])
    check("run: missing program gives 127", r.returncode == 127 and "/nonexistent/program" in r.stderr, r.stderr)

    # --sample-rate takes the sizes MEMSCOPE_SAMPLE_RATE takes (one parser, alloc/parse.c):
    # both spellings of 1 MiB reach the dump as the same rate.
    rates = {}
    for how in ["option", "env"]:
        d = os.path.join(work, f"rate_{how}.msp")
        if os.path.exists(d):
            os.unlink(d)
        args = ["--sample-rate", "1MiB"] if how == "option" else []
        env = dict(os.environ, MEMSCOPE_SAMPLE_RATE="1MiB") if how == "env" else None
        r = run([ms, "run", "-q", "-o", d] + args + ["--", prog_path], env=env)
        check(f"run with 1MiB ({how}): exit 0", r.returncode == 0, r.stderr)
        r = run([ms, "convert", d, "-o", d + ".json"])
        if r.returncode == 0:
            rates[how] = json.load(open(d + ".json"))["summary"]["sample_rate"]
    check("run --sample-rate 1MiB == MEMSCOPE_SAMPLE_RATE=1MiB == 1048576",
          rates.get("option") == rates.get("env") == 1048576, str(rates))


def main():
    if len(sys.argv) in (5, 6) and sys.argv[1] == "errors":
        errors(*sys.argv[2:])
    elif len(sys.argv) == 6 and sys.argv[1] == "golden":
        golden(*sys.argv[2:6])
    else:
        print(__doc__)
        return 2
    return summary()


if __name__ == "__main__":
    sys.exit(main())
