/* test_stacks.c — stack capture and the shared stack table (track/stacks.c), end to end. The
 * file is built twice: with -O2 -fomit-frame-pointer (test_stacks) and with frame pointers
 * (test_stacks_fp); both must give the same answers. At rate 1:
 *  - a known chain chain_root -> f1 -> f2 -> f3 -> malloc is recorded innermost first, in
 *    order, with nothing in between and nothing of memscope's own on top;
 *  - unwinding goes through code built without frame pointers in other modules (libc's qsort
 *    calling back into us; a thread's start routine);
 *  - the same site always gets the same stack id, distinct sites distinct ids, and the stack
 *    count in ms_stats() grows only for new sites;
 *  - tags (ms_tag_push/pop) make otherwise identical sites distinct, innermost tag wins;
 *  - depth is capped by MEMSCOPE_STACK_DEPTH (ctest sets 24);
 *  - the module map places frames in the right modules (the executable, libc).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dump.h"
#include "memscope.h"
#include "test_compiler.h"
#include "tracking/dump_helpers.h"


NOINLINE void *f3(size_t n) {
  void *p = malloc(n);
  NO_TAIL();
  return p;
}
NOINLINE void *f2(size_t n) {
  void *p = f3(n + 1);
  NO_TAIL();
  return p;
}
NOINLINE void *f1(size_t n) {
  void *p = f2(n + 1);
  NO_TAIL();
  return p;
}
NOINLINE void *chain_root(size_t n) {
  void *p = f1(n + 1);
  NO_TAIL();
  return p;
}

NOINLINE void *leaf_alloc(void) {
  void *p = malloc(48);
  NO_TAIL();
  return p;
}
NOINLINE void *caller_a(void) {
  void *p = leaf_alloc();
  NO_TAIL();
  return p;
}
NOINLINE void *caller_b(void) {
  void *p = leaf_alloc();
  NO_TAIL();
  return p;
}
NOINLINE void two_sites(void **x, void **y) {
  *x = malloc(40); /* site 1 */
  NO_TAIL();
  *y = malloc(40); /* site 2: same function, another call instruction */
  NO_TAIL();
}

NOINLINE void *recurse(int depth) {
  void *p = depth ? recurse(depth - 1) : malloc(24);
  NO_TAIL();
  return p;
}

/* Loop bounds the compiler cannot see, so that it cannot unroll the loops below into several
 * call instructions (each of which would be its own call site). */
static volatile int two = 2, five = 5, ten = 10, hundred = 100;

static int setup(void **state) {
  (void)state;
  return ms_set_sample_rate(1);
}
static int teardown(void **state) {
  (void)state;
  return ms_set_sample_rate(0);
}

/* The dump's live allocation at address p (or fail). */
static const ms_dump_alloc_t *alloc_at(const ms_dump_t *d, const void *p) {
  for (uint32_t i = 0; i < d->n_allocs; i++)
    if (d->allocs[i].address == (uint64_t)(uintptr_t)p) return &d->allocs[i];
  fail_msg("no live sampled allocation at %p among %u", p, d->n_allocs);
  return NULL;
}

static void print_stack(const ms_dump_t *d, uint32_t si) {
  if (si >= d->n_stacks) return;
  for (uint32_t i = 0; i < d->stacks[si].depth; i++)
    print_message("    #%u %#llx %s\n", i, (unsigned long long)d->stacks[si].frames[i],
                  ms_test_frame_name(d->stacks[si].frames[i]));
}

static void expect_chain(const ms_dump_t *d, uint32_t si, const char *const *names, int n) {
  for (int i = 0; i < n; i++) {
    int at = ms_test_frame_index(d, si, names[i]);
    if (at != i) {
      print_stack(d, si);
      fail_msg("frame %d should be %s, found it at %d", i, names[i], at);
    }
  }
}

