/* json_out.c — the model as JSON (docs/JSON.md documents every field).
 *
 * The output must always be valid JSON whatever the dump held: strings from the tracked
 * process (paths, variable names, thread names) are escaped, control characters become \u00XX
 * and bytes that are not valid UTF-8 become U+FFFD; '<' is written as \u003c so the JSON can be
 * embedded in an HTML <script> element as it is. Addresses are strings ("0x...") because
 * JSON numbers lose precision above 2^53 in most readers; counters stay numbers.
 *
 * Frames repeat across stacks, so each frame's JSON text is rendered once and reused: a dump
 * with 100k stacks of 20 frames prints 2M frames but formats only the distinct addresses.
 *
 * The compact form (ms_json_options_t.compact, `--compact`, and what the HTML report embeds)
 * writes each distinct frame and each distinct stack once, in two tables at the end of the
 * document, and every "stack": [frames] becomes "stack_id": N. Printing 2M frames in full is
 * what made a 100k-stack report 440 MB; the tables make it about a fifth of that. Ids are
 * given in order of first reference while the document streams out (so --top and the HTML
 * size guard list only the stacks they use), and stacks whose shown frames are identical
 * (they differed only in hidden memscope frames) share one id.
 */
#include "json_out.h"
#include "formats.h"

#include <stdlib.h>
#include <string.h>

#include "memscope.h"
#include "sbuf.h"
#include "utf8.h"

/* ------------------------------------------------------------------ strings */

/* Escaped form of s (with quotes) into a growing buffer (sbuf.h). */
static void sb_str(sbuf_t *b, const char *s) {
  if (!s) {
    sb_put(b, "null", 4);
    return;
  }
  sb_put(b, "\"", 1);
  const unsigned char *u = (const unsigned char *)s;
  while (*u) {
    const unsigned char *run = u;
    /* Copy plain ASCII runs in one go. */
    while (*u >= 0x20 && *u < 0x80 && *u != '"' && *u != '\\' && *u != '<') u++;
    if (u > run) sb_put(b, (const char *)run, (size_t)(u - run));
    if (!*u) break;
    char esc[8];
    switch (*u) {
      case '"': sb_put(b, "\\\"", 2); u++; continue;
      case '\\': sb_put(b, "\\\\", 2); u++; continue;
      case '\n': sb_put(b, "\\n", 2); u++; continue;
      case '\t': sb_put(b, "\\t", 2); u++; continue;
      case '\r': sb_put(b, "\\r", 2); u++; continue;
      /* "<" as \u003c: the HTML report embeds this JSON in a <script> element, where a
       * "</script>" inside a string (a variable or file name) would end the script. */
      case '<': sb_put(b, "\\u003c", 6); u++; continue;
      default: break;
    }
    if (*u < 0x20) {
      snprintf(esc, sizeof esc, "\\u%04x", *u);
      sb_put(b, esc, 6);
      u++;
      continue;
    }
    size_t l = ms_utf8_char(u, SIZE_MAX, NULL);   /* NUL-terminated: any n is safe */
    if (l == 0) {
      sb_put(b, "\\ufffd", 6);
      u++;
    } else {
      sb_put(b, (const char *)u, l);
      u += l;
    }
  }
  sb_put(b, "\"", 1);
}

void ms_json_string(FILE *out, const char *s) {
  sbuf_t b = {0};
  sb_str(&b, s);
  if (b.p) fwrite(b.p, 1, b.len, out);
  free(b.p);
}

/* ------------------------------------------------------------------ writer state */

typedef struct jw {
  FILE *out;
  const ms_model_t *m;
  char **frame_json;    /* rendered frames, by model frame index */
  uint32_t max_sites;
  /* compact form only: */
  int compact;
  uint32_t *stack_id;   /* by model stack: compact id, or MS_DUMP_NONE before first use */
  uint32_t *stack_of;   /* by compact id: a model stack with those frames */
  uint32_t n_ids;
  uint32_t *slots;      /* open-addressing table of compact ids (+1; 0 = empty), by frames */
  uint32_t n_slots;     /* power of two, > 2 * n_stacks */
  int out_of_memory;
  /* Commas are placed here, not by the callers: has[d] says that the object or array open at
   * nesting depth d already holds a value, so the next key or element needs a comma first.
   * The document's nesting is fixed by this file (at most 5 deep). */
  unsigned depth;
  unsigned char has[16];
} jw_t;

static void put(jw_t *w, const char *s) { fputs(s, w->out); }

