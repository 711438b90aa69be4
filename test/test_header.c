/* test_header.c — the per-allocation header (alloc/header.h): tag-word encode/decode as pure
 * functions, and the headers the real allocator writes in front of live blocks (this test is
 * linked with libmemscope, so malloc is memscope's and the tag word sits at p - 8).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "header.h"
#include "memscope.h"
#include "size_class.h"

/* ------------------------------------------------------------------ pure encode/decode */

static void test_header_roundtrip_fields(void **state) {
  (void)state;
  static const uint64_t sizes[] = {0, 1, 7, 8, 15, 16, 4096, 65536, 1u << 20,
                                   (uint64_t)1 << 39, MS_SIZE_MAX};
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
    for (unsigned cls = 0; cls < MS_CLASS_COUNT; cls += 7)
      for (unsigned kind = 0; kind <= MS_HDR_SAMPLED; kind++)
        for (int aligned = 0; aligned <= 1; aligned++) {
          uint64_t t = _ms_tag_make(sizes[i], cls, kind, aligned);
          assert_int_equal(_ms_tag_size(t), sizes[i]);
          assert_int_equal(_ms_tag_class(t), cls);
          assert_int_equal(_ms_tag_kind(t), kind);
          assert_int_equal(_ms_tag_aligned(t), aligned);
          assert_int_equal(_ms_tag_state(t), MS_STATE_LIVE);
          assert_false(t & MS_TAG_NAMED);
          assert_false(t & MS_TAG_UNCOUNTED);
        }
}

static void test_header_state_change_keeps_fields(void **state) {
  (void)state;
  uint64_t t = _ms_tag_make(12345, 42, MS_HDR_NORMAL, 1) | MS_TAG_NAMED;
  uint64_t f = _ms_tag_with_state(t, MS_STATE_FREED);
  assert_int_equal(_ms_tag_state(f), MS_STATE_FREED);
  assert_int_equal(_ms_tag_size(f), 12345);
  assert_int_equal(_ms_tag_class(f), 42);
  assert_int_equal(_ms_tag_kind(f), MS_HDR_NORMAL);
  assert_true(_ms_tag_aligned(f));
  assert_true(f & MS_TAG_NAMED);
  assert_int_equal(_ms_tag_with_state(f, MS_STATE_LIVE), t);
}

static void test_header_flag_bits_are_distinct(void **state) {
  (void)state;
  /* the flags must not overlap the size, class, kind or state fields */
  uint64_t fields = MS_SIZE_MAX | ((uint64_t)0xff << 40) | ((uint64_t)3 << 48) |
                    ((uint64_t)0xff << 56);
  assert_false(fields & MS_TAG_ALIGNED);
  assert_false(fields & MS_TAG_NAMED);
  assert_false(fields & MS_TAG_UNCOUNTED);
  assert_int_not_equal(MS_TAG_ALIGNED, MS_TAG_NAMED);
  assert_int_not_equal(MS_TAG_NAMED, MS_TAG_UNCOUNTED);
  assert_int_not_equal(MS_STATE_LIVE, MS_STATE_FREED);
  /* a zero word (fresh or zeroed memory) must never look live */
  assert_int_not_equal(_ms_tag_state(0), MS_STATE_LIVE);
}

static void test_header_lengths(void **state) {
  (void)state;
  assert_int_equal(_ms_hdr_len(MS_HDR_SHORT), 8);
  assert_int_equal(_ms_hdr_len(MS_HDR_NORMAL), 16);
  assert_int_equal(_ms_hdr_len(MS_HDR_SAMPLED), 48);
  char buf[128];
  char *p = buf + 64;
  assert_ptr_equal(_ms_block_of(p, MS_HDR_SHORT), buf + 56);
  assert_ptr_equal(_ms_block_of(p, MS_HDR_NORMAL), buf + 48);
  assert_ptr_equal(_ms_block_of(p, MS_HDR_SAMPLED), buf + 16);
  assert_ptr_equal(_ms_tag_ptr(p), (uint64_t *)(buf + 56));
  assert_ptr_equal(_ms_guard_ptr(p), (uint64_t *)(buf + 48));
}

/* ------------------------------------------------------------------ real blocks */

/* Hide the pointer's origin from the compiler: reading the header before a malloc'd pointer
 * is outside what C allows, and gcc would otherwise warn or drop the malloc/free pair. */
