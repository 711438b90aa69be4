/* dump_example.c — deterministic example dumps for tests, the fuzz seed corpus and golden files.
 *
 * ms_dump_example() builds a small dump in which every field holds a distinct value (so a
 * round-trip test notices two fields swapped) and every index is valid. Values cycle through
 * magnitudes so that every MessagePack integer width (fixint, uint8..uint64) is exercised.
 * It lives in msdump (not in a test) so the converter's golden tests can use the same input.
 */
#include "dump.h"

#include <stdlib.h>
#include <string.h>

#include "memscope.h"

typedef struct ex {
  uint64_t n;
  int oom;
} ex_t;

/* Distinct values of varying widths: 5, 6000, 7*2^32+7, 2^64-256+8, 9, ... */
static uint64_t v(ex_t *e) {
  uint64_t k = ++e->n;
  switch (k % 4) {
  case 0: return k;
  case 1: return k * 1000;
  case 2: return k * 0x100000001ull;
  default: return UINT64_MAX - 255 + k % 200;
  }
}

static uint32_t v32(ex_t *e) { return (uint32_t)(++e->n * 3); }

/* Every plain number of a record (U64, U32, U64S columns), in column order, from the sequence
 * above; each fill below sets the rest (strings, indexes, enums, flags) by hand. A number
 * column added to the schema thus gets a distinct value without an edit here. */
static void numbers(ex_t *e, const ms_dump_record_t *rec, void *row) {
  for (uint32_t i = 0; i < rec->n_fields; i++) {
    const ms_dump_field_t *f = &rec->fields[i];
    char *p = (char *)row + f->off;
    if (f->type == MS_DT_U64) *(uint64_t *)p = v(e);
    else if (f->type == MS_DT_U32) *(uint32_t *)p = v32(e);
    else if (f->type == MS_DT_U64S)
      for (uint32_t k = 0; k < f->aux; k++) ((uint64_t *)p)[k] = v(e);
  }
}

/* numbers() for each of n rows (none when the table could not be allocated). */
static void number_rows(ex_t *e, const ms_dump_record_t *rec, void *rows, uint32_t n) {
  for (uint32_t i = 0; rows && i < n; i++) numbers(e, rec, (char *)rows + (size_t)i * rec->size);
}

static char *s(ex_t *e, const char *text) {
  char *p = strdup(text);
  if (!p) e->oom = 1;
  return p;
}

static void *table(ex_t *e, uint32_t n, size_t size) {
  void *p = calloc(n, size);
  if (!p) e->oom = 1;
  return p;
}

