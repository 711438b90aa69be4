/* variables.c — named variables (MS_TRACK), reference counts (ms_ref_*) and tags
 * (ms_tag_push/pop): memscope's view of memory by the names the programmer gives it.
 *
 * A named block gets the NAMED bit in its header, so its free and realloc come here even when
 * the block was not sampled; unnamed blocks never look anything up. The table of variables is
 * behind one mutex: naming is an explicit, rare call, and the allocation path only reaches it
 * for NAMED blocks. Each variable keeps its lifecycle and reference-count events (bounded: past
 * MAX_EVENTS the oldest are kept and the rest counted as dropped).
 */
#include <pthread.h>
#include <string.h>

#include "memscope.h"
#include "track.h"

#define MAX_EVENTS 4096
#define MAX_VARS (1u << 20)
#define MAX_TAGS 255

typedef struct var {
  ms_dump_variable_t v;
  uint32_t cap_events;
  uint64_t dropped;
  long refcount;
  int live;
} var_t;

static pthread_mutex_t vars_mutex = PTHREAD_MUTEX_INITIALIZER;
static var_t *vars;
static uint32_t n_vars, cap_vars;
/* address -> var index + 1, open addressing; 0 empty, UINT32_MAX deleted */
static uint32_t *index_slots;
static uint32_t index_cap, index_used;

static char *tags[MAX_TAGS];
static _Atomic uint32_t n_tags;
static pthread_mutex_t tags_mutex = PTHREAD_MUTEX_INITIALIZER;


static uint32_t slot_of(uint64_t addr, uint32_t cap) {
  return (uint32_t)((addr * 0x9E3779B97F4A7C15ull) >> 32) & (cap - 1);
}

static void index_put(uint64_t addr, uint32_t vi);

static int index_grow(void) {
  uint32_t old_cap = index_cap, *old = index_slots;
  uint32_t cap = old_cap ? old_cap * 2 : 1024;
  uint32_t *slots = _ms_xcalloc(cap, sizeof *slots);
  if (!slots) return -1;
  index_slots = slots, index_cap = cap, index_used = 0;
  for (uint32_t i = 0; i < old_cap; i++)
    if (old[i] && old[i] != UINT32_MAX) index_put(vars[old[i] - 1].v.address, old[i] - 1);
  _ms_xfree(old);
  return 0;
}

static void index_put(uint64_t addr, uint32_t vi) {
  if ((index_used + 1) * 2 > index_cap && index_grow() != 0) return;
  uint32_t i = slot_of(addr, index_cap);
  while (index_slots[i] && index_slots[i] != UINT32_MAX) i = (i + 1) & (index_cap - 1);
  index_slots[i] = vi + 1;
  index_used++;
}

static uint32_t *index_find(uint64_t addr) {
  if (!index_cap) return NULL;
  uint32_t i = slot_of(addr, index_cap);
  for (uint32_t n = 0; n < index_cap && index_slots[i]; n++, i = (i + 1) & (index_cap - 1))
    if (index_slots[i] != UINT32_MAX && vars[index_slots[i] - 1].v.address == addr)
      return &index_slots[i];
  return NULL;
}

static var_t *find_live(const void *p) {
  uint32_t *s = index_find((uint64_t)(uintptr_t)p);
  return s ? &vars[*s - 1] : NULL;
}

static uint32_t thread_index(void) {
  ms_thread_t *t = _ms_self;
  return t ? t->serial : 0;
}

static void add_event(var_t *var, uint32_t kind, int64_t count, uint32_t stack) {
  if (var->v.n_events >= MAX_EVENTS) {
    var->dropped++;
    return;
  }
  if (var->v.n_events == var->cap_events) {
    uint32_t cap = var->cap_events ? var->cap_events * 2 : 8;
    void *e = _ms_xrealloc(var->v.events, cap * sizeof *var->v.events);
    if (!e) return;
    var->v.events = e, var->cap_events = cap;
  }
  ms_dump_event_t *e = &var->v.events[var->v.n_events++];
  e->time_ns = _ms_now_ns();
  e->kind = kind;
  e->thread = thread_index();
  e->count = count;
  e->address = var->v.address;
  e->size = var->v.size;
  e->stack = stack;
}

