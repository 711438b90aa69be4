/* test_json_compact.c — the compact JSON form (export/formats/json_out.c, docs/JSON.md "Compact
 * form"): one table of distinct frames, one of distinct stacks, and "stack_id" references in
 * place of every "stack": [frames] array, on a dump built in memory.
 *
 * What matters and is checked here: ids are given in order of first reference; stacks that
 * differ only in memscope's hidden frames share an id; stacks nothing refers to (or that a
 * --top limit dropped) are not listed; a missing stack is null; each id resolves to exactly
 * the frames the default form writes inline; and the default form is unchanged. (The
 * full-document equivalence on real dumps is test/cli/compact_test.py.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_out.h"
#include "model.h"

#define APP 0x555500000000ull
#define LIB 0x7f0000000000ull   /* libmemscope.so: its frames are hidden from stacks */

static ms_dump_module_t mods[2];
static uint64_t f0[] = {LIB + 0x1010, APP + 0x2100, APP + 0x2200};
static uint64_t f1[] = {LIB + 0x1020, LIB + 0x1030, APP + 0x2100, APP + 0x2200}; /* = f0 shown */
static uint64_t f2[] = {APP + 0x2300, APP + 0x2200};
static uint64_t f3[] = {APP + 0x2400};
static uint64_t f4[] = {APP + 0x2500};   /* no one refers to it */

typedef struct fixture {
  ms_dump_t d;
  ms_dump_stack_t st[5];
  ms_dump_site_t si[3];
  ms_dump_error_t er[1];
  ms_dump_variable_t va[1];
  ms_model_t m;
} fixture_t;

static void build(fixture_t *x) {
  memset(x, 0, sizeof *x);
  mods[0] = (ms_dump_module_t){0};
  mods[0].path = "/nonexistent/bin/app";
  mods[0].base = APP;
  mods[0].start = APP + 0x1000;
  mods[0].end = APP + 0x100000;
  mods[1] = (ms_dump_module_t){0};
  mods[1].path = "/nonexistent/lib/libmemscope.so.0";
  mods[1].base = LIB;
  mods[1].start = LIB + 0x1000;
  mods[1].end = LIB + 0x100000;
  ms_dump_t *d = &x->d;
  d->format_version = 1;
  d->process.pid = 7;
  d->process.reason = MS_DUMP_REASON_SNAPSHOT;
  d->process.dump_time_ns = 1000000;
  d->options.sample_rate = 1;
  d->n_modules = 2;
  d->modules = mods;
  x->st[0] = (ms_dump_stack_t){3, f0};
  x->st[1] = (ms_dump_stack_t){4, f1};
  x->st[2] = (ms_dump_stack_t){2, f2};
  x->st[3] = (ms_dump_stack_t){1, f3};
  x->st[4] = (ms_dump_stack_t){1, f4};
  d->n_stacks = 5;
  d->stacks = x->st;
  uint64_t live[3] = {100, 50, 10};   /* the model sorts sites by live bytes: same order */
  for (int i = 0; i < 3; i++) {
    x->si[i].stack = (uint32_t)i;
    x->si[i].tag = MS_DUMP_NONE;
    x->si[i].live_bytes = x->si[i].total_bytes = live[i];
    x->si[i].live_count = x->si[i].total_count = 1;
  }
  d->n_sites = 3;
  d->sites = x->si;
  x->va[0] = (ms_dump_variable_t){.name = "v", .type = "int *", .file = "a.c", .line = 3,
                                  .address = 0x1000, .size = 4, .thread = MS_DUMP_NONE,
                                  .alloc_stack = 2, .free_stack = MS_DUMP_NONE};
  d->n_variables = 1;
  d->variables = x->va;
  x->er[0] = (ms_dump_error_t){.kind = MS_ERR_DOUBLE_FREE, .thread = MS_DUMP_NONE,
                               .address = 0x2000, .size = 8, .stack = 2, .alloc_stack = 0,
                               .free_stack = 3};
  d->n_errors = 1;
  d->errors = x->er;
  ms_model_options_t o = {0};
  o.no_symbols = 1;
  char err[256];
  assert_int_equal(ms_model_build(&x->m, d, &o, err, sizeof err), 0);
}

