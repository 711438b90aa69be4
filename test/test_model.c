/* test_model.c — the converter's model (export/model/model.c), diff (diff.c) and JSON writer
 * (json_out.c) on dumps built in memory.
 *
 * Modules here name files that do not exist, and symbols are off, so every frame is
 * module+offset: the tests check the model's own logic (hiding memscope's frames, grouping
 * leaks by symbolic stack, findings, views, ASLR-proof diff matching, JSON escaping), not
 * the symboliser, which test_symbolize covers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"
#include "diff.h"
#include "json_out.h"
#include "model.h"

#define APP 0x555500000000ull
#define LIB 0x7f0000000000ull   /* libmemscope.so */
#define LIBC 0x7f1000000000ull

static ms_dump_module_t mods[3];

static void init_modules(uint64_t app_base) {
  memset(mods, 0, sizeof mods);
  mods[0].path = "/nonexistent/bin/app";
  mods[0].base = app_base;
  mods[0].start = app_base + 0x1000;
  mods[0].end = app_base + 0x100000;
  mods[1].path = "/nonexistent/lib/libmemscope.so.0";
  mods[1].base = LIB;
  mods[1].start = LIB + 0x1000;
  mods[1].end = LIB + 0x100000;
  mods[2].path = "/nonexistent/lib/libc.so.6";
  mods[2].base = LIBC;
  mods[2].start = LIBC + 0x1000;
  mods[2].end = LIBC + 0x100000;
}

static void base_dump(ms_dump_t *d, uint32_t reason) {
  memset(d, 0, sizeof *d);
  d->format_version = 1;
  d->process.pid = 7;
  d->process.exe = "/nonexistent/bin/app";
  d->process.reason = reason;
  d->process.dump_time_ns = 1000000;
  d->options.sample_rate = 1;
  d->n_modules = 3;
  d->modules = mods;
}

static ms_model_t build(const ms_dump_t *d) {
  ms_model_t m;
  ms_model_options_t o = {0};
  o.no_symbols = 1;
  char err[256];
  assert_int_equal(ms_model_build(&m, d, &o, err, sizeof err), 0);
  return m;
}

/* ------------------------------------------------------------------ leaks */

static uint64_t f_lib1[] = {LIB + 0x1010, APP + 0x2100, APP + 0x2200};
static uint64_t f_lib2[] = {LIB + 0x1020, LIB + 0x1030, APP + 0x2100, APP + 0x2200};
static uint64_t f_big[] = {LIB + 0x1010, APP + 0x2300};

/* The dumps below keep their tables in static storage: each test builds one, uses it, and is
 * done with it before the next. */
static void leak_dump(ms_dump_t *d, uint32_t reason) {
  static ms_dump_stack_t st[3];
  static ms_dump_alloc_t al[7];
  init_modules(APP);
  base_dump(d, reason);
  st[0] = (ms_dump_stack_t){3, f_lib1};
  st[1] = (ms_dump_stack_t){4, f_lib2};
  st[2] = (ms_dump_stack_t){2, f_big};
  d->n_stacks = 3;
  d->stacks = st;
  memset(al, 0, 7 * sizeof *al);
  for (int i = 0; i < 3; i++) al[i] = (ms_dump_alloc_t){0x1000 + i, 10, 10, 5, 0, 0, MS_DUMP_NONE, MS_LEAK_UNKNOWN};
  for (int i = 3; i < 5; i++) al[i] = (ms_dump_alloc_t){0x2000 + i, 20, 20, 3, 1, 0, MS_DUMP_NONE, MS_LEAK_UNKNOWN};
  al[5] = (ms_dump_alloc_t){0x3000, 1000, 1000, 9, 2, 0, MS_DUMP_NONE, MS_LEAK_UNKNOWN};
  /* A sample standing for 10 blocks of 100 bytes (sampled at a lower rate). */
  al[6] = (ms_dump_alloc_t){0x4000, 100, 1000, 11, 2, 0, MS_DUMP_NONE, MS_LEAK_UNKNOWN};
  d->n_allocs = 7;
  d->allocs = al;
}

