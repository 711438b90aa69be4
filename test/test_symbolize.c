/* test_symbolize.c — the converter's symboliser (export/model/symbolize.c) on a real program.
 *
 * ms_symtarget (test/cli/symtarget.c, built with -g) prints its own module map entry and a
 * return address inside ms_symtarget_caller at a known line. We symbolise that address from
 * the -g binary (file:line), from a stripped copy (module+offset), with a wrong build-id
 * (distrusted), with the binary missing (module+offset), and with the binary missing but its
 * separate debug file in a .build-id directory (file:line again).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "symbolize.h"

typedef struct target {
  uint64_t bias, start, end, ret;
  uint8_t build_id[32];
  uint32_t build_id_len;
  int line;
} target_t;

static target_t T;

static int run_target(void) {
  FILE *p = popen(MS_SYMTARGET, "r");
  if (!p) return -1;
  unsigned long long b, s, e, r;
  char bid[80];
  int line;
  int n = fscanf(p, "%llx %llx %llx %79s %llx %d", &b, &s, &e, bid, &r, &line);
  pclose(p);
  if (n != 6) return -1;
  T.bias = b;
  T.start = s;
  T.end = e;
  T.ret = r;
  T.line = line;
  T.build_id_len = (uint32_t)(strlen(bid) / 2);
  for (uint32_t i = 0; i < T.build_id_len && i < 32; i++) {
    unsigned x;
    sscanf(bid + 2 * i, "%2x", &x);
    T.build_id[i] = (uint8_t)x;
  }
  return 0;
}

static int setup(void **state) {
  (void)state;
  return run_target();
}

static ms_dump_module_t module_for(const char *path) {
  ms_dump_module_t m;
  memset(&m, 0, sizeof m);
  m.path = (char *)path;
  m.base = T.bias;
  m.start = T.start;
  m.end = T.end;
  memcpy(m.build_id, T.build_id, sizeof m.build_id);
  m.build_id_len = T.build_id_len;
  return m;
}

static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

static void test_symbolize_dwarf_file_line(void **state) {
  (void)state;
  ms_dump_module_t m = module_for(MS_SYMTARGET);
  ms_symbolizer_t *s = ms_symbolizer_new(&m, 1, NULL, 0);
  assert_non_null(s);
  ms_frame_t f;
  ms_symbolize(s, T.ret, &f);
  assert_int_equal(f.quality, MS_SYM_DWARF);
  assert_non_null(f.function);
  assert_string_equal(f.function, "ms_symtarget_caller");
  assert_non_null(f.file);
  assert_string_equal(base_name(f.file), "symtarget.c");
  assert_int_equal(f.line, T.line);
  assert_int_equal(f.module, 0);
  assert_int_equal(f.offset, T.ret - T.bias);
  assert_int_equal(f.internal, 0);
  uint32_t mismatch = 9;
  assert_int_equal(ms_symbolizer_module_quality(s, 0, &mismatch), MS_SYM_DWARF);
  assert_int_equal(mismatch, 0);
  char label[512];
  ms_frame_label(&f, label, sizeof label);
  char want[64];
  snprintf(want, sizeof want, "symtarget.c:%d)", T.line);
  assert_non_null(strstr(label, want));
  ms_symbolizer_free(s);
}

static void test_symbolize_stripped_gives_module_offset(void **state) {
  (void)state;
  ms_dump_module_t m = module_for(MS_SYMTARGET_STRIPPED);
  ms_symbolizer_t *s = ms_symbolizer_new(&m, 1, "/nonexistent-debug-dir", 0);
  ms_frame_t f;
  ms_symbolize(s, T.ret, &f);
  assert_null(f.file);
  assert_int_equal(f.line, 0);
  assert_null(f.function);   /* not exported: a PIE's dynsym does not name it */
  assert_int_equal(f.quality, MS_SYM_OFFSET);
  assert_int_equal(f.offset, T.ret - T.bias);
  char label[512], want[128];
  ms_frame_label(&f, label, sizeof label);
  snprintf(want, sizeof want, "%s+0x%llx", base_name(MS_SYMTARGET_STRIPPED),
           (unsigned long long)(T.ret - T.bias));
  assert_string_equal(label, want);
  ms_symbolizer_free(s);
}

