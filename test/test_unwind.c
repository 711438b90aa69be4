/* test_unwind.c — the cached CFI walker (track/cfi_cache.c) against libgcc's _Unwind_Backtrace,
 * frame for frame, in the places where a stack walker goes wrong. Built twice, without frame
 * pointers (test_unwind) and with them (test_unwind_fp); the cached walker must not care:
 *  - a chain of functions, including one whose frame is addressed through rbp (alloca) and one
 *    with a large frame;
 *  - through libc code built without frame pointers (qsort calling back into us);
 *  - in a second thread, down to clone's outermost frame;
 *  - deep recursion (300 frames, more than the buffer: truncation is the same);
 *  - inside a signal handler: the signal frame needs the full unwinder, so the cached walk
 *    answers -1 and the caller's fallback gives libgcc's stack;
 *  - the same return addresses reached through different callers give different stacks (the
 *    cache is per address, never per stack), and a stack that differs from the last walk's only
 *    in the middle is walked there, not taken from the last walk;
 *  - after _ms_cfi_flush() (a dlclose) the walk is still right, and the second walk of a stack
 *    (all rules cached) equals the first.
 * All of it with the shared rule table alone, then through a thread's own cache, cold and warm.
 */
#include <alloca.h>
#include <dlfcn.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unwind.h>

#include <cmocka.h>

#include "internal.h"
#include "stack_walk.h"

#define NOINLINE __attribute__((noinline, noclone))
#define NO_TAIL() __asm__ volatile("" ::: "memory")
#define MAXF 64

static ms_unwind_cache_t l0_cache; /* a thread's rule caches, as in ms_thread_t */
static int use_l0;

typedef struct capture {
  void *cached[MAXF], *gcc[MAXF];
  int n_cached, n_gcc;
} capture_t;

typedef struct gwalk {
  void **buf;
  int n, skip;
} gwalk_t;

static _Unwind_Reason_Code one(struct _Unwind_Context *ctx, void *arg) {
  gwalk_t *w = arg;
  uintptr_t ip = _Unwind_GetIP(ctx);
  if (ip == 0 || w->n >= MAXF) return _URC_END_OF_STACK;
  if (w->skip > 0) {
    w->skip--;
    return _URC_NO_REASON;
  }
  w->buf[w->n++] = (void *)ip;
  return _URC_NO_REASON;
}

/* Both walks start in the caller of capture_here, as _ms_unwind's do. */
static NOINLINE int walk_libgcc(void **buf) {
  gwalk_t w = {buf, 0, 2}; /* walk_libgcc's own frame, then capture_here's */
  _Unwind_Backtrace(one, &w);
  NO_TAIL();
  return w.n;
}

static NOINLINE void capture_here(capture_t *c) {
  uint64_t *fp = __builtin_frame_address(0);
  c->n_cached = _ms_cfi_walk(c->cached, MAXF, fp[1], (uint64_t)(uintptr_t)(fp + 2), fp[0], use_l0 ? &l0_cache : NULL);
  c->n_gcc = walk_libgcc(c->gcc);
  NO_TAIL();
}

static void assert_same(const capture_t *c, int min_frames) {
  assert_true(c->n_cached >= 0);
  assert_int_equal(c->n_cached, c->n_gcc);
  assert_true(c->n_gcc >= min_frames);
  for (int i = 0; i < c->n_gcc; i++) {
    if (c->cached[i] != c->gcc[i]) fail_msg("frame %d: cached %p, libgcc %p", i, c->cached[i], c->gcc[i]);
  }
}

/* ---- a chain with an rbp-addressed frame (alloca) and a large one */
static NOINLINE void leaf(capture_t *c) {
  capture_here(c);
  NO_TAIL();
}
static NOINLINE void with_alloca(capture_t *c, size_t n) {
  volatile char *a = alloca(n);
  a[0] = 1;
  leaf(c);
  a[n - 1] = 2;
  NO_TAIL();
}
static NOINLINE void big_frame(capture_t *c) {
  volatile char big[70000];
  big[0] = 1;
  with_alloca(c, 100 + (size_t)big[0]);
  big[69999] = 2;
  NO_TAIL();
}
static NOINLINE void chain(capture_t *c) {
  big_frame(c);
  NO_TAIL();
}

static void test_chain(void **state) {
  (void)state;
  capture_t c;
  chain(&c);
  assert_same(&c, 6);
  capture_t again;
  chain(&again); /* every rule now cached */
  assert_same(&again, 6);
  assert_int_equal(again.n_cached, c.n_cached);
}

/* ---- through libc's qsort (no frame pointers) */
static capture_t *qsort_capture;
static int cmp_capture(const void *a, const void *b) {
  if (qsort_capture) {
    capture_here(qsort_capture);
    qsort_capture = NULL;
  }
  return *(const int *)a - *(const int *)b;
}
static void test_through_libc(void **state) {
  (void)state;
  capture_t c;
  int v[16];
  for (int i = 0; i < 16; i++) v[i] = 16 - i;
  qsort_capture = &c;
  qsort(v, 16, sizeof v[0], cmp_capture);
  assert_same(&c, 4);
}