static void test_stacks_known_chain_in_order(void **state) {
  (void)state;
  void *p = chain_root(10);
  ms_dump_t d;
  ms_test_snapshot(&d);
  const ms_dump_alloc_t *a = alloc_at(&d, p);
  assert_int_equal(a->size, 13);
  static const char *const chain[] = {"f3", "f2", "f1", "chain_root"};
  expect_chain(&d, a->stack, chain, 4);
  /* the frames are inside the functions' code: between the entry and the next function */
  const uint64_t *fr = d.stacks[a->stack].frames;
  assert_true(fr[0] > (uint64_t)(uintptr_t)&f3);
  assert_true(fr[1] > (uint64_t)(uintptr_t)&f2);
  assert_true(fr[2] > (uint64_t)(uintptr_t)&f1);
  /* and below chain_root, the cmocka runner and main follow */
  assert_true(ms_test_frame_index(&d, a->stack, "main") > 3);
  ms_dump_free(&d);
  free(p);
}

static int cmp_alloc_calls;
static void *cmp_blocks[64];
NOINLINE int cmp_alloc(const void *x, const void *y) {
  if (cmp_alloc_calls < 64) cmp_blocks[cmp_alloc_calls] = malloc(32);
  cmp_alloc_calls++;
  return *(const int *)x - *(const int *)y;
}
NOINLINE void sort_caller(void) {
  int v[8] = {5, 3, 7, 1, 8, 2, 6, 4};
  qsort(v, 8, sizeof *v, cmp_alloc);
  NO_TAIL();
}

static void test_stacks_through_libc_callback(void **state) {
  (void)state;
  cmp_alloc_calls = 0;
  sort_caller();
  assert_true(cmp_alloc_calls > 0);
  ms_dump_t d;
  ms_test_snapshot(&d);
  const ms_dump_alloc_t *a = alloc_at(&d, cmp_blocks[0]);
  assert_int_equal(ms_test_frame_index(&d, a->stack, "cmp_alloc"), 0);
  /* libc's qsort (no frame pointers) sits between the callback and its caller */
  int caller = ms_test_frame_index(&d, a->stack, "sort_caller");
  if (caller < 2) {
    print_stack(&d, a->stack);
    fail_msg("sort_caller at %d, expected below qsort's frames", caller);
  }
  /* the frames in between are in libc, per the module map */
  const uint64_t f1addr = d.stacks[a->stack].frames[1];
  int in_libc = 0;
  for (uint32_t m = 0; m < d.n_modules; m++)
    if (f1addr >= d.modules[m].start && f1addr < d.modules[m].end && d.modules[m].path &&
        strstr(d.modules[m].path, "libc.so"))
      in_libc = 1;
  assert_true(in_libc);
  ms_dump_free(&d);
  for (int i = 0; i < cmp_alloc_calls && i < 64; i++) free(cmp_blocks[i]);
}

static pthread_barrier_t thread_barrier;
static pid_t thread_tid;

NOINLINE void *thread_body(void *arg) {
  void **out = arg;
  *out = malloc(72);
  NO_TAIL();
  thread_tid = gettid();
  pthread_barrier_wait(&thread_barrier); /* allocated */
  pthread_barrier_wait(&thread_barrier); /* main has taken its snapshot */
  return NULL;
}

/* The allocating thread of a live block is kept by the 48-byte SAMPLED record; exact mode's
 * one-word EXACT record (lean mode at rate 1) has no room for it (docs/USAGE.md). These tests
 * sample at rate 2 (every block of 72 or 88 bytes is sampled, with a SAMPLED record), and check
 * that at rate 1 the block says "thread unknown" rather than a wrong thread. */