static void test_symbolize_build_id_mismatch_is_not_trusted(void **state) {
  (void)state;
  ms_dump_module_t m = module_for(MS_SYMTARGET);
  m.build_id[0] ^= 0xff;
  ms_symbolizer_t *s = ms_symbolizer_new(&m, 1, "/nonexistent-debug-dir", 0);
  ms_frame_t f;
  ms_symbolize(s, T.ret, &f);
  assert_int_equal(f.quality, MS_SYM_OFFSET);
  assert_null(f.function);
  uint32_t mismatch = 0;
  ms_symbolizer_module_quality(s, 0, &mismatch);
  assert_int_equal(mismatch, 1);
  ms_symbolizer_free(s);
}

static void test_symbolize_missing_binary(void **state) {
  (void)state;
  ms_dump_module_t m = module_for("/nonexistent/dir/ms_symtarget");
  ms_symbolizer_t *s = ms_symbolizer_new(&m, 1, "/nonexistent-debug-dir", 0);
  ms_frame_t f;
  ms_symbolize(s, T.ret, &f);
  assert_int_equal(f.quality, MS_SYM_OFFSET);
  assert_int_equal(f.offset, T.ret - T.bias);
  /* Outside every module: only the address. */
  ms_symbolize(s, 0x10, &f);
  assert_int_equal(f.quality, MS_SYM_NONE);
  assert_int_equal(f.module, MS_DUMP_NONE);
  ms_symbolizer_free(s);
}

static void test_symbolize_build_id_debug_dir(void **state) {
  (void)state;
  char dir[] = "/tmp/ms_symdbgXXXXXX";
  assert_non_null(mkdtemp(dir));
  char hex[65] = {0}, sub[512], path[600], cmd[1400];
  for (uint32_t i = 0; i < T.build_id_len; i++) snprintf(hex + 2 * i, 3, "%02x", T.build_id[i]);
  snprintf(sub, sizeof sub, "%s/.build-id/%.2s", dir, hex);
  snprintf(path, sizeof path, "%s/%s.debug", sub, hex + 2);
  snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s' '%s'", sub, MS_SYMTARGET_DEBUG, path);
  assert_int_equal(system(cmd), 0);
  ms_dump_module_t m = module_for("/nonexistent/dir/ms_symtarget");
  ms_symbolizer_t *s = ms_symbolizer_new(&m, 1, dir, 0);
  ms_frame_t f;
  ms_symbolize(s, T.ret, &f);
  assert_int_equal(f.quality, MS_SYM_DWARF);
  assert_string_equal(f.function, "ms_symtarget_caller");
  assert_int_equal(f.line, T.line);
  ms_symbolizer_free(s);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

static void test_symbolize_internal_modules_and_no_files(void **state) {
  (void)state;
  ms_dump_module_t m[2];
  m[0] = module_for(MS_SYMTARGET);
  m[1] = module_for("/opt/x/lib/libmemscope.so.0.1.0");
  m[1].base = m[1].start = 0x7f0000000000ull;
  m[1].end = 0x7f0000100000ull;
  ms_symbolizer_t *s = ms_symbolizer_new(m, 2, NULL, 1 /* no files */);
  ms_frame_t f;
  ms_symbolize(s, 0x7f0000000123ull, &f);
  assert_int_equal(f.module, 1);
  assert_int_equal(f.internal, 1);
  ms_symbolize(s, T.ret, &f);
  assert_int_equal(f.module, 0);
  assert_int_equal(f.internal, 0);
  assert_int_equal(f.quality, MS_SYM_OFFSET);   /* no_files: never opened */
  assert_int_equal(ms_symbolizer_module_internal(s, 1), 1);
  ms_symbolizer_free(s);
}

/* Many lookups in one module reuse the open module: 200k symbolise in well under seconds. */
static void test_symbolize_many_addresses(void **state) {
  (void)state;
  ms_dump_module_t m = module_for(MS_SYMTARGET);
  ms_symbolizer_t *s = ms_symbolizer_new(&m, 1, NULL, 0);
  ms_frame_t f;
  uint64_t dwarf = 0;
  for (uint64_t i = 0; i < 200000; i++) {
    ms_symbolize(s, T.start + 1 + i % (T.end - T.start - 1), &f);
    dwarf += f.quality == MS_SYM_DWARF;
  }
  assert_true(dwarf > 0);
  ms_symbolizer_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_symbolize_dwarf_file_line),
      cmocka_unit_test(test_symbolize_stripped_gives_module_offset),
      cmocka_unit_test(test_symbolize_build_id_mismatch_is_not_trusted),
      cmocka_unit_test(test_symbolize_missing_binary),
      cmocka_unit_test(test_symbolize_build_id_debug_dir),
      cmocka_unit_test(test_symbolize_internal_modules_and_no_files),
      cmocka_unit_test(test_symbolize_many_addresses),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
