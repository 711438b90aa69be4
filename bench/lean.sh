#!/bin/bash
# bench/lean.sh — the default modes against bare mimalloc, interleaved, for the lean hot path:
# memscope statistics only (rate 0) and default sampling (512K), in lean mode (the default) and
# in header mode (MEMSCOPE_CHECKS=headers), beside jemalloc alone and jemalloc with its heap
# profiler sampling at 512K (prof:true,lg_prof_sample:19), the fair yardstick for sampling.
#
#   bench/lean.sh [BUILD_DIR]        ROUNDS (default 9) interleaved rounds
#
# Workloads: st = bench_churn st (one thread), mt = bench_churn mt 4 (4 threads, cross-thread
# frees), py = python3 -s bench/py_alloc.py with PYTHONMALLOC=malloc. Each round runs every
# (workload, configuration) pair once, the configurations in a rotated order, so machine drift
# spreads over all of them. Per pair: wall time, user+sys time and peak RSS (/usr/bin/time).
# Prints, per workload and configuration, the median and min-max of each figure and the median
# of the per-round ratios to bare mimalloc (a ratio is taken within one round).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
rounds=${ROUNDS:-9}
churn=$build/bin/bench_churn
ms=$build/lib/libmemscope.so
mi=/usr/lib/x86_64-linux-gnu/libmimalloc.so.2
je=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
for f in "$churn" "$ms" "$mi" /usr/bin/time; do
  [ -e "$f" ] || { echo "bench/lean.sh: missing $f (build first; make bench-deps)" >&2; exit 1; }
done
for v in $(env | sed -n 's/^\(MEMSCOPE_[A-Z_]*\)=.*/\1/p; s/^\(MALLOC_CONF\)=.*/\1/p'); do unset "$v"; done
unset LD_PRELOAD PYTHONMALLOC
export LC_ALL=C

declare -A work=(
  [st]="$churn st ${ST_OPS:-5000000}"
  [mt]="$churn mt 4 ${MT_OPS:-5000000}"
  [py]="env PYTHONMALLOC=malloc /usr/bin/python3 -s $here/py_alloc.py ${PY_ROUNDS:-4}"
)
declare -A conf=(
  [mimalloc]="LD_PRELOAD=$mi"
  [ms-stats]="LD_PRELOAD=$ms MEMSCOPE_SAMPLE_RATE=0"
  [ms-default]="LD_PRELOAD=$ms"
  [ms-hdr-stats]="LD_PRELOAD=$ms MEMSCOPE_SAMPLE_RATE=0 MEMSCOPE_CHECKS=headers"
  [ms-hdr-default]="LD_PRELOAD=$ms MEMSCOPE_CHECKS=headers"
)
order=(mimalloc ms-stats ms-default ms-hdr-stats ms-hdr-default)
if [ -e "$je" ]; then
  conf[jemalloc]="LD_PRELOAD=$je"
  conf[jemalloc-prof]="LD_PRELOAD=$je MALLOC_CONF=prof:true,lg_prof_sample:19"
  order+=(jemalloc jemalloc-prof)
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
n=${#order[@]}
for ((r = 0; r < rounds; r++)); do
  for w in st mt py; do
    for ((i = 0; i < n; i++)); do
      c=${order[$(((i + r) % n))]}
      # shellcheck disable=SC2086
      m=$(env ${conf[$c]} /usr/bin/time -f '%e %U %S %M' ${work[$w]} 2>&1 >/dev/null | tail -1)
      echo "$r $w $c $m" >>"$out"
    done
  done
  echo "bench/lean.sh: round $((r + 1))/$rounds done" >&2
done
python3 "$here/ratios.py" "$out" "${order[@]}"
