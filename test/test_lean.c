/* test_lean.c — lean mode (the default layout, alloc/blockmap.h): an unsampled block is exactly
 * mimalloc's block, statistics stay exact in usable bytes, sampled blocks are found through the
 * block map under cross-thread frees, realloc and a sample rate switched while threads churn,
 * foreign pointers never crash at any rate, a double free of a sampled block is reported.
 * Runs without MEMSCOPE_CHECKS (lean); the rate is set with ms_set_sample_rate(). */
#include <errno.h>
#include <malloc.h>
#include <mimalloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "child_stderr.h"

#include "memscope.h"

static void *volatile sink;
/* hides from the compiler where a pointer comes from (the bad frees below are deliberate) */
static void *opaque(void *p) { return sink = p, sink; }

/* The block malloc returns is mimalloc's own block: mimalloc knows it as a block start with
 * the usable size of its bin (a header in front would make it an interior pointer, whose
 * "usable size" mimalloc does not report as a bin size), and consecutive small blocks of a
 * fresh page are one bin size apart. */
static void test_lean_block_is_mimallocs(void **state) {
  (void)state;
  ms_set_sample_rate(0);
  for (size_t n = 1; n <= 4096; n += 7) {
    char *p = opaque(malloc(n));
    assert_non_null(p);
    assert_int_equal(mi_usable_size(p), mi_good_size(n));
    assert_int_equal(malloc_usable_size(p), mi_usable_size(p));
    free(p);
  }
  char *a[64];
  int adjacent = 0;
  for (int i = 0; i < 64; i++) a[i] = opaque(malloc(48));
  for (int i = 1; i < 64; i++) adjacent += a[i] - a[i - 1] == 48;
  for (int i = 0; i < 64; i++) free(a[i]);
  assert_true(adjacent > 32);
  ms_set_sample_rate(512 * 1024);
}

/* Statistics at rate 0: live bytes move by the usable size, and come back exactly. */
static void test_lean_stats_exact_in_usable_bytes(void **state) {
  (void)state;
  ms_set_sample_rate(0);
  ms_stats_t a, b, c;
  ms_stats(&a);
  void *p[100];
  uint64_t usable = 0;
  for (int i = 0; i < 100; i++) {
    p[i] = opaque(malloc(10 + (size_t)i * 37));
    usable += malloc_usable_size(p[i]);
  }
  ms_stats(&b);
  assert_int_equal(b.total_allocations - a.total_allocations, 100);
  assert_int_equal(b.live_allocations - a.live_allocations, 100);
  assert_int_equal(b.live_bytes - a.live_bytes, usable);
  for (int i = 0; i < 100; i++) free(p[i]);
  ms_stats(&c);
  assert_int_equal(c.live_bytes, a.live_bytes);
  assert_int_equal(c.live_allocations, a.live_allocations);
  ms_set_sample_rate(512 * 1024);
}

/* At rate 1 every block is sampled: requested sizes are exact again. */
static void test_lean_rate1_exact_requested(void **state) {
  (void)state;
  ms_set_sample_rate(1);
  ms_stats_t a, b, c;
  ms_stats(&a);
  void *p = opaque(malloc(1000));
  void *q = opaque(realloc(opaque(malloc(10)), 3000));
  ms_stats(&b);
  assert_int_equal(b.live_bytes - a.live_bytes, 4000);
  free(p);
  free(q);
  ms_stats(&c);
  assert_int_equal(c.live_bytes, a.live_bytes);
  ms_set_sample_rate(512 * 1024);
}

/* ------------------------------------------------------------------ threads */

#define CHURN_THREADS 16
#define SLOTS 4096
static void *_Atomic slots[SLOTS];
static _Atomic int stop_churn;

static void *churn(void *arg) {
  uint64_t s = (uintptr_t)arg * 0x9E3779B97F4A7C15ull | 1;
  while (!stop_churn) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    size_t i = s % SLOTS, n = 1 + (s >> 32) % 2000;
    void *old;
    if (s & (1u << 20)) {
      char *p = malloc(n);
      if (!p) abort();
      memset(p, (int)(i & 0xff), n < 16 ? n : 16);
      *(size_t *)p = n >= 8 ? i : 0;
      old = atomic_exchange(&slots[i], p);
    } else {
      old = atomic_exchange(&slots[i], NULL);
      if (old && (s & (1u << 21))) { /* grow it, then put it back for another thread */
        old = realloc(old, 1 + (s >> 40) % 5000);
        if (!old) abort();
        old = atomic_exchange(&slots[i], old);
      }
    }
    free(old); /* often a block another thread allocated */
  }
  return NULL;
}

static void *idle(void *arg) { return arg; }

static void run_churn(size_t rate, int switch_rates) {
  pthread_t t[CHURN_THREADS];
  /* glibc keeps exited threads' stacks and TLS blocks for reuse: create as many threads once
   * before the baseline, so the figures compare the churn's blocks only */
  for (uintptr_t i = 0; i < CHURN_THREADS; i++)
    assert_int_equal(pthread_create(&t[i], NULL, idle, NULL), 0);
  for (int i = 0; i < CHURN_THREADS; i++) pthread_join(t[i], NULL);
  ms_set_sample_rate(rate);
  ms_stats_t a, b;
  ms_stats(&a);
  stop_churn = 0;
  for (uintptr_t i = 0; i < CHURN_THREADS; i++)
    assert_int_equal(pthread_create(&t[i], NULL, churn, (void *)(i + 1)), 0);
  static const size_t rates[] = {1, 4096, 512 * 1024, 0};
  for (int k = 0; k < 40; k++) {
    if (switch_rates) ms_set_sample_rate(rates[k % 4]);
    usleep(5000);
  }
  stop_churn = 1;
  for (int i = 0; i < CHURN_THREADS; i++) pthread_join(t[i], NULL);
  for (size_t i = 0; i < SLOTS; i++) free(atomic_exchange(&slots[i], NULL));
  ms_stats(&b);
  assert_int_equal(b.errors, a.errors); /* no block mistaken for a bad pointer */
  assert_int_equal(b.live_allocations, a.live_allocations);
  /* glibc may resize a cached thread's own blocks (same count, a few bytes apart): bytes are
   * compared to within that; a lost or doubly counted churn block would be off by up to 5 KB
   * times the number of lost blocks, and the count above would differ */
  int64_t d = (int64_t)(b.live_bytes - a.live_bytes);
  if (d < -512 || d > 512) fail_msg("live bytes %+lld after the churn", (long long)d);
  ms_set_sample_rate(512 * 1024);
}

