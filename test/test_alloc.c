/* test_alloc.c — malloc semantics of libmemscope's entry points (alloc/malloc.c), as glibc
 * 2.36 gives them: natural and explicit alignment over all sizes, usable sizes, calloc zeroing,
 * overflow and out-of-memory failures with ENOMEM, realloc's edge cases and in-place growth,
 * free() keeping errno, pointers memscope never allocated (no crash, usable size 0, realloc
 * refused), and double frees reported on stderr without crashing.
 *
 * Most cases run twice: statistics only (rate 0: SHORT/NORMAL headers) and every allocation
 * sampled (rate 1: the 48-byte SAMPLED header), since alignment and sizes depend on the header.
 * Cases that make memscope print an error run in a forked child with stderr captured.
 */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <setjmp.h>
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

/* This file frees twice, uses pointers after failed reallocs and asks for absurd sizes on
 * purpose. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wuse-after-free"
#endif
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Walloc-size-larger-than="
#endif

/* Keep gcc from reasoning about (and removing) allocations whose results we only inspect. */
static inline void *opaque(void *p) {
  __asm__ volatile("" : "+r"(p));
  return p;
}
static inline size_t opaque_size(size_t n) {
  __asm__ volatile("" : "+r"(n));
  return n;
}

static int set_rate(void **state, size_t rate) {
  *state = (void *)(uintptr_t)rate;
  return ms_set_sample_rate(rate) == MS_OK ? 0 : -1;
}
static int rate0(void **state) { return set_rate(state, 0); }
static int rate1(void **state) { return set_rate(state, 1); }

static size_t page(void) { return (size_t)sysconf(_SC_PAGESIZE); }

/* ------------------------------------------------------------------ it really is memscope */

static void test_alloc_is_memscope(void **state) {
  (void)state;
  ms_stats_t a, b;
  assert_int_equal(ms_stats(&a), MS_OK);
  void *p = opaque(malloc(1000));
  assert_int_equal(ms_stats(&b), MS_OK);
  assert_int_equal(b.total_allocations - a.total_allocations, 1);
  assert_int_equal(b.live_bytes - a.live_bytes, 1000);
  free(p);
  assert_int_equal(ms_stats(&a), MS_OK);
  assert_int_equal(a.live_bytes, b.live_bytes - 1000);
  assert_int_equal(a.total_frees - b.total_frees, 1);
}

/* ------------------------------------------------------------------ alignment */

static void check_block(void *p, size_t n, size_t align) {
  if (!p) fail_msg("NULL for size %zu align %zu", n, align);
  if ((uintptr_t)p % align) fail_msg("%p: size %zu not %zu-aligned", p, n, align);
  size_t u = malloc_usable_size(p);
  if (u < n) fail_msg("size %zu align %zu: usable %zu", n, align, u);
  memset(p, 0x5A, n); /* writable, and trips a guard check if the header were inside */
}

static size_t natural_align(size_t n) { return n >= 16 ? 16 : 8; }

static void test_alloc_natural_alignment_matrix(void **state) {
  (void)state;
  void *keep[64] = {0}; /* a few live blocks so the allocator does not reuse one slot only */
  size_t k = 0;
  for (size_t n = 0; n <= 65536; n += (n < 4096 ? 1 : 61)) {
    void *p = malloc(opaque_size(n));
    check_block(p, n, natural_align(n));
    if (n % 7 == 0) {
      free(keep[k]);
      keep[k] = p;
      k = (k + 1) % 64;
    } else {
      free(p);
    }
  }
  for (size_t i = 0; i < 64; i++) free(keep[i]);
}

static const size_t test_sizes[] = {0, 1, 7, 8, 15, 16, 17, 100, 4095, 4097, 65539};

static void test_alloc_posix_memalign_matrix(void **state) {
  (void)state;
  for (size_t align = 8; align <= ((size_t)8 << 20); align <<= 1) {
    for (size_t i = 0; i < sizeof test_sizes / sizeof *test_sizes; i++) {
      for (size_t extra = 0; extra < 2; extra++) {
        size_t n = extra ? align + test_sizes[i] : test_sizes[i];
        void *p = (void *)0x1;
        errno = 4321;
        int rc = posix_memalign(&p, align, n);
        assert_int_equal(rc, 0);
        assert_int_equal(errno, 4321);
        check_block(p, n, align);
        free(p);
      }
    }
  }
}

static void test_alloc_aligned_alloc_matrix(void **state) {
  (void)state;
  for (size_t align = 8; align <= ((size_t)8 << 20); align <<= 1) {
    for (size_t i = 0; i < sizeof test_sizes / sizeof *test_sizes; i++) {
      size_t n = test_sizes[i];
      void *p = aligned_alloc(align, opaque_size(n));
      check_block(p, n, align);
      void *q = memalign(align, opaque_size(n + align / 2));
      check_block(q, n + align / 2, align);
      free(p);
      free(q);
    }
  }
}