/* ---- a thread, down to clone */
static void *thread_main(void *arg) {
  chain(arg);
  return NULL;
}
static void test_thread(void **state) {
  (void)state;
  capture_t c;
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, thread_main, &c), 0);
  pthread_join(th, NULL);
  assert_same(&c, 6);
  assert_true(c.n_gcc < MAXF); /* the whole stack, to the outermost frame */
}

/* ---- deep recursion: both stop at the buffer's size */
static NOINLINE int recurse(capture_t *c, int depth) {
  if (depth == 0) {
    capture_here(c);
    return 0;
  }
  int r = recurse(c, depth - 1) + 1;
  NO_TAIL();
  return r;
}
static void test_deep(void **state) {
  (void)state;
  capture_t c;
  recurse(&c, 300);
  assert_same(&c, MAXF);
}

/* ---- the same depth reached through a path that differs in the middle: a walk must not take
 * the previous walk's frames below a point where the stack changed */
static NOINLINE int mid_a(capture_t *c, int depth, int flip);
static NOINLINE int mid_b(capture_t *c, int depth, int flip) {
  int r = depth == 0 ? (capture_here(c), 0) : mid_a(c, depth - 1, flip) + 1;
  NO_TAIL();
  return r;
}
static NOINLINE int mid_a(capture_t *c, int depth, int flip) {
  if (depth == 0) {
    capture_here(c);
    return 0;
  }
  int r = (depth == flip ? mid_b(c, depth - 1, flip) : mid_a(c, depth - 1, flip)) + 1;
  NO_TAIL();
  return r;
}
static void test_changed_middle(void **state) {
  (void)state;
  for (int round = 0; round < 3; round++) {
    for (int flip = 0; flip < 12; flip += 3) {
      capture_t c;
      mid_a(&c, 12, flip); /* the function at depth `flip` differs from the last walk's */
      assert_same(&c, 12);
      mid_a(&c, 80, flip); /* deeper than MAXF frames can hold: a cut walk, then one below it */
      assert_same(&c, MAXF);
    }
  }
}

/* ---- a signal handler: the cached walk hands over */
static capture_t *sig_capture;
static void on_signal(int sig) {
  (void)sig;
  capture_here(sig_capture);
}
static void test_signal_handler(void **state) {
  (void)state;
  capture_t c;
  sig_capture = &c;
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGUSR1, &sa, &old);
  raise(SIGUSR1);
  sigaction(SIGUSR1, &old, NULL);
  assert_int_equal(c.n_cached, -1); /* the signal frame needs libgcc: _ms_unwind falls back */
  assert_true(c.n_gcc >= 4);        /* and libgcc walks through it */
}

/* ---- same leaf, different callers */
static NOINLINE void caller_a(capture_t *c) {
  leaf(c);
  NO_TAIL();
}
static NOINLINE void caller_b(capture_t *c) {
  leaf(c);
  NO_TAIL();
}
static void test_distinct_callers(void **state) {
  (void)state;
  capture_t a, b;
  caller_a(&a);
  caller_b(&b);
  assert_same(&a, 3);
  assert_same(&b, 3);
  assert_ptr_equal(a.cached[1], b.cached[1]); /* the return address inside leaf... */
  assert_ptr_not_equal(a.cached[2], b.cached[2]); /* ...reached from two callers */
}

/* ---- after a flush (dlclose) */
static void test_flush(void **state) {
  (void)state;
  capture_t c;
  chain(&c);
  _ms_cfi_flush();
  chain(&c);
  assert_same(&c, 6);
  for (int i = 0; i < 256; i++) _ms_cfi_flush(); /* the epoch's low byte comes round again */
  chain(&c);
  assert_same(&c, 6);
}

int main(void) {
  void *h = dlopen("libgcc_s.so.1", RTLD_NOW);
  assert_non_null(h);
  void *find = dlsym(h, "_Unwind_Find_FDE");
  assert_non_null(find);
  _ms_cfi_init(find);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_chain),        cmocka_unit_test(test_through_libc),
      cmocka_unit_test(test_thread),       cmocka_unit_test(test_deep),
      cmocka_unit_test(test_signal_handler), cmocka_unit_test(test_distinct_callers),
      cmocka_unit_test(test_flush),        cmocka_unit_test(test_changed_middle),
  };
  int failed = cmocka_run_group_tests_name("shared rule table only", tests, NULL, NULL);
  use_l0 = 1; /* again through a thread's own cache, cold then warm */
  failed += cmocka_run_group_tests_name("with the thread's caches", tests, NULL, NULL);
  failed += cmocka_run_group_tests_name("with the thread's caches, warm", tests, NULL, NULL);
  return failed;
}
