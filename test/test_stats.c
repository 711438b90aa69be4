/* test_stats.c — the statistics readers (alloc/stats.c): ms_stats() totals and per-class
 * ms_class_stats() move exactly with known allocations; header and usable bytes agree with
 * the header kinds and malloc_usable_size(); counts summed across 8 threads are exact after
 * join (with frees on another thread); the peak is remembered; statistics-only mode
 * (MEMSCOPE_SAMPLE_RATE=0, checked in a child started with that environment) still counts.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "memscope.h"
#include "size_class.h"

static inline void *opaque(void *p) {
  __asm__ volatile("" : "+r"(p));
  return p;
}

static int rate0(void **state) {
  (void)state;
  return ms_set_sample_rate(0);
}

static void test_stats_bad_arguments(void **state) {
  (void)state;
  assert_int_equal(ms_stats(NULL), MS_EINVAL);
  ms_class_stats_t c;
  assert_int_equal(ms_class_count(), MS_CLASS_COUNT);
  assert_int_equal(ms_class_stats(ms_class_count(), &c), MS_EINVAL);
  assert_int_equal(ms_class_stats(0, NULL), MS_EINVAL);
  assert_string_equal(ms_strerror(MS_ENOTFOUND), "pointer is not a live block allocated by memscope");
  assert_string_equal(ms_strerror(0), "success");
  assert_string_equal(ms_strerror(-999), "unknown error");
}

static size_t hdr_of(size_t n) { return n <= 15 ? 8 : 16; } /* unsampled, natural alignment */

static void test_stats_totals_move_exactly(void **state) {
  (void)state;
  static const size_t sizes[] = {0, 1, 7, 15, 16, 100, 100, 100, 4000, 70000, 300000};
  enum { N = sizeof sizes / sizeof *sizes };
  void *p[N];
  uint64_t bytes = 0, headers = 0, usable = 0;
  ms_stats_t a, b, c;
  assert_int_equal(ms_stats(&a), MS_OK);
  for (size_t i = 0; i < N; i++) p[i] = opaque(malloc(sizes[i]));
  assert_int_equal(ms_stats(&b), MS_OK);
  for (size_t i = 0; i < N; i++) {
    bytes += sizes[i];
    headers += hdr_of(sizes[i]);
    usable += malloc_usable_size(p[i]) + hdr_of(sizes[i]);
  }
  assert_int_equal(b.total_allocations - a.total_allocations, N);
  assert_int_equal(b.total_frees, a.total_frees);
  assert_int_equal(b.total_bytes - a.total_bytes, bytes);
  assert_int_equal(b.live_bytes - a.live_bytes, bytes);
  assert_int_equal(b.live_allocations - a.live_allocations, N);
  assert_int_equal(b.header_bytes - a.header_bytes, headers);
  assert_int_equal(b.usable_bytes - a.usable_bytes, usable);
  assert_true(b.usable_bytes >= b.live_bytes + b.header_bytes);
  assert_true(b.peak_live_bytes >= b.live_bytes);
  assert_int_equal(b.sample_rate, 0);
  assert_int_equal(b.sampled_allocations, a.sampled_allocations); /* rate 0: no samples */
  for (size_t i = 0; i < N; i++) free(p[i]);
  assert_int_equal(ms_stats(&c), MS_OK);
  assert_int_equal(c.total_frees - b.total_frees, N);
  assert_int_equal(c.live_bytes, a.live_bytes);
  assert_int_equal(c.live_allocations, a.live_allocations);
  assert_int_equal(c.header_bytes, a.header_bytes);
  assert_int_equal(c.usable_bytes, a.usable_bytes);
  assert_int_equal(c.total_bytes, b.total_bytes);
}

static void test_stats_calloc_realloc_counted(void **state) {
  (void)state;
  ms_stats_t a, b;
  ms_stats(&a);
  char *p = opaque(calloc(10, 30));  /* 300 */
  char *q = realloc(NULL, 50);       /* 50 */
  q = realloc(q, 5000);              /* moves: +1 alloc, +1 free, live 5000 */
  void *r = NULL;
  assert_int_equal(posix_memalign(&r, 256, 1000), 0);
  ms_stats(&b);
  assert_int_equal(b.live_bytes - a.live_bytes, 300 + 5000 + 1000);
  assert_int_equal(b.live_allocations - a.live_allocations, 3);
  assert_int_equal(b.total_allocations - a.total_allocations, 4);
  assert_int_equal(b.total_frees - a.total_frees, 1);
  free(p), free(q), free(r);
  ms_stats(&b);
  assert_int_equal(b.live_bytes, a.live_bytes);
  assert_int_equal(b.live_allocations, a.live_allocations);
}

