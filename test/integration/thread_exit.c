/* thread_exit.c — allocation while threads die, for memscope (linked or under LD_PRELOAD).
 *
 * A thread's last allocations happen in places an allocator's per-thread state may already be
 * torn down: pthread key destructors (which glibc runs in key order, for up to 4 passes, after
 * the allocator's own key destructor when the program's keys were made later), C11/C++
 * thread-local destructors registered with __cxa_thread_atexit_impl, and after pthread_exit()
 * from deep in a call chain. Here every one of those allocates, frees, reallocates and hands a
 * block to main, which frees it after the thread is gone. Threads are run one by one and 8 at a
 * time, created detached and joined. The check: nothing crashes or hangs (alarm), every block
 * keeps its contents, and ms_stats() live bytes/blocks come back exactly to the baseline while
 * total_allocations counts at least every allocation made (none escapes the counters).
 * Usage: thread_exit [--require-stats]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memscope.h"

#define HANDED_MAX 4096

/* glibc's registration for thread_local destructors (what g++ uses for C++ thread_local) */
extern int __cxa_thread_atexit_impl(void (*fn)(void *), void *obj, void *dso_symbol);
extern void *__dso_handle;

static pthread_key_t key_a, key_b;
static atomic_long allocs, failures;
static pthread_mutex_t handed_lock = PTHREAD_MUTEX_INITIALIZER;
static void *handed[HANDED_MAX]; /* blocks made by dying threads, freed by main */
static size_t nhanded;

static void fail(const char *what) {
  fprintf(stderr, "thread_exit: FAIL %s\n", what);
  atomic_fetch_add(&failures, 1);
}

static void *xmalloc(size_t n, int fill) {
  void *p = malloc(n);
  if (!p) { fail("malloc returned NULL"); abort(); }
  memset(p, fill, n);
  atomic_fetch_add(&allocs, 1);
  return p;
}

static void check_fill(const void *p, size_t n, int fill) {
  const unsigned char *c = p;
  for (size_t i = 0; i < n; i += 7)
    if (c[i] != (unsigned char)fill) { fail("block contents changed"); return; }
}

static void hand_to_main(void *p) {
  pthread_mutex_lock(&handed_lock);
  if (nhanded < HANDED_MAX) handed[nhanded++] = p;
  else free(p);
  pthread_mutex_unlock(&handed_lock);
}

/* Allocate, reallocate and free a little, as cleanup code does. */
static void churn(int fill) {
  void *p[16];
  for (int i = 0; i < 16; i++) p[i] = xmalloc(8 + (size_t)i * 40, fill);
  for (int i = 0; i < 16; i += 2) {
    p[i] = realloc(p[i], 2000 + (size_t)i);
    if (!p[i]) { fail("realloc returned NULL"); abort(); }
    atomic_fetch_add(&allocs, 1);
  }
  for (int i = 1; i < 16; i += 2) check_fill(p[i], 8 + (size_t)i * 40, fill);
  for (int i = 0; i < 16; i++) free(p[i]);
  void *q = calloc(100, 10);
  if (!q) abort();
  atomic_fetch_add(&allocs, 1);
  hand_to_main(q);
}

static void key_a_dtor(void *v) {
  check_fill(v, 64, 0xA1);
  churn(0xA2);
  free(v);
}

/* First pass: the block set by the thread. Then the key is re-armed with small integers, so
 * glibc runs two more destructor passes, each of which allocates again. */
static void key_b_dtor(void *v) {
  churn(0xB2);
  if ((uintptr_t)v == 1) {
    pthread_setspecific(key_b, (void *)(uintptr_t)2);
  } else if ((uintptr_t)v != 2) {
    check_fill(v, 128, 0xB1);
    free(v);
    pthread_setspecific(key_b, (void *)(uintptr_t)1);
  }
}

static void tls_dtor(void *v) {
  check_fill(v, 300, 0xC1);
  churn(0xC2);
  hand_to_main(v);
}

/* pthread_exit from 6 frames down: the blocks of the outer frames were handed over first, since
 * C frames unwound by pthread_exit run no cleanup. */
static void deep_exit(int depth) {
  if (depth < 0) return;
  hand_to_main(xmalloc(32, depth));
  if (depth == 0) pthread_exit(NULL);
  deep_exit(depth - 1);
  atomic_fetch_add(&allocs, 0); /* not a tail call: the frames stay on the stack */
}

static void *thread_main(void *arg) {
  uintptr_t mode = (uintptr_t)arg;
  pthread_setspecific(key_a, xmalloc(64, 0xA1));
  pthread_setspecific(key_b, xmalloc(128, 0xB1));
  __cxa_thread_atexit_impl(tls_dtor, xmalloc(300, 0xC1), &__dso_handle);
  churn(0x11);
  if (mode % 3 == 1) deep_exit(5);
  if (mode % 3 == 2) pthread_exit(NULL);
  return NULL;
}

int main(int argc, char **argv) {
  int require = argc > 1 && strcmp(argv[1], "--require-stats") == 0;
  alarm(60);
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("thread_exit: memscope %s\n", ms_stats ? "loaded" : "NOT loaded");
  if (require && !ms_stats) { printf("FAIL: ms_stats() is not available\n"); return 1; }
  pthread_key_create(&key_a, key_a_dtor);
  pthread_key_create(&key_b, key_b_dtor);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024); /* all stacks fit glibc's cache: see below */

  ms_stats_t base = {0}, end = {0};
  for (int pass = 0; pass < 2; pass++) {
    /* pass 0 warms up: glibc keeps each new stack's per-thread blocks in its stack cache */
    if (pass == 1 && ms_stats) ms_stats(&base);
    long before = atomic_load(&allocs);
    for (int i = 0; i < 60; i++) { /* one by one */
      pthread_t t;
      if (pthread_create(&t, &attr, thread_main, (void *)(uintptr_t)i)) abort();
      pthread_join(t, NULL);
    }
    for (int r = 0; r < 10; r++) { /* 8 at a time */
      pthread_t t[8];
      for (int i = 0; i < 8; i++)
        if (pthread_create(&t[i], &attr, thread_main, (void *)(uintptr_t)(r + i))) abort();
      for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
    }
    pthread_mutex_lock(&handed_lock);
    for (size_t i = 0; i < nhanded; i++) free(handed[i]);
    nhanded = 0;
    pthread_mutex_unlock(&handed_lock);
    if (pass == 1 && ms_stats) {
      ms_stats(&end);
      long made = atomic_load(&allocs) - before;
      printf("allocations made %ld, counted +%" PRIu64 "; live %" PRIu64 "/%" PRIu64 " -> %" PRIu64
             "/%" PRIu64 "\n", made, end.total_allocations - base.total_allocations,
             base.live_allocations, base.live_bytes, end.live_allocations, end.live_bytes);
      if (end.live_allocations != base.live_allocations || end.live_bytes != base.live_bytes)
        fail("live counters did not return to the baseline");
      if (end.total_allocations - base.total_allocations < (uint64_t)made)
        fail("allocations in thread-exit code escaped the counters");
    }
  }
  pthread_attr_destroy(&attr);
  long f = atomic_load(&failures);
  printf("%s\n", f ? "FAIL" : "PASS");
  return f ? 1 : 0;
}
