#!/bin/bash
# bench/run.sh — run every benchmark workload under every allocator configuration, in ONE run,
# so that the ratios between configurations are comparable, and write a markdown report.
#
#   bench/run.sh [BUILD_DIR] [--quick]     (make bench calls it with build/)
#
# Workloads: st = bench_churn st (one thread), mt = bench_churn mt 4 (4 threads, cross-thread
# frees), py = python3 with PYTHONMALLOC=malloc running bench/py_alloc.py.
# Configurations: glibc (no preload), mimalloc (LD_PRELOAD of Debian's libmimalloc.so.2),
# ms-stats (memscope, MEMSCOPE_SAMPLE_RATE=0), ms-default (memscope, default 512K sampling),
# ms-rate1 (memscope, MEMSCOPE_SAMPLE_RATE=1), heaptrack (`heaptrack -o FILE cmd`).
# Time: hyperfine (--warmup, --runs, --export-json); peak RSS: /usr/bin/time -f %M, median of 3.
# bench/table.py turns the results into tables of ratios against bare mimalloc.
# Output: BUILD_DIR/bench-results/ (JSON, TSV, report.md); the report is printed at the end.
# Environment knobs: RUNS (default 10), WARMUP (2), HT_RUNS (heaptrack runs, 3), SKIP_HEAPTRACK=1.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=build
quick=0
for a in "$@"; do
  case $a in
    --quick) quick=1 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) build=$a ;;
  esac
done
build=$(cd "$build" && pwd)
churn=$build/bin/bench_churn
ms=$build/lib/libmemscope.so
mi=${MIMALLOC_LIB:-/usr/lib/x86_64-linux-gnu/libmimalloc.so.2}
out=$build/bench-results
for f in "$churn" "$ms" "$mi"; do [ -e "$f" ] || { echo "bench/run.sh: missing $f (build first)" >&2; exit 1; }; done
for t in hyperfine /usr/bin/time; do command -v $t >/dev/null || { echo "bench/run.sh: needs $t (make bench-deps)" >&2; exit 1; }; done
[ "${SKIP_HEAPTRACK:-0}" = 1 ] || command -v heaptrack >/dev/null || { echo "bench/run.sh: needs heaptrack" >&2; exit 1; }

# Nothing from the caller's environment may change what is measured.
for v in $(env | sed -n 's/^\(MEMSCOPE_[A-Z_]*\)=.*/\1/p; s/^\(MIMALLOC_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
unset LD_PRELOAD PYTHONMALLOC
export LC_ALL=C

runs=${RUNS:-10}; warmup=${WARMUP:-2}; ht_runs=${HT_RUNS:-3}
st_ops=20000000; mt_ops=20000000; py_rounds=8
if [ $quick = 1 ]; then runs=3; warmup=1; ht_runs=1; st_ops=2000000; mt_ops=2000000; py_rounds=1; fi

rm -rf "$out"; mkdir -p "$out"
declare -A work=(
  [st]="$churn st $st_ops"
  [mt]="$churn mt 4 $mt_ops"
  [py]="env PYTHONMALLOC=malloc /usr/bin/python3 -s $here/py_alloc.py $py_rounds"
)
# mimalloc-again repeats mimalloc last: its ratio to the first mimalloc run is the noise floor
# (drift of the machine during the run), against which the memscope ratios must be read.
configs=(glibc mimalloc ms-stats ms-default ms-rate1 mimalloc-again)
declare -A prefix=(
  [glibc]="env"
  [mimalloc]="env LD_PRELOAD=$mi"
  [mimalloc-again]="env LD_PRELOAD=$mi"
  [ms-stats]="env LD_PRELOAD=$ms MEMSCOPE_SAMPLE_RATE=0"
  [ms-default]="env LD_PRELOAD=$ms"
  [ms-rate1]="env LD_PRELOAD=$ms MEMSCOPE_SAMPLE_RATE=1"
  [heaptrack]="heaptrack -o $out/heaptrack-data"
)

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
  echo "kernel: $(uname -sr)"
  echo "memscope: $(git -C "$here/.." rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "mimalloc: $mi"
  echo "hyperfine: $(hyperfine --version | cut -d' ' -f2), runs=$runs warmup=$warmup heaptrack-runs=$ht_runs"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$out/machine.txt"

# Every output must be the same whatever the allocator: check before timing anything.
for w in st mt py; do
  ref=$(${prefix[glibc]} ${work[$w]})
  for c in "${configs[@]}"; do
    got=$(${prefix[$c]} ${work[$w]} 2>"$out/stderr-$w-$c.txt")
    [ "$got" = "$ref" ] || { echo "bench/run.sh: $w under $c printed '$got', expected '$ref'" >&2; exit 1; }
  done
done

for w in st mt py; do
  args=()
  for c in "${configs[@]}"; do args+=(--command-name "$c" "${prefix[$c]} ${work[$w]}"); done
  echo "== $w: ${work[$w]}" >&2
  hyperfine --shell=none --style basic --warmup "$warmup" --runs "$runs" \
    --export-json "$out/time-$w.json" "${args[@]}" >&2
  if [ "${SKIP_HEAPTRACK:-0}" != 1 ]; then
    hyperfine --shell=none --style basic --warmup 0 --runs "$ht_runs" \
      --export-json "$out/time-$w-heaptrack.json" \
      --command-name heaptrack "${prefix[heaptrack]} ${work[$w]}" >&2
  fi
done

all_configs=("${configs[@]}")
[ "${SKIP_HEAPTRACK:-0}" = 1 ] || all_configs+=(heaptrack)
for w in st mt py; do
  for c in "${all_configs[@]}"; do
    kb=()
    for i in 1 2 3; do
      /usr/bin/time -f %M -o "$out/rss.tmp" ${prefix[$c]} ${work[$w]} >/dev/null 2>&1
      kb+=("$(tail -1 "$out/rss.tmp")")
    done
    printf '%s\t%s\t%s\t%s\t%s\n' "$w" "$c" "${kb[@]}" >> "$out/rss.tsv"
  done
done
rm -f "$out/rss.tmp" "$out"/heaptrack-data*

if [ -x "$build/bin/bench_unwind" ]; then
  "$build/bin/bench_unwind" 20 $([ $quick = 1 ] && echo 20000 || echo 100000) > "$out/unwind.txt"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/machine.txt"

python3 "$here/table.py" "$out" > "$out/report.md"
{
  echo
  echo "Commands (prefix + workload; hyperfine --shell=none --warmup $warmup --runs $runs --export-json ...):"
  for c in "${all_configs[@]}"; do echo "  $c: ${prefix[$c]} <workload>"; done
  for w in st mt py; do echo "  workload $w: ${work[$w]}"; done
  echo "  peak RSS: /usr/bin/time -f %M <command>, median of 3 runs"
} >> "$out/report.md"
cat "$out/report.md"
