/* model.c — build the converter's model from a dump (see model.h).
 *
 * Order of work: symbolise every distinct address once (the expensive part, cached per
 * address here and per module in the symboliser), map stacks onto those frames hiding
 * memscope's and mimalloc's frames at the top, give every stack a symbolic identity, then
 * derive the views (sites, leaks, threads, modules, tags, variables, fragmentation); the
 * findings (findings.c) come last and only read the views. Everything is linear or n log n in
 * the dump's size: a million live allocations and 100k stacks must convert in seconds.
 *
 * The dump is untrusted but already validated by the reader; indexes are still checked here
 * (cheaply) so that a model can also be built from a hand-made ms_dump_t in tests.
 */
#include "model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memscope.h"
#include "model_internal.h"
#include "symbolize.h"

/* ------------------------------------------------------------------ private state */

typedef struct arena_chunk {
  struct arena_chunk *next;
  size_t used, cap;
  char data[];
} arena_chunk_t;

typedef struct model_priv {
  ms_symbolizer_t *sym;
  arena_chunk_t *arena;
  uint32_t *frame_pool;   /* all stacks' frame indexes */
} model_priv_t;

static void *arena_alloc(model_priv_t *p, size_t n) {
  n = (n + 7) & ~(size_t)7;
  if (!p->arena || p->arena->cap - p->arena->used < n) {
    size_t cap = n > 65536 ? n : 65536;
    arena_chunk_t *c = malloc(sizeof *c + cap);
    if (!c) return NULL;
    c->next = p->arena;
    c->used = 0;
    c->cap = cap;
    p->arena = c;
  }
  void *r = p->arena->data + p->arena->used;
  p->arena->used += n;
  return r;
}