static void test_stats_class_counters_exact(void **state) {
  (void)state;
  static const size_t sizes[] = {24, 100, 1000, 20000};
  for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
    size_t n = sizes[k];
    unsigned cls = _ms_class_of(n + 16);
    ms_class_stats_t a, b, c;
    assert_int_equal(ms_class_stats(cls, &a), MS_OK);
    void *p[10];
    for (int i = 0; i < 10; i++) p[i] = opaque(malloc(n));
    assert_int_equal(ms_class_stats(cls, &b), MS_OK);
    size_t usable = malloc_usable_size(p[0]) + 16;
    assert_int_equal(b.size, a.size);
    assert_true(b.size >= n + 16);
    assert_int_equal(b.allocations - a.allocations, 10);
    assert_int_equal(b.frees, a.frees);
    assert_int_equal(b.requested_bytes - a.requested_bytes, 10 * n);
    assert_int_equal(b.usable_bytes - a.usable_bytes, 10 * usable);
    assert_int_equal(b.total_requested - a.total_requested, 10 * n);
    for (int i = 0; i < 10; i++) free(p[i]);
    assert_int_equal(ms_class_stats(cls, &c), MS_OK);
    assert_int_equal(c.frees - b.frees, 10);
    assert_int_equal(c.requested_bytes, a.requested_bytes);
    assert_int_equal(c.usable_bytes, a.usable_bytes);
    assert_int_equal(c.total_requested, b.total_requested);
  }
}

static void test_stats_classes_sum_to_totals(void **state) {
  (void)state;
  void *keep[100];
  for (int i = 0; i < 100; i++) keep[i] = opaque(malloc((size_t)i * 37));
  ms_stats_t st;
  ms_stats(&st);
  uint64_t allocs = 0, frees = 0, req = 0, usable = 0, total_req = 0;
  for (unsigned c = 0; c < ms_class_count(); c++) {
    ms_class_stats_t cs;
    assert_int_equal(ms_class_stats(c, &cs), MS_OK);
    allocs += cs.allocations, frees += cs.frees, req += cs.requested_bytes;
    usable += cs.usable_bytes, total_req += cs.total_requested;
  }
  /* single-threaded here, so the two readings see the same counters */
  assert_int_equal(allocs, st.total_allocations);
  assert_int_equal(frees, st.total_frees);
  assert_int_equal(req, st.live_bytes);
  assert_int_equal(usable, st.usable_bytes);
  assert_int_equal(total_req, st.total_bytes);
  for (int i = 0; i < 100; i++) free(keep[i]);
}

static void test_stats_sampled_header_bytes(void **state) {
  (void)state;
  assert_int_equal(ms_set_sample_rate(1), MS_OK);
  ms_stats_t a, b;
  ms_stats(&a);
  void *p = opaque(malloc(100)), *q = opaque(malloc(3));
  ms_stats(&b);
  assert_int_equal(b.header_bytes - a.header_bytes, 96); /* two 48-byte SAMPLED headers */
  assert_int_equal(b.sampled_allocations - a.sampled_allocations, 2);
  assert_int_equal(b.sampled_live - a.sampled_live, 2);
  assert_int_equal(b.sample_rate, 1);
  assert_int_equal(b.usable_bytes - a.usable_bytes,
                   malloc_usable_size(p) + malloc_usable_size(q) + 96);
  free(p), free(q);
  ms_stats(&b);
  assert_int_equal(b.header_bytes, a.header_bytes);
  assert_int_equal(b.sampled_live, a.sampled_live);
  assert_int_equal(ms_set_sample_rate(0), MS_OK);
}

static void test_stats_peak_remembered(void **state) {
  (void)state;
  ms_stats_t a, b, c;
  ms_stats(&a);
  size_t big = (size_t)32 << 20;
  void *p = opaque(malloc(big));
  ms_stats(&b);
  assert_true(b.peak_live_bytes >= a.live_bytes + big);
  free(p);
  ms_stats(&c);
  assert_int_equal(c.live_bytes, a.live_bytes);
  /* the global peak is batched per thread by up to 64 KiB */
  assert_true(c.peak_live_bytes + 65536 >= a.live_bytes + big);
  assert_true(c.peak_live_bytes >= b.peak_live_bytes - 65536);
}

/* ------------------------------------------------------------------ 8 threads */

enum { THREADS = 8, PER_THREAD = 300, KEPT = 100, TSIZE = 50000 };
static pthread_barrier_t barrier;
static void *handed[THREADS][KEPT];

static void *worker(void *arg) {
  size_t t = (size_t)(uintptr_t)arg;
  void *mine[PER_THREAD];
  pthread_barrier_wait(&barrier); /* all eight alive at once */
  for (int i = 0; i < PER_THREAD; i++) mine[i] = opaque(malloc(TSIZE));
  for (int i = 0; i < PER_THREAD - KEPT; i++) free(mine[i]);
  for (int i = 0; i < KEPT; i++) handed[t][i] = mine[PER_THREAD - KEPT + i];
  pthread_barrier_wait(&barrier);
  return NULL;
}

