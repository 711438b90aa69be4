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
# ms-rate1 (memscope, MEMSCOPE_SAMPLE_RATE=1), heaptrack (`heaptrack -o FILE cmd`), header-floor
# (mimalloc + a bare 16-byte header, bench/header_floor.c) and mimalloc again (the noise floor).
# Time: hyperfine (--warmup, --runs, --export-json); peak RSS: /usr/bin/time -f %M, median of 3.
# bench/table.py turns the results into tables of ratios against bare mimalloc.
# Output: BUILD_DIR/bench-results/ (JSON, TSV, report.md); the report is printed at the end.
# The slow configurations (ms-rate1, heaptrack) get their own hyperfine runs, fewer of them.
# Environment knobs: RUNS (default 10), WARMUP (2), ROUNDS (5: the fast configurations' runs are
# split into interleaved rounds), SLOW_RUNS (ms-rate1 and heaptrack runs, 3), SKIP_HEAPTRACK=1.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@" # `make bench` runs it with sh; it needs bash
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/args.sh"
bench_args 17 "$@"
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

runs=${RUNS:-10}; warmup=${WARMUP:-2}; slow_runs=${SLOW_RUNS:-3}; rounds=${ROUNDS:-5}
st_ops=10000000; mt_ops=10000000; py_rounds=8
if [ $quick = 1 ]; then runs=3; warmup=1; slow_runs=1; rounds=3; st_ops=1000000; mt_ops=1000000; py_rounds=1; fi

rm -rf "$out"; mkdir -p "$out"
declare -A work=(
  [st]="$churn st $st_ops"
  [mt]="$churn mt 4 $mt_ops"
  [py]="/usr/bin/python3 -s $here/py_alloc.py $py_rounds"
)
# A workload's own environment goes in front of the configuration's prefix: heaptrack tracks only
# the process it starts (it drops LD_PRELOAD after loading), so `heaptrack env VAR=x python3`
# would measure `env`, not python3.
declare -A wenv=([st]="" [mt]="" [py]="env PYTHONMALLOC=malloc")
# mimalloc-again repeats mimalloc last: its ratio to the first mimalloc run is the noise floor
# (drift of the machine during the run), against which the memscope ratios must be read.
# header-floor (bench/header_floor.c): mimalloc + a bare 16-byte header, the yardstick for what
# any header design costs; skipped when it was not built.
floor=$build/lib/libms_header_floor.so
fast=(glibc mimalloc ms-stats ms-default)
[ -e "$floor" ] && fast+=(header-floor)
fast+=(mimalloc-again)
slow=(ms-rate1)
[ "${SKIP_HEAPTRACK:-0}" = 1 ] || slow+=(heaptrack)
configs=("${fast[@]}" ms-rate1)
declare -A prefix=(
  [glibc]="env"
  [mimalloc]="env LD_PRELOAD=$mi"
  [mimalloc-again]="env LD_PRELOAD=$mi"
  [header-floor]="env LD_PRELOAD=$floor"
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
  echo "hyperfine: $(hyperfine --version | cut -d' ' -f2), runs=$runs in $rounds interleaved rounds, warmup=$warmup (ms-rate1 and heaptrack: runs=$slow_runs warmup=0)"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$out/machine.txt"

# Every output must be the same whatever the allocator: check before timing anything.
for w in st mt py; do
  ref=$(${wenv[$w]} ${prefix[glibc]} ${work[$w]})
  for c in "${configs[@]}"; do
    got=$(${wenv[$w]} ${prefix[$c]} ${work[$w]} 2>"$out/stderr-$w-$c.txt")
    [ "$got" = "$ref" ] || { echo "bench/run.sh: $w under $c printed '$got', expected '$ref'" >&2; exit 1; }
  done
done

# The fast configurations are timed in ROUNDS rounds of RUNS/ROUNDS runs each, all of them in
# every round: on a shared machine whose speed drifts, interleaving spreads the drift over every
# configuration instead of penalising whichever ran during a slow minute. table.py merges the
# rounds' run times.
for w in st mt py; do
  args=()
  for c in "${fast[@]}"; do args+=(--command-name "$c" "${wenv[$w]} ${prefix[$c]} ${work[$w]}"); done
  echo "== $w: ${wenv[$w]} ${work[$w]}" >&2
  per_round=$(( (runs + rounds - 1) / rounds ))
  for k in $(seq 1 "$rounds"); do
    hyperfine --shell=none --style basic --warmup "$([ "$k" = 1 ] && echo "$warmup" || echo 0)" \
      --runs "$per_round" --export-json "$out/time-$w.round$k.json" "${args[@]}" >&2
  done
  for c in "${slow[@]}"; do
    hyperfine --shell=none --style basic --warmup 0 --runs "$slow_runs" \
      --export-json "$out/time-$w-$c.json" --command-name "$c" "${wenv[$w]} ${prefix[$c]} ${work[$w]}" >&2
  done
done

all_configs=("${fast[@]}" "${slow[@]}")
for w in st mt py; do
  for c in "${all_configs[@]}"; do
    kb=()
    reps="1 2 3"
    case " ${slow[*]} " in *" $c "*) reps=1 ;; esac # peak RSS varies little; slow ones run once
    for i in $reps; do
      /usr/bin/time -f %M -o "$out/rss.tmp" ${wenv[$w]} ${prefix[$c]} ${work[$w]} >/dev/null 2>&1
      kb+=("$(tail -1 "$out/rss.tmp")")
    done
    printf '%s\t%s' "$w" "$c" >> "$out/rss.tsv"; printf '\t%s' "${kb[@]}" >> "$out/rss.tsv"; echo >> "$out/rss.tsv"
  done
done
rm -f "$out/rss.tmp" "$out"/heaptrack-data*
find "$out" -name "stderr-*" -empty -delete # keep only the stderr that said something

if [ -x "$build/bin/bench_unwind" ]; then
  "$build/bin/bench_unwind" 20 $([ $quick = 1 ] && echo 20000 || echo 100000) > "$out/unwind.txt"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/machine.txt"

python3 "$here/table.py" "$out" > "$out/report.md"
{
  echo
  echo "Commands (prefix + workload; hyperfine --shell=none --export-json ..., all fast configurations in each of $rounds rounds of $(( (runs + rounds - 1) / rounds )) runs (warmup $warmup in the first); for ${slow[*]}: --warmup 0 --runs $slow_runs):"
  for c in "${all_configs[@]}"; do echo "  $c: ${prefix[$c]} <workload>"; done
  for w in st mt py; do echo "  workload $w: ${wenv[$w]:+${wenv[$w]} <prefix> }${work[$w]}"; done
  echo "  peak RSS: /usr/bin/time -f %M <command>, median of 3 runs (1 run for ${slow[*]})"
} >> "$out/report.md"
cat "$out/report.md"