static const char *arena_vprintf(model_priv_t *p, const char *fmt, va_list ap) {
  char buf[1024];
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  if (n < 0) return "";
  size_t len = (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1;
  char *s = arena_alloc(p, len + 1);
  if (!s) return "";
  memcpy(s, buf, len);
  s[len] = 0;
  return s;
}

const char *_ms_model_printf(ms_model_t *m, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const char *r = arena_vprintf(m->priv_, fmt, ap);
  va_end(ap);
  return r;
}

/* ------------------------------------------------------------------ small helpers */

/* Copy every column of a dump record into the same-named member of its model struct
 * (sites, threads, errors, classes, crossings), from the record's table in dump_schema.h:
 * a column added there reaches the model without another line here (the model struct needs
 * the member; the compiler says so). Expects `in` (the dump row), `out` (the model row) and
 * `m`; an index is kept only when the model's table of that name has it, else NONE (the
 * reader refuses such dumps already; a hand-built one in a test may have them). */
#define COPY_PLAIN_(name) out->name = in->name;
#define COPY_U64(name, aux) COPY_PLAIN_(name)
#define COPY_U32(name, aux) COPY_PLAIN_(name)
#define COPY_I64(name, aux) COPY_PLAIN_(name)
#define COPY_BOOL(name, aux) COPY_PLAIN_(name)
#define COPY_STR(name, aux) COPY_PLAIN_(name)
#define COPY_ENUM(name, aux) COPY_PLAIN_(name)
#define COPY_IDX(name, aux) out->name = in->name < m->n_##aux ? in->name : MS_DUMP_NONE;
#define COPY_U64S(name, aux) memcpy(out->name, in->name, sizeof out->name);
#define COPY_OPT_U64(name, aux) out->name = in->aux ? in->name : 0;
#define COPY_ROWS(name, aux) out->n_##name = in->n_##name; out->name = in->name;
#define COPY_COLUMN(since, type, name, aux, doc) COPY_##type(name, aux)

/* The model's table `name`, numbered like the dump's: n_name set, name calloc'd (one element
 * at least, so that NULL means out of memory even for an empty dump). Non-zero on success. */
#define MODEL_TABLE(m, d, name) \
  ((m)->n_##name = (d)->n_##name, \
   ((m)->name = calloc((d)->n_##name ? (d)->n_##name : 1, sizeof *(m)->name)) != NULL)

static uint64_t mix64(uint64_t x) {  /* splitmix64 finaliser */
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

static uint64_t hash_str(uint64_t h, const char *s) {
  h ^= 0xcbf29ce484222325ULL;
  for (; s && *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
  return mix64(h);
}

static const char *base_name(const char *path) {
  if (!path) return NULL;
  const char *b = strrchr(path, '/');
  return b ? b + 1 : path;
}

static uint64_t frame_key(const ms_frame_t *f) {
  uint64_t h;
  if (f->function) {
    h = hash_str(1, f->function);
    if (f->file) h = hash_str(h, base_name(f->file));
    h = mix64(h + f->line);
  } else if (f->module != MS_DUMP_NONE) {
    h = hash_str(2, base_name(f->module_path));
    h = mix64(h ^ f->offset);
  } else {
    h = mix64(3 ^ mix64(f->address));
  }
  return h ? h : 1;
}

/* Modules whose frames are allocation plumbing rather than the code to fix: the C library's
 * strdup/asprintf/fopen, the C++ runtime's operator new and containers, the loader. */
static int is_plumbing_module(const char *path) {
  const char *b = base_name(path);
  if (!b) return 0;
  return strncmp(b, "libc.so", 7) == 0 || strncmp(b, "libc-", 5) == 0 ||
         strncmp(b, "libstdc++", 9) == 0 || strncmp(b, "libgcc_s", 8) == 0 ||
         strncmp(b, "ld-linux", 8) == 0;
}

int ms_grow(void *pv, uint32_t n, uint32_t *cap, size_t elem, uint32_t first) {
  if (n < *cap) return 0;
  uint32_t nc = *cap ? *cap * 2 : first;
  if (nc <= *cap) return -1;  /* the capacity would wrap */
  void *old, *nv;
  memcpy(&old, pv, sizeof old);  /* pv is a T **: read and write it as bytes, whatever T is */
  nv = realloc(old, (size_t)nc * elem);
  if (!nv) return -1;
  memcpy(pv, &nv, sizeof nv);
  *cap = nc;
  return 0;
}

const char *ms_fmt_bytes(uint64_t b, char *buf, size_t len) {
  static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = (double)b;
  int u = 0;
  while (v >= 1024.0 && u < 5) {
    v /= 1024.0;
    u++;
  }
  if (u == 0) snprintf(buf, len, "%llu B", (unsigned long long)b);
  else snprintf(buf, len, "%.1f %s", v, units[u]);
  return buf;
}

int ms_frame_label(const ms_frame_t *f, char *buf, size_t len) {
  if (!f) return snprintf(buf, len, "(none)");
  if (f->function && f->file)
    return snprintf(buf, len, "%s (%s:%u)", f->function, f->file, f->line);
  if (f->function && f->module_path)
    return snprintf(buf, len, "%s (%s)", f->function, base_name(f->module_path));
  if (f->function) return snprintf(buf, len, "%s", f->function);
  if (f->module != MS_DUMP_NONE)
    return snprintf(buf, len, "%s+0x%llx", f->module_path ? base_name(f->module_path) : "?",
                    (unsigned long long)f->offset);
  return snprintf(buf, len, "0x%llx", (unsigned long long)f->address);
}

const ms_frame_t *ms_model_frame(const ms_model_t *m, uint32_t stack, uint32_t i) {
  if (stack >= m->n_stacks || i >= m->stacks[stack].depth) return NULL;
  return &m->frames[m->stacks[stack].frames[i]];
}

/* C++ standard library code compiled into the user's own binary (templates and inline code:
 * std::vector growth, std::string construction, the allocators) is recognised by its name, in
 * namespace std or __gnu_cxx, possibly after a return type ("void std::vector<...>::
 * _M_realloc_insert<...>(...)"), and by its file, a standard library header
 * (/usr/include/c++/12/bits/..., libc++'s .../include/c++/v1/...). */
static int is_std_name(const char *n) {
  if (!n) return 0;
  const char *sp = strchr(n, ' '), *paren = strchr(n, '('), *lt = strchr(n, '<');
  if (sp && (!paren || sp < paren) && (!lt || sp < lt)) n = sp + 1;   /* skip a return type */
  while (*n == '*' || *n == '&') n++;
  return strncmp(n, "std::", 5) == 0 || strncmp(n, "__gnu_cxx::", 11) == 0 ||
         strncmp(n, "__cxxabiv1::", 12) == 0;
}

static int is_std_file(const char *file) { return file && strstr(file, "/include/c++/") != NULL; }

/* Index of the first shown frame that is user code, i.e. neither allocation plumbing (libc,
 * the C++ runtime, the loader) nor a C++ standard library function instantiated in the
 * program (memscope's own frames are already hidden); 0 if all are, depth (== none) if the
 * stack is empty. Location fields name this frame; stacks keep every frame. */
static uint32_t first_user_frame(const ms_model_t *m, uint32_t stack) {
  if (stack >= m->n_stacks) return 0;
  const ms_mstack_t *st = &m->stacks[stack];
  for (uint32_t i = 0; i < st->depth; i++) {
    const ms_frame_t *f = &m->frames[st->frames[i]];
    if (is_plumbing_module(f->module_path) || f->internal || is_std_name(f->function) ||
        (!f->function && is_std_file(f->file)))
      continue;
    return i;
  }
  return 0;
}

/* The user's function calling into inlined standard library code: a frame whose function is
 * the user's but whose line lies in a std header (push_back inlined into it) is named by the
 * innermost level of its inline chain that is neither, i.e. the user's own line. */
static int user_inline_label(const ms_model_t *m, const ms_frame_t *f, char *buf, size_t len) {
  const model_priv_t *p = m->priv_;
  if (!p || !p->sym || !is_std_file(f->file)) return -1;
  ms_frame_t chain[MS_MAX_INLINE + 1];
  uint32_t n = ms_symbolize_all(p->sym, f->address, chain, MS_MAX_INLINE + 1);
  for (uint32_t k = 0; n > 1 && k < n; k++)   /* n == 1: nothing inlined there */
    if (chain[k].function && !is_std_name(chain[k].function) && chain[k].file &&
        !is_std_file(chain[k].file) && chain[k].line)
      return snprintf(buf, len, "%s (%s:%u)", chain[k].function, chain[k].file, chain[k].line);
  return -1;
}

int ms_stack_label(const ms_model_t *m, uint32_t stack, char *buf, size_t len) {
  if (stack >= m->n_stacks || m->stacks[stack].depth == 0) return snprintf(buf, len, "(no stack)");
  const ms_frame_t *f = ms_model_frame(m, stack, first_user_frame(m, stack));
  int r = user_inline_label(m, f, buf, len);
  return r >= 0 ? r : ms_frame_label(f, buf, len);
}

/* ------------------------------------------------------------------ address table */

typedef struct addr_map {
  uint64_t *keys;
  uint32_t *vals;
  size_t mask;
} addr_map_t;

static int addr_map_init(addr_map_t *h, size_t expect) {
  size_t cap = 64;
  while (cap < expect * 2) cap <<= 1;
  h->keys = malloc(cap * sizeof *h->keys);
  h->vals = malloc(cap * sizeof *h->vals);
  h->mask = cap - 1;
  if (!h->keys || !h->vals) return -1;
  memset(h->vals, 0xff, cap * sizeof *h->vals);  /* UINT32_MAX = empty */
  return 0;
}

/* Returns the slot for key; *found says whether it was present. */
static size_t addr_map_slot(const addr_map_t *h, uint64_t key, int *found) {
  size_t i = mix64(key) & h->mask;
  while (h->vals[i] != UINT32_MAX) {
    if (h->keys[i] == key) {
      *found = 1;
      return i;
    }
    i = (i + 1) & h->mask;
  }
  *found = 0;
  return i;
}

static void addr_map_free(addr_map_t *h) {
  free(h->keys);
  free(h->vals);
}

/* ------------------------------------------------------------------ build steps */

static void progress(const ms_model_options_t *o, const char *stage, uint64_t done, uint64_t total) {
  if (o && o->progress) o->progress(o->progress_ctx, stage, done, total);
}

static int build_frames_and_stacks(ms_model_t *m, const ms_model_options_t *opt) {
  const ms_dump_t *d = m->dump;
  model_priv_t *p = m->priv_;
  size_t total = 0;
  for (uint32_t s = 0; s < d->n_stacks; s++) total += d->stacks[s].depth;

  addr_map_t map;
  if (addr_map_init(&map, total + 1) != 0) {
    addr_map_free(&map);
    return MS_ENOMEM;
  }
  /* An address gives one frame, or several when the compiler inlined functions there
   * (ms_symbolize_all): those are kept next to each other, innermost first, and span[first]
   * says how many. raw[pos] is the first frame of the address at each raw stack position. */
  uint32_t *raw = malloc((total ? total : 1) * sizeof *raw);   /* frame per raw position */
  int have_stacks = MODEL_TABLE(m, d, stacks);
  uint32_t cap = 1024;
  m->frames = malloc(cap * sizeof *m->frames);
  uint8_t *span = malloc(cap);
  if (!raw || !have_stacks || !m->frames || !span) goto oom;

  /* Pass 1: distinct addresses, symbolised once each. */
  size_t pos = 0, expanded = 0;
  uint64_t every = total / 100 + 1;
  for (uint32_t s = 0; s < d->n_stacks; s++) {
    const ms_dump_stack_t *ds = &d->stacks[s];
    for (uint32_t i = 0; i < ds->depth; i++, pos++) {
      uint64_t a = ds->frames[i];
      int found;
      size_t slot = addr_map_slot(&map, a, &found);
      if (!found) {
        while (m->n_frames + MS_MAX_INLINE + 1 > cap) {
          cap *= 2;
          ms_frame_t *nf = realloc(m->frames, cap * sizeof *nf);
          if (!nf) goto oom;
          m->frames = nf;
          uint8_t *ns = realloc(span, cap);
          if (!ns) goto oom;
          span = ns;
        }
        uint32_t first = m->n_frames;
        uint32_t n = ms_symbolize_all(p->sym, a, &m->frames[first], MS_MAX_INLINE + 1);
        for (uint32_t k = 0; k < n; k++) m->frames[first + k].key_hash = frame_key(&m->frames[first + k]);
        span[first] = (uint8_t)n;
        m->n_frames += n;
        map.keys[slot] = a;
        map.vals[slot] = first;
      }
      raw[pos] = map.vals[slot];
      expanded += span[raw[pos]];
      if (pos % every == 0) progress(opt, "symbolising", pos, total);
    }
  }
  progress(opt, "symbolising", total, total);
  p->frame_pool = malloc((expanded ? expanded : 1) * sizeof *p->frame_pool);
  if (!p->frame_pool) goto oom;

  /* Pass 2: stacks with the top internal frames hidden, and their symbolic identity. A stack
   * that filled the depth limit was (most likely) cut by the tracker: the dump has no flag for
   * it, so depth == options.stack_depth is taken to mean "truncated". */
  addr_map_t keys;
  if (addr_map_init(&keys, d->n_stacks + 1) != 0) {
    addr_map_free(&keys);
    goto oom;
  }
  pos = 0;
  size_t out = 0;
  uint32_t limit = d->options.stack_depth;
  for (uint32_t s = 0; s < d->n_stacks; s++) {
    const ms_dump_stack_t *ds = &d->stacks[s];
    ms_mstack_t *st = &m->stacks[s];
    size_t begin = out;
    for (uint32_t i = 0; i < ds->depth; i++)
      for (uint32_t k = 0; k < span[raw[pos + i]]; k++) p->frame_pool[out++] = raw[pos + i] + k;
    size_t skip = 0;
    while (begin + skip < out && m->frames[p->frame_pool[begin + skip]].internal) skip++;
    st->raw_depth = ds->depth;
    st->truncated = limit && ds->depth >= limit;
    m->n_truncated += st->truncated;
    st->depth = (uint32_t)(out - begin - skip);
    st->frames = p->frame_pool + begin + skip;
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (uint32_t i = 0; i < st->depth; i++) h = mix64(h ^ m->frames[st->frames[i]].key_hash) + i;
    st->key_hash = h ? h : 1;
    pos += ds->depth;
    int found;
    size_t slot = addr_map_slot(&keys, st->key_hash, &found);
    if (!found) {
      keys.keys[slot] = st->key_hash;
      keys.vals[slot] = m->n_keys++;
    }
    st->key = keys.vals[slot];
  }
  addr_map_free(&keys);
  addr_map_free(&map);
  free(raw);
  free(span);
  return 0;
oom:
  addr_map_free(&map);
  free(raw);
  free(span);
  return MS_ENOMEM;
}

static int build_modules(ms_model_t *m) {
  const ms_dump_t *d = m->dump;
  model_priv_t *p = m->priv_;
  if (!MODEL_TABLE(m, d, modules)) return MS_ENOMEM;
  for (uint32_t i = 0; i < d->n_modules; i++) {
    const ms_dump_module_t *dm = &d->modules[i];
    ms_mmodule_t *mm = &m->modules[i];
    mm->path = dm->path ? dm->path : "?";
    mm->name = base_name(mm->path);
    mm->base = dm->base;
    mm->start = dm->start;
    mm->end = dm->end;
    uint32_t n = dm->build_id_len <= 32 ? dm->build_id_len : 32;
    for (uint32_t k = 0; k < n; k++) snprintf(mm->build_id + 2 * k, 3, "%02x", dm->build_id[k]);
    mm->symbols = ms_symbolizer_module_quality(p->sym, i, &mm->build_id_mismatch);
    mm->internal = (uint32_t)ms_symbolizer_module_internal(p->sym, i);
  }
  return 0;
}

/* Sorting with a context pointer (qsort has none; the converter is single-threaded). */
static const ms_model_t *g_sort_model;
static int cmp_site_live(const void *a, const void *b) {
  const ms_msite_t *x = a, *y = b;
  if (x->live_bytes != y->live_bytes) return x->live_bytes < y->live_bytes ? 1 : -1;
  if (x->total_bytes != y->total_bytes) return x->total_bytes < y->total_bytes ? 1 : -1;
  return x->dump_index < y->dump_index ? -1 : x->dump_index > y->dump_index;
}
#define SITE_ORDER_CMP(NAME, FIELD)                                       \
  static int NAME(const void *a, const void *b) {                         \
    const ms_msite_t *x = &g_sort_model->sites[*(const uint32_t *)a];     \
    const ms_msite_t *y = &g_sort_model->sites[*(const uint32_t *)b];     \
    if (x->FIELD != y->FIELD) return x->FIELD < y->FIELD ? 1 : -1;        \
    return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;          \
  }
SITE_ORDER_CMP(cmp_by_peak, peak_bytes)
SITE_ORDER_CMP(cmp_by_total, total_bytes)
SITE_ORDER_CMP(cmp_by_count, total_count)
SITE_ORDER_CMP(cmp_by_temp, temp_count)

static uint32_t site_module(const ms_model_t *m, uint32_t stack) {
  const ms_frame_t *f = ms_model_frame(m, stack, first_user_frame(m, stack));
  return f ? f->module : MS_DUMP_NONE;
}

static int build_sites(ms_model_t *m) {
  const ms_dump_t *d = m->dump;
  m->n_sites = d->n_sites;
  size_t n = d->n_sites ? d->n_sites : 1;
  m->sites = calloc(n, sizeof *m->sites);
  m->by_peak = malloc(n * sizeof(uint32_t));
  m->by_total = malloc(n * sizeof(uint32_t));
  m->by_count = malloc(n * sizeof(uint32_t));
  m->by_temp = malloc(n * sizeof(uint32_t));
  if (!MODEL_TABLE(m, d, tags) || !m->sites || !m->by_peak || !m->by_total || !m->by_count ||
      !m->by_temp)
    return MS_ENOMEM;
  for (uint32_t t = 0; t < d->n_tags; t++) m->tags[t].name = d->tags[t] ? d->tags[t] : "?";
  for (uint32_t i = 0; i < d->n_sites; i++) {
    const ms_dump_site_t *in = &d->sites[i];
    ms_msite_t *s = &m->sites[i], *out = s;
    MS_DUMP_SITE_FIELDS(COPY_COLUMN)
    s->dump_index = i;
    s->module = s->stack != MS_DUMP_NONE ? site_module(m, s->stack) : MS_DUMP_NONE;
    s->avg_size = s->total_count ? (double)s->total_bytes / (double)s->total_count : 0.0;
    m->temp_bytes += s->temp_bytes;
    m->temp_count += s->temp_count;
    m->peak_site_bytes += s->peak_bytes;
    /* the per-module and per-tag views: sums over their sites */
#define ADD_SITE(agg)                     \
  do {                                    \
    (agg)->live_bytes += s->live_bytes;   \
    (agg)->live_count += s->live_count;   \
    (agg)->total_bytes += s->total_bytes; \
    (agg)->total_count += s->total_count; \
    (agg)->n_sites++;                     \
  } while (0)
    if (s->module != MS_DUMP_NONE && s->module < m->n_modules) ADD_SITE(&m->modules[s->module]);
    if (s->tag != MS_DUMP_NONE) ADD_SITE(&m->tags[s->tag]);
#undef ADD_SITE
  }
  qsort(m->sites, m->n_sites, sizeof *m->sites, cmp_site_live);
  for (uint32_t i = 0; i < m->n_sites; i++)
    m->by_peak[i] = m->by_total[i] = m->by_count[i] = m->by_temp[i] = i;
  g_sort_model = m;
  qsort(m->by_peak, m->n_sites, sizeof(uint32_t), cmp_by_peak);
  qsort(m->by_total, m->n_sites, sizeof(uint32_t), cmp_by_total);
  qsort(m->by_count, m->n_sites, sizeof(uint32_t), cmp_by_count);
  qsort(m->by_temp, m->n_sites, sizeof(uint32_t), cmp_by_temp);
  return 0;
}

/* Lost before unknown before reachable: the first screen shows what nothing points to. */
static int leak_rank(uint32_t kind) {
  static const int rank[MS_LEAK_KINDS] = {3, 0, 1, 2, 4};
  return kind < MS_LEAK_KINDS ? rank[kind] : 3;
}

static int cmp_leak(const void *a, const void *b) {
  const ms_leak_t *x = a, *y = b;
  if (x->suppressed != y->suppressed) return x->suppressed ? 1 : -1;
  if (leak_rank(x->kind) != leak_rank(y->kind)) return leak_rank(x->kind) - leak_rank(y->kind);
  if (x->bytes != y->bytes) return x->bytes < y->bytes ? 1 : -1;
  if (x->count != y->count) return x->count < y->count ? 1 : -1;
  return x->stack < y->stack ? -1 : x->stack > y->stack;
}

/* Live samples grouped by symbolic stack (so stacks that differ only in hidden frames merge),
 * and the per-thread live view, in one pass over the allocations. */
static int build_leaks_threads(ms_model_t *m) {
  const ms_dump_t *d = m->dump;
  m->is_exit = d->process.reason == MS_DUMP_REASON_EXIT;
  if (!MODEL_TABLE(m, d, threads)) return MS_ENOMEM;
  for (uint32_t t = 0; t < d->n_threads; t++) {
    const ms_dump_thread_t *in = &d->threads[t];
    ms_mthread_t *out = &m->threads[t];
    MS_DUMP_THREAD_FIELDS(COPY_COLUMN)
    out->top_stack = MS_DUMP_NONE;
  }

  /* one group per (symbolic stack, leak kind) */
  m->leak_check = d->summary.leak_check;
  uint64_t n_groups = (uint64_t)(m->n_keys ? m->n_keys : 1) * MS_LEAK_KINDS;
  ms_leak_t *by_key = calloc(n_groups, sizeof *by_key);
  if (!by_key) return MS_ENOMEM;
  for (uint64_t k = 0; k < n_groups; k++) {
    by_key[k].stack = MS_DUMP_NONE;
    by_key[k].site = MS_DUMP_NONE;
    by_key[k].first_time_ns = UINT64_MAX;
    by_key[k].kind = (uint32_t)(k % MS_LEAK_KINDS);
  }
  /* (thread, stack) -> live bytes, for each thread's top stack. */
  addr_map_t ts;
  uint64_t *ts_bytes = malloc(((size_t)d->n_allocs + 1) * sizeof *ts_bytes);
  if (!ts_bytes || addr_map_init(&ts, (size_t)d->n_allocs + 1) != 0) {
    free(ts_bytes);
    addr_map_free(&ts);
    free(by_key);
    return MS_ENOMEM;
  }
  uint32_t n_ts = 0;
  for (uint32_t i = 0; i < d->n_allocs; i++) {
    const ms_dump_alloc_t *a = &d->allocs[i];
    uint64_t w = a->weight_bytes ? a->weight_bytes : a->size;
    /* A sample of size s weighted w stands for w/s allocations of that size. */
    uint64_t c = a->size ? (w + a->size / 2) / a->size : 1;
    if (c == 0) c = 1;
    m->live_sampled_bytes += w;
    m->live_sampled_count += c;
    if (a->stack < m->n_stacks) {
      uint32_t kind = a->kind < MS_LEAK_KINDS ? a->kind : MS_LEAK_UNKNOWN;
      ms_leak_t *l = &by_key[(uint64_t)m->stacks[a->stack].key * MS_LEAK_KINDS + kind];
      if (l->stack == MS_DUMP_NONE) l->stack = a->stack;
      l->bytes += w;
      l->count += c;
      l->sampled++;
      if (a->time_ns < l->first_time_ns) l->first_time_ns = a->time_ns;
    }
    if (a->thread < m->n_threads) {
      ms_mthread_t *mt = &m->threads[a->thread];
      mt->live_bytes += w;
      mt->live_count += c;
      if (a->stack < m->n_stacks) {
        uint64_t key = ((uint64_t)a->thread << 32) | a->stack;
        int found;
        size_t slot = addr_map_slot(&ts, key, &found);
        if (!found) {
          ts.keys[slot] = key;
          ts.vals[slot] = n_ts;
          ts_bytes[n_ts++] = 0;
        }
        uint64_t b = ts_bytes[ts.vals[slot]] += w;
        if (b > mt->top_stack_bytes) {
          mt->top_stack_bytes = b;
          mt->top_stack = a->stack;
        }
      }
    }
  }
  addr_map_free(&ts);
  free(ts_bytes);

  /* Statistics-only or allocation-less dumps: fall back to the sites' live counters. */
  if (d->n_allocs == 0) {
    for (uint32_t i = 0; i < m->n_sites; i++) {
      const ms_msite_t *s = &m->sites[i];
      if (s->stack == MS_DUMP_NONE || s->live_bytes == 0) continue;
      ms_leak_t *l = &by_key[(uint64_t)m->stacks[s->stack].key * MS_LEAK_KINDS];
      if (l->stack == MS_DUMP_NONE) l->stack = s->stack;
      l->bytes += s->live_bytes;
      l->count += s->live_count;
    }
  }

  if (m->is_exit) {
    uint32_t n = 0;
    for (uint64_t k = 0; k < n_groups; k++)
      if (by_key[k].stack != MS_DUMP_NONE && (by_key[k].bytes || by_key[k].count))
        by_key[n++] = by_key[k];
    m->n_leaks = n;
    m->leaks = by_key;
    ms_suppressions_apply(m);
    qsort(m->leaks, n, sizeof *m->leaks, cmp_leak);
    /* The site with the same identity, for the reports' cross-links. */
    for (uint32_t i = 0; i < m->n_leaks; i++) {
      ms_leak_t *l = &m->leaks[i];
      if (l->first_time_ns == UINT64_MAX) l->first_time_ns = 0;
      m->leaked_bytes += l->bytes;
      m->leaked_count += l->count;
      if (l->suppressed) {
        m->suppressed_bytes += l->bytes;
        m->suppressed_count += l->count;
      } else {
        m->kind_bytes[l->kind] += l->bytes;
        m->kind_count[l->kind] += l->count;
      }
    }
    if (m->n_leaks) {
      uint32_t *site_of_key = malloc((size_t)m->n_keys * sizeof *site_of_key);
      if (!site_of_key) return MS_ENOMEM;
      memset(site_of_key, 0xff, (size_t)m->n_keys * sizeof *site_of_key);
      for (uint32_t i = m->n_sites; i-- > 0;)   /* smallest index (largest live) wins */
        if (m->sites[i].stack != MS_DUMP_NONE) site_of_key[m->stacks[m->sites[i].stack].key] = i;
      for (uint32_t i = 0; i < m->n_leaks; i++)
        m->leaks[i].site = site_of_key[m->stacks[m->leaks[i].stack].key];
      free(site_of_key);
    }
  } else {
    free(by_key);
  }
  return 0;
}

static int cmp_crossing(const void *a, const void *b) {
  const ms_mcrossing_t *x = a, *y = b;
  if (x->bytes != y->bytes) return x->bytes < y->bytes ? 1 : -1;
  return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

/* MS_TRACK on a pointer whose type the compiler could not name ("?"): the pointee type from
 * DWARF, looked up from a frame of the variable's stacks in the file that named it (the
 * frame of the MS_TRACK call, or the allocation in the same function). NULL when unknown. */
static const char *dwarf_var_type(ms_model_t *m, const ms_dump_variable_t *dv) {
  model_priv_t *p = m->priv_;
  if (!dv->name || !dv->file) return NULL;
  uint32_t stacks[2] = {dv->alloc_stack, dv->free_stack};
  for (int k = 0; k < 2; k++) {
    if (stacks[k] >= m->n_stacks) continue;
    const ms_mstack_t *st = &m->stacks[stacks[k]];
    for (uint32_t i = 0; i < st->depth && i < 16; i++) {
      const ms_frame_t *f = &m->frames[st->frames[i]];
      if (!f->file || strcmp(base_name(f->file), base_name(dv->file)) != 0) continue;
      char buf[512];
      const char *t = ms_symbolize_var_type(p->sym, f->address, dv->name, buf, sizeof buf);
      if (t) return _ms_model_printf(m, "%s", t);
    }
  }
  return NULL;
}

static int build_misc(ms_model_t *m) {
  const ms_dump_t *d = m->dump;
  m->crossings = calloc(d->n_crossings ? d->n_crossings : 1, sizeof *m->crossings);
  if (!m->crossings || !MODEL_TABLE(m, d, variables) || !MODEL_TABLE(m, d, errors) ||
      !MODEL_TABLE(m, d, classes))
    return MS_ENOMEM;

  for (uint32_t i = 0; i < d->n_crossings; i++) {
    const ms_dump_crossing_t *in = &d->crossings[i];
    if (in->alloc_module >= m->n_modules || in->free_module >= m->n_modules) continue;
    ms_mcrossing_t *out = &m->crossings[m->n_crossings++];
    MS_DUMP_CROSSING_FIELDS(COPY_COLUMN)
  }
  qsort(m->crossings, m->n_crossings, sizeof *m->crossings, cmp_crossing);

  uint64_t now = d->process.dump_time_ns;
  for (uint32_t i = 0; i < d->n_variables; i++) {
    const ms_dump_variable_t *dv = &d->variables[i], *in = dv;
    ms_mvariable_t *v = &m->variables[i], *out = v;
    MS_DUMP_VARIABLE_FIELDS(COPY_COLUMN)
    if (!v->name) v->name = "?";
    if (!v->file) v->file = "?";
    if (!v->type || !strcmp(v->type, "?")) {
      const char *t = dwarf_var_type(m, dv);
      v->type = t ? t : "?";
    }
    v->state = dv->freed ? MS_VAR_FREED : m->is_exit ? MS_VAR_LEAKED : MS_VAR_LIVE;
    uint64_t end = dv->freed ? dv->free_time_ns : now;
    v->lifetime_ns = end > dv->alloc_time_ns ? end - dv->alloc_time_ns : 0;
    int have_ref = 0;
    for (uint32_t e = 0; e < dv->n_events; e++) {
      const ms_dump_event_t *ev = &dv->events[e];
      if (ev->kind == MS_EV_REALLOC) v->n_reallocs++;
      if (ev->kind == MS_EV_RETAIN || ev->kind == MS_EV_RELEASE || ev->kind == MS_EV_REFSET) {
        if (!have_ref || ev->count > v->max_refcount) v->max_refcount = ev->count;
        v->final_refcount = ev->count;
        have_ref = 1;
        if (ev->count < 0) v->refcount_unbalanced = 1;
      }
    }
    if (have_ref && dv->freed && v->final_refcount > 0) v->refcount_unbalanced = 1;
  }

  for (uint32_t i = 0; i < d->n_errors; i++) {
    const ms_dump_error_t *in = &d->errors[i];
    ms_merror_t *out = &m->errors[i];
    MS_DUMP_ERROR_FIELDS(COPY_COLUMN)
    out->kind_name = ms_dump_error_kind_name(in->kind);
  }

  ms_fragmentation_t *fr = &m->fragmentation;
  fr->worst_class = MS_DUMP_NONE;
  uint64_t worst = 0;
  for (uint32_t i = 0; i < d->n_classes; i++) {
    const ms_dump_class_t *dc = &d->classes[i], *in = dc;
    ms_mclass_t *c = &m->classes[i], *out = c;
    MS_DUMP_CLASS_FIELDS(COPY_COLUMN)
    c->live_count = dc->allocations > dc->frees ? dc->allocations - dc->frees : 0;
    c->waste_bytes = dc->usable_bytes > dc->requested_bytes ? dc->usable_bytes - dc->requested_bytes : 0;
    c->waste_ratio = dc->usable_bytes ? (double)c->waste_bytes / (double)dc->usable_bytes : 0.0;
    if (c->waste_bytes > worst) {
      worst = c->waste_bytes;
      fr->worst_class = i;
    }
  }
  const ms_dump_summary_t *su = &d->summary;
  fr->requested_bytes = su->live_bytes;
  fr->usable_bytes = su->usable_bytes;
  fr->header_bytes = su->header_bytes;
  uint64_t over = su->usable_bytes > su->live_bytes ? su->usable_bytes - su->live_bytes : 0;
  fr->class_waste_bytes = over > su->header_bytes ? over - su->header_bytes : 0;
  fr->rss_bytes = su->rss_bytes;
  fr->peak_rss_bytes = su->peak_rss_bytes;
  fr->rss_overhead_bytes = su->rss_bytes > su->usable_bytes ? su->rss_bytes - su->usable_bytes : 0;
  fr->internal_ratio = su->usable_bytes ? (double)over / (double)su->usable_bytes : 0.0;
  fr->rss_ratio = su->rss_bytes ? (double)su->live_bytes / (double)su->rss_bytes : 0.0;
  fr->rounding_bytes = over;
  fr->metadata_bytes = su->header_bytes;
  fr->overhead_bytes = over + su->header_bytes;
  return 0;
}

/* ------------------------------------------------------------------ entry points */

int ms_model_build(ms_model_t *m, const ms_dump_t *d, const ms_model_options_t *opt, char *err,
                   size_t errlen) {
  memset(m, 0, sizeof *m);
  m->dump = d;
  model_priv_t *p = calloc(1, sizeof *p);
  if (!p) goto oom;
  m->priv_ = p;
  p->sym = ms_symbolizer_new(d->modules, d->n_modules, opt ? opt->debug_dir : NULL,
                             opt ? opt->no_symbols : 0);
  if (!p->sym) goto oom;
  if (build_frames_and_stacks(m, opt) != 0) goto oom;
  if (build_modules(m) != 0) goto oom;
  if (build_sites(m) != 0) goto oom;
  if (ms_suppressions_load(m, opt ? opt->suppressions : NULL, err, errlen) != 0) {
    ms_model_free(m);
    return MS_EINVAL;
  }
  if (build_leaks_threads(m) != 0) goto oom;
  if (build_misc(m) != 0) goto oom;
  if (_ms_model_build_findings(m) != 0) goto oom;
  return 0;
oom:
  if (err && errlen) snprintf(err, errlen, "out of memory while building the model");
  ms_model_free(m);
  return MS_ENOMEM;
}

void ms_model_free(ms_model_t *m) {
  for (uint32_t i = 0; i < m->n_suppressions; i++)
    if (!m->suppressions[i].builtin) free((char *)m->suppressions[i].pattern);
  free(m->suppressions);
  model_priv_t *p = m->priv_;
  if (p) {
    ms_symbolizer_free(p->sym);
    while (p->arena) {
      arena_chunk_t *n = p->arena->next;
      free(p->arena);
      p->arena = n;
    }
    free(p->frame_pool);
    free(p);
  }
  free(m->frames);
  free(m->stacks);
  free(m->modules);
  free(m->sites);
  free(m->by_peak);
  free(m->by_total);
  free(m->by_count);
  free(m->by_temp);
  free(m->leaks);
  free(m->threads);
  free(m->tags);
  free(m->crossings);
  free(m->variables);
  free(m->errors);
  free(m->classes);
  free(m->findings);
  memset(m, 0, sizeof *m);
}