static void test_model_hides_internal_frames_and_groups_leaks(void **state) {
  (void)state;
  ms_dump_t d;
  leak_dump(&d, MS_DUMP_REASON_EXIT);
  ms_model_t m = build(&d);
  assert_int_equal(m.n_stacks, 3);
  assert_int_equal(m.stacks[0].depth, 2);   /* libmemscope frame hidden */
  assert_int_equal(m.stacks[1].depth, 2);
  assert_int_equal(m.stacks[0].raw_depth, 3);
  assert_int_equal(m.stacks[0].key, m.stacks[1].key);
  assert_int_equal(m.stacks[0].key_hash, m.stacks[1].key_hash);
  assert_int_not_equal(m.stacks[0].key, m.stacks[2].key);
  assert_true(m.is_exit);
  assert_int_equal(m.n_leaks, 2);
  assert_int_equal(m.leaks[0].bytes, 2000);   /* 1000 + weighted 1000 */
  assert_int_equal(m.leaks[0].count, 11);     /* 1 + 1000/100 */
  assert_int_equal(m.leaks[0].sampled, 2);
  assert_int_equal(m.leaks[0].first_time_ns, 9);
  assert_int_equal(m.leaks[1].bytes, 70);     /* both stacks merged */
  assert_int_equal(m.leaks[1].count, 5);
  assert_int_equal(m.leaked_bytes, 2070);
  const ms_frame_t *f = ms_model_frame(&m, m.leaks[1].stack, 0);
  assert_non_null(f);
  assert_int_equal(f->offset, 0x2100);
  assert_int_equal(f->module, 0);
  char label[256];
  ms_stack_label(&m, m.leaks[0].stack, label, sizeof label);
  assert_string_equal(label, "app+0x2300");
  /* Threads: live estimates from the samples, top stack per thread. */
  ms_model_free(&m);

  /* The same state in a snapshot is not a leak. */
  leak_dump(&d, MS_DUMP_REASON_SNAPSHOT);
  m = build(&d);
  assert_false(m.is_exit);
  assert_int_equal(m.n_leaks, 0);
  assert_int_equal(m.live_sampled_bytes, 2070);
  ms_model_free(&m);
}

/* ------------------------------------------------------------------ sites, findings */

static uint64_t f_temp[] = {LIB + 0x1010, APP + 0x3000, APP + 0x3100};
static uint64_t f_tiny[] = {LIBC + 0x1500, APP + 0x4000};   /* via strdup in libc */
static uint64_t f_realloc[] = {APP + 0x5000};
static uint64_t f_grow[] = {APP + 0x6000};
static uint64_t f_quiet[] = {APP + 0x7000};

static void sites_dump_in(ms_dump_t *d, ms_dump_stack_t *st, ms_dump_site_t *si) {
  init_modules(APP);
  base_dump(d, MS_DUMP_REASON_SNAPSHOT);
  st[0] = (ms_dump_stack_t){3, f_temp};
  st[1] = (ms_dump_stack_t){2, f_tiny};
  st[2] = (ms_dump_stack_t){1, f_realloc};
  st[3] = (ms_dump_stack_t){1, f_grow};
  st[4] = (ms_dump_stack_t){1, f_quiet};
  d->n_stacks = 5;
  d->stacks = st;
  memset(si, 0, 5 * sizeof *si);
  for (int i = 0; i < 5; i++) {
    si[i].stack = (uint32_t)i;
    si[i].tag = MS_DUMP_NONE;
  }
  si[0].total_count = 600, si[0].total_bytes = 600 * 256, si[0].temp_count = 500;
  si[0].temp_bytes = 500 * 256, si[0].live_bytes = 256, si[0].live_count = 1;
  si[0].peak_bytes = 9999;
  si[1].total_count = 5000, si[1].total_bytes = 5000 * 8, si[1].live_bytes = 800;
  si[1].live_count = 100;
  si[2].total_count = 10, si[2].total_bytes = 100000, si[2].realloc_count = 100;
  si[2].live_bytes = 4096, si[2].live_count = 1;
  si[3].total_count = 200, si[3].live_count = 200, si[3].total_bytes = 4u << 20;
  si[3].live_bytes = 4u << 20;
  si[4].total_count = 3, si[4].total_bytes = 300, si[4].live_bytes = 100, si[4].live_count = 1;
  d->n_sites = 5;
  d->sites = si;
}

/* The model of sites_dump_in()'s dump, kept in static storage (it must outlive the model). */
static ms_model_t sites_model(void) {
  static ms_dump_t d;
  static ms_dump_stack_t st[5];
  static ms_dump_site_t si[5];
  sites_dump_in(&d, st, si);
  return build(&d);
}

