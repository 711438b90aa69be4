/* test_utf8.c — the outputs' one UTF-8 validator (export/formats/utf8.c): well-formed sequences
 * of every length are taken whole with their code point; overlong forms, surrogates, code points
 * past U+10FFFF, lead bytes 0xF5..0xFF (the SVG writer's own copy once took 0xF5 as a 3-byte
 * lead), stray continuation bytes and cut sequences are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "utf8.h"

static void test_utf8_well_formed(void **state) {
  (void)state;
  static const struct { const char *s; size_t len; uint32_t cp; } ok[] = {
      {"A", 1, 0x41},           {"\x7f", 1, 0x7f},          {"\xc2\x80", 2, 0x80},
      {"\xc3\xa9", 2, 0xe9},    {"\xdf\xbf", 2, 0x7ff},     {"\xe0\xa0\x80", 3, 0x800},
      {"\xe2\x80\xa6", 3, 0x2026}, {"\xef\xbf\xbd", 3, 0xfffd}, {"\xed\x9f\xbf", 3, 0xd7ff},
      {"\xf0\x90\x80\x80", 4, 0x10000}, {"\xf4\x8f\xbf\xbf", 4, 0x10ffff},
  };
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    uint32_t cp = 0;
    size_t n = strlen(ok[i].s);
    assert_int_equal(ms_utf8_char((const unsigned char *)ok[i].s, n, &cp), ok[i].len);
    assert_int_equal(cp, ok[i].cp);
    assert_int_equal(ms_utf8_char((const unsigned char *)ok[i].s, SIZE_MAX, NULL), ok[i].len);
  }
}

static void test_utf8_refused(void **state) {
  (void)state;
  static const char *const bad[] = {
      "\x80",             /* continuation byte alone */
      "\xc0\xaf",         /* overlong '/' */
      "\xc1\xbf",         /* overlong */
      "\xe0\x9f\xbf",     /* overlong 3-byte */
      "\xf0\x8f\xbf\xbf", /* overlong 4-byte */
      "\xed\xa0\x80",     /* U+D800, a surrogate */
      "\xed\xbf\xbf",     /* U+DFFF */
      "\xf4\x90\x80\x80", /* U+110000 */
      "\xf5\x80\x80",     /* 0xF5 is no lead byte (was taken as a 3-byte lead by svg.c) */
      "\xf8\x88\x80\x80", "\xff",
      "\xc3",             /* cut before the NUL */
      "\xe2\x80",         /* cut */
      "\xe2\x28\xa1",     /* second byte not a continuation */
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    const unsigned char *s = (const unsigned char *)bad[i];
    if (ms_utf8_char(s, SIZE_MAX, NULL) != 0) fail_msg("bad sequence %zu accepted", i);
  }
  /* a well-formed sequence with fewer bytes available than it needs */
  assert_int_equal(ms_utf8_char((const unsigned char *)"\xe2\x80\xa6", 2, NULL), 0);
  assert_int_equal(ms_utf8_char((const unsigned char *)"A", 0, NULL), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_utf8_well_formed),
      cmocka_unit_test(test_utf8_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