static inline void *opaque(void *p) {
  __asm__ volatile("" : "+r"(p));
  return p;
}
#define malloc(n) opaque(malloc(n))
#define realloc(p, n) opaque(realloc(p, n))

static void check_live_block(void *p, size_t n, unsigned want_kind) {
  assert_non_null(p);
  uint64_t t = *_ms_tag_ptr(p);
  assert_int_equal(_ms_tag_state(t), MS_STATE_LIVE);
  assert_int_equal(_ms_tag_size(t), n);
  assert_int_equal(_ms_tag_kind(t), want_kind);
  assert_int_equal(_ms_tag_class(t), _ms_class_of(n + _ms_hdr_len(want_kind)));
}

static void test_header_real_blocks_unsampled(void **state) {
  (void)state;
  assert_int_equal(ms_set_sample_rate(0), MS_OK); /* no SAMPLED headers */
  for (size_t n = 0; n <= 300; n++) {
    void *p = malloc(n);
    check_live_block(p, n, n <= MS_SHORT_MAX ? MS_HDR_SHORT : MS_HDR_NORMAL);
    assert_false(_ms_tag_aligned(*_ms_tag_ptr(p)));
    free(p);
  }
  void *big = malloc(1 << 20);
  check_live_block(big, 1 << 20, MS_HDR_NORMAL);
  free(big);
}

static void test_header_real_blocks_sampled(void **state) {
  (void)state;
  assert_int_equal(ms_set_sample_rate(1), MS_OK); /* every block gets a SAMPLED header */
  for (size_t n = 0; n <= 100; n += 5) {
    void *p = malloc(n);
    check_live_block(p, n, MS_HDR_SAMPLED);
    free(p);
  }
  assert_int_equal(ms_set_sample_rate(0), MS_OK);
}

static void test_header_real_blocks_aligned(void **state) {
  (void)state;
  assert_int_equal(ms_set_sample_rate(0), MS_OK);
  void *p = NULL;
  assert_int_equal(posix_memalign(&p, 4096, 100), 0);
  check_live_block(p, 100, MS_HDR_NORMAL);
  assert_true(_ms_tag_aligned(*_ms_tag_ptr(p)));
  free(p);
}

static void test_header_real_guard_word(void **state) {
  (void)state;
  assert_int_equal(ms_set_sample_rate(0), MS_OK);
  /* NORMAL blocks carry p XOR secret before the tag: two blocks' guards differ exactly by the
   * XOR of their addresses (the secret cancels out) */
  char *a = malloc(64);
  char *b = malloc(64);
  uint64_t ga = *_ms_guard_ptr(a), gb = *_ms_guard_ptr(b);
  assert_int_equal(ga ^ gb, (uint64_t)(uintptr_t)a ^ (uint64_t)(uintptr_t)b);
  assert_int_not_equal(ga, (uint64_t)(uintptr_t)a); /* the secret is not zero */
  free(a);
  free(b);
}

static void test_header_realloc_in_place_rewrites_tag(void **state) {
  (void)state;
  assert_int_equal(ms_set_sample_rate(0), MS_OK);
  char *p = malloc(100);
  unsigned cls = _ms_tag_class(*_ms_tag_ptr(p));
  /* 100 + 16 bytes sit in a 128-byte block; 90 + 16 still fits and wastes less than half,
   * so realloc must stay in place and rewrite the size in the tag word. The class stays the
   * block's own (its mimalloc bin), so that per-class usable bytes stay exact. */
  char *q = realloc(p, 90);
  assert_ptr_equal(q, p);
  uint64_t t = *_ms_tag_ptr(q);
  assert_int_equal(_ms_tag_state(t), MS_STATE_LIVE);
  assert_int_equal(_ms_tag_size(t), 90);
  assert_int_equal(_ms_tag_kind(t), MS_HDR_NORMAL);
  assert_int_equal(_ms_tag_class(t), cls);
  free(q);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_header_roundtrip_fields),
      cmocka_unit_test(test_header_state_change_keeps_fields),
      cmocka_unit_test(test_header_flag_bits_are_distinct),
      cmocka_unit_test(test_header_lengths),
      cmocka_unit_test(test_header_real_blocks_unsampled),
      cmocka_unit_test(test_header_real_blocks_sampled),
      cmocka_unit_test(test_header_real_blocks_aligned),
      cmocka_unit_test(test_header_real_guard_word),
      cmocka_unit_test(test_header_realloc_in_place_rewrites_tag),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