static const ms_finding_t *find(const ms_model_t *m, uint32_t kind) {
  for (uint32_t i = 0; i < m->n_findings; i++)
    if (m->findings[i].kind == kind) return &m->findings[i];
  return NULL;
}

static void test_model_sites_sorted(void **state) {
  (void)state;
  ms_model_t m = sites_model();
  assert_int_equal(m.n_sites, 5);
  for (uint32_t i = 1; i < m.n_sites; i++) assert_true(m.sites[i - 1].live_bytes >= m.sites[i].live_bytes);
  assert_int_equal(m.sites[0].dump_index, 3);                 /* 4 MiB live */
  assert_int_equal(m.sites[m.by_peak[0]].dump_index, 0);
  assert_int_equal(m.sites[m.by_count[0]].dump_index, 1);
  assert_int_equal(m.sites[m.by_total[0]].dump_index, 3);
  assert_int_equal(m.sites[m.by_temp[0]].dump_index, 0);
  assert_int_equal(m.temp_count, 500);
  /* The allocating module skips the C library (strdup): the app is to blame. */
  for (uint32_t i = 0; i < m.n_sites; i++) assert_int_equal(m.sites[i].module, 0);
  assert_int_equal(m.modules[0].n_sites, 5);
  assert_true(m.modules[1].internal);
  ms_model_free(&m);
}

static void test_model_findings_name_the_site(void **state) {
  (void)state;
  ms_model_t m = sites_model();
  const ms_finding_t *f = find(&m, MS_FIND_TEMPORARY);
  assert_non_null(f);
  assert_int_equal(m.sites[f->site].dump_index, 0);
  assert_string_equal(f->location, "app+0x3000");
  assert_non_null(strstr(f->message, "app+0x3000"));
  assert_int_equal(f->count, 500);

  f = find(&m, MS_FIND_TINY);
  assert_non_null(f);
  assert_int_equal(m.sites[f->site].dump_index, 1);
  assert_string_equal(f->location, "app+0x4000");   /* not libc's strdup */

  f = find(&m, MS_FIND_REALLOC_GROWTH);
  assert_non_null(f);
  assert_int_equal(m.sites[f->site].dump_index, 2);
  assert_int_equal(f->count, 100);

  f = find(&m, MS_FIND_ONLY_GROWS);
  assert_non_null(f);
  assert_int_equal(m.sites[f->site].dump_index, 3);
  assert_string_equal(f->kind_name, "only_grows");

  /* The quiet site is named by no finding. */
  for (uint32_t i = 0; i < m.n_findings; i++)
    if (m.findings[i].site != MS_DUMP_NONE) assert_int_not_equal(m.sites[m.findings[i].site].dump_index, 4);
  assert_null(find(&m, MS_FIND_LEAK));
  ms_model_free(&m);
}

/* ------------------------------------------------------------------ views */

