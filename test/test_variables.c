/* test_variables.c — named variables, reference counts and their lifecycles
 * (track/variables.c), read back from a snapshot: MS_TRACK records name, type, file, line,
 * address and size; realloc moves the name to the new block; free records the free time;
 * ms_ref_retain/release/set produce events with the resulting counts; pointers that are not
 * live heap blocks are refused with MS_ENOTFOUND. Works whether or not the block was sampled
 * (run at rate 0 and at rate 1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_compiler.h"
MS_TEST_ALLOW_FREED_POINTERS  /* this file asks about fresh and freed blocks on purpose */

#include "dump.h"
#include "memscope.h"
#include "tracking/dump_helpers.h"

static int rate0(void **state) {
  *state = (void *)0;
  return ms_set_sample_rate(0);
}
static int rate1(void **state) {
  *state = (void *)1;
  return ms_set_sample_rate(1);
}

/* The most recent variable called name (names are reused across the rate-0/rate-1 runs). */
static const ms_dump_variable_t *var_named(const ms_dump_t *d, const char *name) {
  const ms_dump_variable_t *found = NULL;
  for (uint32_t i = 0; i < d->n_variables; i++)
    if (d->variables[i].name && strcmp(d->variables[i].name, name) == 0) found = &d->variables[i];
  if (!found) fail_msg("no variable named %s among %u", name, d->n_variables);
  return found;
}

static void test_variables_track_records_name_type_place(void **state) {
  (void)state;
  int *counts = malloc(10 * sizeof *counts);
  int line = __LINE__ + 1;
  assert_int_equal(MS_TRACK(counts), MS_OK);
  char *label = malloc(5);
  assert_int_equal(MS_TRACK(label), MS_OK);
  struct node { int v; struct node *next; } *head = malloc(sizeof *head);
  int line_as = __LINE__ + 1;
  assert_int_equal(MS_TRACK_AS(head, "struct node *"), MS_OK);

  ms_dump_t d;
  ms_test_snapshot(&d);
  const ms_dump_variable_t *v = var_named(&d, "counts");
  assert_string_equal(v->type, "int *");
  assert_non_null(v->file);
  assert_non_null(strstr(v->file, "test_variables.c"));
  assert_int_equal(v->line, line);
  assert_int_equal(v->address, (uint64_t)(uintptr_t)counts);
  assert_int_equal(v->size, 10 * sizeof *counts);
  assert_int_equal(v->freed, 0);
  assert_true(v->alloc_time_ns <= d.process.dump_time_ns);
  assert_true(v->n_events >= 2);
  assert_int_equal(v->events[0].kind, MS_EV_ALLOC);
  assert_int_equal(v->events[v->n_events - 1].kind, MS_EV_TRACK);
  assert_true(v->thread < d.n_threads);
  const ms_dump_variable_t *l = var_named(&d, "label");
  assert_string_equal(l->type, "char *");
  assert_int_equal(l->size, 5);
  const ms_dump_variable_t *h = var_named(&d, "head");
  assert_string_equal(h->type, "struct node *");
  assert_int_equal(h->line, line_as);
  assert_int_equal(h->size, sizeof *head);
  ms_dump_free(&d);
  free(counts), free(label), free(head);
}

static void test_variables_realloc_moves_name(void **state) {
  (void)state;
  double *samples = malloc(4 * sizeof *samples);
  assert_int_equal(MS_TRACK(samples), MS_OK);
  void *old = samples;
  samples = realloc(samples, 100000 * sizeof *samples); /* far too big to stay in place */
  assert_non_null(samples);
  assert_ptr_not_equal(samples, old);
  ms_dump_t d;
  ms_test_snapshot(&d);
  const ms_dump_variable_t *v = var_named(&d, "samples");
  assert_int_equal(v->address, (uint64_t)(uintptr_t)samples);
  assert_int_equal(v->size, 100000 * sizeof *samples);
  assert_int_equal(v->freed, 0);
  const ms_dump_event_t *e = &v->events[v->n_events - 1];
  assert_int_equal(e->kind, MS_EV_REALLOC);
  assert_int_equal(e->address, (uint64_t)(uintptr_t)samples);
  assert_int_equal(e->size, 100000 * sizeof *samples);
  ms_dump_free(&d);
  /* the name followed the block: ref counts on the new address reach the same variable */
  assert_int_equal(ms_ref_retain(samples), 1);
  assert_int_equal(ms_ref_retain(old), MS_ENOTFOUND); /* the old block is gone */
  free(samples);
}

static void test_variables_free_sets_free_time(void **state) {
  (void)state;
  char *scratch = malloc(256);
  assert_int_equal(MS_TRACK(scratch), MS_OK);
  ms_dump_t d;
  ms_test_snapshot(&d);
  uint64_t before = d.process.dump_time_ns;
  ms_dump_free(&d);
  free(scratch);
  ms_test_snapshot(&d);
  const ms_dump_variable_t *v = var_named(&d, "scratch");
  assert_int_equal(v->freed, 1);
  assert_true(v->free_time_ns >= before);
  assert_true(v->free_time_ns >= v->alloc_time_ns);
  assert_true(v->free_time_ns <= d.process.dump_time_ns);
  assert_int_equal(v->events[v->n_events - 1].kind, MS_EV_FREE);
  ms_dump_free(&d);
  /* a freed block is no longer a live block */
  assert_int_equal(ms_ref_retain(scratch), MS_ENOTFOUND);
}

