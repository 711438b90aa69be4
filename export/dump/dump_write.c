/* dump_write.c — serialise an ms_dump_t as a MessagePack dump (docs/FORMAT.md).
 *
 * This file is compiled into libmemscope.so, i.e. it runs inside the tracked process, possibly
 * at exit or from a helper thread while other threads allocate. So: no stdio, no locks, no
 * realloc-growing buffers. msgpack-c's packer is driven through a custom write callback that
 * fills one fixed 64 KiB buffer (plain malloc, which the library's re-entrancy guard routes to
 * mimalloc untracked) and flushes it with write(2), retrying on EINTR and short writes. The
 * packer's inline functions ignore some callback results, so the first error is kept sticky in
 * the writer state and every later write becomes a no-op; it is reported once at the end.
 *
 * The writer trusts its input (the snapshot code builds it), but it never writes something
 * the reader would reject for size reasons: strings are cut to MS_DUMP_MAX_STRING bytes and
 * stacks to MS_DUMP_MAX_DEPTH frames. NULL strings are written as nil, MS_DUMP_NONE indexes
 * as nil.
 */
#include "dump.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "memscope.h"

#define MS_DUMP_WBUF_SIZE (64u * 1024u)

typedef struct ms_wstate {
  int fd;
  int err;        /* 0 or the first negative MS_* code */
  size_t used;
  unsigned char *buf;
} ms_wstate_t;

static int wflush(ms_wstate_t *w) {
  size_t off = 0;
  while (off < w->used && w->err == 0) {
    ssize_t n = write(w->fd, w->buf + off, w->used - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      w->err = MS_EIO;
    } else if (n == 0) {
      w->err = MS_EIO; /* write(2) returning 0 for a non-empty request: no progress possible */
    } else {
      off += (size_t)n;
    }
  }
  w->used = 0;
  return w->err;
}

/* msgpack_packer_write callback. */
static int wcallback(void *data, const char *p, size_t len) {
  ms_wstate_t *w = data;
  if (w->err) return -1;
  while (len > 0) {
    if (w->used == MS_DUMP_WBUF_SIZE && wflush(w)) return -1;
    size_t room = MS_DUMP_WBUF_SIZE - w->used;
    size_t n = len < room ? len : room;
    memcpy(w->buf + w->used, p, n);
    w->used += n;
    p += n;
    len -= n;
  }
  return 0;
}

/* ---- small helpers that keep the section writers readable ---- */

static void put_u64(msgpack_packer *pk, uint64_t v) { msgpack_pack_uint64(pk, v); }

static void put_index(msgpack_packer *pk, uint32_t v) {
  if (v == MS_DUMP_NONE) msgpack_pack_nil(pk);
  else msgpack_pack_uint32(pk, v);
}

static void put_str(msgpack_packer *pk, const char *s) {
  if (!s) {
    msgpack_pack_nil(pk);
    return;
  }
  size_t n = strlen(s);
  if (n > MS_DUMP_MAX_STRING) n = MS_DUMP_MAX_STRING;
  msgpack_pack_str(pk, n);
  msgpack_pack_str_body(pk, s, n);
}

static void put_key(msgpack_packer *pk, const char *k) {
  size_t n = strlen(k);
  msgpack_pack_str(pk, n);
  msgpack_pack_str_body(pk, k, n);
}

static void put_kv_u64(msgpack_packer *pk, const char *k, uint64_t v) {
  put_key(pk, k);
  put_u64(pk, v);
}

/* An array section: key, then the array header. NULL table with a count is written empty
 * (defensive: better an empty section than a crash inside the tracked process). */
static uint32_t put_table(msgpack_packer *pk, const char *k, uint32_t n, const void *rows) {
  if (!rows) n = 0;
  put_key(pk, k);
  msgpack_pack_array(pk, n);
  return n;
}

/* ---- sections (field order is the one FORMAT.md documents) ---- */

static void put_process(msgpack_packer *pk, const ms_dump_process_t *p) {
  put_key(pk, "process");
  msgpack_pack_map(pk, 8);
  put_kv_u64(pk, "pid", p->pid);
  put_kv_u64(pk, "ppid", p->ppid);
  put_key(pk, "exe");
  put_str(pk, p->exe);
  put_key(pk, "argv");
  uint32_t argc = p->argv ? p->argc : 0;
  msgpack_pack_array(pk, argc);
  for (uint32_t i = 0; i < argc; i++) put_str(pk, p->argv[i]);
  put_kv_u64(pk, "start_time_unix_ns", p->start_time_unix_ns);
  put_kv_u64(pk, "dump_time_ns", p->dump_time_ns);
  put_kv_u64(pk, "reason", p->reason);
  put_kv_u64(pk, "sequence", p->sequence);
}

static void put_options(msgpack_packer *pk, const ms_dump_options_t *o) {
  put_key(pk, "options");
  msgpack_pack_map(pk, 4);
  put_kv_u64(pk, "sample_rate", o->sample_rate);
  put_kv_u64(pk, "stack_depth", o->stack_depth);
  put_kv_u64(pk, "interval_ms", o->interval_ms);
  put_key(pk, "checks");
  put_str(pk, o->checks);
}