static void test_model_views(void **state) {
  (void)state;
  ms_dump_t d;
  leak_dump(&d, MS_DUMP_REASON_EXIT);
  ms_dump_thread_t th[3] = {{100, "main", 1, 5, 1, 50, 10}, {101, NULL, 0, 2, 0, 40, 0},
                            {102, "worker", 1, 2, 0, 1100, 0}};
  d.n_threads = 3;
  d.threads = th;
  d.allocs[3].thread = d.allocs[4].thread = 1;
  d.allocs[5].thread = d.allocs[6].thread = 2;
  ms_dump_crossing_t cr[2] = {{0, 2, 1, 10}, {2, 0, 5, 500}};
  d.n_crossings = 2;
  d.crossings = cr;
  ms_dump_event_t ev[4] = {{10, MS_EV_ALLOC, 0, 0, 0xa0, 64, 0}, {20, MS_EV_RETAIN, 0, 1, 0xa0, 64, 0},
                           {30, MS_EV_RETAIN, 0, 2, 0xa0, 64, 0}, {40, MS_EV_FREE, 0, 0, 0xa0, 64, 0}};
  ms_dump_variable_t var[2];
  memset(var, 0, sizeof var);
  var[0] = (ms_dump_variable_t){"buf", "char *", "x.c", 12, 0xa0, 64, 10, 40, 1, 0, 0, MS_DUMP_NONE, 4, ev};
  var[1] = (ms_dump_variable_t){"kept", NULL, "x.c", 20, 0xb0, 8, 100, 0, 0, 5, 2, MS_DUMP_NONE, 0, NULL};
  d.n_variables = 2;
  d.variables = var;
  ms_dump_class_t cl[2] = {{16, 10, 5, 60, 80, 160}, {4096, 3, 0, 3 * 2100, 3 * 4096, 3 * 2100}};
  d.n_classes = 2;
  d.classes = cl;
  d.summary.live_bytes = 6360;
  d.summary.usable_bytes = 12368;
  d.summary.header_bytes = 128;
  d.summary.rss_bytes = 1 << 20;
  ms_model_t m = build(&d);

  assert_int_equal(m.threads[0].live_bytes, 30);
  assert_int_equal(m.threads[1].live_bytes, 40);
  assert_int_equal(m.threads[2].live_bytes, 2000);
  assert_int_equal(m.threads[2].top_stack, 2);
  assert_int_equal(m.threads[2].top_stack_bytes, 2000);
  assert_string_equal(m.threads[2].name, "worker");

  assert_int_equal(m.n_crossings, 2);
  assert_int_equal(m.crossings[0].bytes, 500);  /* sorted */
  assert_int_equal(m.crossings[0].alloc_module, 2);

  assert_int_equal(m.variables[0].state, MS_VAR_FREED);
  assert_int_equal(m.variables[0].lifetime_ns, 30);
  assert_int_equal(m.variables[0].max_refcount, 2);
  assert_int_equal(m.variables[0].final_refcount, 2);
  assert_int_equal(m.variables[0].refcount_unbalanced, 1);   /* freed with 2 references */
  assert_int_equal(m.variables[1].state, MS_VAR_LEAKED);
  assert_string_equal(m.variables[1].type, "?");
  assert_int_equal(m.variables[1].thread, MS_DUMP_NONE);     /* bad index tolerated */
  assert_int_equal(m.variables[1].lifetime_ns, 1000000 - 100);
  assert_non_null(find(&m, MS_FIND_REFCOUNT));
  assert_non_null(find(&m, MS_FIND_LEAK));

  assert_int_equal(m.classes[1].waste_bytes, 3 * 4096 - 3 * 2100);
  assert_int_equal(m.classes[1].live_count, 3);
  assert_int_equal(m.fragmentation.worst_class, 1);
  assert_int_equal(m.fragmentation.class_waste_bytes, 12368 - 6360 - 128);
  assert_int_equal(m.fragmentation.rss_overhead_bytes, (1 << 20) - 12368);
  ms_model_free(&m);
}

/* ------------------------------------------------------------------ diff */

static void test_model_diff_matches_across_aslr(void **state) {
  (void)state;
  ms_dump_t d1, d2;
  ms_dump_stack_t st1[5], st2[5];
  ms_dump_site_t si1[5], si2[5];
  uint64_t shifted[5][3];
  sites_dump_in(&d1, st1, si1);
  ms_model_t m1 = build(&d1);
  /* NEW: the app is loaded 0x12340000 higher; the same code, so the same offsets. */
  sites_dump_in(&d2, st2, si2);
  static ms_dump_module_t mods2[3];
  memcpy(mods2, mods, sizeof mods);
  uint64_t shift = 0x12340000;
  mods2[0].base += shift, mods2[0].start += shift, mods2[0].end += shift;
  d2.modules = mods2;
  for (int s = 0; s < 5; s++) {
    for (uint32_t k = 0; k < st2[s].depth; k++) {
      uint64_t a = st2[s].frames[k];
      shifted[s][k] = (a >= APP && a < APP + 0x100000) ? a + shift : a;
    }
    st2[s].frames = shifted[s];
  }
  si2[4].live_bytes += 5000;   /* the quiet site grew */
  si2[4].live_count += 50;
  si2[0].live_bytes = 0;       /* the temp site shrank by 256 */
  ms_model_t m2 = build(&d2);
  assert_int_not_equal(ms_model_frame(&m1, 4, 0)->address, ms_model_frame(&m2, 4, 0)->address);

  ms_diff_t df;
  assert_int_equal(ms_diff_build(&df, &m1, &m2), 0);
  assert_int_equal(df.matched, 5);
  assert_int_equal(df.only_old, 0);
  assert_int_equal(df.only_new, 0);
  assert_int_equal(df.entries[0].delta_bytes, 5000);
  assert_int_equal(df.entries[0].delta_count, 50);
  assert_int_equal(m2.sites[df.entries[0].new_site].dump_index, 4);
  assert_int_equal(df.entries[1].delta_bytes, -256);
  assert_int_equal(df.entries[2].delta_bytes, 0);
  ms_diff_free(&df);

  /* A site only in NEW is reported as new. */
  st2[4].frames[0] = APP + shift + 0x7777;
  ms_model_free(&m2);
  m2 = build(&d2);
  assert_int_equal(ms_diff_build(&df, &m1, &m2), 0);
  assert_int_equal(df.matched, 4);
  assert_int_equal(df.only_old, 1);
  assert_int_equal(df.only_new, 1);
  ms_diff_free(&df);
  ms_model_free(&m1);
  ms_model_free(&m2);
}