/* Before a value inside the open object or array: a comma unless it is the first. */
static void sep(jw_t *w) {
  if (w->has[w->depth]) fputc(',', w->out);
  w->has[w->depth] = 1;
}
/* An array element follows. */
static void item(jw_t *w) { sep(w); }
/* '{' or '[': opens a level that holds no value yet. */
static void open_(jw_t *w, char c) {
  fputc(c, w->out);
  if (w->depth + 1 < sizeof w->has) w->depth++;
  w->has[w->depth] = 0;
}
static void close_(jw_t *w, char c) {
  fputc(c, w->out);
  if (w->depth) w->depth--;
}

static void key(jw_t *w, const char *k) {
  sep(w);
  fputc('"', w->out);
  fputs(k, w->out);
  fputs("\":", w->out);
}

static void kv_u(jw_t *w, const char *k, uint64_t v) {
  key(w, k);
  fprintf(w->out, "%llu", (unsigned long long)v);
}
static void kv_i(jw_t *w, const char *k, int64_t v) {
  key(w, k);
  fprintf(w->out, "%lld", (long long)v);
}
static void kv_d(jw_t *w, const char *k, double v) {
  key(w, k);
  fprintf(w->out, "%.4f", v);
}
static void kv_s(jw_t *w, const char *k, const char *v) {
  key(w, k);
  ms_json_string(w->out, v);
}
static void kv_x(jw_t *w, const char *k, uint64_t v) {
  key(w, k);
  fprintf(w->out, "\"0x%llx\"", (unsigned long long)v);
}
static void kv_idx(jw_t *w, const char *k, uint32_t v) {  /* index or null */
  key(w, k);
  if (v == MS_DUMP_NONE) put(w, "null");
  else fprintf(w->out, "%u", v);
}

static const char *frame_json(jw_t *w, uint32_t fi) {
  if (w->frame_json[fi]) return w->frame_json[fi];
  const ms_frame_t *f = &w->m->frames[fi];
  sbuf_t b = {0};
  char num[64];
  sb_put(&b, "{\"function\":", 12);
  sb_str(&b, f->function);
  sb_put(&b, ",\"file\":", 8);
  sb_str(&b, f->file);
  int n = f->line ? snprintf(num, sizeof num, ",\"line\":%u", f->line)
                  : snprintf(num, sizeof num, ",\"line\":null");
  sb_put(&b, num, (size_t)n);
  sb_put(&b, ",\"module\":", 10);
  sb_str(&b, f->module_path);
  n = snprintf(num, sizeof num, ",\"address\":\"0x%llx\"", (unsigned long long)f->address);
  sb_put(&b, num, (size_t)n);
  if (f->module != MS_DUMP_NONE) {
    n = snprintf(num, sizeof num, ",\"offset\":\"0x%llx\"", (unsigned long long)f->offset);
    sb_put(&b, num, (size_t)n);
  }
  if (f->inlined) sb_put(&b, ",\"inlined\":true", 15);
  sb_put(&b, "}", 1);
  w->frame_json[fi] = b.p;
  return b.p ? b.p : "null";
}

/* ------------------------------------------------------------------ compact stacks */

static uint64_t frames_hash(const ms_mstack_t *st) {
  uint64_t h = 1469598103934665603ull ^ st->depth;   /* FNV-1a over the frame indexes */
  for (uint32_t i = 0; i < st->depth; i++) {
    h ^= st->frames[i];
    h *= 1099511628211ull;
  }
  return h ^ (h >> 29);
}

static int same_frames(const ms_mstack_t *a, const ms_mstack_t *b) {
  return a->depth == b->depth && (a->depth == 0 || !memcmp(a->frames, b->frames, a->depth * sizeof *a->frames));
}

/* The compact id of model stack s (< n_stacks), given on first use. */
static uint32_t stack_intern(jw_t *w, uint32_t s) {
  if (w->stack_id[s] != MS_DUMP_NONE) return w->stack_id[s];
  const ms_mstack_t *st = &w->m->stacks[s];
  uint32_t mask = w->n_slots - 1, i = (uint32_t)frames_hash(st) & mask;
  for (; w->slots[i]; i = (i + 1) & mask) {
    uint32_t id = w->slots[i] - 1;
    if (same_frames(&w->m->stacks[w->stack_of[id]], st)) return w->stack_id[s] = id;
  }
  uint32_t id = w->n_ids++;   /* at most one id per model stack, so the table never fills */
  w->slots[i] = id + 1;
  w->stack_of[id] = s;
  return w->stack_id[s] = id;
}