/* d->name as a table of zeroed rows: one row, or `many` (NULL and e->oom when out of memory). */
#define TABLE_OF(name, many) \
  (d->n_##name = one ? 1 : (many), d->name = table(e, d->n_##name, sizeof *d->name))

static void fill_full(ex_t *e, ms_dump_t *d, int one) {
  numbers(e, &ms_dump_record_process, &d->process);
  d->process.exe = s(e, "/usr/bin/example");
  d->process.argc = one ? 1 : 3;
  d->process.argv = table(e, d->process.argc, sizeof(char *));
  if (d->process.argv) {
    d->process.argv[0] = s(e, "example");
    if (!one) {
      d->process.argv[1] = s(e, "--flag=\xc3\xa9t\xc3\xa9");  /* UTF-8 survives */
      d->process.argv[2] = s(e, "");                          /* empty, not NULL */
    }
  }
  d->process.reason = MS_DUMP_REASON_EXIT;

  numbers(e, &ms_dump_record_options, &d->options);
  d->options.checks = s(e, "double_free,overflow");

  numbers(e, &ms_dump_record_summary, &d->summary);
  d->summary.leak_check = MS_LEAK_CHECK_DONE;

  TABLE_OF(modules, 2);
  for (uint32_t i = 0; d->modules && i < d->n_modules; i++) {
    ms_dump_module_t *m = &d->modules[i];
    m->path = s(e, i ? "/usr/lib/x86_64-linux-gnu/libc.so.6" : "/usr/bin/example");
    numbers(e, &ms_dump_record_module, m);
    m->build_id_len = i ? 0 : 20;  /* the second module has no build-id */
    for (uint32_t b = 0; b < m->build_id_len; b++) m->build_id[b] = (uint8_t)(0xa0 + b);
  }

  TABLE_OF(stacks, 4);
  for (uint32_t i = 0; d->stacks && i < d->n_stacks; i++) {
    uint32_t depth = one ? 2 : (i == 3 ? 0 : 3 + i);  /* stack 3 is empty */
    d->stacks[i].depth = depth;
    if (depth) d->stacks[i].frames = table(e, depth, sizeof(uint64_t));
    for (uint32_t j = 0; d->stacks[i].frames && j < depth; j++) d->stacks[i].frames[j] = v(e);
  }

  TABLE_OF(tags, 2);
  if (d->tags) {
    d->tags[0] = s(e, "parser");
    if (!one) d->tags[1] = s(e, "network");
  }

  TABLE_OF(sites, 3);
  for (uint32_t i = 0; d->sites && i < d->n_sites; i++) {
    ms_dump_site_t *st = &d->sites[i];
    st->stack = i % d->n_stacks;
    st->tag = i == 2 ? MS_DUMP_NONE : i % d->n_tags;
    numbers(e, &ms_dump_record_site, st);
  }

  TABLE_OF(threads, 2);
  for (uint32_t i = 0; d->threads && i < d->n_threads; i++) {
    ms_dump_thread_t *t = &d->threads[i];
    numbers(e, &ms_dump_record_thread, t);
    t->name = i ? NULL : s(e, "main");  /* an unnamed thread */
    t->alive = i == 0;
  }

  TABLE_OF(allocs, 5);
  for (uint32_t i = 0; d->allocs && i < d->n_allocs; i++) {
    ms_dump_alloc_t *a = &d->allocs[i];
    numbers(e, &ms_dump_record_alloc, a);
    a->stack = i % d->n_stacks;
    a->thread = i == 4 ? MS_DUMP_NONE : i % d->n_threads;
    a->tag = i == 1 ? MS_DUMP_NONE : i % d->n_tags;
    a->kind = 1 + i % (MS_LEAK_KINDS - 1);  /* every class, none unknown */
  }

  TABLE_OF(classes, 3);
  number_rows(e, &ms_dump_record_class, d->classes, d->n_classes);

  TABLE_OF(variables, 2);
  for (uint32_t i = 0; d->variables && i < d->n_variables; i++) {
    ms_dump_variable_t *va = &d->variables[i];
    va->name = s(e, i ? "cache" : "buffer");
    va->type = s(e, i ? "struct cache *" : "char *");
    va->file = s(e, "example.c");
    numbers(e, &ms_dump_record_variable, va);
    va->freed = i == 0;  /* the first is freed, the second still live */
    va->free_time_ns = va->freed ? v(e) : 0;
    va->thread = i % d->n_threads;
    va->alloc_stack = 0;
    va->free_stack = va->freed ? d->n_stacks - 1 : MS_DUMP_NONE;
    va->n_events = i ? 0 : (one ? 1 : 7);
    va->events = va->n_events ? table(e, va->n_events, sizeof *va->events) : NULL;
    for (uint32_t j = 0; va->events && j < va->n_events; j++) {
      ms_dump_event_t *ev = &va->events[j];
      numbers(e, &ms_dump_record_event, ev);
      ev->kind = j % (MS_EV_REFSET + 1);  /* every kind once */
      ev->thread = j == 2 ? MS_DUMP_NONE : 0;
      ev->count = j == 5 ? -(int64_t)(j + 1) * 1000000007 : (int64_t)j;  /* one negative */
      ev->stack = j == 3 ? MS_DUMP_NONE : j % d->n_stacks;
    }
  }

  TABLE_OF(timeline, 3);
  number_rows(e, &ms_dump_record_point, d->timeline, d->n_timeline);

  TABLE_OF(errors, 2);
  for (uint32_t i = 0; d->errors && i < d->n_errors; i++) {
    ms_dump_error_t *er = &d->errors[i];
    er->kind = i ? MS_ERR_BUFFER_OVERFLOW : MS_ERR_DOUBLE_FREE;
    er->thread = i % d->n_threads;
    numbers(e, &ms_dump_record_error, er);
    er->stack = 0;
    er->alloc_stack = i % d->n_stacks;
    er->free_stack = i ? MS_DUMP_NONE : d->n_stacks - 1;
    er->detail = i ? NULL : s(e, "block freed twice");
  }

  d->n_crossings = 1;
  d->crossings = table(e, 1, sizeof *d->crossings);
  if (d->crossings) {
    d->crossings[0].alloc_module = 0;
    d->crossings[0].free_module = d->n_modules - 1;
    numbers(e, &ms_dump_record_crossing, &d->crossings[0]);
  }

  /* version 3: the timeline's top sites, one with no stack */
  d->n_timeline_sites = one ? 1 : 4;
  d->timeline_sites = table(e, d->n_timeline_sites, sizeof *d->timeline_sites);
  for (uint32_t i = 0; d->timeline_sites && i < d->n_timeline_sites; i++) {
    ms_dump_point_site_t *t = &d->timeline_sites[i];
    numbers(e, &ms_dump_record_point_site, t);
    t->point = i % d->n_timeline;
    t->stack = i == 3 ? MS_DUMP_NONE : i % d->n_stacks;
  }
}

int ms_dump_example(ms_dump_t *d, unsigned variant) {
  memset(d, 0, sizeof *d);
  d->format_version = MS_DUMP_FORMAT_VERSION;
  ex_t e = {0, 0};
  switch (variant) {
  case 1: break;                       /* empty */
  case 2: fill_full(&e, d, 1); break;  /* one of everything */
  default: fill_full(&e, d, 0); break;
  }
  if (e.oom) {
    ms_dump_free(d);
    return MS_ENOMEM;
  }
  return 0;
}