static char *render(const ms_model_t *m, uint32_t max_sites, int compact) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  ms_json_options_t o = {max_sites, compact};
  assert_int_equal(ms_json_write_opts(f, m, &o), 0);
  fclose(f);
  return buf;
}

/* The stack references in document order, e.g. "s0 a1 f- " (s: stack_id, a: alloc_stack_id,
 * f: free_stack_id, -: null), up to the tables. */
static void refs(const char *j, char *out, size_t len) {
  const char *end = strstr(j, ",\"frames\":[");
  size_t n = 0;
  out[0] = 0;
  for (const char *p = strstr(j, "stack_id\":"); p && (!end || p < end); p = strstr(p + 1, "stack_id\":")) {
    char kind = p[-1] == '"' ? 's' : p[-2] == 'c' ? 'a' : 'f';   /* "stack / alloc_stack / free_stack */
    const char *v = p + strlen("stack_id\":");
    int w = !strncmp(v, "null", 4) ? snprintf(out + n, len - n, "%c- ", kind)
                                   : snprintf(out + n, len - n, "%c%ld ", kind, strtol(v, NULL, 10));
    if (w < 0 || (size_t)w >= len - n) break;
    n += (size_t)w;
  }
}

/* The text of the JSON array that starts at p (which points at '['); no strings with brackets
 * in this test's data. */
static char *array_text(const char *p) {
  assert_int_equal(*p, '[');
  int depth = 0;
  const char *q = p;
  do {
    if (*q == '[') depth++;
    if (*q == ']') depth--;
    q++;
  } while (depth && *q);
  return strndup(p, (size_t)(q - p));
}

static void test_json_compact_ids_in_first_reference_order(void **state) {
  (void)state;
  fixture_t x;
  build(&x);
  char *j = render(&x.m, 0, 1);
  assert_non_null(strstr(j, "\"compact\":true"));
  assert_null(strstr(j, "\"stack\":"));
  assert_null(strstr(j, "\"alloc_stack\":"));
  assert_null(strstr(j, "\"free_stack\":"));
  char r[256];
  refs(j, r, sizeof r);
  /* sites 0 and 1 share a stack (only hidden frames differ); the variable and the error reuse
   * ids; the error's free stack is new; the variable has no free stack. Findings may follow. */
  assert_true(!strncmp(r, "s0 s0 s1 a1 f- s1 a0 f2 ", strlen("s0 s0 s1 a1 f- s1 a0 f2 ")));
  char *stacks = array_text(strstr(j, "\"stacks\":[") + strlen("\"stacks\":"));
  assert_string_equal(stacks, "[[0,1],[2,1],[3]]");
  char *frames = array_text(strstr(j, "\"frames\":[") + strlen("\"frames\":"));
  const char *want[] = {"0x555500002100", "0x555500002200", "0x555500002300", "0x555500002400"};
  const char *p = frames;
  for (int i = 0; i < 4; i++) {   /* each distinct shown frame once, in first-use order */
    const char *a = strstr(p, want[i]);
    assert_non_null(a);
    p = a;
  }
  assert_null(strstr(frames, "0x555500002500"));      /* unreferenced stack */
  assert_null(strstr(frames, "0x7f0000001010"));      /* hidden memscope frame */
  assert_int_equal(strstr(j, "\"frames\":[") < strstr(j, "\"stacks\":[") , 1);
  free(frames);
  free(stacks);
  free(j);
  ms_model_free(&x.m);
}

