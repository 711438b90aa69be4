/* test_sampler.c — the sampler (track/sampler.c) as a statistical estimator, end to end: a
 * known workload from two call sites (many small blocks from site_small, fewer 1 MiB blocks
 * from site_big) at rates 512K and 64K, with a fixed MEMSCOPE_SEED (set by ctest); the dump
 * read back must estimate each site's bytes and counts within a tolerance derived from the
 * expected number of samples, and be exact at rate 1. Also: ms_set_sample_rate() takes effect
 * at once, rate 0 samples nothing, and freeing everything brings the estimates back to zero
 * exactly (weights are subtracted as they were added).
 *
 * Tolerances: with k expected samples the relative standard error of a site's byte estimate
 * is about 1/sqrt(k) for blocks much smaller than the rate. site_small at 64K: 64 MB / 64 KiB
 * ~ 980 samples, se 3.2%, asserted within 10%; at 512K ~ 120 samples, se 9%, asserted within
 * 30%. site_big (1 MiB blocks) is sampled with p = 1 - exp(-2) = 0.86 at 512K (se 1.3%) and
 * always at 64K.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dump.h"
#include "memscope.h"
#include "tracking/dump_helpers.h"

enum { SMALL = 64, N_SMALL = 1000000, N_BIG = 1000 };
#define BIG ((size_t)1 << 20)

static void **small_blocks;

/* The two call sites. Global and noinline so that they are distinct frames with names. */
__attribute__((noinline)) void site_small(void **out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = malloc(SMALL);
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void site_big(size_t n) {
  for (size_t i = 0; i < n; i++) {
    char *p = malloc(BIG);
    __asm__ volatile("" : : "r"(p) : "memory");
    free(p);
  }
}

/* Four threads, each with its own countdown, allocating from one site. */
enum { T_THREADS = 4, T_PER = 250000 };
static void **thread_blocks[T_THREADS];

__attribute__((noinline)) void site_threaded(void **out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = malloc(SMALL);
  __asm__ volatile("" ::: "memory");
}

static void *threaded_worker(void *arg) {
  void **out = arg;
  assert_int_equal(ms_tag_push("threaded"), MS_OK); /* tags are per thread */
  site_threaded(out, T_PER);
  ms_tag_pop();
  return NULL;
}

static int group_setup(void **state) {
  (void)state;
  small_blocks = calloc(N_SMALL, sizeof *small_blocks);
  return small_blocks ? 0 : -1;
}
static int group_teardown(void **state) {
  (void)state;
  free(small_blocks);
  return ms_set_sample_rate(0);
}

/* Free what a phase left (all of it: a failed phase may not have cleaned up). */
static void free_small(void) {
  for (size_t i = 0; i < N_SMALL && small_blocks[i]; i++) free(small_blocks[i]), small_blocks[i] = NULL;
}

/* One phase: the workload under tag `tag` at `rate`; returns the dump taken with the small
 * blocks still live. */
static void run_phase(size_t rate, const char *tag, size_t n_small, size_t n_big, ms_dump_t *d) {
  free_small();
  assert_int_equal(ms_set_sample_rate(rate), MS_OK);
  assert_int_equal(ms_tag_push(tag), MS_OK);
  site_small(small_blocks, n_small);
  site_big(n_big);
  assert_int_equal(ms_tag_pop(), MS_OK);
  assert_int_equal(ms_set_sample_rate(0), MS_OK); /* the reader's own mallocs stay out */
  ms_test_snapshot(d);
  assert_int_equal(d->options.sample_rate, 0);
}

static void check_estimate(const char *what, double est, double truth, double tol) {
  print_message("  %-24s estimate %12.0f truth %12.0f (%+.2f%%, tolerance %.0f%%)\n", what, est,
                truth, 100.0 * (est - truth) / truth, 100 * tol);
  if (!ms_test_within(est, truth, tol))
    fail_msg("%s: estimate %.0f vs truth %.0f (off by %.1f%%, tolerance %.0f%%)", what, est,
             truth, 100.0 * (est - truth) / truth, 100 * tol);
}

static void sampled_phase(size_t rate, const char *tag, double tol_small, double tol_big) {
  ms_dump_t d;
  run_phase(rate, tag, N_SMALL, N_BIG, &d);
  const ms_dump_site_t *s = ms_test_find_site(&d, "site_small", tag);
  const ms_dump_site_t *b = ms_test_find_site(&d, "site_big", tag);
  if (!s || !b) fail_msg("%s: site_small %p site_big %p not found among %u sites", tag, (void *)s,
                         (void *)b, d.n_sites);
  double small_bytes = (double)SMALL * N_SMALL, big_bytes = (double)BIG * N_BIG;
  check_estimate("site_small total_bytes", (double)s->total_bytes, small_bytes, tol_small);
  check_estimate("site_small live_bytes", (double)s->live_bytes, small_bytes, tol_small);
  check_estimate("site_small total_count", (double)s->total_count, N_SMALL, tol_small);
  check_estimate("site_small live_count", (double)s->live_count, N_SMALL, tol_small);
  check_estimate("site_big total_bytes", (double)b->total_bytes, big_bytes, tol_big);
  uint64_t big_count = b->total_count;
  assert_int_equal(b->live_bytes, 0); /* every big block was freed: weights cancel exactly */
  assert_int_equal(b->live_count, 0);
  /* the live allocations in the dump carry the same weights as the site's live figure */
  uint64_t wsum = 0, bytes = 0;
  uint64_t n = ms_test_live_allocs(&d, "site_small", tag, &bytes, &wsum);
  assert_true(n > 0);
  assert_int_equal(bytes, n * SMALL);
  assert_int_equal(wsum, s->live_bytes);
  /* a small sample stands for about `rate` bytes */
  assert_true(wsum / n >= rate && wsum / n <= rate + SMALL);
  ms_dump_free(&d);

  free_small();
  run_phase(0, "after", 0, 0, &d);
  s = ms_test_find_site(&d, "site_small", tag);
  assert_non_null(s);
  assert_int_equal(s->live_bytes, 0);
  assert_int_equal(s->live_count, 0);
  assert_int_equal(ms_test_live_allocs(&d, "site_small", tag, NULL, NULL), 0);
  ms_dump_free(&d);
  /* last, so that a failure here hides nothing above: blocks of about the rate's size need a
   * fractional count weight (1/p = 1.16 for 1 MiB at 512K), which integer weights lose */
  check_estimate("site_big total_count", (double)big_count, N_BIG, tol_big);
}

static void test_sampler_estimates_at_512k(void **state) {
  (void)state;
  sampled_phase(512 * 1024, "rate-512K", 0.30, 0.10);
}

static void test_sampler_estimates_at_64k(void **state) {
  (void)state;
  sampled_phase(64 * 1024, "rate-64K", 0.10, 0.01);
}

static void test_sampler_exact_at_rate_1(void **state) {
  (void)state;
  enum { NS = 20000, NB = 20 };
  ms_stats_t a, b;
  ms_stats(&a);
  ms_dump_t d;
  run_phase(1, "rate-1", NS, NB, &d);
  ms_stats(&b);
  const ms_dump_site_t *s = ms_test_find_site(&d, "site_small", "rate-1");
  const ms_dump_site_t *g = ms_test_find_site(&d, "site_big", "rate-1");
  assert_non_null(s);
  assert_non_null(g);
  assert_int_equal(s->total_bytes, (uint64_t)NS * SMALL);
  assert_int_equal(s->live_bytes, (uint64_t)NS * SMALL);
  assert_int_equal(s->total_count, NS);
  assert_int_equal(s->live_count, NS);
  assert_int_equal(g->total_bytes, (uint64_t)NB * BIG);
  assert_int_equal(g->total_count, NB);
  assert_int_equal(g->live_bytes, 0);
  assert_int_equal(g->live_count, 0);
  /* every one of the workload's allocations was sampled */
  assert_true(b.sampled_allocations - a.sampled_allocations >= NS + NB);
  uint64_t bytes = 0, w = 0;
  assert_int_equal(ms_test_live_allocs(&d, "site_small", "rate-1", &bytes, &w), NS);
  assert_int_equal(bytes, (uint64_t)NS * SMALL);
  assert_int_equal(w, bytes); /* weight == size at rate 1 */
  ms_dump_free(&d);
  free_small();
}

static void test_sampler_estimates_across_threads(void **state) {
  (void)state;
  free_small();
  assert_int_equal(ms_set_sample_rate(64 * 1024), MS_OK);
  pthread_t th[T_THREADS];
  for (int t = 0; t < T_THREADS; t++) {
    thread_blocks[t] = calloc(T_PER, sizeof(void *));
    assert_non_null(thread_blocks[t]);
  }
  for (int t = 0; t < T_THREADS; t++)
    assert_int_equal(pthread_create(&th[t], NULL, threaded_worker, thread_blocks[t]), 0);
  for (int t = 0; t < T_THREADS; t++) pthread_join(th[t], NULL);
  assert_int_equal(ms_set_sample_rate(0), MS_OK);
  ms_dump_t d;
  ms_test_snapshot(&d);
  /* one site per thread start routine chain; all share the innermost frame and the tag */
  double live = 0, total = 0, count = 0;
  for (uint32_t i = 0; i < d.n_sites; i++) {
    const char *t = ms_test_tag_name(&d, d.sites[i].tag);
    if (!t || strcmp(t, "threaded") != 0) continue;
    if (ms_test_frame_index(&d, d.sites[i].stack, "site_threaded") != 0) continue;
    live += (double)d.sites[i].live_bytes;
    total += (double)d.sites[i].total_bytes;
    count += (double)d.sites[i].live_count;
  }
  double truth = (double)T_THREADS * T_PER * SMALL; /* ~980 samples in all: se ~3.2% */
  check_estimate("threaded total_bytes", total, truth, 0.10);
  check_estimate("threaded live_bytes", live, truth, 0.10);
  check_estimate("threaded live_count", count, (double)T_THREADS * T_PER, 0.10);
  ms_dump_free(&d);
  for (int t = 0; t < T_THREADS; t++) {
    for (size_t i = 0; i < T_PER; i++) free(thread_blocks[t][i]);
    free(thread_blocks[t]);
  }
}

static void test_sampler_rate_change_takes_effect(void **state) {
  (void)state;
  ms_stats_t a, b;
  void *p[1000];

  assert_int_equal(ms_set_sample_rate(0), MS_OK);
  ms_stats(&a);
  assert_int_equal(a.sample_rate, 0);
  for (int i = 0; i < 1000; i++) p[i] = malloc(4096);
  for (int i = 0; i < 1000; i++) free(p[i]);
  ms_stats(&b);
  assert_int_equal(b.sampled_allocations, a.sampled_allocations); /* off: nothing */

  assert_int_equal(ms_set_sample_rate(1), MS_OK);
  ms_stats(&a);
  assert_int_equal(a.sample_rate, 1);
  for (int i = 0; i < 1000; i++) p[i] = malloc(100);
  ms_stats(&b);
  assert_int_equal(b.sampled_allocations - a.sampled_allocations, 1000); /* all */
  assert_int_equal(b.sampled_live - a.sampled_live, 1000);
  for (int i = 0; i < 1000; i++) free(p[i]);

  /* 1000 x 100 bytes at a mean of 64 MiB between samples: almost surely none, at most the
   * one that a fresh countdown may take at once */
  assert_int_equal(ms_set_sample_rate((size_t)64 << 20), MS_OK);
  ms_stats(&a);
  assert_int_equal(a.sample_rate, (uint64_t)64 << 20);
  for (int i = 0; i < 1000; i++) p[i] = malloc(100);
  ms_stats(&b);
  assert_true(b.sampled_allocations - a.sampled_allocations <= 1);
  for (int i = 0; i < 1000; i++) free(p[i]);

  /* a block larger than several rates is always sampled */
  assert_int_equal(ms_set_sample_rate(4096), MS_OK);
  ms_stats(&a);
  for (int i = 0; i < 100; i++) {
    void *q = malloc(1 << 20);
    __asm__ volatile("" : "+r"(q));
    free(q);
  }
  ms_stats(&b);
  assert_int_equal(b.sampled_allocations - a.sampled_allocations, 100);
  assert_int_equal(ms_set_sample_rate(0), MS_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sampler_rate_change_takes_effect),
      cmocka_unit_test(test_sampler_exact_at_rate_1),
      cmocka_unit_test(test_sampler_estimates_at_512k),
      cmocka_unit_test(test_sampler_estimates_at_64k),
      cmocka_unit_test(test_sampler_estimates_across_threads),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
