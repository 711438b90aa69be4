/* test_size_class.c — memscope's size classes (alloc/size_class.h/.c) against mimalloc itself:
 * the class function is monotonic and consistent with its bounds, and for every block size a
 * request can produce up to 64 KiB + header, the per-class usable size memscope counts is what
 * mi_usable_size() reports for a real block. Linked with mimalloc directly (no memscope).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <mimalloc.h>

#include "header.h"
#include "size_class.h"

static int setup(void **state) {
  (void)state;
  _ms_size_class_init();
  return 0;
}

static void test_size_class_monotonic_and_bounded(void **state) {
  (void)state;
  unsigned prev = _ms_class_of(1);
  for (uint64_t s = 1; s <= (1u << 21); s++) {
    unsigned c = _ms_class_of(s);
    assert_true(c >= prev);
    assert_true(c < MS_CLASS_COUNT);
    assert_true(s <= _ms_class_max(c)); /* the class's bound covers the size */
    if (c != prev) {
      /* a new class starts right after the previous one's bound */
      assert_int_equal(s - 1, _ms_class_max(prev));
      prev = c;
    }
  }
}

/* The fast path's lookup table agrees with the computation for every size it covers. */
static void test_size_class_table_matches_computation(void **state) {
  (void)state;
  for (uint64_t s = 0; s <= MS_CLASS_TABLE_MAX; s++)
    assert_int_equal(_ms_class_table[(s + 7) >> 3], _ms_class_compute(s));
}

static void test_size_class_max_maps_back(void **state) {
  (void)state;
  unsigned valid = 0;
  for (unsigned c = 1; c < MS_CLASS_COUNT; c++) {
    uint64_t max = _ms_class_max(c);
    if (_ms_class_of(max) != c) continue; /* numbering gap */
    valid++;
    assert_true(_ms_class_of(max + 1) > c);
  }
  assert_true(valid > 100);
}

static void test_size_class_covers_largest_request(void **state) {
  (void)state;
  /* the largest request the header can describe, plus the largest header */
  unsigned c = _ms_class_of(MS_SIZE_MAX + 64);
  assert_true(c < MS_CLASS_COUNT);
  assert_true(_ms_class_max(c) >= MS_SIZE_MAX + 64);
  /* and the class fits the 8 class bits of the tag word */
  assert_true(MS_CLASS_COUNT <= 256);
}

/* Every request 0..64K plus each header length: the class's usable size equals a real
 * mimalloc block's usable size (this is what ms_class_stats' usable_bytes relies on). */
static void test_size_class_usable_matches_mimalloc(void **state) {
  (void)state;
  static const size_t hdr[] = {8, 16, 64};
  for (size_t h = 0; h < 3; h++) {
    for (size_t n = 0; n <= 65536 + 64; n++) {
      size_t block = n + hdr[h];
      unsigned c = _ms_class_of(block);
      void *p = mi_malloc(block);
      assert_non_null(p);
      size_t real = mi_usable_size(p);
      mi_free(p);
      if (_ms_class_usable[c] != real)
        fail_msg("request %zu + header %zu: class %u usable %u, mimalloc %zu", n, hdr[h], c,
                 _ms_class_usable[c], real);
      assert_true(real >= block);
    }
  }
}

static void test_size_class_exact_up_to_limit(void **state) {
  (void)state;
  /* every class whose blocks are at most MS_CLASS_EXACT_MAX has a usable size; larger ones 0 */
  for (unsigned c = 1; c < MS_CLASS_COUNT; c++) {
    uint64_t max = _ms_class_max(c);
    if (_ms_class_of(max) != c) continue;
    if (max <= MS_CLASS_EXACT_MAX) {
      assert_true(_ms_class_usable[c] >= max);
    } else {
      assert_int_equal(_ms_class_usable[c], 0);
    }
  }
  /* beyond 64 KiB, with a stride, up to the exact limit */
  for (size_t block = 65536; block <= MS_CLASS_EXACT_MAX; block += 97) {
    void *p = mi_malloc(block);
    assert_int_equal(_ms_class_usable[_ms_class_of(block)], mi_usable_size(p));
    mi_free(p);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_size_class_monotonic_and_bounded),
      cmocka_unit_test(test_size_class_table_matches_computation),
      cmocka_unit_test(test_size_class_max_maps_back),
      cmocka_unit_test(test_size_class_covers_largest_request),
      cmocka_unit_test(test_size_class_usable_matches_mimalloc),
      cmocka_unit_test(test_size_class_exact_up_to_limit),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
