#!/bin/bash
# preload_compare.sh - run a real, unmodified program with and without an allocator preloaded
# and require the same stdout, stderr and exit status.
#
#   preload_compare.sh LIB MODE CASE
#     LIB   the library to preload (libmemscope.so; any malloc library works, e.g. mimalloc)
#     MODE  default | rate1 | stats    (MEMSCOPE_SAMPLE_RATE unset | 1 | 0)
#     CASE  python | python-malloc | perl | bash | git | gcc | hwdb
#
# Exits 77 (a ctest SKIP) when the program a case needs is not installed (hwdb: Debian's udev).
# Each run gets a fresh temporary working directory and the same fixed environment; the case
# scripts only print relative paths, so the outputs of the two runs must be byte-identical.
# stderr must match too (which also catches "ld.so: object ... cannot be preloaded" and any line
# memscope might print), and must not mention memscope at all.
set -u
lib=${1:?usage: preload_compare.sh LIB MODE CASE}
mode=${2:?mode}
case_name=${3:?case}
here=$(cd "$(dirname "$0")" && pwd)
progs=$here/programs

[ -r "$lib" ] || { echo "FAIL: library $lib not found"; exit 1; }
lib=$(readlink -f "$lib") # /proc/PID/maps names the file itself, not a symlink to it

# A clean, fixed environment: nothing from the caller's MEMSCOPE_* / PYTHON* / locale leaks in.
for v in $(env | sed -n 's/^\(MEMSCOPE_[A-Z_]*\)=.*/\1/p; s/^\(PYTHON[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
unset LD_PRELOAD MALLOC_CHECK_ MALLOC_PERTURB_
export LC_ALL=C TZ=UTC PYTHONHASHSEED=0 PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0
case $mode in
  default) ;;
  rate1) export MEMSCOPE_SAMPLE_RATE=1 ;;
  stats) export MEMSCOPE_SAMPLE_RATE=0 ;;
  *) echo "FAIL: unknown mode $mode"; exit 1 ;;
esac

. "$here/cases.sh"
ms_case "$case_name"   # sets cmd; a missing tool is a skip (exit 77), not a pass

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ms-integ.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The preload must really take effect, or the comparison proves nothing.
if ! LD_PRELOAD=$lib /bin/cat /proc/self/maps | grep -qF "$lib"; then
  echo "FAIL: $lib is not mapped into a process started with LD_PRELOAD"
  exit 1
fi

run() { # run NAME [LD_PRELOAD value]: the case in its own directory; saves out, err, status
  local dir=$tmp/$1
  mkdir -p "$dir/work"
  (cd "$dir/work" && if [ -n "${2:-}" ]; then LD_PRELOAD=$2 "${cmd[@]}"; else "${cmd[@]}"; fi) \
    > "$dir/out" 2> "$dir/err"
  echo $? > "$dir/status"
}

run plain
run preload "$lib"

fail=0
if [ ! -s "$tmp/plain/out" ]; then
  echo "FAIL: the program printed nothing even without preload (broken test case)"; fail=1
fi
if ! cmp -s "$tmp/plain/out" "$tmp/preload/out"; then
  echo "FAIL: stdout differs under LD_PRELOAD"; diff -u "$tmp/plain/out" "$tmp/preload/out" | head -40; fail=1
fi
if ! cmp -s "$tmp/plain/status" "$tmp/preload/status"; then
  echo "FAIL: exit status $(cat "$tmp/plain/status") without, $(cat "$tmp/preload/status") with preload"; fail=1
fi
if ! cmp -s "$tmp/plain/err" "$tmp/preload/err"; then
  echo "FAIL: stderr differs under LD_PRELOAD"; diff -u "$tmp/plain/err" "$tmp/preload/err" | head -40; fail=1
fi
if grep -qi memscope "$tmp/preload/err"; then
  echo "FAIL: memscope wrote to stderr:"; grep -i memscope "$tmp/preload/err" | head -5; fail=1
fi
summary="$case_name mode=$mode: $(wc -c < "$tmp/plain/out") bytes of stdout, status $(cat "$tmp/plain/status")"
if [ $fail = 0 ]; then echo "PASS: $summary"; else echo "FAILED: $summary"; fi
exit $fail
