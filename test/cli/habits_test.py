#!/usr/bin/env python3
"""habits_test.py — the command line's habits: -V, report/diff --format json, run -q, run -o
checked before CMD starts, the progress line on a terminal, the installed man page (rendered
with `man -l`) and bash completion (suggests subcommands, options and formats), and that
`memscope COMMAND --help`, docs/CLI.md and the man page name the same options and formats.

  habits_test.py MEMSCOPE BUILD_DIR SOURCE_DIR GOLDEN_PROG WORKDIR GEN_DUMP

Exit 77 (a ctest SKIP) when man or bash is missing; 1 on any failed check.
"""
import json
import os
import pty
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, summary  # noqa: E402
from checks import run as _run  # noqa: E402



def run(args, **kw):
    return _run(args, timeout=300, **kw)


def on_pty(args, env):
    """Run with stderr on a pseudo-terminal; return (status, what stderr showed)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=slave, env=env)
    os.close(slave)
    out = b""
    while True:
        try:
            d = os.read(master, 65536)
        except OSError:
            break
        if not d:
            break
        out += d
    os.close(master)
    return p.wait(timeout=300), out.decode("utf-8", "replace")


def long_options(help_text):
    return sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", help_text)))


def complete(script, line, with_lib):
    """COMPREPLY of _memscope for the command line `line` (cursor at its end)."""
    words = line.split(" ")
    prelude = "source /usr/share/bash-completion/bash_completion 2>/dev/null; " if with_lib else ""
    arr = " ".join("'" + w + "'" for w in words)
    cmd = (f"{prelude}source '{script}'; COMP_WORDS=({arr}); COMP_CWORD={len(words) - 1}; "
           f"COMP_LINE='{line}'; COMP_POINT={len(line)}; _memscope; printf '%s\\n' \"${{COMPREPLY[@]}}\"")
    r = run(["bash", "-c", cmd])
    return r.stdout.split()


def main(ms, build, src, prog, work, gen=None):
    if not shutil.which("man") or not shutil.which("bash"):
        print("SKIP: man (man-db) or bash is not installed")
        return 77
    os.makedirs(work, exist_ok=True)
    dump = os.path.join(work, "g.msp")

    # -V is --version
    a, b = run([ms, "-V"]), run([ms, "--version"])
    check("-V prints the version like --version", a.returncode == 0 and a.stdout == b.stdout and
          a.stdout.startswith("memscope "), a.stdout + a.stderr)

    # run -q: nothing at all on success
    r = run([ms, "run", "-q", "-o", dump, "--", prog])
    check("run -q: silent, exit 0, dump written", r.returncode == 0 and r.stdout == "" and r.stderr == ""
          and os.path.exists(dump), repr(r.stderr))
    r = run([ms, "run", "-o", os.path.join(work, "loud.msp"), "--", prog])
    check("run without -q: summary and path", "leaked" in r.stderr and "loud.msp" in r.stderr, r.stderr)

    # run -o: an unusable folder is an error before CMD runs
    marker = os.path.join(work, "cmd-ran")
    for what, out in (("missing folder", os.path.join(work, "no", "such", "dir", "x.msp")),
                      ("folder is a file", os.path.join(dump, "x.msp"))):
        if os.path.exists(marker):
            os.unlink(marker)
        r = run([ms, "run", "-o", out, "--", "touch", marker])
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        check(f"run -o ({what}): exit 1, one line naming the folder, CMD not started",
              r.returncode == 1 and len(lines) == 1 and os.path.dirname(out) in lines[0] and
              not os.path.exists(marker), r.stderr)

    # report/diff --format json: parseable, same figures as convert
    conv = os.path.join(work, "g.json")
    run([ms, "convert", dump, "-o", conv])
    full = json.load(open(conv))
    r = run([ms, "report", dump, "--format", "json"])
    try:
        rep = json.loads(r.stdout)
    except ValueError:
        rep = {}
    check("report --format json: the convert JSON", r.returncode == 0 and rep.get("summary") == full["summary"]
          and len(rep.get("sites", [])) == len(full["sites"]), r.stderr)
    r = run([ms, "report", dump, "-f", "json", "--top", "2"])
    check("report -f json --top 2: two sites", r.returncode == 0 and len(json.loads(r.stdout)["sites"]) == 2)
    r = run([ms, "report", dump, "--format", "yaml"])
    check("report --format yaml: usage error", r.returncode == 2 and "yaml" in r.stderr, r.stderr)
    r = run([ms, "diff", dump, dump, "--format", "json"])
    check("diff --format json: parseable, nothing grew", r.returncode == 0 and
          json.loads(r.stdout)["delta_live_bytes"] == 0, r.stderr)

    # the CI-gate recipe of docs/USAGE.md, run as written on a grown and an unchanged pair
    usage = open(os.path.join(src, "docs", "USAGE.md")).read()
    m = re.search(r"<!-- ci-gate-recipe -->\n```sh\n(.*?)```", usage, re.S)
    check("USAGE.md has the CI-gate recipe", m is not None)
    if m and gen:
        old, new = os.path.join(work, "old.msp"), os.path.join(work, "new.msp")
        subprocess.run([gen, "pair", old, new, "0x7654000"], check=True)
        for a_, b_, want in ((old, new, 1), (old, old, 0)):
            r = run([ms, "diff", a_, b_, "--format", "json", "--top", "100000"])
            open(os.path.join(work, "diff.json"), "w").write(r.stdout)
            g = run(["sh", "-c", m.group(1)], cwd=work)
            check(f"CI-gate recipe: exit {want} for {'grown' if want else 'unchanged'} dumps",
                  g.returncode == want and (("grew:" in g.stdout) == bool(want)), g.stdout + g.stderr)

    # progress: on a terminal (after MEMSCOPE_PROGRESS_AFTER_MS), never in a pipe or with -q
    env = dict(os.environ, MEMSCOPE_PROGRESS_AFTER_MS="0")
    out = os.path.join(work, "p.json")
    st, text = on_pty([ms, "convert", dump, "-o", out], env)
    check("progress on a terminal: symbolising N% and writing, then cleared",
          st == 0 and re.search(r"\rmemscope: .*g\.msp: symbolising +\d+%", text) and "writing" in text
          and text.endswith("\r\033[K"), repr(text[-300:]))
    st, text = on_pty([ms, "convert", dump, "-o", out, "-q"], env)
    check("progress: -q shows none", st == 0 and text == "", repr(text))
    r = subprocess.run([ms, "convert", dump, "-o", out], capture_output=True, env=env)
    check("progress: none when stderr is not a terminal", r.returncode == 0 and r.stderr == b"", r.stderr)

    # the installed man page and completion
    prefix = os.path.join(work, "prefix")
    shutil.rmtree(prefix, ignore_errors=True)
    r = run(["cmake", "--install", build, "--prefix", prefix])
    check("cmake --install", r.returncode == 0, r.stderr[-500:])
    man = os.path.join(prefix, "share", "man", "man1", "memscope.1")
    comp = os.path.join(prefix, "share", "bash-completion", "completions", "memscope")
    check("man page installed as share/man/man1/memscope.1", os.path.exists(man))
    check("completion installed as share/bash-completion/completions/memscope", os.path.exists(comp))
    if not (os.path.exists(man) and os.path.exists(comp)):
        return 0
    r = run(["man", "--warnings", "-l", "-P", "cat", man], env=dict(os.environ, MANWIDTH="100", LC_ALL="C"))
    text = r.stdout
    check("man -l renders it without warnings", r.returncode == 0 and r.stderr.strip() == "", r.stderr[:500])
    for sec in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "EXIT STATUS", "EXAMPLES"):
        check(f"man page: {sec}", re.search(rf"^{sec}$", text, re.M) is not None)
    check("man page: the formats table", re.search(r"^\s+pprof\s+\.pb\.gz", text, re.M) is not None and
          re.search(r"^\s+massif\s+massif\.out\.\*", text, re.M) is not None)
    roff = open(man).read().replace("\\-", "-")
    cli_md = open(os.path.join(src, "docs", "CLI.md")).read()
    top = run([ms, "--help"]).stdout
    for cmd in ("run", "convert", "report", "diff"):
        check(f"memscope --help lists {cmd}", re.search(rf"^  {cmd} ", top, re.M) is not None)
        h = run([ms, cmd, "--help"]).stdout
        opts = long_options(h)
        check(f"{cmd} --help has options", len(opts) >= 2, h)
        missing_man = [o for o in opts if o not in roff]
        missing_md = [o for o in opts if o not in cli_md]
        check(f"{cmd}: every --help option is in the man page", not missing_man, str(missing_man))
        check(f"{cmd}: every --help option is in docs/CLI.md", not missing_md, str(missing_md))
    conv_help = run([ms, "convert", "--help"]).stdout
    for fmt in ("json", "html", "svg", "folded", "text", "pprof", "massif"):
        check(f"format {fmt}: in convert --help, man page and CLI.md",
              fmt in conv_help and re.search(rf"^{fmt}\t", roff, re.M) and f"| {fmt} |" in cli_md)
    for value in ("live", "bytes", "count", "peak", "leaked"):
        check(f"--value {value}: in --help, man page and CLI.md", value in conv_help and
              (f".BR {value}" in roff or f".B {value}" in roff) and f"`{value}`" in cli_md, value)

    for with_lib in (False, True):
        tag = "with bash-completion" if with_lib else "plain bash"
        if with_lib and not os.path.exists("/usr/share/bash-completion/bash_completion"):
            print("SKIP: bash-completion's library is not installed (plain bash checked)")
            continue
        got = complete(comp, "memscope ", with_lib)
        check(f"completion ({tag}): subcommands", {"run", "convert", "report", "diff"} <= set(got), str(got))
        got = complete(comp, "memscope co", with_lib)
        check(f"completion ({tag}): 'co' -> convert", got == ["convert"], str(got))
        got = complete(comp, "memscope convert x.msp --format ", with_lib)
        check(f"completion ({tag}): formats", {"json", "html", "svg", "folded", "pprof", "massif"} <= set(got), str(got))
        got = complete(comp, "memscope convert x.msp -f p", with_lib)
        check(f"completion ({tag}): -f p -> pprof", got == ["pprof"], str(got))
        got = complete(comp, "memscope convert x.msp --value ", with_lib)
        check(f"completion ({tag}): --value names", {"bytes", "count", "peak", "leaked"} <= set(got), str(got))
        got = complete(comp, "memscope report --f", with_lib)
        check(f"completion ({tag}): report --f -> --format", got == ["--format"], str(got))
    return summary()


if __name__ == "__main__":
    if len(sys.argv) != 7:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