static void test_stacks_in_thread(void **state) {
  (void)state;
  assert_int_equal(ms_set_sample_rate(2), MS_OK);
  void *p = NULL;
  pthread_t th;
  pthread_barrier_init(&thread_barrier, NULL, 2);
  assert_int_equal(pthread_create(&th, NULL, thread_body, &p), 0);
  pthread_setname_np(th, "stacks-worker");
  pthread_barrier_wait(&thread_barrier);
  ms_dump_t d;
  ms_test_snapshot(&d);
  pthread_barrier_wait(&thread_barrier);
  pthread_join(th, NULL);
  pthread_barrier_destroy(&thread_barrier);
  const ms_dump_alloc_t *a = alloc_at(&d, p);
  assert_int_equal(ms_test_frame_index(&d, a->stack, "thread_body"), 0);
  /* attributed to the (live) thread that allocated it, with its name */
  assert_true(a->thread < d.n_threads);
  assert_int_equal(d.threads[a->thread].tid, (uint64_t)thread_tid);
  assert_true(d.threads[a->thread].alive);
  assert_string_equal(d.threads[a->thread].name, "stacks-worker");
  ms_dump_free(&d);
  free(p);
  assert_int_equal(ms_set_sample_rate(1), MS_OK);
}

NOINLINE void *exiting_body(void *arg) {
  void **out = arg;
  *out = malloc(88);
  NO_TAIL();
  thread_tid = gettid();
  return NULL;
}

/* A block whose thread has exited is still attributed to that thread: dump.h says allocs[].thread
 * indexes threads[], and exited threads are listed there (alive == 0). */
static void test_stacks_exited_thread_attributed(void **state) {
  (void)state;
  void *p = NULL, *q = NULL;
  pthread_t th;
  assert_int_equal(ms_set_sample_rate(1), MS_OK);
  assert_int_equal(pthread_create(&th, NULL, exiting_body, &q), 0); /* exact mode: EXACT record */
  pthread_join(th, NULL);
  assert_int_equal(ms_set_sample_rate(2), MS_OK);
  assert_int_equal(pthread_create(&th, NULL, exiting_body, &p), 0);
  pthread_join(th, NULL);
  assert_int_equal(ms_set_sample_rate(1), MS_OK);
  ms_dump_t d;
  ms_test_snapshot(&d);
  const ms_dump_alloc_t *a = alloc_at(&d, p);
  int listed = 0;
  for (uint32_t i = 0; i < d.n_threads; i++)
    if (d.threads[i].tid == (uint64_t)thread_tid && !d.threads[i].alive) listed = 1;
  assert_true(listed);
  if (a->thread >= d.n_threads) fail_msg("the block of exited thread %d has thread index %u",
                                         (int)thread_tid, a->thread);
  assert_int_equal(d.threads[a->thread].tid, (uint64_t)thread_tid);
  const ms_dump_alloc_t *e = alloc_at(&d, q);
  if (!getenv("MEMSCOPE_CHECKS")) /* lean mode: the EXACT record knows no thread */
    assert_int_equal(e->thread, MS_DUMP_NONE);
  else /* header mode keeps SAMPLED records at rate 1 too */
    assert_true(e->thread < d.n_threads);
  ms_dump_free(&d);
  free(p);
  free(q);
}