static void test_lean_cross_thread_rate1(void **state) { (void)state; run_churn(1, 0); }
static void test_lean_cross_thread_rate4k(void **state) { (void)state; run_churn(4096, 0); }
static void test_lean_cross_thread_rate512k(void **state) { (void)state; run_churn(512 * 1024, 0); }
static void test_lean_rate_switched_while_churning(void **state) { (void)state; run_churn(1, 1); }

/* ------------------------------------------------------------------ bad pointers */


static char static_array[256] __attribute__((aligned(16)));

/* Pointers that are not mimalloc's blocks, at every rate: reported, never handed to mimalloc. */
static void foreign_pointers(void) {
  static const size_t rates[] = {0, 1, 4096, 512 * 1024};
  for (int r = 0; r < 4; r++) {
    ms_set_sample_rate(rates[r]);
    char on_stack[64] __attribute__((aligned(16)));
    memset(on_stack, 0, sizeof on_stack);
    errno = 42;
    free(opaque(on_stack + 16));
    free(opaque(static_array + 16));
    char *pg = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pg == MAP_FAILED) _exit(6);
    free(opaque(pg + 64));
    if (errno != 42) _exit(5); /* free() never changes errno */
    if (realloc(opaque(pg), 100) != NULL || errno != EINVAL) _exit(7);
    if (malloc_usable_size(opaque(pg)) != 0) _exit(7);
    errno = 42;
    char *big = malloc(96u << 20); /* an interior pointer past the huge block's first 32 MiB */
    if (!big) _exit(8);
    free(opaque(big + (40u << 20) + 64));
    free(big);
    free(opaque((char *)malloc(64) + 3)); /* misaligned: leaks the block, reports */
    if (errno != 42) _exit(9);
  }
  ms_stats_t st;
  ms_stats(&st);
  if (st.errors != 4 * 6) _exit(10); /* each one counted (stderr shows the first 20) */
}

static void test_lean_foreign_pointers_every_rate(void **state) {
  (void)state;
  int st = in_child(foreign_pointers);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) fail_msg("child status %#x:\n%s", st, child_err);
  assert_int_equal(count_of(child_err, "memscope: error: invalid_free"), 20);
}

static void double_free_sampled(void) {
  ms_set_sample_rate(1);
  char *p = malloc(100);
  memset(p, 1, 100);
  free(p);
  free(opaque(p));
  for (int i = 0; i < 1000; i++) free(malloc(100)); /* the allocator still works */
}

static void test_lean_double_free_of_sampled_block(void **state) {
  (void)state;
  int st = in_child(double_free_sampled);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) fail_msg("child status %#x:\n%s", st, child_err);
  assert_int_equal(count_of(child_err, "memscope: error: double_free"), 1);
}

/* A sampled malloc(0) must not end where its mimalloc block ends: its pointer would be the next
 * block's, and in lean mode that block's pointer is its start. Regression: 0-byte sampled blocks
 * shared their pointer with the lean block beside them (64 of 128 here), so a free of either
 * released the other. */
static void test_lean_zero_byte_sampled_block_has_own_pointer(void **state) {
  (void)state;
  enum { N = 256 };
  void *zero[N], *plain[N];
  assert_int_equal(ms_set_sample_rate(1), MS_OK);
  for (int i = 0; i < N; i++) zero[i] = opaque(malloc(0));
  for (int i = 0; i < N; i += 2) free(zero[i]);
  assert_int_equal(ms_set_sample_rate(0), MS_OK);
  for (int i = 0; i < N; i++) plain[i] = opaque(malloc(48));
  int same = 0;
  for (int i = 1; i < N; i += 2)
    for (int j = 0; j < N; j++) same += zero[i] == plain[j];
  assert_int_equal(same, 0);
  for (int i = 1; i < N; i += 2) free(zero[i]);
  for (int i = 0; i < N; i++) free(plain[i]);
}

int main(void) {
  if (getenv("MEMSCOPE_CHECKS")) {
    fprintf(stderr, "test_lean: MEMSCOPE_CHECKS is set; this test needs the default layout\n");
    return 1;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lean_block_is_mimallocs),
      cmocka_unit_test(test_lean_stats_exact_in_usable_bytes),
      cmocka_unit_test(test_lean_rate1_exact_requested),
      cmocka_unit_test(test_lean_cross_thread_rate1),
      cmocka_unit_test(test_lean_cross_thread_rate4k),
      cmocka_unit_test(test_lean_cross_thread_rate512k),
      cmocka_unit_test(test_lean_rate_switched_while_churning),
      cmocka_unit_test(test_lean_foreign_pointers_every_rate),
      cmocka_unit_test(test_lean_double_free_of_sampled_block),
      cmocka_unit_test(test_lean_zero_byte_sampled_block_has_own_pointer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