static void put_summary(msgpack_packer *pk, const ms_dump_summary_t *s) {
  put_key(pk, "summary");
  msgpack_pack_map(pk, 13);
  put_kv_u64(pk, "total_allocations", s->total_allocations);
  put_kv_u64(pk, "total_frees", s->total_frees);
  put_kv_u64(pk, "total_bytes", s->total_bytes);
  put_kv_u64(pk, "live_bytes", s->live_bytes);
  put_kv_u64(pk, "live_allocations", s->live_allocations);
  put_kv_u64(pk, "peak_live_bytes", s->peak_live_bytes);
  put_kv_u64(pk, "peak_time_ns", s->peak_time_ns);
  put_kv_u64(pk, "usable_bytes", s->usable_bytes);
  put_kv_u64(pk, "header_bytes", s->header_bytes);
  put_kv_u64(pk, "rss_bytes", s->rss_bytes);
  put_kv_u64(pk, "peak_rss_bytes", s->peak_rss_bytes);
  put_kv_u64(pk, "sampled_allocations", s->sampled_allocations);
  put_kv_u64(pk, "leak_check", s->leak_check);
}

static void put_modules(msgpack_packer *pk, const ms_dump_t *d) {
  uint32_t n = put_table(pk, "modules", d->n_modules, d->modules);
  for (uint32_t i = 0; i < n; i++) {
    const ms_dump_module_t *m = &d->modules[i];
    msgpack_pack_array(pk, 5);
    put_str(pk, m->path);
    put_u64(pk, m->base);
    put_u64(pk, m->start);
    put_u64(pk, m->end);
    uint32_t bl = m->build_id_len <= sizeof m->build_id ? m->build_id_len : sizeof m->build_id;
    msgpack_pack_bin(pk, bl);
    msgpack_pack_bin_body(pk, m->build_id, bl);
  }
}

static void put_stacks(msgpack_packer *pk, const ms_dump_t *d) {
  uint32_t n = put_table(pk, "stacks", d->n_stacks, d->stacks);
  for (uint32_t i = 0; i < n; i++) {
    const ms_dump_stack_t *s = &d->stacks[i];
    uint32_t depth = s->frames ? s->depth : 0;
    if (depth > MS_DUMP_MAX_DEPTH) depth = MS_DUMP_MAX_DEPTH; /* keep the innermost frames */
    msgpack_pack_array(pk, depth);
    for (uint32_t j = 0; j < depth; j++) put_u64(pk, s->frames[j]);
  }
}

static void put_tags(msgpack_packer *pk, const ms_dump_t *d) {
  uint32_t n = put_table(pk, "tags", d->n_tags, d->tags);
  for (uint32_t i = 0; i < n; i++) put_str(pk, d->tags[i]);
}

static void put_sites(msgpack_packer *pk, const ms_dump_t *d) {
  uint32_t n = put_table(pk, "sites", d->n_sites, d->sites);
  for (uint32_t i = 0; i < n; i++) {
    const ms_dump_site_t *s = &d->sites[i];
    msgpack_pack_array(pk, 12);
    put_index(pk, s->stack);
    put_index(pk, s->tag);
    put_u64(pk, s->live_bytes);
    put_u64(pk, s->live_count);
    put_u64(pk, s->total_bytes);
    put_u64(pk, s->total_count);
    put_u64(pk, s->peak_bytes);
    put_u64(pk, s->peak_count);
    put_u64(pk, s->temp_count);
    put_u64(pk, s->temp_bytes);
    put_u64(pk, s->realloc_count);
    msgpack_pack_array(pk, MS_DUMP_LIFETIME_BUCKETS);
    for (int b = 0; b < MS_DUMP_LIFETIME_BUCKETS; b++) put_u64(pk, s->lifetime[b]);
  }
}

static void put_allocs(msgpack_packer *pk, const ms_dump_t *d) {
  uint32_t n = put_table(pk, "allocs", d->n_allocs, d->allocs);
  for (uint32_t i = 0; i < n; i++) {
    const ms_dump_alloc_t *a = &d->allocs[i];
    msgpack_pack_array(pk, 8);
    put_u64(pk, a->address);
    put_u64(pk, a->size);
    put_u64(pk, a->weight_bytes);
    put_u64(pk, a->time_ns);
    put_index(pk, a->stack);
    put_index(pk, a->thread);
    put_index(pk, a->tag);
    put_u64(pk, a->kind);
  }
}

static void put_classes(msgpack_packer *pk, const ms_dump_t *d) {
  uint32_t n = put_table(pk, "classes", d->n_classes, d->classes);
  for (uint32_t i = 0; i < n; i++) {
    const ms_dump_class_t *c = &d->classes[i];
    msgpack_pack_array(pk, 6);
    put_u64(pk, c->size);
    put_u64(pk, c->allocations);
    put_u64(pk, c->frees);
    put_u64(pk, c->requested_bytes);
    put_u64(pk, c->usable_bytes);
    put_u64(pk, c->total_requested);
  }
}