static void test_stats_threads_sum_exactly(void **state) {
  (void)state;
  unsigned cls = _ms_class_of(TSIZE + 16);
  ms_class_stats_t ca, cb, cc;
  ms_stats_t a, b, c;
  ms_class_stats(cls, &ca);
  ms_stats(&a);
  pthread_t th[THREADS];
  pthread_barrier_init(&barrier, NULL, THREADS);
  for (size_t t = 0; t < THREADS; t++)
    assert_int_equal(pthread_create(&th[t], NULL, worker, (void *)(uintptr_t)t), 0);
  for (size_t t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
  pthread_barrier_destroy(&barrier);
  ms_class_stats(cls, &cb);
  ms_stats(&b);
  assert_int_equal(cb.allocations - ca.allocations, THREADS * PER_THREAD);
  assert_int_equal(cb.frees - ca.frees, THREADS * (PER_THREAD - KEPT));
  assert_int_equal(cb.requested_bytes - ca.requested_bytes, (uint64_t)THREADS * KEPT * TSIZE);
  assert_int_equal(cb.total_requested - ca.total_requested, (uint64_t)THREADS * PER_THREAD * TSIZE);
  assert_true(b.threads >= THREADS);
  /* totals include whatever glibc's pthread_create allocates for itself (its TLS vector):
   * at least the workers' blocks, and not many more */
  assert_true(b.total_allocations - a.total_allocations >= THREADS * PER_THREAD);
  assert_true(b.total_allocations - a.total_allocations <= THREADS * PER_THREAD + 4 * THREADS);
  assert_true(b.live_bytes - a.live_bytes >= (uint64_t)THREADS * KEPT * TSIZE);
  /* the main thread frees what the workers kept: cross-thread frees */
  for (size_t t = 0; t < THREADS; t++)
    for (int i = 0; i < KEPT; i++) free(handed[t][i]);
  ms_class_stats(cls, &cc);
  ms_stats(&c);
  assert_int_equal(cc.frees - ca.frees, THREADS * PER_THREAD);
  assert_int_equal(cc.requested_bytes, ca.requested_bytes);
  assert_int_equal(cc.usable_bytes, ca.usable_bytes);
  assert_int_equal(b.live_bytes - c.live_bytes, (uint64_t)THREADS * KEPT * TSIZE);
}

/* ------------------------------------------------------------------ environment, in a child */

static const char *self_exe;

/* The child: 1000 x malloc(50), prints allocation / sample deltas and the rate. */
static int child_main(void) {
  ms_stats_t a, b;
  if (ms_stats(&a) != MS_OK) return 1;
  void *p[1000];
  for (int i = 0; i < 1000; i++) p[i] = opaque(malloc(50));
  ms_stats(&b);
  for (int i = 0; i < 1000; i++) free(p[i]);
  printf("%llu %llu %llu %llu\n", (unsigned long long)(b.total_allocations - a.total_allocations),
         (unsigned long long)(b.live_bytes - a.live_bytes),
         (unsigned long long)(b.sampled_allocations - a.sampled_allocations),
         (unsigned long long)b.sample_rate);
  return 0;
}

static void run_child(const char *rate, unsigned long long out[4]) {
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    setenv("MEMSCOPE_SAMPLE_RATE", rate, 1);
    execl(self_exe, self_exe, "--child", (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  char buf[256];
  ssize_t n = read(fds[0], buf, sizeof buf - 1);
  close(fds[0]);
  buf[n > 0 ? n : 0] = 0;
  int st;
  waitpid(pid, &st, 0);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  assert_int_equal(sscanf(buf, "%llu %llu %llu %llu", &out[0], &out[1], &out[2], &out[3]), 4);
}

static void test_stats_rate0_env_still_counts(void **state) {
  (void)state;
  unsigned long long v[4];
  run_child("0", v);
  assert_int_equal(v[0], 1000);
  assert_int_equal(v[1], 50000);
  assert_int_equal(v[2], 0); /* nothing sampled */
  assert_int_equal(v[3], 0);
  run_child("1", v);
  assert_int_equal(v[0], 1000);
  assert_int_equal(v[1], 50000);
  assert_int_equal(v[2], 1000); /* every allocation sampled */
  assert_int_equal(v[3], 1);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--child") == 0) return child_main();
  static char path[4096];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  path[n > 0 ? n : 0] = 0;
  self_exe = path;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stats_bad_arguments),
      cmocka_unit_test(test_stats_totals_move_exactly),
      cmocka_unit_test(test_stats_calloc_realloc_counted),
      cmocka_unit_test(test_stats_class_counters_exact),
      cmocka_unit_test(test_stats_classes_sum_to_totals),
      cmocka_unit_test(test_stats_sampled_header_bytes),
      cmocka_unit_test(test_stats_peak_remembered),
      cmocka_unit_test(test_stats_threads_sum_exactly),
      cmocka_unit_test(test_stats_rate0_env_still_counts),
  };
  return cmocka_run_group_tests(tests, rate0, NULL);
}