/* "frames": every frame the listed stacks use, once; "stacks": frame indexes per stack id. */
static void stack_tables(jw_t *w) {
  const ms_model_t *m = w->m;
  uint32_t *fid = malloc((m->n_frames ? m->n_frames : 1) * sizeof *fid);
  uint32_t *order = malloc((m->n_frames ? m->n_frames : 1) * sizeof *order);
  if (!fid || !order) {
    free(fid);
    free(order);
    put(w, ",\"frames\":[],\"stacks\":[]");
    w->out_of_memory = 1;
    return;
  }
  for (uint32_t i = 0; i < m->n_frames; i++) fid[i] = MS_DUMP_NONE;
  uint32_t nf = 0;
  for (uint32_t id = 0; id < w->n_ids; id++) {
    const ms_mstack_t *st = &m->stacks[w->stack_of[id]];
    for (uint32_t i = 0; i < st->depth; i++)
      if (fid[st->frames[i]] == MS_DUMP_NONE) {
        fid[st->frames[i]] = nf;
        order[nf++] = st->frames[i];
      }
  }
  key(w, "frames");
  open_(w, '[');
  for (uint32_t i = 0; i < nf; i++) {
    item(w);
    put(w, frame_json(w, order[i]));
  }
  close_(w, ']');
  key(w, "stacks");
  open_(w, '[');
  for (uint32_t id = 0; id < w->n_ids; id++) {
    const ms_mstack_t *st = &m->stacks[w->stack_of[id]];
    item(w);
    open_(w, '[');
    for (uint32_t i = 0; i < st->depth; i++) {
      item(w);
      fprintf(w->out, "%u", fid[st->frames[i]]);
    }
    close_(w, ']');
  }
  close_(w, ']');
  free(fid);
  free(order);
}

static void stack_body(jw_t *w, const char *k, uint32_t s);

/* A stack, then "<k>_truncated": true when the tracker cut it at its depth limit (the
 * outermost frames are missing; the reports draw a "[truncated]" root for it). */
static void stack(jw_t *w, const char *k, uint32_t s) {
  stack_body(w, k, s);
  if (s < w->m->n_stacks && w->m->stacks[s].truncated) fprintf(w->out, ",\"%s_truncated\":true", k);
}

static void stack_body(jw_t *w, const char *k, uint32_t s) {
  if (w->compact) {
    /* "stack" -> "stack_id", "alloc_stack" -> "alloc_stack_id": null when there is none. */
    sep(w);
    fprintf(w->out, "\"%s_id\":", k);
    if (s >= w->m->n_stacks) put(w, "null");
    else fprintf(w->out, "%u", stack_intern(w, s));
    return;
  }
  key(w, k);
  if (s >= w->m->n_stacks) {
    put(w, "[]");
    return;
  }
  const ms_mstack_t *st = &w->m->stacks[s];
  open_(w, '[');
  for (uint32_t i = 0; i < st->depth; i++) {
    item(w);
    put(w, frame_json(w, st->frames[i]));
  }
  close_(w, ']');
}

static void location(jw_t *w, const char *k, uint32_t s) {
  char buf[1024];
  ms_stack_label(w->m, s, buf, sizeof buf);
  kv_s(w, k, buf);
}

/* ------------------------------------------------------------------ sections */

static const char *reason_name(uint32_t r) {
  switch (r) {
    case MS_DUMP_REASON_SNAPSHOT: return "snapshot";
    case MS_DUMP_REASON_EXIT: return "exit";
    case MS_DUMP_REASON_SIGNAL: return "signal";
    default: return "unknown";
  }
}

static const char *event_name(uint32_t k) {
  static const char *n[] = {"alloc", "track", "realloc", "free", "retain", "release", "refset"};
  return k < sizeof n / sizeof n[0] ? n[k] : "unknown";
}

static const char *quality_name(uint32_t q) {
  static const char *n[] = {"none", "offset", "symtab", "dwarf"};
  return q < 4 ? n[q] : "none";
}

