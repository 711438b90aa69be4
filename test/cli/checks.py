"""checks.py - what the CLI test scripts (cli_test.py, formats_test.py, habits_test.py) share:
named checks that are counted and printed, running a command with its output captured, and
the closing summary line with the script's exit status."""
import subprocess

_counts = {"passed": 0, "failed": 0}


def check(name, cond, detail=""):
    """Count and print one named check; a failure prints its detail."""
    if cond:
        _counts["passed"] += 1
        print(f"ok   {name}")
    else:
        _counts["failed"] += 1
        print(f"FAIL {name} {detail}")


def run(args, timeout=300, **kw):
    """Run args with stdout/stderr captured as text (bad UTF-8 replaced)."""
    return subprocess.run(args, capture_output=True, text=True, errors="replace", timeout=timeout, **kw)


def summary():
    """Print the totals; the exit status: 1 when a check failed."""
    print(f"{_counts['passed']} passed, {_counts['failed']} failed")
    return 1 if _counts["failed"] else 0