/* ------------------------------------------------------------------ JSON */

static char *json_of(const ms_model_t *m) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  assert_int_equal(ms_json_write(f, m), 0);
  fclose(f);
  return buf;
}

static void test_model_json_escapes_untrusted_strings(void **state) {
  (void)state;
  ms_dump_t d;
  leak_dump(&d, MS_DUMP_REASON_EXIT);
  char *argv[2] = {"a\"b\\c", "bad\xff\xfe utf8 \x01\x1f ok \xc3\xa9"};
  d.process.argv = argv;
  d.process.argc = 2;
  d.process.exe = "tab\there\nnl</script>";
  ms_model_t m = build(&d);
  char *j = json_of(&m);
  assert_non_null(strstr(j, "\"a\\\"b\\\\c\""));
  assert_non_null(strstr(j, "bad\\ufffd\\ufffd utf8 \\u0001\\u001f ok \xc3\xa9"));
  assert_non_null(strstr(j, "\"tab\\there\\nnl\\u003c/script>\""));
  assert_null(strstr(j, "</script"));
  assert_null(strchr(j, '\t'));
  assert_non_null(strstr(j, "\"format_version\":1"));
  assert_non_null(strstr(j, "\"reason\":\"exit\""));
  assert_non_null(strstr(j, "\"address\":\"0x555500002300\""));
  assert_non_null(strstr(j, "\"leaks\":[{\"bytes\":2000,\"count\":11"));
  for (const unsigned char *p = (const unsigned char *)j; *p; p++) assert_true(*p >= 0x20 || *p == '\n');
  free(j);
  ms_model_free(&m);
}

static void test_model_empty_dump(void **state) {
  (void)state;
  ms_dump_t d;
  memset(&d, 0, sizeof d);
  d.format_version = 1;
  ms_model_t m = build(&d);
  assert_int_equal(m.n_sites, 0);
  assert_int_equal(m.n_findings, 0);
  char *j = json_of(&m);
  assert_non_null(strstr(j, "\"sites\":[]"));
  assert_non_null(strstr(j, "\"process\":{\"pid\":0"));
  assert_non_null(strstr(j, "\"exe\":null"));
  free(j);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_int_equal(ms_text_report_write(f, &m, 10), 0);
  assert_int_equal(ms_folded_write(f, &m, "live"), 0);
  assert_int_equal(ms_folded_write(f, &m, "nonsense"), -2);
  fclose(f);
  assert_non_null(strstr(buf, "SUMMARY"));
  free(buf);
  ms_model_free(&m);
}

static void test_model_folded_stacks(void **state) {
  (void)state;
  ms_model_t m = sites_model();
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_int_equal(ms_folded_write(f, &m, "count"), 0);
  fclose(f);
  /* Outermost first, the hidden memscope frame absent. */
  assert_non_null(strstr(buf, "app+0x3100;app+0x3000 600\n"));
  assert_non_null(strstr(buf, "app+0x4000;libc.so.6+0x1500 5000\n"));
  assert_null(strstr(buf, "libmemscope"));
  free(buf);
  ms_model_free(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_model_hides_internal_frames_and_groups_leaks),
      cmocka_unit_test(test_model_sites_sorted),
      cmocka_unit_test(test_model_findings_name_the_site),
      cmocka_unit_test(test_model_views),
      cmocka_unit_test(test_model_diff_matches_across_aslr),
      cmocka_unit_test(test_model_json_escapes_untrusted_strings),
      cmocka_unit_test(test_model_empty_dump),
      cmocka_unit_test(test_model_folded_stacks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