static void process(jw_t *w) {
  const ms_dump_t *d = w->m->dump;
  const ms_dump_process_t *p = &d->process;
  key(w, "process");
  open_(w, '{');
  kv_u(w, "pid", p->pid);
  kv_u(w, "ppid", p->ppid);
  kv_s(w, "exe", p->exe);
  /* cmdline as one string (for display) and argv as the exact list. */
  sbuf_t b = {0};
  for (uint32_t i = 0; i < p->argc; i++) {
    if (i) sb_put(&b, " ", 1);
    if (p->argv[i]) sb_put(&b, p->argv[i], strlen(p->argv[i]));
  }
  kv_s(w, "cmdline", b.p ? b.p : "");
  free(b.p);
  key(w, "argv");
  open_(w, '[');
  for (uint32_t i = 0; i < p->argc; i++) {
    item(w);
    ms_json_string(w->out, p->argv[i] ? p->argv[i] : "");
  }
  close_(w, ']');
  kv_u(w, "start_time_unix_ns", p->start_time_unix_ns);
  kv_u(w, "dump_time_ns", p->dump_time_ns);
  kv_s(w, "reason", reason_name(p->reason));
  kv_u(w, "sequence", p->sequence);
  close_(w, '}');

  const ms_dump_options_t *o = &d->options;
  key(w, "options");
  open_(w, '{');
  kv_u(w, "sample_rate", o->sample_rate);
  kv_u(w, "stack_depth", o->stack_depth);
  kv_u(w, "interval_ms", o->interval_ms);
  kv_s(w, "checks", o->checks);
  close_(w, '}');
}

static void summary(jw_t *w) {
  const ms_model_t *m = w->m;
  const ms_dump_summary_t *s = &m->dump->summary;
  key(w, "summary");
  open_(w, '{');
  kv_u(w, "total_allocations", s->total_allocations);
  kv_u(w, "total_frees", s->total_frees);
  kv_u(w, "total_bytes", s->total_bytes);
  kv_u(w, "live_bytes", s->live_bytes);
  kv_u(w, "live_allocations", s->live_allocations);
  kv_u(w, "peak_live_bytes", s->peak_live_bytes);
  kv_u(w, "peak_time_ns", s->peak_time_ns);
  kv_u(w, "sample_rate", m->dump->options.sample_rate);
  kv_u(w, "usable_bytes", s->usable_bytes);
  kv_u(w, "header_bytes", s->header_bytes);
  kv_u(w, "rss_bytes", s->rss_bytes);
  kv_u(w, "peak_rss_bytes", s->peak_rss_bytes);
  kv_u(w, "sampled_allocations", s->sampled_allocations);
  kv_u(w, "live_sampled_bytes", m->live_sampled_bytes);
  kv_u(w, "leaked_bytes", m->leaked_bytes);
  kv_u(w, "leaked_allocations", m->leaked_count);
  kv_u(w, "temporary_allocations", m->temp_count);
  kv_u(w, "temporary_bytes", m->temp_bytes);
  kv_u(w, "stacks", m->n_stacks);
  kv_u(w, "truncated_stacks", m->n_truncated);
  kv_u(w, "stack_depth", m->dump->options.stack_depth);
  /* docs/REPORTS.md "Peak" and "Overhead": the figures every output uses. */
  kv_u(w, "peak_site_bytes", m->peak_site_bytes);
  kv_u(w, "rounding_bytes", m->fragmentation.rounding_bytes);
  kv_u(w, "metadata_bytes", m->fragmentation.metadata_bytes);
  kv_u(w, "overhead_bytes", m->fragmentation.overhead_bytes);
  kv_u(w, "sites", m->n_sites);
  kv_u(w, "errors", m->n_errors);
  close_(w, '}');
}

static void sites(jw_t *w) {
  const ms_model_t *m = w->m;
  key(w, "sites");
  open_(w, '[');
  uint32_t n = m->n_sites < w->max_sites ? m->n_sites : w->max_sites;
  for (uint32_t i = 0; i < n; i++) {
    const ms_msite_t *s = &m->sites[i];
    item(w);
    open_(w, '{');
    kv_u(w, "id", i);
    kv_u(w, "bytes", s->live_bytes);
    kv_u(w, "count", s->live_count);
    kv_u(w, "peak_bytes", s->peak_bytes);
    kv_u(w, "peak_count", s->peak_count);
    kv_u(w, "total_bytes", s->total_bytes);
    kv_u(w, "total_count", s->total_count);
    kv_u(w, "temporary_bytes", s->temp_bytes);
    kv_u(w, "temporary_count", s->temp_count);
    kv_u(w, "realloc_count", s->realloc_count);
    key(w, "lifetimes");
    open_(w, '[');
    for (int k = 0; k < MS_DUMP_LIFETIME_BUCKETS; k++) {
      item(w);
      fprintf(w->out, "%llu", (unsigned long long)s->lifetime[k]);
    }
    close_(w, ']');
    kv_s(w, "tag", s->tag != MS_DUMP_NONE ? m->tags[s->tag].name : NULL);
    kv_s(w, "module", s->module < m->n_modules ? m->modules[s->module].path : NULL);
    location(w, "location", s->stack);
    stack(w, "stack", s->stack);
    close_(w, '}');
  }
  close_(w, ']');
}

