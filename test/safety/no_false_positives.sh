#!/bin/bash
# no_false_positives.sh — real programs with every memory-safety check on must run exactly as
# without memscope: same stdout and exit status, and memscope reports nothing.
#
#   no_false_positives.sh LIB CASE [CHECKS]
#     LIB     libmemscope.so
#     CASE    python | python-malloc | perl | bash | git | gcc  (the integration suite's
#             programs, test/integration/programs/, run the way preload_compare.sh runs them)
#     CHECKS  MEMSCOPE_CHECKS for the preloaded run (default: every check, guard pages for
#             1 allocation in 20, a 4 MiB quarantine per thread, abort on any error)
#
# Stderr is compared too, after dropping memscope-free lines that differ legitimately (none
# expected); any line mentioning memscope fails the test.
set -u
lib=${1:?usage: no_false_positives.sh LIB CASE [CHECKS]}
case_name=${2:?case}
checks=${3:-all,quarantine=4M,uaf=20,guard-slots=2048,action=abort}
here=$(cd "$(dirname "$0")" && pwd)
progs=$here/../integration/programs
lib=$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")

for v in $(env | sed -n 's/^\(MEMSCOPE_[A-Z_]*\)=.*/\1/p; s/^\(PYTHON[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
unset LD_PRELOAD MALLOC_CHECK_ MALLOC_PERTURB_
export LC_ALL=C TZ=UTC PYTHONHASHSEED=0 PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0

. "$here/../integration/cases.sh"
ms_case "$case_name"   # sets cmd; a missing tool is a skip (exit 77), not a pass

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ms-nfp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
run() { # NAME [env assignments...]
  local dir=$tmp/$1
  shift
  mkdir -p "$dir/work"
  (cd "$dir/work" && env "$@" "${cmd[@]}") > "$dir/out" 2> "$dir/err"
  echo $? > "$dir/status"
}
run plain
run checked LD_PRELOAD="$lib" MEMSCOPE_CHECKS="$checks"

fail=0
if grep -qi memscope "$tmp/checked/err"; then
  echo "FAIL: memscope reported something with MEMSCOPE_CHECKS=$checks:"
  grep -i -A12 memscope "$tmp/checked/err" | head -60
  fail=1
fi
cmp -s "$tmp/plain/out" "$tmp/checked/out" || { echo "FAIL: stdout differs"; diff -u "$tmp/plain/out" "$tmp/checked/out" | head -20; fail=1; }
cmp -s "$tmp/plain/status" "$tmp/checked/status" ||
  { echo "FAIL: exit status $(cat "$tmp/plain/status") plain, $(cat "$tmp/checked/status") with checks"; fail=1; }
cmp -s "$tmp/plain/err" "$tmp/checked/err" || { echo "FAIL: stderr differs"; diff -u "$tmp/plain/err" "$tmp/checked/err" | head -20; fail=1; }
summary="$case_name with MEMSCOPE_CHECKS=$checks: $(wc -c < "$tmp/plain/out") bytes of stdout, status $(cat "$tmp/plain/status")"
if [ $fail = 0 ]; then echo "PASS: $summary"; else echo "FAILED: $summary"; fi
exit $fail
