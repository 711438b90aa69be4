#!/usr/bin/env python3
"""invisible_test.py PROBE LIBMEMSCOPE — what memscope adds to a traced process (docs/USAGE.md,
"What memscope adds to a process"). The probe (probe.c) reports its descriptors, signal masks,
alternate signal stack, threads and environment after ordinary work. Compared with an untraced
run:
  - rates 0, 512K and 1 (default checks, the default cached unwinder, and libgcc's): identical —
    no descriptor, signal disposition, thread or environment change; with MEMSCOPE_UNWIND=libunwind
    (asked for explicitly) its pipe is exactly the two descriptors added: checked too;
  - MEMSCOPE_SNAPSHOT_SIGNAL=USR2: the same plus exactly a caught SIGUSR2 and one thread named
    memscope-dump;
  - MEMSCOPE_CHECKS=uaf=1 (guard pages): the same plus exactly caught SIGSEGV and SIGBUS and an
    alternate signal stack on the main thread;
  - every feature on, then exec without LD_PRELOAD: identical (nothing survives exec).
Regression test for issue 13 (libunwind's pipe on fds 3 and 4, which exact mode held by
default until the cached unwinder, track/cfi_cache.c, replaced libunwind there)."""
import os
import signal
import subprocess
import sys

probe, lib = sys.argv[1], sys.argv[2]
failures = []


def run(extra_env, args=()):
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and not k.startswith("MEMSCOPE_")}
    env.update(extra_env)
    out = subprocess.run([probe, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=120, check=False)
    if out.returncode != 0:
        failures.append(f"{extra_env} {args}: probe exited {out.returncode}: {out.stderr.decode()[:300]}")
    return out.stdout.decode()


def parse(text):
    s = {"fd": [], "thread": [], "env": []}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key in ("fd", "thread", "env"):
            s[key].append(value)
        elif ":" in line.split()[0]:
            key, value = line.split(None, 1)
            s[key[:-1]] = value.strip()
        else:
            s[key] = value
    return s


def mask(bits):
    return {n for n in range(1, 65) if int(bits, 16) >> (n - 1) & 1}


def compare(name, base, got, caught=(), threads=(), altstack=None, pipes=0):
    want_fd = base["fd"] + [f"{len(base['fd']) + i} pipe:" for i in range(pipes)]
    if got["fd"] != want_fd:
        failures.append(f"{name}: fd differs: want {want_fd} traced {got['fd']}")
    for key in ("env", "SigBlk", "SigIgn"):
        if base[key] != got[key]:
            failures.append(f"{name}: {key} differs: untraced {base[key]} traced {got[key]}")
    want = mask(base["SigCgt"]) | set(caught)
    if mask(got["SigCgt"]) != want:
        failures.append(f"{name}: caught signals {sorted(mask(got['SigCgt']))}, want {sorted(want)}")
    if sorted(got["thread"]) != sorted(base["thread"] + list(threads)):
        failures.append(f"{name}: threads {got['thread']}, want {base['thread'] + list(threads)}")
    if got["altstack"] != (altstack or base["altstack"]):
        failures.append(f"{name}: alternate signal stack {got['altstack']}")


base = parse(run({}))
if not base["fd"] or not base["thread"]:
    print("FAIL: the probe reported nothing")
    sys.exit(1)
pre = {"LD_PRELOAD": lib}
for rate in ("0", "512K"):
    compare(f"rate {rate}", base, parse(run({**pre, "MEMSCOPE_SAMPLE_RATE": rate})))
lean1 = {**pre, "MEMSCOPE_SAMPLE_RATE": "1"}
compare("rate 1 (default: cached unwinder)", base, parse(run(lean1)))
compare("rate 1 (libgcc unwinder)", base, parse(run({**lean1, "MEMSCOPE_UNWIND": "libgcc"})))
compare("rate 1 (libunwind: its validation pipe)", base,
        parse(run({**lean1, "MEMSCOPE_UNWIND": "libunwind"})), pipes=2)
compare("snapshot signal", base,
        parse(run({**lean1, "MEMSCOPE_SNAPSHOT_SIGNAL": "USR2"})),
        caught=[signal.SIGUSR2], threads=["memscope-dump"])
compare("guard pages", base, parse(run({**lean1, "MEMSCOPE_CHECKS": "uaf=1"})),
        caught=[signal.SIGSEGV, signal.SIGBUS], altstack="set")
compare("after exec", base,
        parse(run({**pre, "MEMSCOPE_SAMPLE_RATE": "1", "MEMSCOPE_SNAPSHOT_SIGNAL": "USR2",
                   "MEMSCOPE_CHECKS": "all", "MEMSCOPE_OUTPUT": "/dev/null/x%p"}, ["--exec"])))
for f in failures:
    print("FAIL:", f)
if not failures:
    print(f"invisible: ok ({len(base['fd'])} descriptors, {len(base['thread'])} threads, same as untraced)")
sys.exit(1 if failures else 0)
