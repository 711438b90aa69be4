/* findings.c — the usage-pattern findings of a model: memory errors, the biggest leaks,
 * temporary, realloc-grown, tiny and only-growing sites, a wasteful size class, unbalanced
 * reference counts. Each finding names a place and a change worth making; the thresholds below
 * keep small sites out. Findings only read the views model.c built (sites, leaks, classes,
 * variables, errors), so they run last and cannot change them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memscope.h"
#include "model.h"
#include "model_internal.h"

typedef struct finding_list {
  ms_finding_t *v;
  uint32_t n, cap;
} finding_list_t;

static ms_finding_t *add_finding(finding_list_t *fl, uint32_t kind, uint32_t sev) {
  static const char *names[] = {"temporary", "realloc_growth", "tiny", "only_grows", "leak",
                                "fragmentation", "refcount", "memory_error"};
  if (ms_grow(&fl->v, fl->n, &fl->cap, sizeof *fl->v, 32) != 0) return NULL;
  ms_finding_t *f = &fl->v[fl->n++];
  memset(f, 0, sizeof *f);
  f->kind = kind;
  f->kind_name = names[kind];
  f->severity = sev;
  f->site = MS_DUMP_NONE;
  f->stack = MS_DUMP_NONE;
  return f;
}

static const char *site_location(ms_model_t *m, uint32_t stack) {
  char buf[768];
  ms_stack_label(m, stack, buf, sizeof buf);
  return _ms_model_printf(m, "%s", buf);
}

/* Thresholds: a finding must name something worth changing, not every small site. */
#define MS_FIND_MAX_PER_KIND 5
#define MS_TEMP_MIN_COUNT 100        /* temporary allocations from one site */
#define MS_REALLOC_MIN 16            /* reallocs of blocks from one site */
#define MS_TINY_MAX_AVG 32.0         /* bytes */
#define MS_TINY_MIN_COUNT 1000
#define MS_GROW_MIN_COUNT 100
#define MS_GROW_MIN_BYTES (1u << 20)
#define MS_FRAG_MIN_WASTE (1u << 20)

static int site_finding(ms_model_t *m, finding_list_t *fl, uint32_t kind, uint32_t sev,
                        uint32_t site, uint64_t bytes, uint64_t count, const char *fmt, ...) {
  ms_finding_t *f = add_finding(fl, kind, sev);
  if (!f) return MS_ENOMEM;
  const ms_msite_t *s = &m->sites[site];
  f->site = site;
  f->stack = s->stack;
  f->bytes = bytes;
  f->count = count;
  f->location = site_location(m, s->stack);
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  f->message = _ms_model_printf(m, "%s", msg);
  return 0;
}

