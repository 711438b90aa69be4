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

static void fill_full(ex_t *e, ms_dump_t *d, int one) {
  d->process.pid = v(e);
  d->process.ppid = v(e);
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
  d->process.start_time_unix_ns = v(e);
  d->process.dump_time_ns = v(e);
  d->process.reason = MS_DUMP_REASON_EXIT;
  d->process.sequence = v32(e);

  d->options.sample_rate = v(e);
  d->options.stack_depth = v32(e);
  d->options.interval_ms = v32(e);
  d->options.checks = s(e, "double_free,overflow");

  ms_dump_summary_t *sm = &d->summary;
  uint64_t *sf[] = {&sm->total_allocations, &sm->total_frees, &sm->total_bytes,
                    &sm->live_bytes, &sm->live_allocations, &sm->peak_live_bytes,
                    &sm->peak_time_ns, &sm->usable_bytes, &sm->header_bytes, &sm->rss_bytes,
                    &sm->peak_rss_bytes, &sm->sampled_allocations};
  for (size_t i = 0; i < sizeof sf / sizeof *sf; i++) *sf[i] = v(e);
  sm->leak_check = MS_LEAK_CHECK_DONE;

  d->n_modules = one ? 1 : 2;
  d->modules = table(e, d->n_modules, sizeof *d->modules);
  for (uint32_t i = 0; d->modules && i < d->n_modules; i++) {
    ms_dump_module_t *m = &d->modules[i];
    m->path = s(e, i ? "/usr/lib/x86_64-linux-gnu/libc.so.6" : "/usr/bin/example");
    m->base = v(e);
    m->start = v(e);
    m->end = v(e);
    m->build_id_len = i ? 0 : 20;  /* the second module has no build-id */
    for (uint32_t b = 0; b < m->build_id_len; b++) m->build_id[b] = (uint8_t)(0xa0 + b);
  }

  d->n_stacks = one ? 1 : 4;
  d->stacks = table(e, d->n_stacks, sizeof *d->stacks);
  for (uint32_t i = 0; d->stacks && i < d->n_stacks; i++) {
    uint32_t depth = one ? 2 : (i == 3 ? 0 : 3 + i);  /* stack 3 is empty */
    d->stacks[i].depth = depth;
    if (depth) d->stacks[i].frames = table(e, depth, sizeof(uint64_t));
    for (uint32_t j = 0; d->stacks[i].frames && j < depth; j++) d->stacks[i].frames[j] = v(e);
  }

  d->n_tags = one ? 1 : 2;
  d->tags = table(e, d->n_tags, sizeof(char *));
  if (d->tags) {
    d->tags[0] = s(e, "parser");
    if (!one) d->tags[1] = s(e, "network");
  }

  d->n_sites = one ? 1 : 3;
  d->sites = table(e, d->n_sites, sizeof *d->sites);
  for (uint32_t i = 0; d->sites && i < d->n_sites; i++) {
    ms_dump_site_t *st = &d->sites[i];
    st->stack = i % d->n_stacks;
    st->tag = i == 2 ? MS_DUMP_NONE : i % d->n_tags;
    uint64_t *f[] = {&st->live_bytes, &st->live_count, &st->total_bytes, &st->total_count,
                     &st->peak_bytes, &st->peak_count, &st->temp_count, &st->temp_bytes,
                     &st->realloc_count};
    for (size_t k = 0; k < sizeof f / sizeof *f; k++) *f[k] = v(e);
    for (int b = 0; b < MS_DUMP_LIFETIME_BUCKETS; b++) st->lifetime[b] = v(e);
  }

  d->n_threads = one ? 1 : 2;
  d->threads = table(e, d->n_threads, sizeof *d->threads);
  for (uint32_t i = 0; d->threads && i < d->n_threads; i++) {
    ms_dump_thread_t *t = &d->threads[i];
    t->tid = v(e);
    t->name = i ? NULL : s(e, "main");  /* an unnamed thread */
    t->alive = i == 0;
    t->allocations = v(e);
    t->frees = v(e);
    t->allocated_bytes = v(e);
    t->freed_bytes = v(e);
  }

  d->n_allocs = one ? 1 : 5;
  d->allocs = table(e, d->n_allocs, sizeof *d->allocs);
  for (uint32_t i = 0; d->allocs && i < d->n_allocs; i++) {
    ms_dump_alloc_t *a = &d->allocs[i];
    a->address = v(e);
    a->size = v(e);
    a->weight_bytes = v(e);
    a->time_ns = v(e);
    a->stack = i % d->n_stacks;
    a->thread = i == 4 ? MS_DUMP_NONE : i % d->n_threads;
    a->tag = i == 1 ? MS_DUMP_NONE : i % d->n_tags;
    a->kind = 1 + i % (MS_LEAK_KINDS - 1);  /* every class, none unknown */
  }

  d->n_classes = one ? 1 : 3;
  d->classes = table(e, d->n_classes, sizeof *d->classes);
  for (uint32_t i = 0; d->classes && i < d->n_classes; i++) {
    ms_dump_class_t *c = &d->classes[i];
    c->size = v(e);
    c->allocations = v(e);
    c->frees = v(e);
    c->requested_bytes = v(e);
    c->usable_bytes = v(e);
    c->total_requested = v(e);
  }

  d->n_variables = one ? 1 : 2;
  d->variables = table(e, d->n_variables, sizeof *d->variables);
  for (uint32_t i = 0; d->variables && i < d->n_variables; i++) {
    ms_dump_variable_t *va = &d->variables[i];
    va->name = s(e, i ? "cache" : "buffer");
    va->type = s(e, i ? "struct cache *" : "char *");
    va->file = s(e, "example.c");
    va->line = v32(e);
    va->address = v(e);
    va->size = v(e);
    va->alloc_time_ns = v(e);
    va->freed = i == 0;  /* the first is freed, the second still live */
    va->free_time_ns = va->freed ? v(e) : 0;
    va->thread = i % d->n_threads;
    va->alloc_stack = 0;
    va->free_stack = va->freed ? d->n_stacks - 1 : MS_DUMP_NONE;
    va->n_events = i ? 0 : (one ? 1 : 7);
    va->events = va->n_events ? table(e, va->n_events, sizeof *va->events) : NULL;
    for (uint32_t j = 0; va->events && j < va->n_events; j++) {
      ms_dump_event_t *ev = &va->events[j];
      ev->time_ns = v(e);
      ev->kind = j % (MS_EV_REFSET + 1);  /* every kind once */
      ev->thread = j == 2 ? MS_DUMP_NONE : 0;
      ev->count = j == 5 ? -(int64_t)(j + 1) * 1000000007 : (int64_t)j;  /* one negative */
      ev->address = v(e);
      ev->size = v(e);
      ev->stack = j == 3 ? MS_DUMP_NONE : j % d->n_stacks;
    }
  }

  d->n_timeline = one ? 1 : 3;
  d->timeline = table(e, d->n_timeline, sizeof *d->timeline);
  for (uint32_t i = 0; d->timeline && i < d->n_timeline; i++) {
    d->timeline[i].time_ns = v(e);
    d->timeline[i].live_bytes = v(e);
    d->timeline[i].rss_bytes = v(e);
  }

  d->n_errors = one ? 1 : 2;
  d->errors = table(e, d->n_errors, sizeof *d->errors);
  for (uint32_t i = 0; d->errors && i < d->n_errors; i++) {
    ms_dump_error_t *er = &d->errors[i];
    er->kind = i ? MS_ERR_BUFFER_OVERFLOW : MS_ERR_DOUBLE_FREE;
    er->thread = i % d->n_threads;
    er->address = v(e);
    er->size = v(e);
    er->time_ns = v(e);
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
    d->crossings[0].count = v(e);
    d->crossings[0].bytes = v(e);
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