static void test_alloc_memalign_rounds_odd_alignment(void **state) {
  (void)state;
  /* glibc's memalign rounds an alignment that is not a power of two up to the next one */
  static const size_t odd[][2] = {{24, 32}, {48, 64}, {100, 128}, {3000, 4096}, {5, 8}};
  for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
    void *p = memalign(odd[i][0], 40);
    check_block(p, 40, odd[i][1]);
    free(p);
  }
}

static void test_alloc_valloc_pvalloc(void **state) {
  (void)state;
  size_t ps = page();
  static const size_t sizes[] = {0, 1, 100, 4095, 4096, 4097, 100000};
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    size_t n = sizes[i];
    void *v = valloc(opaque_size(n));
    check_block(v, n, ps);
    void *pv = pvalloc(opaque_size(n));
    size_t rounded = n ? (n + ps - 1) / ps * ps : ps;
    check_block(pv, rounded, ps); /* pvalloc gives whole pages, at least one */
    free(v);
    free(pv);
  }
}

static void test_alloc_posix_memalign_einval(void **state) {
  (void)state;
  static const size_t bad[] = {0, 1, 2, 4, 3, 12, 24, 48, 96, 4097, (size_t)1 << 63 | 8};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    void *p = (void *)0x1234;
    errno = 777;
    int rc = posix_memalign(&p, bad[i], 64);
    if (rc != EINVAL) fail_msg("alignment %zu: rc %d", bad[i], rc);
    assert_int_equal(errno, 777);
    assert_ptr_equal(p, (void *)0x1234); /* out untouched on failure */
  }
  /* and a request too large: ENOMEM returned, errno still untouched */
  void *p = (void *)0x1234;
  errno = 777;
  assert_int_equal(posix_memalign(&p, 64, SIZE_MAX - 4096), ENOMEM);
  assert_int_equal(errno, 777);
  assert_ptr_equal(p, (void *)0x1234);
}

/* ------------------------------------------------------------------ calloc and failures */

static int all_zero(const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i]) return 0;
  return 1;
}

static void test_alloc_calloc_zeroes(void **state) {
  (void)state;
  for (size_t n = 0; n <= 5000; n += (n < 300 ? 1 : 97)) {
    /* dirty a block of the same size first, so calloc likely gets it back */
    unsigned char *d = malloc(opaque_size(n));
    memset(d, 0xFF, n);
    free(opaque(d));
    unsigned char *p = calloc(n, 1);
    assert_non_null(p);
    if (!all_zero(p, n)) fail_msg("calloc(%zu, 1) not zeroed (reused block %s)", n,
                                  p == d ? "yes" : "no");
    unsigned char *q = calloc(1, n);
    assert_true(all_zero(q, n));
    free(p);
    free(q);
  }
  size_t big = (size_t)3 << 20;
  unsigned char *d = malloc(opaque_size(big));
  memset(d, 0xEE, big);
  free(opaque(d));
  unsigned char *p = calloc(big / 8, 8);
  assert_non_null(p);
  assert_true(all_zero(p, big));
  free(p);
}

static void test_alloc_calloc_overflow(void **state) {
  (void)state;
  static const size_t pairs[][2] = {{SIZE_MAX / 2 + 2, 2}, {(size_t)1 << 32, (size_t)1 << 32},
                                    {SIZE_MAX, SIZE_MAX}, {3, SIZE_MAX / 3 + 1}};
  for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
    errno = 0;
    void *p = calloc(opaque_size(pairs[i][0]), pairs[i][1]);
    assert_null(p);
    assert_int_equal(errno, ENOMEM);
  }
  /* no overflow, just far too much */
  errno = 0;
  assert_null(calloc(1, opaque_size(SIZE_MAX - 8)));
  assert_int_equal(errno, ENOMEM);
}

static void test_alloc_reallocarray_overflow(void **state) {
  (void)state;
  char *p = malloc(32);
  memcpy(p, "keep me", 8);
  errno = 0;
  assert_null(reallocarray(p, SIZE_MAX / 2 + 2, 2));
  assert_int_equal(errno, ENOMEM);
  assert_string_equal(p, "keep me"); /* old block untouched */
  char *q = reallocarray(p, 10, 10);
  assert_non_null(q);
  assert_string_equal(q, "keep me");
  assert_true(malloc_usable_size(q) >= 100);
  free(q);
  errno = 0;
  assert_null(reallocarray(NULL, (size_t)1 << 40, (size_t)1 << 40));
  assert_int_equal(errno, ENOMEM);
}

