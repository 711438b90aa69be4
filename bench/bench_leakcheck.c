/* bench_leakcheck.c — what the leak check (track/reach.c) costs at N live blocks.
 *
 * Builds N live 32-byte blocks at MEMSCOPE_SAMPLE_RATE=1: a global array points to half of
 * them (still reachable), the other half are dropped in lists of 8 (1 definitely + 7
 * indirectly lost each). Then takes one ms_snapshot() and prints its wall time and the
 * process's peak RSS before and after (VmHWM). Run it twice, with MEMSCOPE_LEAK_CHECK=1 and
 * without: the difference is the scan (bench/run_leakcheck.sh does, bench/RESULTS.md).
 *
 * usage: bench_leakcheck N DUMPPATH
 */
#define _GNU_SOURCE
#include <memscope.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void **keep; /* a global root (not static: the optimiser must keep the stores) */

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static long hwm_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long v = -1;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "VmHWM:", 6)) v = strtol(line + 6, NULL, 10);
  if (f) fclose(f);
  return v;
}

__attribute__((noinline)) static void build(size_t n) {
  keep = malloc(n / 2 * sizeof *keep);
  for (size_t i = 0; i < n / 2; i++) {
    keep[i] = malloc(32);
    __asm__ volatile("" ::"r"(keep[i]) : "memory");
  }
  void **head = NULL;
  for (size_t i = n / 2; i < n; i++) {
    void **b = malloc(32);
    b[0] = (i % 8) ? head : NULL; /* a new list every 8 blocks */
    head = b;
    __asm__ volatile("" ::"r"(b) : "memory");
  }
}

int main(int argc, char **argv) {
  if (argc != 3) return fprintf(stderr, "usage: bench_leakcheck N DUMPPATH\n"), 2;
  size_t n = strtoull(argv[1], NULL, 10);
  build(n);
  long before = hwm_kib();
  uint64_t t0 = now_ns();
  int rc = ms_snapshot(argv[2]);
  uint64_t t1 = now_ns();
  long after = hwm_kib();
  printf("blocks %zu leak_check %s snapshot_ms %.1f hwm_before_mib %.1f hwm_after_mib %.1f rc %d\n", n,
         getenv("MEMSCOPE_LEAK_CHECK") ? getenv("MEMSCOPE_LEAK_CHECK") : "0", (double)(t1 - t0) / 1e6,
         before / 1024.0, after / 1024.0, rc);
  remove(argv[2]);
  return rc != 0;
}
