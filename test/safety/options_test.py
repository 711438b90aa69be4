#!/usr/bin/env python3
"""options_test.py — MEMSCOPE_CHECKS syntax (docs/CHECKS.md), checked through behaviour: the
safety test programs run under libmemscope.so with various values, and the report (or its
absence), the exit status and the warning for bad values must follow.

  options_test.py LIB DIR     (DIR holds the built safety programs: double_free, overflow, ...)
"""
import os
import subprocess
import sys

lib, bindir = sys.argv[1], sys.argv[2]
failures = 0


def run(prog, checks, args=()):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMSCOPE_")}
    # rate 1: every block sampled, so the header checks cover the test programs' blocks in the
    # default (lean) layout as well as in header mode
    env.update(LD_PRELOAD=lib, MEMSCOPE_SAMPLE_RATE="1")
    if checks is not None:
        env["MEMSCOPE_CHECKS"] = checks
    return subprocess.run([os.path.join(bindir, prog)] + list(args), env=env,
                          capture_output=True, text=True, timeout=60)


def case(prog, checks, report, status, warning=False, args=()):
    """report: the error kind expected on stderr, or None for no report."""
    global failures
    r = run(prog, checks, args)
    problems = []
    got = [l.split()[2] for l in r.stderr.splitlines() if l.startswith("memscope: error:")]
    if report is None and got:
        problems.append("unexpected report(s) %s" % got)
    if report is not None and got[:1] != [report]:
        problems.append("expected a %s report, got %s" % (report, got))
    if r.returncode != status:
        problems.append("exit status %d, expected %d" % (r.returncode, status))
    warned = "memscope: warning: ignoring bad value of MEMSCOPE_CHECKS" in r.stderr
    if warned != warning:
        problems.append("warning for a bad value %s" % ("missing" if warning else "unexpected"))
    label = "%s MEMSCOPE_CHECKS=%r" % (prog, checks)
    if problems:
        failures += 1
        print("FAIL: %s: %s\n%s" % (label, "; ".join(problems), r.stderr[-1500:]))
    else:
        print("ok: %s" % label)


ABORT = -6
# defaults: double/invalid free reported and refused, the program goes on
case("double_free", None, "double_free", 0)
case("double_free", "default", "double_free", 0)
case("double_free", "off", None, 0)
case("double_free", "none", None, 0)
case("double_free", "-double-free", None, 0)
case("double_free", "no-double-free", None, 0)
case("double_free", "off,double-free", "double_free", 0)
case("double_free", "action=abort", "double_free", ABORT)
case("double_free", "off,+double-free,action=abort", "double_free", ABORT)
case("double_free", "all,action=continue", "double_free", 0)
case("invalid_free", "-invalid-free", None, 0)
case("underflow", None, "buffer_underflow", ABORT)
case("underflow", "-underflow", None, 0)
case("underflow", "underflow,action=continue", "buffer_underflow", 0)
# canaries are off by default, on with overflow/canary/all
case("overflow", None, None, 0)
case("overflow", "overflow", "buffer_overflow", ABORT)
case("overflow", "canary", "buffer_overflow", ABORT)
case("overflow", "all", "buffer_overflow", ABORT)
case("overflow", "all,-overflow", None, 0)
case("overflow", " overflow , action=continue ", "buffer_overflow", 0)
case("uaf_quarantine", "quarantine=64K", "use_after_free", ABORT)
case("uaf_quarantine", "quarantine=0", None, 0)
case("uaf_guard", "uaf=1", "use_after_free", ABORT)
case("uaf_guard", "guard-pages=1,guard-slots=4", "use_after_free", ABORT)
case("uaf_guard", "uaf=0", None, 0)
# bad values: one warning line, and the whole default stays in force
for bad in ("bogus", "uaf=x", "quarantine=12Q", "action=explode", "guard-slots=0", "=", "symbolize=gdb"):
    case("double_free", bad, "double_free", 0, warning=True)
    case("overflow", "overflow," + bad, None, 0, warning=True)

if failures:
    print("FAILED: %d case(s)" % failures)
    sys.exit(1)
print("PASS: MEMSCOPE_CHECKS syntax")