static void test_alloc_huge_requests_fail_enomem(void **state) {
  (void)state;
  static const size_t sizes[] = {SIZE_MAX, SIZE_MAX - 7, SIZE_MAX - 64, (size_t)1 << 50,
                                 (size_t)1 << 62, SIZE_MAX / 2};
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    size_t n = opaque_size(sizes[i]);
    errno = 0;
    assert_null(malloc(n));
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(aligned_alloc(64, n));
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(memalign(4096, n));
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(valloc(n));
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(pvalloc(n));
    assert_int_equal(errno, ENOMEM);
    char *p = malloc(16);
    memcpy(p, "still here", 11);
    errno = 0;
    assert_null(realloc(p, n));
    assert_int_equal(errno, ENOMEM);
    assert_string_equal(p, "still here");
    free(p);
  }
}

/* ------------------------------------------------------------------ realloc */

static void fill(unsigned char *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(i * 31 + seed);
}
static int check_fill(const unsigned char *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != (unsigned char)(i * 31 + seed)) return 0;
  return 1;
}

static void test_alloc_realloc_null_is_malloc(void **state) {
  (void)state;
  ms_stats_t a, b;
  ms_stats(&a);
  void *p = realloc(NULL, 200);
  ms_stats(&b);
  check_block(p, 200, 16);
  assert_int_equal(b.total_allocations - a.total_allocations, 1);
  assert_int_equal(b.live_bytes - a.live_bytes, 200);
  free(p);
}

static void test_alloc_realloc_zero_frees(void **state) {
  (void)state;
  void *p = malloc(300);
  ms_stats_t a, b;
  ms_stats(&a);
  assert_null(realloc(p, 0)); /* glibc: frees p, returns NULL */
  ms_stats(&b);
  assert_int_equal(b.total_frees - a.total_frees, 1);
  assert_int_equal(a.live_bytes - b.live_bytes, 300);
  assert_int_equal(a.live_allocations - b.live_allocations, 1);
}

static void test_alloc_realloc_keeps_contents(void **state) {
  (void)state;
  static const size_t chain[] = {1, 8, 15, 16, 17, 100, 40, 5000, 70000, 3 << 20, 300, 7, 0};
  unsigned char *p = malloc(1);
  fill(p, 1, 3);
  size_t cur = 1;
  for (size_t i = 1; i < sizeof chain / sizeof *chain; i++) {
    size_t n = chain[i];
    unsigned char *q = realloc(p, n);
    if (n == 0) {
      assert_null(q);
      break;
    }
    assert_non_null(q);
    size_t keep = cur < n ? cur : n;
    if (!check_fill(q, keep, 3)) fail_msg("realloc %zu -> %zu lost contents", cur, n);
    assert_true(malloc_usable_size(q) >= n);
    assert_int_equal((uintptr_t)q % natural_align(n), 0);
    fill(q, n, 3);
    p = q, cur = n;
  }
}

static void test_alloc_realloc_in_place(void **state) {
  (void)state;
  /* statistics-only mode: a block whose new size still fits (and does not waste half of it)
   * stays where it is */
  unsigned char *p = malloc(100);
  fill(p, 100, 9);
  unsigned char *q = realloc(p, 110);
  assert_ptr_equal(q, p);
  assert_true(check_fill(q, 100, 9));
  assert_true(malloc_usable_size(q) >= 110);
  q = realloc(q, 90);
  assert_ptr_equal(q, p);
  assert_true(check_fill(q, 90, 9));
  free(q);
  p = malloc(1000);
  q = realloc(p, 900);
  assert_ptr_equal(q, p);
  ms_stats_t a, b;
  ms_stats(&a);
  q = realloc(q, 1005); /* 1005 + 16 still fits the 1024-byte block */
  ms_stats(&b);
  assert_ptr_equal(q, p);
  assert_int_equal(b.live_bytes - a.live_bytes, 105); /* counted as the new size */
  assert_int_equal(b.live_allocations, a.live_allocations);
  free(q);
}

static void test_alloc_usable_size(void **state) {
  (void)state;
  assert_int_equal(malloc_usable_size(NULL), 0);
  for (size_t n = 0; n < 3000; n += 13) {
    void *p = malloc(opaque_size(n));
    size_t u = malloc_usable_size(p);
    assert_true(u >= n);
    assert_true(u <= n + n / 4 + 64); /* and not absurdly more */
    memset(p, 1, u);                  /* all of it is usable */
    free(p);
  }
}

/* ------------------------------------------------------------------ free and errno */

static void test_alloc_free_keeps_errno(void **state) {
  (void)state;
  void *p = malloc(10), *q = malloc(5000), *r = malloc(2 << 20);
  void *a = NULL;
  assert_int_equal(posix_memalign(&a, 4096, 10), 0);
  void *list[] = {p, q, r, a, NULL};
  for (size_t i = 0; i < 5; i++) {
    errno = 1234;
    free(list[i]);
    assert_int_equal(errno, 1234);
  }
}

