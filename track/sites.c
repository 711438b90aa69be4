/* sites.c — per-call-site figures (a site is a deduplicated stack, tag included): live and total
 * bytes/counts, bytes live at the global peak, temporary allocations, lifetimes, reallocs.
 *
 * The figures sit in an array parallel to the stack table (same id), lazily touched; sampled
 * allocations and frees add to their thread's pending deltas, which reach the array in batches
 * (below). "Who made the peak" is taken by copying every site's live figures when the global
 * live bytes pass the last copied peak by more than 1/64 (1.6%): O(sites) a time, but only
 * O(log growth) times in a run.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "track.h"

static ms_site_t *sites;
typedef struct site_peak {
  _Atomic uint64_t bytes, count;
} site_peak_t;
static site_peak_t *peaks; /* apart from the sites: written only by the rare peak copies */
static _Atomic uint64_t peak_copied;
static _Atomic int peak_copy_busy;



void _ms_sites_init(void) {
  void *p = mmap(NULL, sizeof(ms_site_t) * MS_STACK_CAP, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  sites = p == MAP_FAILED ? NULL : p;
  p = mmap(NULL, sizeof(site_peak_t) * MS_STACK_CAP, PROT_READ | PROT_WRITE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  peaks = p == MAP_FAILED ? NULL : p;
  if (!peaks) sites = NULL;
}

static ms_site_t dummy_site;
ms_site_t *_ms_site(uint32_t id) { return sites && id < MS_STACK_CAP ? &sites[id] : &dummy_site; }

/* Sample counts live in the thread blocks (single writer each), summed here. */
uint64_t _ms_sampled_total(void) {
  uint64_t n = 0;
  for (ms_thread_t *t = atomic_load(&_ms_threads); t; t = atomic_load(&t->next))
    n += MS_CNT_GET(t->sampled_allocs);
  return n;
}
uint64_t _ms_sampled_live(void) {
  uint64_t a = 0, f = 0;
  for (ms_thread_t *t = atomic_load(&_ms_threads); t; t = atomic_load(&t->next))
    a += MS_CNT_GET(t->sampled_allocs), f += MS_CNT_GET(t->sampled_frees);
  return a - f;
}

/* ---- a thread's pending deltas
 *
 * An allocation or free adds to its thread's delta for the site (plain stores, no atomic
 * read-modify-write, no shared cache line: threads allocating at one site no longer pass its
 * lines back and forth). A delta goes to the shared site when another site needs its slot, when
 * the thread exits, and at exit. Readers add the pending deltas of every thread to the shared
 * figures (_ms_site_read), taking each thread's deltas under its sequence counter. */

static inline void seq_begin(ms_thread_t *t) {
  uint32_t s = atomic_load_explicit(&t->site_seq, memory_order_relaxed);
  atomic_store_explicit(&t->site_seq, s + 1, memory_order_relaxed);
  atomic_thread_fence(memory_order_release); /* the odd count is seen before any change */
}
static inline void seq_end(ms_thread_t *t) {
  uint32_t s = atomic_load_explicit(&t->site_seq, memory_order_relaxed);
  atomic_store_explicit(&t->site_seq, s + 1, memory_order_release);
}

static inline void field_add(uint64_t *f, uint64_t v) {
  __atomic_store_n(f, __atomic_load_n(f, __ATOMIC_RELAXED) + v, __ATOMIC_RELAXED);
}

/* Inside seq_begin/seq_end: move a delta into its shared site. */
static void delta_flush(ms_site_delta_t *e) {
  if (!e->id) return;
  _Atomic uint64_t *dst = (_Atomic uint64_t *)_ms_site(e->id);
  uint64_t *src = (uint64_t *)&e->f;
  for (unsigned k = 0; k < MS_SITE_FIELDS; k++) {
    uint64_t v = __atomic_load_n(&src[k], __ATOMIC_RELAXED);
    if (v) {
      atomic_fetch_add_explicit(&dst[k], v, memory_order_relaxed);
      __atomic_store_n(&src[k], 0, __ATOMIC_RELAXED);
    }
  }
}

/* The thread's delta for site id, inside seq_begin/seq_end (evicting another site's). */
static inline ms_site_figs_t *delta_of(ms_thread_t *t, uint32_t id) {
  ms_site_delta_t *e = &t->site_deltas[id & (MS_SITE_DELTAS - 1)];
  if (MS_UNLIKELY(e->id != id)) {
    delta_flush(e);
    __atomic_store_n(&e->id, id, __ATOMIC_RELAXED);
  }
  return &e->f;
}

void _ms_sites_on_alloc(ms_thread_t *t, uint32_t id, uint64_t wbytes, uint64_t wcount) {
  seq_begin(t);
  ms_site_figs_t *f = delta_of(t, id);
  field_add(&f->total_bytes, wbytes);
  field_add(&f->total_count, wcount);
  seq_end(t);
}

static unsigned lifetime_bucket(uint64_t ns) {
  unsigned b = 0;
  for (uint64_t limit = 1000; b < MS_DUMP_LIFETIME_BUCKETS - 1 && ns >= limit; limit *= 10) b++;
  return b;
}

void _ms_sites_on_free(ms_thread_t *t, uint32_t id, uint64_t wbytes, uint64_t wcount,
                       uint64_t lifetime_ns, int temporary) {
  seq_begin(t);
  ms_site_figs_t *f = delta_of(t, id);
  field_add(&f->freed_bytes, wbytes);
  field_add(&f->freed_count, wcount);
  field_add(&f->lifetime[lifetime_bucket(lifetime_ns)], wcount);
  if (temporary) {
    field_add(&f->temp_count, wcount);
    field_add(&f->temp_bytes, wbytes);
  }
  seq_end(t);
}

void _ms_sites_on_realloc(ms_thread_t *t, uint32_t id, uint64_t wcount) {
  if (!t || t->index == 0) { /* no block of its own (the shared orphan block is not held here) */
    atomic_fetch_add_explicit(&_ms_site(id)->realloc_count, wcount, memory_order_relaxed);
    return;
  }
  seq_begin(t);
  field_add(&delta_of(t, id)->realloc_count, wcount);
  seq_end(t);
}

void _ms_sites_flush(ms_thread_t *t) {
  seq_begin(t);
  for (unsigned i = 0; i < MS_SITE_DELTAS; i++) delta_flush(&t->site_deltas[i]);
  seq_end(t);
}

/* ---- reading: every thread's pending deltas, copied once per read session and sorted by id */

static ms_site_delta_t *pending;
static uint32_t n_pending;
static pthread_mutex_t read_mutex = PTHREAD_MUTEX_INITIALIZER;

static void copy_thread_deltas(ms_thread_t *t, ms_site_delta_t *out, uint32_t *n) {
  ms_site_delta_t tmp[MS_SITE_DELTAS];
  for (int tries = 0;; tries++) {
    uint32_t s1 = atomic_load_explicit(&t->site_seq, memory_order_acquire);
    if ((s1 & 1) && tries < 100000) { /* the owner is changing them (briefly) */
      __builtin_ia32_pause();
      continue;
    }
    for (unsigned i = 0; i < MS_SITE_DELTAS; i++) {
      tmp[i].id = __atomic_load_n(&t->site_deltas[i].id, __ATOMIC_RELAXED);
      const uint64_t *src = (const uint64_t *)&t->site_deltas[i].f;
      uint64_t *dst = (uint64_t *)&tmp[i].f;
      for (unsigned k = 0; k < MS_SITE_FIELDS; k++) dst[k] = __atomic_load_n(&src[k], __ATOMIC_RELAXED);
    }
    atomic_thread_fence(memory_order_acquire);
    /* a changed count: copy again; after many tries (an owner gone mid-change: a fork child)
     * take what is there */
    if (atomic_load_explicit(&t->site_seq, memory_order_relaxed) == s1 || tries >= 100000) break;
  }
  for (unsigned i = 0; i < MS_SITE_DELTAS; i++)
    if (tmp[i].id) out[(*n)++] = tmp[i];
}

static int by_id(const void *a, const void *b) {
  uint32_t x = ((const ms_site_delta_t *)a)->id, y = ((const ms_site_delta_t *)b)->id;
  return (x > y) - (x < y);
}

static void read_collect(void);
void _ms_sites_read_begin(void) {
  pthread_mutex_lock(&read_mutex);
  read_collect();
}
/* For the peak copy and the timeline's points, on an allocating thread: never wait for a
 * snapshot's read. */
int _ms_sites_read_try_begin(void) {
  if (pthread_mutex_trylock(&read_mutex) != 0) return 0;
  read_collect();
  return 1;
}
/* fork: no read session may be half-done in the child */
void _ms_sites_lock(int lock) {
  if (lock) pthread_mutex_lock(&read_mutex);
  else pthread_mutex_unlock(&read_mutex);
}

static void read_collect(void) {
  uint32_t threads = 0;
  for (ms_thread_t *t = atomic_load(&_ms_threads); t; t = atomic_load(&t->next)) threads++;
  threads += 64; /* blocks made meanwhile (new ones go in front of the list: the rest follows) */
  pending = _ms_xalloc((size_t)threads * MS_SITE_DELTAS * sizeof *pending);
  n_pending = 0;
  if (!pending) return; /* figures without the pending deltas: still a consistent floor */
  uint32_t seen = 0;
  for (ms_thread_t *t = atomic_load(&_ms_threads); t && seen < threads; t = atomic_load(&t->next), seen++)
    copy_thread_deltas(t, pending, &n_pending);
  qsort(pending, n_pending, sizeof *pending, by_id);
}

void _ms_sites_read_end(void) {
  _ms_xfree(pending);
  pending = NULL;
  n_pending = 0;
  pthread_mutex_unlock(&read_mutex);
}

void _ms_site_read(uint32_t id, ms_site_figs_t *out) {
  const _Atomic uint64_t *src = (const _Atomic uint64_t *)_ms_site(id);
  uint64_t *dst = (uint64_t *)out;
  for (unsigned k = 0; k < MS_SITE_FIELDS; k++) dst[k] = atomic_load_explicit(&src[k], memory_order_relaxed);
  /* the first pending delta of id (binary search), then its neighbours of the same id */
  uint32_t lo = 0, hi = n_pending;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    if (pending[mid].id < id) lo = mid + 1;
    else hi = mid;
  }
  for (; lo < n_pending && pending[lo].id == id; lo++) {
    const uint64_t *d = (const uint64_t *)&pending[lo].f;
    for (unsigned k = 0; k < MS_SITE_FIELDS; k++) dst[k] += d[k];
  }
}

/* The allocating frame's module, looked up once per site (a free used to look it up again). */
uint32_t _ms_site_module(uint32_t id) {
  ms_site_t *s = _ms_site(id);
  uint32_t m1 = atomic_load_explicit(&s->module1, memory_order_relaxed);
  if (m1) return m1 - 1;
  const uint64_t *frames;
  uint32_t depth = _ms_stack_get(id, &frames, NULL);
  uint32_t m = depth ? _ms_module_of(frames[0] - 1) : MS_DUMP_NONE;
  if (m != MS_DUMP_NONE && s != &dummy_site) atomic_store_explicit(&s->module1, m + 1, memory_order_relaxed);
  return m;
}

/* fork child: a peak copy in progress in another thread will never finish here */
void _ms_sites_fork_child(void) { atomic_store(&peak_copy_busy, 0); }

void _ms_site_peak(uint32_t id, uint64_t *bytes, uint64_t *count) {
  *bytes = *count = 0;
  if (!peaks || id >= MS_STACK_CAP) return;
  *bytes = atomic_load_explicit(&peaks[id].bytes, memory_order_relaxed);
  *count = atomic_load_explicit(&peaks[id].count, memory_order_relaxed);
}

/* Called by the core when the global live bytes reach a new peak. */
void _ms_track_peak(uint64_t live) {
  if (!sites) return;
  uint64_t last = atomic_load_explicit(&peak_copied, memory_order_relaxed);
  /* copy again after growing 1/64 or 4 KiB, whichever is larger: small programs get an exact
   * picture, large ones a bounded number of O(sites) copies */
  uint64_t step = last / 64 > 4096 ? last / 64 : 4096;
  if (live < last + step && last) return;
  if (atomic_exchange_explicit(&peak_copy_busy, 1, memory_order_acquire)) return;
  uint32_t limit = _ms_stack_limit();
  if (!_ms_sites_read_try_begin()) {
    atomic_store_explicit(&peak_copy_busy, 0, memory_order_release);
    return; /* a snapshot is reading: copy at the next peak step */
  }
  for (uint32_t id = 1; id < limit; id++) {
    ms_site_figs_t f;
    _ms_site_read(id, &f);
    atomic_store_explicit(&peaks[id].bytes, _ms_figs_live_bytes(&f), memory_order_relaxed);
    atomic_store_explicit(&peaks[id].count, _ms_figs_live_count(&f), memory_order_relaxed);
  }
  _ms_sites_read_end();
  atomic_store_explicit(&peak_copied, live, memory_order_relaxed);
  atomic_store_explicit(&peak_copy_busy, 0, memory_order_release);
}