static void leaks(jw_t *w) {
  const ms_model_t *m = w->m;
  key(w, "leaks");
  open_(w, '[');
  uint32_t n = m->n_leaks < w->max_sites ? m->n_leaks : w->max_sites;
  for (uint32_t i = 0; i < n; i++) {
    const ms_leak_t *l = &m->leaks[i];
    if (l->suppressed) break; /* sorted last; counted in leak_check.suppressed */
    item(w);
    open_(w, '{');
    kv_u(w, "bytes", l->bytes);
    kv_u(w, "count", l->count);
    kv_s(w, "kind", ms_leak_kind_name(l->kind));
    kv_u(w, "sampled", l->sampled);
    kv_u(w, "first_time_ns", l->first_time_ns);
    kv_idx(w, "site", l->site < w->max_sites ? l->site : MS_DUMP_NONE);
    location(w, "location", l->stack);
    stack(w, "stack", l->stack);
    close_(w, '}');
  }
  close_(w, ']');
}

/* What the leak check found: its status, bytes and blocks per class, suppressions. */
static void leak_check(jw_t *w) {
  const ms_model_t *m = w->m;
  static const char *status[] = {"off", "done", "sampled", "failed"};
  key(w, "leak_check");
  open_(w, '{');
  kv_s(w, "status", m->leak_check < 4 ? status[m->leak_check] : "failed");
  if (m->leak_check != MS_LEAK_CHECK_DONE)
    kv_s(w, "note",
         m->leak_check == MS_LEAK_CHECK_SAMPLED
             ? "sampling mode: unsampled blocks are not known, so no class can be computed; "
               "leaks are sampled live blocks (estimates), kind unknown"
             : m->leak_check == MS_LEAK_CHECK_FAILED ? "the leak check could not run; kind unknown"
                                                     : "no leak check (MEMSCOPE_LEAK_CHECK=1 or "
                                                       "memscope run --leak-check); kind unknown");
  for (uint32_t k = 0; k < MS_LEAK_KINDS; k++) {
    key(w, ms_leak_kind_name(k));
    fprintf(w->out, "{\"bytes\":%llu,\"blocks\":%llu}", (unsigned long long)m->kind_bytes[k],
            (unsigned long long)m->kind_count[k]);
  }
  key(w, "suppressed");
  fprintf(w->out, "{\"bytes\":%llu,\"blocks\":%llu}", (unsigned long long)m->suppressed_bytes,
          (unsigned long long)m->suppressed_count);
  key(w, "suppressions");
  open_(w, '[');
  for (uint32_t i = 0; i < m->n_suppressions; i++) {
    const ms_suppression_t *r = &m->suppressions[i];
    if (r->builtin && !r->hits) continue;
    item(w);
    open_(w, '{');
    kv_s(w, "pattern", r->pattern);
    key(w, "builtin");
    put(w, r->builtin ? "true" : "false");
    kv_u(w, "leaks", r->hits);
    kv_u(w, "bytes", r->bytes);
    kv_u(w, "blocks", r->count);
    close_(w, '}');
  }
  close_(w, ']');
  close_(w, '}');
}

static void thread_ref(jw_t *w, const char *k, uint32_t t) {
  key(w, k);
  if (t < w->m->n_threads) fprintf(w->out, "%llu", (unsigned long long)w->m->threads[t].tid);
  else put(w, "null");
}

static void variables(jw_t *w) {
  const ms_model_t *m = w->m;
  static const char *states[] = {"live", "freed", "leaked"};
  key(w, "variables");
  open_(w, '[');
  for (uint32_t i = 0; i < m->n_variables; i++) {
    const ms_mvariable_t *v = &m->variables[i];
    item(w);
    open_(w, '{');
    kv_s(w, "name", v->name);
    kv_s(w, "type", v->type);
    kv_x(w, "address", v->address);
    kv_u(w, "size", v->size);
    kv_s(w, "file", v->file);
    kv_u(w, "line", v->line);
    kv_u(w, "alloc_time_ns", v->alloc_time_ns);
    key(w, "free_time_ns");
    if (v->state == MS_VAR_FREED) fprintf(w->out, "%llu", (unsigned long long)v->free_time_ns);
    else put(w, "null");
    kv_u(w, "lifetime_ns", v->lifetime_ns);
    kv_s(w, "state", v->state < 3 ? states[v->state] : "live");
    thread_ref(w, "thread", v->thread);
    kv_i(w, "max_refcount", v->max_refcount);
    kv_i(w, "final_refcount", v->final_refcount);
    key(w, "refcount_unbalanced");
    put(w, v->refcount_unbalanced ? "true" : "false");
    kv_u(w, "reallocs", v->n_reallocs);
    for (int pass = 0; pass < 2; pass++) {
      /* pass 0: reference-count events only (INTERFACE.md's ref_events); pass 1: all. */
      key(w, pass ? "events" : "ref_events");
      open_(w, '[');
      for (uint32_t e = 0; e < v->n_events; e++) {
        const ms_dump_event_t *ev = &v->events[e];
        int is_ref = ev->kind == MS_EV_RETAIN || ev->kind == MS_EV_RELEASE || ev->kind == MS_EV_REFSET;
        if (!pass && !is_ref) continue;
        item(w);
        open_(w, '{');
        kv_u(w, "time_ns", ev->time_ns);
        kv_s(w, "kind", event_name(ev->kind));
        if (is_ref) kv_i(w, "count", ev->count);
        kv_x(w, "address", ev->address);
        kv_u(w, "size", ev->size);
        thread_ref(w, "thread", ev->thread);
        close_(w, '}');
      }
      close_(w, ']');
    }
    stack(w, "alloc_stack", v->alloc_stack);
    stack(w, "free_stack", v->free_stack);
    close_(w, '}');
  }
  close_(w, ']');
}