/* ------------------------------------------------------------------ error cases in a child */


static void check_foreign(void *p, const char *what) {
  errno = 1234;
  assert_int_equal(malloc_usable_size(p), 0);
  free(p);
  if (errno != 1234) {
    fprintf(stderr, "errno changed by free of %s\n", what);
    _exit(3);
  }
  errno = 0;
  if (realloc(p, 10) != NULL) {
    fprintf(stderr, "realloc of %s returned a block\n", what);
    _exit(4);
  }
  if (malloc_usable_size(p) != 0) _exit(5);
}

static char static_array[256] __attribute__((aligned(16)));

static void foreign_pointers(void) {
  char on_stack[64] __attribute__((aligned(16)));
  memset(on_stack, 0, sizeof on_stack);
  check_foreign(opaque(on_stack + 16), "stack");
  check_foreign(opaque(static_array + 16), "static");
  char *page_p = mmap(NULL, 2 * page(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page_p == MAP_FAILED) _exit(6);
  check_foreign(page_p, "mmap page start");
  check_foreign(page_p + 64, "mmap page");
  char *own = calloc(1, 256);
  check_foreign(own + 64, "interior");
  check_foreign(own + 3, "unaligned");
  /* the interior pointer's block is intact and frees normally */
  errno = 99;
  free(own);
  if (errno != 99) _exit(7);
  /* a block from glibc's own malloc (taken from libc directly, bypassing interposition) */
  void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  if (libc) {
    void *(*libc_malloc)(size_t) = (void *(*)(size_t))dlsym(libc, "malloc");
    void (*libc_free)(void *) = (void (*)(void *))dlsym(libc, "free");
    if (libc_malloc && libc_free && libc_malloc != malloc) {
      void *g = libc_malloc(100);
      check_foreign(g, "glibc malloc");
      libc_free(g);
    } else {
      _exit(8);
    }
  }
  munmap(page_p, 2 * page());
}

static void test_alloc_foreign_pointers_never_crash(void **state) {
  (void)state;
  int st = in_child(foreign_pointers);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    fail_msg("child status %#x, stderr:\n%s", st, child_err);
  /* each free and each realloc of a foreign pointer is reported as an invalid free */
  assert_true(count_of(child_err, "memscope: error: invalid_free") >= 7);
  assert_int_equal(count_of(child_err, "double_free"), 0);
}

static size_t double_free_size;
static void double_free(void) {
  char *p = malloc(opaque_size(double_free_size));
  memset(p, 1, double_free_size);
  free(p);
  errno = 55;
  free(opaque(p));
  if (errno != 55) _exit(9);
  /* the allocator still works afterwards */
  for (int i = 0; i < 1000; i++) free(malloc(opaque_size(double_free_size)));
  ms_stats_t st;
  ms_stats(&st);
  if (st.errors < 1) _exit(10);
}

static void test_alloc_double_free_reported(void **state) {
  size_t rate = (size_t)(uintptr_t)*state;
  static const size_t sizes[] = {8, 15, 64, 5000, 100000, (size_t)4 << 20};
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    double_free_size = sizes[i];
    int st = in_child(double_free);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
      fail_msg("rate %zu size %zu: child status %#x, stderr:\n%s", rate, sizes[i], st, child_err);
    if (!strstr(child_err, "memscope: error: double_free"))
      fail_msg("rate %zu size %zu: no double_free report, stderr:\n%s", rate, sizes[i], child_err);
  }
}

int main(void) {
#define BOTH(t) cmocka_unit_test_setup(t, rate0), cmocka_unit_test_setup(t, rate1)
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_alloc_is_memscope, rate0),
      BOTH(test_alloc_natural_alignment_matrix),
      BOTH(test_alloc_posix_memalign_matrix),
      BOTH(test_alloc_aligned_alloc_matrix),
      BOTH(test_alloc_memalign_rounds_odd_alignment),
      BOTH(test_alloc_valloc_pvalloc),
      BOTH(test_alloc_posix_memalign_einval),
      BOTH(test_alloc_calloc_zeroes),
      BOTH(test_alloc_calloc_overflow),
      BOTH(test_alloc_reallocarray_overflow),
      BOTH(test_alloc_huge_requests_fail_enomem),
      BOTH(test_alloc_realloc_null_is_malloc),
      BOTH(test_alloc_realloc_zero_frees),
      BOTH(test_alloc_realloc_keeps_contents),
      cmocka_unit_test_setup(test_alloc_realloc_in_place, rate0),
      BOTH(test_alloc_usable_size),
      BOTH(test_alloc_free_keeps_errno),
      BOTH(test_alloc_foreign_pointers_never_crash),
      BOTH(test_alloc_double_free_reported),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
