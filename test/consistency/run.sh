#!/bin/sh
# run.sh — run one consistency program (test/consistency/) with libmemscope.so preloaded.
#   run.sh LIB PROG [ENV=VALUE ...] [-- ARGS]
# Passes when the program exits 0 and memscope printed nothing on stderr: these programs only do
# what is legal (writing up to malloc_usable_size, sized delete with the usable size), so any
# report is a false positive, and any other end is a failure.
lib=$1 prog=$2
shift 2
envs=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs="$envs $1"; shift; done
[ "${1:-}" = "--" ] && shift
err=$(mktemp)
# shellcheck disable=SC2086 # envs is a list of VAR=VALUE words without spaces
env LD_PRELOAD="$lib" $envs timeout -s KILL 240 "$prog" "$@" 2>"$err"
rc=$?
status=0
[ $rc = 0 ] || { echo "FAIL: $(basename "$prog") exited with status $rc"; status=1; }
if grep -q memscope "$err"; then echo "FAIL: memscope reported something:"; status=1; fi
[ $status = 0 ] || { echo "--- stderr:"; head -30 "$err"; }
rm -f "$err"
exit $status