static void errors(jw_t *w) {
  const ms_model_t *m = w->m;
  key(w, "errors");
  open_(w, '[');
  for (uint32_t i = 0; i < m->n_errors; i++) {
    const ms_merror_t *e = &m->errors[i];
    item(w);
    open_(w, '{');
    kv_s(w, "kind", e->kind_name);
    kv_x(w, "address", e->address);
    kv_u(w, "size", e->size);
    kv_u(w, "time_ns", e->time_ns);
    thread_ref(w, "thread", e->thread);
    kv_s(w, "detail", e->detail);
    location(w, "location", e->stack);
    stack(w, "stack", e->stack);
    stack(w, "alloc_stack", e->alloc_stack);
    stack(w, "free_stack", e->free_stack);
    close_(w, '}');
  }
  close_(w, ']');
}

/* Each point's top sites (dump format 3, "timeline_sites") as {site, bytes} with the JSON
 * site id, and other_bytes = live_bytes minus what they list, so a point's parts add up to its
 * live bytes. A site cut by --top (or with no stack) is not listed: it counts as other. Rows
 * are grouped by point with ms_point_sites_group (point_sites.c). */
static void timeline(jw_t *w) {
  const ms_dump_t *d = w->m->dump;
  const ms_model_t *m = w->m;
  int with_sites = d->format_version >= 3;
  uint32_t *site_of = NULL, *start = NULL, *rows = NULL;
  if (with_sites && d->n_timeline) {
    site_of = malloc(((size_t)m->n_stacks + 1) * sizeof *site_of);
    if (!site_of || ms_point_sites_group(d, &start, &rows) != 0) {
      w->out_of_memory = 1;
      with_sites = 0;
    } else {
      for (uint32_t i = 0; i < m->n_stacks; i++) site_of[i] = MS_DUMP_NONE;
      for (uint32_t i = m->n_sites; i-- > 0;) /* the first site of a stack wins */
        if (m->sites[i].stack < m->n_stacks) site_of[m->sites[i].stack] = i;
    }
  }
  key(w, "timeline");
  open_(w, '[');
  for (uint32_t i = 0; i < d->n_timeline; i++) {
    const ms_dump_point_t *p = &d->timeline[i];
    item(w);
    fprintf(w->out, "{\"time_ns\":%llu,\"live_bytes\":%llu,\"rss_bytes\":%llu",
            (unsigned long long)p->time_ns, (unsigned long long)p->live_bytes,
            (unsigned long long)p->rss_bytes);
    if (with_sites) {
      uint64_t listed = 0;
      fputs(",\"sites\":[", w->out);
      int first = 1;
      for (uint32_t k = start[i]; k < start[i + 1]; k++) {
        const ms_dump_point_site_t *t = &d->timeline_sites[rows[k]];
        uint32_t site = t->stack < m->n_stacks ? site_of[t->stack] : MS_DUMP_NONE;
        if (site == MS_DUMP_NONE || site >= w->max_sites || !t->bytes) continue;
        fprintf(w->out, "%s{\"site\":%u,\"bytes\":%llu}", first ? "" : ",", site,
                (unsigned long long)t->bytes);
        first = 0;
        listed += t->bytes;
      }
      fprintf(w->out, "],\"other_bytes\":%llu",
              (unsigned long long)(p->live_bytes > listed ? p->live_bytes - listed : 0));
    }
    fputc('}', w->out);
  }
  close_(w, ']');
  free(site_of);
  free(start);
  free(rows);
}

