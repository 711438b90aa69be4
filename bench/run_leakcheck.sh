#!/bin/sh
# run_leakcheck.sh BUILD_DIR — the leak check's cost at 1M and 10M live blocks: one snapshot
# with MEMSCOPE_LEAK_CHECK=1 and one without, each in a fresh process (bench/RESULTS.md).
b=${1:-build}
for n in 1000000 10000000; do
  for lc in 0 1; do
    MEMSCOPE_SAMPLE_RATE=1 MEMSCOPE_LEAK_CHECK=$lc "$b/bin/bench_leakcheck" "$n" "/tmp/bench_leakcheck.$$.msp"
  done
done