/* Each id names exactly the frames the default form writes inline. */
static void test_json_compact_resolves_to_the_full_stacks(void **state) {
  (void)state;
  fixture_t x;
  build(&x);
  char *full = render(&x.m, 0, 0);
  char *comp = render(&x.m, 0, 1);
  assert_null(strstr(full, "\"frames\":"));
  assert_null(strstr(full, "stack_id"));
  assert_null(strstr(full, "\"compact\""));
  /* Split the frames table into its objects. */
  char *frames = array_text(strstr(comp, "\"frames\":[") + strlen("\"frames\":"));
  char *obj[8];
  int nobj = 0;
  for (char *p = frames + 1; *p == '{' && nobj < 8;) {
    char *e = strchr(p, '}');
    obj[nobj++] = strndup(p, (size_t)(e - p + 1));
    p = e + 2;
  }
  assert_int_equal(nobj, 4);
  /* The error's three stacks in the full form are: stack 2, stack 0, stack 3 (model order),
   * i.e. compact ids 1, 0, 2 = frames [2,1], [0,1], [3]. */
  const char *err = strstr(full, "\"errors\":[");
  assert_non_null(err);
  static const int ids[3][3] = {{2, 1, -1}, {0, 1, -1}, {3, -1, -1}};
  const char *keys[3] = {"\"stack\":", "\"alloc_stack\":", "\"free_stack\":"};
  for (int k = 0; k < 3; k++) {
    char *arr = array_text(strstr(err, keys[k]) + strlen(keys[k]));
    char want[4096] = "[";
    for (int i = 0; i < 3 && ids[k][i] >= 0; i++) {
      if (i) strcat(want, ",");
      strcat(want, obj[ids[k][i]]);
    }
    strcat(want, "]");
    assert_string_equal(arr, want);
    free(arr);
  }
  /* The variable's missing free stack: [] in full, null in compact. */
  assert_non_null(strstr(full, "\"free_stack\":[]"));
  assert_non_null(strstr(comp, "\"free_stack_id\":null"));
  /* Stack-free parts are the same text in both: from "process" up to "sites". */
  const char *pf = strstr(full, "\"process\":"), *pc = strstr(comp, "\"process\":");
  size_t head = (size_t)(strstr(full, "\"sites\":") - pf);
  assert_int_equal(strncmp(pf, pc, head), 0);
  for (int i = 0; i < nobj; i++) free(obj[i]);
  free(frames);
  free(full);
  free(comp);
  ms_model_free(&x.m);
}

/* --top (and the HTML size guard) lists fewer sites: their stacks are not listed either. */
static void test_json_compact_lists_only_used_stacks(void **state) {
  (void)state;
  fixture_t x;
  build(&x);
  uint32_t ne = x.m.n_errors, nf = x.m.n_findings, nv = x.m.n_variables, ns = x.m.n_sites;
  x.m.n_errors = 0;      /* leave only the sites referring to stacks */
  x.m.n_findings = 0;
  x.m.n_variables = 0;
  char *j = render(&x.m, 1, 1);
  char r[256];
  refs(j, r, sizeof r);
  assert_string_equal(r, "s0 ");
  char *stacks = array_text(strstr(j, "\"stacks\":[") + strlen("\"stacks\":"));
  assert_string_equal(stacks, "[[0,1]]");
  assert_null(strstr(j, "0x555500002300"));
  free(stacks);
  free(j);
  /* Nothing at all refers to a stack: empty tables, still valid. */
  x.m.n_sites = 0;
  j = render(&x.m, 0, 1);
  assert_non_null(strstr(j, ",\"frames\":[],\"stacks\":[]}"));
  free(j);
  x.m.n_errors = ne;
  x.m.n_findings = nf;
  x.m.n_variables = nv;
  x.m.n_sites = ns;
  ms_model_free(&x.m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_json_compact_ids_in_first_reference_order),
      cmocka_unit_test(test_json_compact_resolves_to_the_full_stacks),
      cmocka_unit_test(test_json_compact_lists_only_used_stacks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