static void classes(jw_t *w) {
  const ms_model_t *m = w->m;
  key(w, "size_classes");
  open_(w, '[');
  for (uint32_t i = 0; i < m->n_classes; i++) {
    const ms_mclass_t *c = &m->classes[i];
    item(w);
    open_(w, '{');
    kv_u(w, "size", c->size);
    kv_u(w, "count", c->live_count);
    kv_u(w, "allocations", c->allocations);
    kv_u(w, "frees", c->frees);
    kv_u(w, "requested_bytes", c->requested_bytes);
    kv_u(w, "usable_bytes", c->usable_bytes);
    kv_u(w, "waste_bytes", c->waste_bytes);
    kv_d(w, "waste_ratio", c->waste_ratio);
    kv_u(w, "total_requested", c->total_requested);
    close_(w, '}');
  }
  close_(w, ']');

  const ms_fragmentation_t *f = &m->fragmentation;
  key(w, "fragmentation");
  open_(w, '{');
  kv_u(w, "requested_bytes", f->requested_bytes);
  kv_u(w, "usable_bytes", f->usable_bytes);
  kv_u(w, "header_bytes", f->header_bytes);
  kv_u(w, "class_waste_bytes", f->class_waste_bytes);
  kv_u(w, "rounding_bytes", f->rounding_bytes);
  kv_u(w, "metadata_bytes", f->metadata_bytes);
  kv_u(w, "overhead_bytes", f->overhead_bytes);
  kv_u(w, "rss_bytes", f->rss_bytes);
  kv_u(w, "peak_rss_bytes", f->peak_rss_bytes);
  kv_u(w, "rss_overhead_bytes", f->rss_overhead_bytes);
  kv_d(w, "internal_ratio", f->internal_ratio);
  kv_d(w, "rss_ratio", f->rss_ratio);
  key(w, "worst_class_size");
  if (f->worst_class < m->n_classes) fprintf(w->out, "%llu", (unsigned long long)m->classes[f->worst_class].size);
  else put(w, "null");
  close_(w, '}');
}

static void threads(jw_t *w) {
  const ms_model_t *m = w->m;
  key(w, "threads");
  open_(w, '[');
  for (uint32_t i = 0; i < m->n_threads; i++) {
    const ms_mthread_t *t = &m->threads[i];
    item(w);
    open_(w, '{');
    kv_u(w, "tid", t->tid);
    kv_s(w, "name", t->name);
    key(w, "alive");
    put(w, t->alive ? "true" : "false");
    kv_u(w, "allocations", t->allocations);
    kv_u(w, "frees", t->frees);
    kv_u(w, "allocated_bytes", t->allocated_bytes);
    kv_u(w, "freed_bytes", t->freed_bytes);
    kv_u(w, "live_bytes", t->live_bytes);
    kv_u(w, "live_count", t->live_count);
    key(w, "top_location");
    if (t->top_stack != MS_DUMP_NONE) {
      char buf[1024];
      ms_stack_label(m, t->top_stack, buf, sizeof buf);
      ms_json_string(w->out, buf);
    } else {
      put(w, "null");
    }
    kv_u(w, "top_location_bytes", t->top_stack_bytes);
    close_(w, '}');
  }
  close_(w, ']');
}

/* The per-module and per-tag sums over their sites (model.c adds them up the same way). */
static void site_totals(jw_t *w, uint32_t sites, uint64_t live_bytes, uint64_t live_count,
                        uint64_t total_bytes, uint64_t total_count) {
  kv_u(w, "sites", sites);
  kv_u(w, "live_bytes", live_bytes);
  kv_u(w, "live_count", live_count);
  kv_u(w, "total_bytes", total_bytes);
  kv_u(w, "total_count", total_count);
}

static void modules(jw_t *w) {
  const ms_model_t *m = w->m;
  key(w, "modules");
  open_(w, '[');
  for (uint32_t i = 0; i < m->n_modules; i++) {
    const ms_mmodule_t *mm = &m->modules[i];
    item(w);
    open_(w, '{');
    kv_s(w, "path", mm->path);
    kv_s(w, "name", mm->name);
    kv_x(w, "base", mm->base);
    kv_x(w, "start", mm->start);
    kv_x(w, "end", mm->end);
    kv_s(w, "build_id", mm->build_id);
    kv_s(w, "symbols", quality_name(mm->symbols));
    key(w, "build_id_mismatch");
    put(w, mm->build_id_mismatch ? "true" : "false");
    key(w, "internal");
    put(w, mm->internal ? "true" : "false");
    site_totals(w, mm->n_sites, mm->live_bytes, mm->live_count, mm->total_bytes, mm->total_count);
    close_(w, '}');
  }
  close_(w, ']');

  key(w, "crossings");
  open_(w, '[');
  for (uint32_t i = 0; i < m->n_crossings; i++) {
    const ms_mcrossing_t *c = &m->crossings[i];
    item(w);
    open_(w, '{');
    kv_s(w, "alloc_module", m->modules[c->alloc_module].path);
    kv_s(w, "free_module", m->modules[c->free_module].path);
    kv_u(w, "count", c->count);
    kv_u(w, "bytes", c->bytes);
    close_(w, '}');
  }
  close_(w, ']');
}

