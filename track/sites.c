/* sites.c — per-call-site figures (a site is a deduplicated stack, tag included): live and total
 * bytes/counts, bytes live at the global peak, temporary allocations, lifetimes, reallocs.
 *
 * The figures sit in an array parallel to the stack table (same id), lazily touched, updated
 * with relaxed atomic adds only on sampled allocations and frees. "Who made the peak" is taken
 * by copying every site's live figures when the global live bytes pass the last copied peak by
 * more than 1/64 (1.6%): O(sites) a time, but only O(log growth) times in a run.
 */
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

void _ms_sites_on_alloc(uint32_t id, uint64_t wbytes, uint64_t wcount) {
  ms_site_t *s = _ms_site(id);
  atomic_fetch_add_explicit(&s->total_bytes, wbytes, memory_order_relaxed);
  atomic_fetch_add_explicit(&s->total_count, wcount, memory_order_relaxed);
}

static unsigned lifetime_bucket(uint64_t ns) {
  unsigned b = 0;
  for (uint64_t limit = 1000; b < MS_DUMP_LIFETIME_BUCKETS - 1 && ns >= limit; limit *= 10) b++;
  return b;
}

void _ms_sites_on_free(uint32_t id, uint64_t wbytes, uint64_t wcount, uint64_t lifetime_ns,
                       int temporary) {
  ms_site_t *s = _ms_site(id);
  atomic_fetch_add_explicit(&s->freed_bytes, wbytes, memory_order_relaxed);
  atomic_fetch_add_explicit(&s->freed_count, wcount, memory_order_relaxed);
  atomic_fetch_add_explicit(&s->lifetime[lifetime_bucket(lifetime_ns)], wcount,
                            memory_order_relaxed);
  if (temporary) {
    atomic_fetch_add_explicit(&s->temp_count, wcount, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->temp_bytes, wbytes, memory_order_relaxed);
  }
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
  for (uint32_t id = 1; id < limit; id++) {
    atomic_store_explicit(&peaks[id].bytes, _ms_site_live_bytes(&sites[id]), memory_order_relaxed);
    atomic_store_explicit(&peaks[id].count, _ms_site_live_count(&sites[id]), memory_order_relaxed);
  }
  atomic_store_explicit(&peak_copied, live, memory_order_relaxed);
  atomic_store_explicit(&peak_copy_busy, 0, memory_order_release);
}