static int cmp_finding(const void *a, const void *b) {
  const ms_finding_t *x = a, *y = b;
  if (x->severity != y->severity) return x->severity < y->severity ? 1 : -1;
  if (x->kind != y->kind) return x->kind == MS_FIND_MEMORY_ERROR ? -1 : y->kind == MS_FIND_MEMORY_ERROR ? 1 :
                                   x->kind == MS_FIND_LEAK ? -1 : y->kind == MS_FIND_LEAK ? 1 : 0;
  if (x->bytes != y->bytes) return x->bytes < y->bytes ? 1 : -1;
  return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

int _ms_model_build_findings(ms_model_t *m) {
  finding_list_t fl = {0};
  char b1[32], b2[32];
  int rc = 0;
  uint32_t n;

  /* Memory errors first: they are bugs, not tuning. One per kind. */
  for (uint32_t kind = 0; kind <= MS_ERR_BUFFER_UNDERFLOW + 1 && rc == 0; kind++) {
    uint32_t cnt = 0, first = MS_DUMP_NONE;
    for (uint32_t i = 0; i < m->n_errors; i++)
      if (m->errors[i].kind == kind || (kind > MS_ERR_BUFFER_UNDERFLOW && m->errors[i].kind > MS_ERR_BUFFER_UNDERFLOW)) {
        if (first == MS_DUMP_NONE) first = i;
        cnt++;
      }
    if (!cnt) continue;
    ms_finding_t *f = add_finding(&fl, MS_FIND_MEMORY_ERROR, MS_SEV_ERROR);
    if (!f) return MS_ENOMEM;
    f->stack = m->errors[first].stack;
    f->count = cnt;
    f->location = site_location(m, f->stack);
    f->message = _ms_model_printf(m, "%u %s error%s detected, first at %s", cnt,
                              m->errors[first].kind_name, cnt == 1 ? "" : "s", f->location);
  }

  n = 0;
  for (uint32_t i = 0; i < m->n_leaks && n < MS_FIND_MAX_PER_KIND && rc == 0; i++) {
    const ms_leak_t *l = &m->leaks[i];
    /* still reachable is not a finding (a global holds it on purpose); suppressed ones asked
     * not to be */
    if (l->suppressed || l->kind == MS_LEAK_REACHABLE) continue;
    n++;
    ms_finding_t *f = add_finding(&fl, MS_FIND_LEAK, MS_SEV_ERROR);
    if (!f) return MS_ENOMEM;
    f->site = l->site;
    f->stack = l->stack;
    f->bytes = l->bytes;
    f->count = l->count;
    f->location = site_location(m, l->stack);
    f->message = _ms_model_printf(m, "%s in %llu block%s allocated at %s %s never freed",
                              ms_fmt_bytes(l->bytes, b1, sizeof b1), (unsigned long long)l->count,
                              l->count == 1 ? "" : "s", f->location, l->count == 1 ? "was" : "were");
  }

  n = 0;
  for (uint32_t k = 0; k < m->n_sites && n < MS_FIND_MAX_PER_KIND && rc == 0; k++) {
    const ms_msite_t *s = &m->sites[m->by_temp[k]];
    if (s->temp_count < MS_TEMP_MIN_COUNT) break;
    if (s->temp_count * 2 < s->total_count) continue;
    n++;
    rc = site_finding(m, &fl, MS_FIND_TEMPORARY, MS_SEV_WARNING, m->by_temp[k], s->temp_bytes,
                      s->temp_count,
                      "%llu of %llu allocations at %s are freed almost at once (temporary): "
                      "reuse one buffer or use the stack",
                      (unsigned long long)s->temp_count, (unsigned long long)s->total_count,
                      site_location(m, s->stack));
  }

  n = 0;
  for (uint32_t i = 0; i < m->n_sites && rc == 0; i++) {
    const ms_msite_t *s = &m->sites[i];
    if (s->realloc_count < MS_REALLOC_MIN || n >= MS_FIND_MAX_PER_KIND) continue;
    n++;
    rc = site_finding(m, &fl, MS_FIND_REALLOC_GROWTH, MS_SEV_INFO, i, s->total_bytes,
                      s->realloc_count,
                      "blocks from %s were grown by realloc %llu times: reserve the final "
                      "capacity up front or grow geometrically",
                      site_location(m, s->stack), (unsigned long long)s->realloc_count);
  }

  n = 0;
  for (uint32_t k = 0; k < m->n_sites && n < MS_FIND_MAX_PER_KIND && rc == 0; k++) {
    uint32_t i = m->by_count[k];
    const ms_msite_t *s = &m->sites[i];
    if (s->total_count < MS_TINY_MIN_COUNT) break;
    if (s->avg_size > MS_TINY_MAX_AVG) continue;
    n++;
    rc = site_finding(m, &fl, MS_FIND_TINY, MS_SEV_INFO, i, s->total_bytes, s->total_count,
                      "%llu tiny allocations (%.1f bytes on average) at %s: allocate them in "
                      "batches or from a pool/arena",
                      (unsigned long long)s->total_count, s->avg_size, site_location(m, s->stack));
  }

  n = 0;
  for (uint32_t i = 0; i < m->n_sites && n < MS_FIND_MAX_PER_KIND && rc == 0; i++) {
    const ms_msite_t *s = &m->sites[i];
    if (s->live_bytes < MS_GROW_MIN_BYTES) break;   /* sites are sorted by live bytes */
    if (s->total_count < MS_GROW_MIN_COUNT || s->live_count < s->total_count) continue;
    n++;
    rc = site_finding(m, &fl, MS_FIND_ONLY_GROWS, MS_SEV_WARNING, i, s->live_bytes, s->live_count,
                      "%s has never freed any of its %llu allocations (%s live): if it is a "
                      "cache or a list, bound it or release entries",
                      site_location(m, s->stack), (unsigned long long)s->live_count,
                      ms_fmt_bytes(s->live_bytes, b1, sizeof b1));
  }

  const ms_fragmentation_t *fr = &m->fragmentation;
  if (rc == 0 && fr->worst_class != MS_DUMP_NONE) {
    const ms_mclass_t *c = &m->classes[fr->worst_class];
    if (c->waste_bytes >= MS_FRAG_MIN_WASTE && c->waste_ratio >= 0.25) {
      ms_finding_t *f = add_finding(&fl, MS_FIND_FRAGMENTATION, MS_SEV_INFO);
      if (!f) return MS_ENOMEM;
      f->bytes = c->waste_bytes;
      f->count = c->live_count;
      f->location = _ms_model_printf(m, "size class %llu", (unsigned long long)c->size);
      f->message = _ms_model_printf(m,
                                "size class %llu wastes %s (%.0f%% of its usable bytes) on "
                                "rounding: requests just above a class boundary; round sizes down "
                                "or pack small objects",
                                (unsigned long long)c->size, ms_fmt_bytes(c->waste_bytes, b2, sizeof b2),
                                c->waste_ratio * 100.0);
    }
  }

  for (uint32_t i = 0; i < m->n_variables && rc == 0; i++) {
    const ms_mvariable_t *v = &m->variables[i];
    if (!v->refcount_unbalanced) continue;
    ms_finding_t *f = add_finding(&fl, MS_FIND_REFCOUNT, MS_SEV_WARNING);
    if (!f) return MS_ENOMEM;
    f->stack = v->alloc_stack;
    f->bytes = v->size;
    f->count = (uint64_t)(v->final_refcount < 0 ? -v->final_refcount : v->final_refcount);
    f->location = _ms_model_printf(m, "%s (%s:%u)", v->name, v->file, v->line);
    f->message = _ms_model_printf(m,
                              "reference count of %s (%s:%u) is unbalanced: final count %lld%s",
                              v->name, v->file, v->line, (long long)v->final_refcount,
                              v->state == MS_VAR_FREED ? " when it was freed" : "");
  }
  if (rc != 0) {
    free(fl.v);
    return rc;
  }
  if (fl.n) qsort(fl.v, fl.n, sizeof *fl.v, cmp_finding);   /* qsort(NULL, 0) is UB */
  m->findings = fl.v;
  m->n_findings = fl.n;
  return 0;
}