static void test_stacks_same_site_same_id(void **state) {
  (void)state;
  /* every call below sits in a loop, so each site is one call instruction here too */
  void *a[10], *x[2], *y[2], *c[2];
  for (int i = 0; i < ten; i++) a[i] = leaf_alloc();
  for (int k = 0; k < two; k++) two_sites(&x[k], &y[k]);
  for (int k = 0; k < two; k++) c[k] = k ? caller_b() : caller_a();
  ms_dump_t d;
  ms_test_snapshot(&d);
  uint32_t s0 = alloc_at(&d, a[0])->stack;
  for (int i = 1; i < 10; i++) {
    uint32_t si = alloc_at(&d, a[i])->stack;
    if (si != s0) {
      print_message("  block 0:\n");
      print_stack(&d, s0);
      print_message("  block %d:\n", i);
      print_stack(&d, si);
      fail_msg("one call site, two stacks (%u, %u)", s0, si);
    }
  }
  uint32_t sx = alloc_at(&d, x[0])->stack, sy = alloc_at(&d, y[0])->stack;
  assert_int_not_equal(sx, sy); /* two call instructions in one function */
  assert_int_equal(alloc_at(&d, x[1])->stack, sx);
  assert_int_equal(alloc_at(&d, y[1])->stack, sy);
  assert_int_equal(ms_test_frame_index(&d, sx, "two_sites"), 0);
  assert_int_equal(ms_test_frame_index(&d, sy, "two_sites"), 0);
  assert_int_not_equal(d.stacks[sx].frames[0], d.stacks[sy].frames[0]);
  /* one allocating function reached from two callers: same innermost frame, distinct stacks */
  uint32_t sa = alloc_at(&d, c[0])->stack, sb = alloc_at(&d, c[1])->stack;
  assert_int_not_equal(sa, sb);
  assert_int_equal(d.stacks[sa].frames[0], d.stacks[sb].frames[0]);
  assert_int_equal(ms_test_frame_index(&d, sa, "caller_a"), 1);
  assert_int_equal(ms_test_frame_index(&d, sb, "caller_b"), 1);
  /* the table is deduplicated: no two stacks in the dump are identical */
  for (uint32_t i = 0; i < d.n_stacks; i++)
    for (uint32_t j = i + 1; j < d.n_stacks; j++)
      if (d.stacks[i].depth == d.stacks[j].depth && d.stacks[i].depth &&
          memcmp(d.stacks[i].frames, d.stacks[j].frames, d.stacks[i].depth * 8) == 0) {
        /* identical frames are allowed only for different tags */
        int tagged = 0;
        for (uint32_t k = 0; k < d.n_sites; k++)
          if ((d.sites[k].stack == i || d.sites[k].stack == j) && d.sites[k].tag != MS_DUMP_NONE)
            tagged = 1;
        if (!tagged) fail_msg("stacks %u and %u are identical", i, j);
      }
  ms_dump_free(&d);
  for (int i = 0; i < 10; i++) free(a[i]);
  for (int k = 0; k < 2; k++) free(x[k]), free(y[k]), free(c[k]);
}

static void test_stacks_count_grows_only_for_new_sites(void **state) {
  (void)state;
  ms_stats_t a, b;
  for (int round = 0; round < 3; round++) {
    if (round == 1) ms_stats(&a); /* round 0 made the site */
    for (int i = 0; i < hundred; i++) free(leaf_alloc());
  }
  ms_stats(&b);
  assert_int_equal(b.stacks, a.stacks);
  void *p = recurse(3); /* a new site */
  ms_stats(&b);
  assert_int_equal(b.stacks, a.stacks + 1);
  free(p);
}

static void test_stacks_tags_separate_sites(void **state) {
  (void)state;
  /* one call site, five allocations: untagged, alpha, beta inside alpha, alpha, untagged */
  void *blk[5];
  for (int i = 0; i < five; i++) {
    if (i == 1) assert_int_equal(ms_tag_push("alpha"), MS_OK);
    if (i == 2) assert_int_equal(ms_tag_push("beta"), MS_OK);
    if (i == 3 || i == 4) assert_int_equal(ms_tag_pop(), MS_OK);
    blk[i] = leaf_alloc();
  }
  assert_int_equal(ms_tag_pop(), MS_EINVAL); /* nothing left to pop */
  assert_int_equal(ms_tag_push(NULL), MS_EINVAL);

  ms_dump_t d;
  ms_test_snapshot(&d);
  const ms_dump_alloc_t *p = alloc_at(&d, blk[0]), *a = alloc_at(&d, blk[1]),
                        *b = alloc_at(&d, blk[2]), *a2 = alloc_at(&d, blk[3]),
                        *p2 = alloc_at(&d, blk[4]);
  assert_null(ms_test_tag_name(&d, p->tag));
  assert_string_equal(ms_test_tag_name(&d, a->tag), "alpha");
  assert_string_equal(ms_test_tag_name(&d, b->tag), "beta"); /* innermost tag wins */
  assert_string_equal(ms_test_tag_name(&d, a2->tag), "alpha");
  assert_null(ms_test_tag_name(&d, p2->tag));
  assert_int_not_equal(p->stack, a->stack);
  assert_int_not_equal(a->stack, b->stack);
  assert_int_not_equal(p->stack, b->stack);
  assert_int_equal(a->stack, a2->stack);
  assert_int_equal(p->stack, p2->stack);
  /* the same frames under three tags */
  assert_int_equal(d.stacks[p->stack].depth, d.stacks[a->stack].depth);
  assert_memory_equal(d.stacks[p->stack].frames, d.stacks[a->stack].frames,
                      d.stacks[p->stack].depth * 8);
  /* the sites carry the tags too */
  assert_non_null(ms_test_find_site(&d, "leaf_alloc", "alpha"));
  assert_non_null(ms_test_find_site(&d, "leaf_alloc", "beta"));
  assert_non_null(ms_test_find_site(&d, "leaf_alloc", NULL));
  ms_dump_free(&d);
  for (int i = 0; i < 5; i++) free(blk[i]);
}

