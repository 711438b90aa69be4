/* bench_snapshot.c — what a snapshot costs and whether it stalls other threads.
 *
 * Builds N live allocations (run it at MEMSCOPE_SAMPLE_RATE=1 so each is a sampled, stacked
 * block, from S distinct call sites), then takes ms_snapshot() while T other threads keep
 * allocating and freeing, and reports: the snapshot's wall time, the dump's size (bytes per
 * live allocation), and the other threads' malloc+free throughput during the snapshot compared
 * with the same length of time just before it (worst-case latencies are useless on a shared
 * 2-core machine: preemption dominates them).
 *
 * usage: bench_snapshot LIVE SITES THREADS DUMPPATH
 */
#define _GNU_SOURCE
#include <memscope.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static _Atomic int phase; /* 0 warm-up, 1 before, 2 during, 3 stop */
static _Atomic uint64_t ops[4];

static void *churn(void *arg) {
  (void)arg;
  int ph;
  while ((ph = atomic_load_explicit(&phase, memory_order_relaxed)) < 3) {
    void *volatile p = malloc(64); /* volatile: the compiler may not drop the pair */
    free(p);
    atomic_fetch_add_explicit(&ops[ph], 1, memory_order_relaxed);
  }
  return NULL;
}

/* SITES distinct call chains: recursion depth picks the chain. */
__attribute__((noinline)) static void *alloc_at_depth(int depth, size_t n) {
  if (depth == 0) return malloc(n);
  void *p = alloc_at_depth(depth - 1, n);
  __asm__ volatile("" ::: "memory");
  return p;
}

int main(int argc, char **argv) {
  if (argc != 5 || !ms_snapshot) {
    fprintf(stderr, "usage: %s LIVE SITES THREADS DUMPPATH (run on memscope)\n", argv[0]);
    return 2;
  }
  long live = atol(argv[1]), sites = atol(argv[2]), threads = atol(argv[3]);
  void **blocks = calloc((size_t)live, sizeof *blocks);
  for (long i = 0; i < live; i++) blocks[i] = alloc_at_depth((int)(i % sites), 32 + (size_t)(i % 7) * 16);
  pthread_t th[64];
  for (long t = 0; t < threads && t < 64; t++) pthread_create(&th[t], NULL, churn, NULL);
  struct timespec warm = {0, 100 * 1000 * 1000};
  nanosleep(&warm, NULL);
  /* "before": as long as the snapshot will take, measured by a throw-away snapshot first */
  uint64_t t0 = now_ns();
  ms_snapshot(argv[4]);
  uint64_t guess = now_ns() - t0;
  struct timespec before = {(time_t)(guess / 1000000000ull), (long)(guess % 1000000000ull)};
  uint64_t b0 = now_ns();
  atomic_store(&phase, 1);
  nanosleep(&before, NULL);
  atomic_store(&phase, 2);
  uint64_t before_ns = now_ns() - b0;
  t0 = now_ns();
  int rc = ms_snapshot(argv[4]);
  uint64_t took = now_ns() - t0;
  atomic_store(&phase, 3);
  for (long t = 0; t < threads && t < 64; t++) pthread_join(th[t], NULL);
  struct stat st;
  if (rc != 0 || stat(argv[4], &st) != 0) {
    fprintf(stderr, "snapshot failed: %s\n", ms_strerror(rc));
    return 1;
  }
  double rate_before = atomic_load(&ops[1]) * 1e9 / (double)before_ns;
  double rate_during = atomic_load(&ops[2]) * 1e9 / (double)took;
  printf("live=%ld sites=%ld threads=%ld snapshot_ms=%.1f dump_bytes=%lld bytes_per_live=%.1f "
         "other_threads_ops_per_s_before=%.0f during=%.0f (%.0f%%)\n",
         live, sites, threads, took / 1e6, (long long)st.st_size, (double)st.st_size / live,
         rate_before, rate_during, rate_before > 0 ? 100.0 * rate_during / rate_before : 0.0);
  for (long i = 0; i < live; i++) free(blocks[i]);
  free(blocks);
  return 0;
}