/* A new variable for the live block p (caller holds the mutex). */
static var_t *new_var(const void *p, uint64_t tag) {
  if (n_vars >= MAX_VARS) return NULL;
  if (n_vars == cap_vars) {
    uint32_t cap = cap_vars ? cap_vars * 2 : 64;
    void *nv = _ms_xrealloc(vars, cap * sizeof *vars);
    if (!nv) return NULL;
    vars = nv, cap_vars = cap;
  }
  var_t *var = &vars[n_vars];
  memset(var, 0, sizeof *var);
  var->v.address = (uint64_t)(uintptr_t)p;
  var->v.size = _ms_tag_size(tag);
  var->v.thread = thread_index();
  var->v.free_stack = MS_DUMP_NONE;
  var->live = 1;
  if (_ms_kind_sampled(_ms_tag_kind(tag))) {
    ms_block_info_t b;
    _ms_block_info((void *)p, tag, _ms_now_ns(), &b);
    var->v.alloc_time_ns = b.time_ns;
    var->v.alloc_stack = b.stack;
    if (b.thread) var->v.thread = b.thread;
  } else {
    /* not sampled: the allocation itself was not seen; naming time and place stand in */
    var->v.alloc_time_ns = _ms_now_ns();
    var->v.alloc_stack = _ms_stack_capture(0);
  }
  index_put(var->v.address, n_vars);
  n_vars++;
  add_event(var, MS_EV_ALLOC, 0, var->v.alloc_stack);
  if (var->v.n_events) var->v.events[0].time_ns = var->v.alloc_time_ns;
  _ms_block_set_named(p);
  return var;
}

static var_t *var_for(const void *p, int *err) {
  uint64_t tag = _ms_live_tag_quiet(p);
  if (!tag) {
    *err = MS_ENOTFOUND;
    return NULL;
  }
  var_t *var = (tag & MS_TAG_NAMED) ? find_live(p) : NULL;
  if (!var) var = new_var(p, tag);
  if (!var) *err = MS_ENOMEM;
  return var;
}

static int ready(void) {
  if (atomic_load(&_ms_init_state) != 2) _ms_init();
  return atomic_load(&_ms_init_state) == 2;
}

#include "visibility.h"   /* MS_EXPORT */

MS_EXPORT int ms_track(const void *ptr, const char *name, const char *type, const char *file,
                       int line) {
  if (!ptr) return MS_EINVAL;
  if (!ready()) return MS_ENOTLOADED;
  int err = MS_OK;
  _ms_guard++;
  pthread_mutex_lock(&vars_mutex);
  var_t *var = var_for(ptr, &err);
  if (var) {
    _ms_xfree(var->v.name), _ms_xfree(var->v.type), _ms_xfree(var->v.file);
    var->v.name = _ms_xstrdup(name ? name : "?");
    var->v.type = _ms_xstrdup(type ? type : "?");
    var->v.file = _ms_xstrdup(file);
    var->v.line = line > 0 ? (uint32_t)line : 0;
    add_event(var, MS_EV_TRACK, var->refcount, _ms_stack_capture(0));
  }
  pthread_mutex_unlock(&vars_mutex);
  _ms_guard--;
  return err;
}

static long ref_change(const void *ptr, int kind, long value) {
  if (!ptr) return MS_EINVAL;
  if (!ready()) return MS_ENOTLOADED;
  int err = MS_OK;
  long result;
  _ms_guard++;
  pthread_mutex_lock(&vars_mutex);
  var_t *var = var_for(ptr, &err);
  if (var) {
    if (kind == MS_EV_RETAIN) var->refcount++;
    else if (kind == MS_EV_RELEASE) var->refcount--;
    else var->refcount = value;
    add_event(var, (uint32_t)kind, var->refcount, MS_DUMP_NONE);
    result = var->refcount;
  } else {
    result = err;
  }
  pthread_mutex_unlock(&vars_mutex);
  _ms_guard--;
  return result;
}

MS_EXPORT long ms_ref_retain(const void *ptr) { return ref_change(ptr, MS_EV_RETAIN, 0); }
MS_EXPORT long ms_ref_release(const void *ptr) { return ref_change(ptr, MS_EV_RELEASE, 0); }
MS_EXPORT long ms_ref_set(const void *ptr, long count) {
  return ref_change(ptr, MS_EV_REFSET, count);
}