static void test_stacks_tag_depth_limit(void **state) {
  (void)state;
  int pushed = 0;
  while (pushed < 100 && ms_tag_push("deep") == MS_OK) pushed++;
  assert_int_equal(pushed, 16); /* documented nesting limit */
  for (int i = 0; i < pushed; i++) assert_int_equal(ms_tag_pop(), MS_OK);
  assert_int_equal(ms_tag_pop(), MS_EINVAL);
}

static void test_stacks_depth_is_capped(void **state) {
  (void)state;
  const char *env = getenv("MEMSCOPE_STACK_DEPTH");
  uint32_t want = env ? (uint32_t)atoi(env) : 32;
  void *p = recurse(60);
  ms_dump_t d;
  ms_test_snapshot(&d);
  const ms_dump_alloc_t *a = alloc_at(&d, p);
  assert_int_equal(d.options.stack_depth, want);
  assert_int_equal(d.stacks[a->stack].depth, want);
  for (uint32_t i = 0; i < want; i++)
    assert_string_equal(ms_test_frame_name(d.stacks[a->stack].frames[i]), "recurse");
  ms_dump_free(&d);
  free(p);
}

static void test_stacks_module_map(void **state) {
  (void)state;
  void *p = chain_root(1);
  ms_dump_t d;
  ms_test_snapshot(&d);
  const ms_dump_alloc_t *a = alloc_at(&d, p);
  uint64_t f = d.stacks[a->stack].frames[0];
  const ms_dump_module_t *exe = NULL;
  for (uint32_t m = 0; m < d.n_modules; m++)
    if (f >= d.modules[m].start && f < d.modules[m].end) exe = &d.modules[m];
  assert_non_null(exe);
  assert_non_null(exe->path);
  assert_non_null(strstr(exe->path, "test_stacks"));
  assert_true(exe->base <= exe->start);
  assert_true(exe->build_id_len > 0); /* Debian's linker adds a GNU build-id */
  /* f3's address relative to the module's load bias is what a symboliser looks up */
  assert_true(f - exe->base < exe->end - exe->base);
  assert_true((uint64_t)(uintptr_t)&f3 >= exe->start && (uint64_t)(uintptr_t)&f3 < exe->end);
  ms_dump_free(&d);
  free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stacks_known_chain_in_order),
      cmocka_unit_test(test_stacks_through_libc_callback),
      cmocka_unit_test(test_stacks_in_thread),
      cmocka_unit_test(test_stacks_exited_thread_attributed),
      cmocka_unit_test(test_stacks_same_site_same_id),
      cmocka_unit_test(test_stacks_count_grows_only_for_new_sites),
      cmocka_unit_test(test_stacks_tags_separate_sites),
      cmocka_unit_test(test_stacks_tag_depth_limit),
      cmocka_unit_test(test_stacks_depth_is_capped),
      cmocka_unit_test(test_stacks_module_map),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