static void test_variables_ref_counts(void **state) {
  (void)state;
  long *shared = malloc(64);
  assert_int_equal(MS_TRACK(shared), MS_OK);
  assert_int_equal(ms_ref_retain(shared), 1);
  assert_int_equal(ms_ref_retain(shared), 2);
  assert_int_equal(MS_REF_RETAIN(shared), 3);
  assert_int_equal(ms_ref_release(shared), 2);
  assert_int_equal(MS_REF_RELEASE(shared), 1);
  assert_int_equal(ms_ref_set(shared, 7), 7);
  assert_int_equal(MS_REF(shared, 4), 4);
  assert_int_equal(ms_ref_release(shared), 3);
  ms_dump_t d;
  ms_test_snapshot(&d);
  const ms_dump_variable_t *v = var_named(&d, "shared");
  static const struct { uint32_t kind; int64_t count; } want[] = {
      {MS_EV_RETAIN, 1}, {MS_EV_RETAIN, 2}, {MS_EV_RETAIN, 3}, {MS_EV_RELEASE, 2},
      {MS_EV_RELEASE, 1}, {MS_EV_REFSET, 7}, {MS_EV_REFSET, 4}, {MS_EV_RELEASE, 3}};
  uint32_t k = 0;
  uint64_t last_time = 0;
  for (uint32_t i = 0; i < v->n_events; i++) {
    const ms_dump_event_t *e = &v->events[i];
    assert_true(e->time_ns >= last_time); /* in order */
    last_time = e->time_ns;
    if (e->kind < MS_EV_RETAIN) continue;
    assert_true(k < 8);
    assert_int_equal(e->kind, want[k].kind);
    assert_int_equal(e->count, want[k].count);
    assert_int_equal(e->address, (uint64_t)(uintptr_t)shared);
    k++;
  }
  assert_int_equal(k, 8);
  ms_dump_free(&d);
  free(shared);
}

static void test_variables_ref_on_unnamed_block(void **state) {
  (void)state;
  /* reference counts work on blocks nobody named: they become (unnamed) variables */
  void *anon = malloc(32);
  assert_int_equal(ms_ref_retain(anon), 1);
  assert_int_equal(ms_ref_release(anon), 0);
  ms_dump_t d;
  ms_test_snapshot(&d);
  int found = 0;
  for (uint32_t i = 0; i < d.n_variables; i++)
    if (d.variables[i].address == (uint64_t)(uintptr_t)anon && !d.variables[i].freed) found = 1;
  assert_true(found);
  ms_dump_free(&d);
  free(anon);
}

static int static_thing[16];

static void test_variables_non_heap_pointers_refused(void **state) {
  (void)state;
  int local = 0;
  assert_int_equal(ms_track(&local, "local", "int", __FILE__, __LINE__), MS_ENOTFOUND);
  assert_int_equal(ms_track(static_thing, "st", "int", __FILE__, __LINE__), MS_ENOTFOUND);
  assert_int_equal(ms_ref_retain(&local), MS_ENOTFOUND);
  assert_int_equal(ms_ref_release(static_thing), MS_ENOTFOUND);
  assert_int_equal(ms_ref_set(&local, 3), MS_ENOTFOUND);
  assert_int_equal(ms_track(NULL, "n", "t", __FILE__, 1), MS_EINVAL);
  assert_int_equal(ms_ref_retain(NULL), MS_EINVAL);
  char *odd = malloc(64);
  assert_int_equal(ms_ref_retain(odd + 3), MS_ENOTFOUND); /* unaligned: never a block start */
  free(odd);
  assert_string_equal(ms_strerror(MS_ENOTFOUND), "pointer is not a live block allocated by memscope");
}

static void test_variables_rename_keeps_one_variable(void **state) {
  (void)state;
  char *buf = malloc(80);
  assert_int_equal(ms_track(buf, "first_name", "char *", "a.c", 1), MS_OK);
  assert_int_equal(ms_track(buf, "second_name", "char[80]", "b.c", 2), MS_OK);
  ms_dump_t d;
  ms_test_snapshot(&d);
  uint32_t at_buf = 0;
  for (uint32_t i = 0; i < d.n_variables; i++)
    if (d.variables[i].address == (uint64_t)(uintptr_t)buf && !d.variables[i].freed) at_buf++;
  assert_int_equal(at_buf, 1);
  const ms_dump_variable_t *v = var_named(&d, "second_name");
  assert_string_equal(v->type, "char[80]");
  assert_string_equal(v->file, "b.c");
  assert_int_equal(v->line, 2);
  ms_dump_free(&d);
  free(buf);
}

int main(void) {
#define BOTH(t) cmocka_unit_test_setup(t, rate0), cmocka_unit_test_setup(t, rate1)
  const struct CMUnitTest tests[] = {
      BOTH(test_variables_track_records_name_type_place),
      BOTH(test_variables_realloc_moves_name),
      BOTH(test_variables_free_sets_free_time),
      BOTH(test_variables_ref_counts),
      BOTH(test_variables_ref_on_unnamed_block),
      BOTH(test_variables_non_heap_pointers_refused),
      BOTH(test_variables_rename_keeps_one_variable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