static void put_event(msgpack_packer *pk, const ms_dump_event_t *e) {
  msgpack_pack_array(pk, 7);
  put_u64(pk, e->time_ns);
  put_u64(pk, e->kind);
  put_index(pk, e->thread);
  msgpack_pack_int64(pk, e->count);
  put_u64(pk, e->address);
  put_u64(pk, e->size);
  put_index(pk, e->stack);
}

static void put_variables(msgpack_packer *pk, const ms_dump_t *d) {
  uint32_t n = put_table(pk, "variables", d->n_variables, d->variables);
  for (uint32_t i = 0; i < n; i++) {
    const ms_dump_variable_t *v = &d->variables[i];
    msgpack_pack_array(pk, 12);
    put_str(pk, v->name);
    put_str(pk, v->type);
    put_str(pk, v->file);
    put_u64(pk, v->line);
    put_u64(pk, v->address);
    put_u64(pk, v->size);
    put_u64(pk, v->alloc_time_ns);
    if (v->freed) put_u64(pk, v->free_time_ns);
    else msgpack_pack_nil(pk);
    put_index(pk, v->thread);
    put_index(pk, v->alloc_stack);
    put_index(pk, v->free_stack);
    uint32_t ne = v->events ? v->n_events : 0;
    msgpack_pack_array(pk, ne);
    for (uint32_t j = 0; j < ne; j++) put_event(pk, &v->events[j]);
  }
}

static void put_timeline(msgpack_packer *pk, const ms_dump_t *d) {
  uint32_t n = put_table(pk, "timeline", d->n_timeline, d->timeline);
  for (uint32_t i = 0; i < n; i++) {
    msgpack_pack_array(pk, 3);
    put_u64(pk, d->timeline[i].time_ns);
    put_u64(pk, d->timeline[i].live_bytes);
    put_u64(pk, d->timeline[i].rss_bytes);
  }
}

static void put_errors(msgpack_packer *pk, const ms_dump_t *d) {
  uint32_t n = put_table(pk, "errors", d->n_errors, d->errors);
  for (uint32_t i = 0; i < n; i++) {
    const ms_dump_error_t *e = &d->errors[i];
    msgpack_pack_array(pk, 9);
    put_u64(pk, e->kind);
    put_index(pk, e->thread);
    put_u64(pk, e->address);
    put_u64(pk, e->size);
    put_u64(pk, e->time_ns);
    put_index(pk, e->stack);
    put_index(pk, e->alloc_stack);
    put_index(pk, e->free_stack);
    put_str(pk, e->detail);
  }
}

static void put_threads(msgpack_packer *pk, const ms_dump_t *d) {
  uint32_t n = put_table(pk, "threads", d->n_threads, d->threads);
  for (uint32_t i = 0; i < n; i++) {
    const ms_dump_thread_t *t = &d->threads[i];
    msgpack_pack_array(pk, 7);
    put_u64(pk, t->tid);
    put_str(pk, t->name);
    if (t->alive) msgpack_pack_true(pk);
    else msgpack_pack_false(pk);
    put_u64(pk, t->allocations);
    put_u64(pk, t->frees);
    put_u64(pk, t->allocated_bytes);
    put_u64(pk, t->freed_bytes);
  }
}

static void put_crossings(msgpack_packer *pk, const ms_dump_t *d) {
  uint32_t n = put_table(pk, "crossings", d->n_crossings, d->crossings);
  for (uint32_t i = 0; i < n; i++) {
    const ms_dump_crossing_t *c = &d->crossings[i];
    msgpack_pack_array(pk, 4);
    put_index(pk, c->alloc_module);
    put_index(pk, c->free_module);
    put_u64(pk, c->count);
    put_u64(pk, c->bytes);
  }
}

int ms_dump_write(const ms_dump_t *d, int fd) {
  if (!d || fd < 0) return MS_EINVAL;
  ms_wstate_t w = {.fd = fd, .err = 0, .used = 0, .buf = malloc(MS_DUMP_WBUF_SIZE)};
  if (!w.buf) return MS_ENOMEM;
  msgpack_packer pk;
  msgpack_packer_init(&pk, &w, wcallback);

  msgpack_pack_array(&pk, 3);
  msgpack_pack_str(&pk, sizeof MS_DUMP_MAGIC - 1);
  msgpack_pack_str_body(&pk, MS_DUMP_MAGIC, sizeof MS_DUMP_MAGIC - 1);
  msgpack_pack_uint32(&pk, MS_DUMP_FORMAT_VERSION);
  msgpack_pack_map(&pk, 14);  /* keep in step with the number of put_* calls below */
  put_process(&pk, &d->process);
  put_options(&pk, &d->options);
  put_summary(&pk, &d->summary);
  put_modules(&pk, d);
  put_stacks(&pk, d);
  put_tags(&pk, d);
  put_sites(&pk, d);
  put_allocs(&pk, d);
  put_classes(&pk, d);
  put_variables(&pk, d);
  put_timeline(&pk, d);
  put_errors(&pk, d);
  put_threads(&pk, d);
  put_crossings(&pk, d);

  int rc = w.err ? w.err : wflush(&w);
  free(w.buf);
  return rc;
}
