#!/bin/bash
# bench/exact.sh — exact mode (every allocation recorded with its stack) against heaptrack and
# bare mimalloc, interleaved, on five workloads (issue: exact mode faster and leaner than
# heaptrack).
#
#   bench/exact.sh [BUILD_DIR]        ROUNDS (default 9) interleaved rounds
#
# Configurations: mimalloc (LD_PRELOAD of Debian's libmimalloc), memscope rate 1 (LD_PRELOAD,
# MEMSCOPE_SAMPLE_RATE=1, writing its dump at exit: MEMSCOPE_OUTPUT; lean mode), memscope-run
# (`memscope run CMD`: rate 1 with MEMSCOPE_CHECKS=all, header mode, and its summary), heaptrack (Debian's
# `heaptrack -o FILE cmd`: the whole tool, its preload library and its heaptrack_interpret
# process, writing its .zst file). /usr/bin/time reports the whole process tree's user+sys; its
# peak RSS is the largest single process's (for heaptrack, the traced program and the
# interpreter run side by side, so heaptrack's real peak is higher than shown).
# Workloads: py = python3 -s bench/py_alloc.py (flat loops: dicts, json, regex, sort);
# pydeep = python3 -s bench/py_deep.py (AST parse/visit/compile and recursive JSON: deep,
# varied stacks); st / mt = bench_churn st / mt 4 (one thread; 4 threads with cross-thread
# frees); cxx = bench_cxx (std::map<std::string, std::vector<std::string>> churn). Python runs
# with PYTHONMALLOC=malloc so every object goes through malloc.
# Each round runs every (workload, configuration) pair once, configurations in a rotated
# order; printed per workload: median and min-max of wall, user+sys and peak RSS, and the
# median (min-max) of per-round ratios to bare mimalloc. Last, memory per live block:
# bench_live_metadata (2M live blocks of 16, 32, 64 and 200 bytes) under mimalloc and memscope
# rate 1; the difference is memscope's metadata per live block.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
rounds=${ROUNDS:-9}
churn=$build/bin/bench_churn
cxx=$build/bin/bench_cxx
meta=$build/bin/bench_live_metadata
ms=$build/lib/libmemscope.so
mi=/usr/lib/x86_64-linux-gnu/libmimalloc.so.2
for f in "$churn" "$cxx" "$meta" "$ms" "$mi" "$build/bin/memscope" /usr/bin/time; do
  [ -e "$f" ] || { echo "bench/exact.sh: missing $f (build first; make bench-deps)" >&2; exit 1; }
done
command -v heaptrack >/dev/null || { echo "bench/exact.sh: needs heaptrack (make bench-deps)" >&2; exit 1; }
for v in $(env | sed -n 's/^\(MEMSCOPE_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
unset LD_PRELOAD PYTHONMALLOC
export LC_ALL=C
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

declare -A work=(
  [py]="/usr/bin/python3 -s $here/py_alloc.py ${PY_ROUNDS:-4}"
  [pydeep]="/usr/bin/python3 -s $here/py_deep.py ${PYDEEP_ROUNDS:-3}"
  [st]="$churn st ${ST_OPS:-3000000}"
  [mt]="$churn mt 4 ${MT_OPS:-3000000}"
  [cxx]="$cxx ${CXX_ROUNDS:-4}"
)
# A workload's own environment is set outside the configuration: heaptrack tracks only the
# process it starts and drops LD_PRELOAD after loading, so `heaptrack env VAR=x python3` would
# measure `env`, not python3.
declare -A wenv=([py]="PYTHONMALLOC=malloc" [pydeep]="PYTHONMALLOC=malloc" [st]="" [mt]="" [cxx]="")
workloads=(py pydeep st mt cxx)
order=(mimalloc memscope heaptrack memscope-run)
run_one() { # configuration, workload -> "wall user sys rss"
  local c=$1 w=$2 cmd
  cmd=${work[$w]}
  # shellcheck disable=SC2086
  [ -z "${wenv[$w]}" ] || export ${wenv[$w]}
  case $c in
    mimalloc) env LD_PRELOAD="$mi" /usr/bin/time -f '%e %U %S %M' $cmd 2>&1 >/dev/null | tail -1 ;;
    memscope) env LD_PRELOAD="$ms" MEMSCOPE_SAMPLE_RATE=1 MEMSCOPE_OUTPUT="$tmp/ms.msp" \
                /usr/bin/time -f '%e %U %S %M' $cmd 2>&1 >/dev/null | tail -1 ;;
    memscope-run) # the command a new user types: rate 1 with every check (header mode)
      /usr/bin/time -f '%e %U %S %M' "$build/bin/memscope" run -q -o "$tmp/run.msp" -- $cmd 2>&1 >/dev/null | tail -1 ;;
    heaptrack) # heaptrack starts the program itself: the env wrapper goes inside
      /usr/bin/time -f '%e %U %S %M' heaptrack -o "$tmp/ht" $cmd 2>&1 >/dev/null | tail -1 ;;
  esac
  unset PYTHONMALLOC
  rm -f "$tmp"/ms.msp "$tmp"/run.msp "$tmp"/ht*
}
out=$tmp/results
n=${#order[@]}
for ((r = 0; r < rounds; r++)); do
  for w in "${workloads[@]}"; do
    for ((i = 0; i < n; i++)); do
      c=${order[$(((i + r) % n))]}
      # shellcheck disable=SC2086
      echo "$r $w $c $(run_one "$c" "$w")" >>"$out"
    done
  done
  echo "bench/exact.sh: round $((r + 1))/$rounds done" >&2
done
python3 "$here/ratios.py" "$out" "${order[@]}"
echo
echo "### memory per live block (bench_live_metadata, 2M live blocks)"
echo
echo "| block size | mimalloc bytes/block | memscope rate 1 bytes/block | memscope metadata bytes/block |"
echo "|---|---|---|---|"
for size in 16 32 64 200; do
  a=$(env LD_PRELOAD="$mi" "$meta" 2000000 $size | sed -n 's/.*bytes_per_block=//p')
  b=$(env LD_PRELOAD="$ms" MEMSCOPE_SAMPLE_RATE=1 "$meta" 2000000 $size | sed -n 's/.*bytes_per_block=//p')
  echo "| $size | $a | $b | $(python3 -c "print(f'{$b - $a:.1f}')") |"
done
