#!/bin/bash
# bench/checks.sh — cost of each MEMSCOPE_CHECKS configuration on the core workloads, relative to
# MEMSCOPE_CHECKS=off in the same run (docs/CHECKS.md, bench/RESULTS.md "Safety checks").
#
#   bench/checks.sh [BUILD_DIR] [--quick]
#
# Workloads (as in bench/run.sh): st = bench_churn st, mt = bench_churn mt 4, py = python3 with
# PYTHONMALLOC=malloc running bench/py_alloc.py. Each at MEMSCOPE_SAMPLE_RATE=0 (statistics
# only: the checks' own cost is not hidden behind sampling) and at the default 512K.
# Configurations (CONFIGS="..." to choose): off, default (the library default: double/invalid free, guard word), overflow (canaries),
# quarantine (default + quarantine=1M), uaf1000 (default + uaf=1000), all (MEMSCOPE_CHECKS=all).
# The machine is shared, so wall time is noisy: configurations are run interleaved, ROUNDS times
# each (default 7), and the median of user+system CPU time (/usr/bin/time) is compared, along
# with wall-time medians. WORKLOADS="st mt py", RATES="0 512K" choose. Output: a markdown table.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/args.sh"
bench_args 15 "$@"
lib=$build/lib/libmemscope.so
churn=$build/bin/bench_churn
for f in "$lib" "$churn" /usr/bin/time; do [ -e "$f" ] || { echo "bench/checks.sh: missing $f" >&2; exit 1; }; done
for v in $(env | sed -n 's/^\(MEMSCOPE_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
unset LD_PRELOAD PYTHONMALLOC
export LC_ALL=C

rounds=${ROUNDS:-7}; st_ops=10000000; mt_ops=10000000; py_rounds=4
if [ $quick = 1 ]; then rounds=3; st_ops=2000000; mt_ops=2000000; py_rounds=1; fi
declare -A work=(
  [st]="$churn st $st_ops"
  [mt]="$churn mt 4 $mt_ops"
  [py]="env PYTHONMALLOC=malloc /usr/bin/python3 -s $here/py_alloc.py $py_rounds"
)
read -r -a configs <<< "${CONFIGS:-off default quarantine uaf1000 all}"
declare -A checks=([off]=off [default]=default [overflow]=overflow [quarantine]=quarantine=1M [uaf1000]=uaf=1000 [all]=all)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "| workload | sample rate | config | CPU s (median) | vs off | wall s (median) | vs off |"
echo "|---|---|---|---|---|---|---|"
for w in ${WORKLOADS:-st mt py}; do
  for rate in ${RATES:-0 512K}; do
    for r in $(seq "$rounds"); do
      for c in "${configs[@]}"; do
        /usr/bin/time -f "%U %S %e" -o "$tmp/t" env LD_PRELOAD="$lib" MEMSCOPE_SAMPLE_RATE=$rate \
          MEMSCOPE_CHECKS="${checks[$c]}" ${work[$w]} > "$tmp/out" 2> "$tmp/err" ||
          { echo "bench/checks.sh: $w under $c failed:" >&2; cat "$tmp/err" >&2; exit 1; }
        if grep -q memscope "$tmp/err"; then echo "bench/checks.sh: $w/$c reported:" >&2; cat "$tmp/err" >&2; exit 1; fi
        awk '{print $1 + $2}' "$tmp/t" >> "$tmp/cpu-$c"
        awk '{print $3}' "$tmp/t" >> "$tmp/wall-$c"
      done
    done
    base_cpu=$(median < "$tmp/cpu-off"); base_wall=$(median < "$tmp/wall-off")
    for c in "${configs[@]}"; do
      cpu=$(median < "$tmp/cpu-$c"); wall=$(median < "$tmp/wall-$c")
      awk -v w="$w" -v r="$rate" -v c="$c" -v cpu="$cpu" -v bc="$base_cpu" -v wall="$wall" -v bw="$base_wall" \
        'BEGIN { printf "| %s | %s | %s | %.3f | %.3fx | %.3f | %.3fx |\n", w, r, c, cpu, cpu / bc, wall, wall / bw }'
    done
    rm -f "$tmp"/cpu-* "$tmp"/wall-*
  done
done
echo
echo "rounds=$rounds (interleaved), st/mt ops $st_ops/$mt_ops, py rounds $py_rounds; $(nproc) cores; load before end: $(cut -d' ' -f1-3 /proc/loadavg)"