static void tags(jw_t *w) {
  const ms_model_t *m = w->m;
  key(w, "tags");
  open_(w, '[');
  for (uint32_t i = 0; i < m->n_tags; i++) {
    const ms_mtag_t *t = &m->tags[i];
    item(w);
    open_(w, '{');
    kv_s(w, "name", t->name);
    site_totals(w, t->n_sites, t->live_bytes, t->live_count, t->total_bytes, t->total_count);
    close_(w, '}');
  }
  close_(w, ']');
}

static void findings(jw_t *w) {
  const ms_model_t *m = w->m;
  static const char *sev[] = {"info", "warning", "error"};
  key(w, "findings");
  open_(w, '[');
  for (uint32_t i = 0; i < m->n_findings; i++) {
    const ms_finding_t *f = &m->findings[i];
    item(w);
    open_(w, '{');
    kv_s(w, "kind", f->kind_name);
    kv_s(w, "severity", f->severity < 3 ? sev[f->severity] : "info");
    kv_idx(w, "site", f->site < w->max_sites ? f->site : MS_DUMP_NONE);
    kv_s(w, "location", f->location);
    kv_u(w, "bytes", f->bytes);
    kv_u(w, "count", f->count);
    kv_s(w, "message", f->message);
    stack(w, "stack", f->stack);
    close_(w, '}');
  }
  close_(w, ']');
}

int ms_json_write_opts(FILE *out, const ms_model_t *m, const ms_json_options_t *o) {
  jw_t w = {0};
  w.out = out;
  w.m = m;
  w.max_sites = o && o->max_sites ? o->max_sites : UINT32_MAX;
  w.compact = o && o->compact;
  w.frame_json = calloc(m->n_frames ? m->n_frames : 1, sizeof(char *));
  if (!w.frame_json) return -1;
  if (w.compact) {
    uint32_t n = m->n_stacks ? m->n_stacks : 1;
    w.n_slots = 16;
    while (w.n_slots <= 2 * (uint64_t)n) w.n_slots *= 2;
    w.stack_id = malloc(n * sizeof *w.stack_id);
    w.stack_of = malloc(n * sizeof *w.stack_of);
    w.slots = calloc(w.n_slots, sizeof *w.slots);
    if (!w.stack_id || !w.stack_of || !w.slots) {
      free(w.stack_id);
      free(w.stack_of);
      free(w.slots);
      free(w.frame_json);
      return -1;
    }
    for (uint32_t i = 0; i < n; i++) w.stack_id[i] = MS_DUMP_NONE;
  }
  open_(&w, '{');
  kv_u(&w, "format_version", m->dump->format_version);
  kv_s(&w, "generator", "memscope " /* version */ "0.1.0");
  if (w.compact) {
    key(&w, "compact");
    put(&w, "true");
  }
  process(&w);
  summary(&w);
  sites(&w);
  leaks(&w);
  if (m->is_exit || m->leak_check) leak_check(&w);
  variables(&w);
  errors(&w);
  timeline(&w);
  classes(&w);
  threads(&w);
  modules(&w);
  tags(&w);
  findings(&w);
  /* Last, once every reference is known: only the stacks the document uses are listed. */
  if (w.compact) stack_tables(&w);
  close_(&w, '}');
  fputc('\n', out);
  for (uint32_t i = 0; i < m->n_frames; i++) free(w.frame_json[i]);
  free(w.frame_json);
  free(w.stack_id);
  free(w.stack_of);
  free(w.slots);
  return ferror(out) || w.out_of_memory ? -1 : 0;
}

int ms_json_write_limited(FILE *out, const ms_model_t *m, uint32_t max_sites) {
  ms_json_options_t o = {max_sites, 0};
  return ms_json_write_opts(out, m, &o);
}

int ms_json_write(FILE *out, const ms_model_t *m) { return ms_json_write_limited(out, m, 0); }