void _ms_vars_on_free(const void *p, uint64_t size) {
  (void)size;
  pthread_mutex_lock(&vars_mutex);
  uint32_t *slot = index_find((uint64_t)(uintptr_t)p);
  if (slot) {
    var_t *var = &vars[*slot - 1];
    *slot = UINT32_MAX;
    var->live = 0;
    var->v.freed = 1;
    var->v.free_time_ns = _ms_now_ns();
    var->v.free_stack = _ms_stack_capture(0);
    add_event(var, MS_EV_FREE, var->refcount, var->v.free_stack);
  }
  pthread_mutex_unlock(&vars_mutex);
}

void _ms_vars_on_realloc(const void *old, const void *newp, uint64_t size) {
  pthread_mutex_lock(&vars_mutex);
  uint32_t *slot = index_find((uint64_t)(uintptr_t)old);
  if (slot) {
    uint32_t vi = *slot - 1;
    *slot = UINT32_MAX;
    var_t *var = &vars[vi];
    var->v.address = (uint64_t)(uintptr_t)newp;
    var->v.size = size;
    index_put(var->v.address, vi);
    add_event(var, MS_EV_REALLOC, var->refcount, _ms_stack_capture(0));
    _ms_block_set_named(newp);
  }
  pthread_mutex_unlock(&vars_mutex);
}

int _ms_vars_fill(ms_dump_t *d) {
  pthread_mutex_lock(&vars_mutex);
  d->variables = _ms_xcalloc(n_vars ? n_vars : 1, sizeof *d->variables);
  if (!d->variables) {
    pthread_mutex_unlock(&vars_mutex);
    return MS_ENOMEM;
  }
  for (uint32_t i = 0; i < n_vars; i++) {
    ms_dump_variable_t *o = &d->variables[i];
    *o = vars[i].v;
    o->name = _ms_xstrdup(vars[i].v.name ? vars[i].v.name : "?");
    o->type = _ms_xstrdup(vars[i].v.type ? vars[i].v.type : "?");
    o->file = _ms_xstrdup(vars[i].v.file);
    o->events = _ms_xcalloc(o->n_events ? o->n_events : 1, sizeof *o->events);
    if (o->events) memcpy(o->events, vars[i].v.events, o->n_events * sizeof *o->events);
    else o->n_events = 0;
  }
  d->n_variables = n_vars;
  pthread_mutex_unlock(&vars_mutex);
  return MS_OK;
}

void _ms_vars_atfork_prepare(void) {
  pthread_mutex_lock(&tags_mutex);
  pthread_mutex_lock(&vars_mutex);
}
void _ms_vars_atfork_release(void) {
  pthread_mutex_unlock(&vars_mutex);
  pthread_mutex_unlock(&tags_mutex);
}

/* ---------------------------------------------------------------- tags */

static uint32_t intern_tag(const char *name) {
  uint32_t n = atomic_load(&n_tags);
  for (uint32_t i = 0; i < n; i++)
    if (strcmp(tags[i], name) == 0) return i + 1;
  pthread_mutex_lock(&tags_mutex);
  n = atomic_load(&n_tags);
  uint32_t id = 0;
  for (uint32_t i = 0; i < n && !id; i++)
    if (strcmp(tags[i], name) == 0) id = i + 1;
  if (!id && n < MAX_TAGS && (tags[n] = _ms_xstrdup(name)) != NULL) {
    atomic_store(&n_tags, n + 1);
    id = n + 1;
  }
  pthread_mutex_unlock(&tags_mutex);
  return id;
}

MS_EXPORT int ms_tag_push(const char *name) {
  if (!name) return MS_EINVAL;
  if (!ready()) return MS_ENOTLOADED;
  ms_thread_t *t = _ms_self ? _ms_self : _ms_thread_slow();
  if (!t || t->tag_depth >= MS_MAX_TAG_DEPTH) return MS_EINVAL;
  _ms_guard++;
  uint32_t id = intern_tag(name);
  _ms_guard--;
  if (!id) return MS_ENOMEM;
  t->tags[t->tag_depth++] = id;
  return MS_OK;
}

MS_EXPORT int ms_tag_pop(void) {
  ms_thread_t *t = _ms_self;
  if (!t || t->tag_depth == 0) return MS_EINVAL;
  t->tag_depth--;
  return MS_OK;
}

int _ms_tags_fill(ms_dump_t *d) {
  uint32_t n = atomic_load(&n_tags);
  d->tags = _ms_xcalloc(n ? n : 1, sizeof *d->tags);
  if (!d->tags) return MS_ENOMEM;
  for (uint32_t i = 0; i < n; i++) d->tags[i] = _ms_xstrdup(tags[i]);
  d->n_tags = n;
  return MS_OK;
}
