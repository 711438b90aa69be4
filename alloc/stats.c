/* stats.c — the readers of the statistics: ms_stats(), ms_class_stats(), and the run-time
 * sample-rate setter. Readers sum every thread block's cumulative counters with relaxed loads;
 * writers never wait for them. A sum taken while other threads allocate is a consistent-enough
 * picture (each counter is exact, the set of them is not one instant). */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "memscope.h"

#define MS_EXPORT __attribute__((visibility("default")))

uint64_t _ms_stacks_count(void);       /* track/stacks.c */
uint64_t _ms_sampled_total(void);      /* track/sites.c */
uint64_t _ms_sampled_live(void);
uint64_t _ms_errors_count(void);       /* track/errors.c */

/* Live usable bytes of class c from its summed counters (see ms_class_counters_t). */
static uint64_t live_usable(unsigned c, const ms_class_counters_t *s) {
  uint64_t regular = (s->allocs - s->frees) - (s->odd_allocs - s->odd_frees);
  return regular * _ms_class_usable[c] + (s->usable_alloc - s->usable_freed) +
         _ms_class_lean_live(s, _ms_class_usable[c]);
}

static void sum_class(unsigned c, ms_class_counters_t *out) {
  memset(out, 0, sizeof *out);
  for (ms_thread_t *t = atomic_load(&_ms_threads); t; t = atomic_load(&t->next)) {
    out->allocs += MS_CNT_GET(t->cls[c].allocs);
    out->frees += MS_CNT_GET(t->cls[c].frees);
    out->lean_frees += MS_CNT_GET(t->cls[c].lean_frees);
    out->lean_allocs += MS_CNT_GET(t->cls[c].lean_allocs);
    out->lean_req += MS_CNT_GET(t->cls[c].lean_req);
    out->lean_odd_net += MS_CNT_GET(t->cls[c].lean_odd_net);
    out->lean_odd_bytes += MS_CNT_GET(t->cls[c].lean_odd_bytes);
    out->req_alloc += MS_CNT_GET(t->cls[c].req_alloc);
    out->req_freed += MS_CNT_GET(t->cls[c].req_freed);
    out->usable_alloc += MS_CNT_GET(t->cls[c].usable_alloc);
    out->usable_freed += MS_CNT_GET(t->cls[c].usable_freed);
    out->odd_allocs += MS_CNT_GET(t->cls[c].odd_allocs);
    out->odd_frees += MS_CNT_GET(t->cls[c].odd_frees);
  }
}

void _ms_stats_read(ms_stats_t *out) {
  memset(out, 0, sizeof *out);
  uint64_t hdr_a = 0, hdr_f = 0, threads = 0;
  for (ms_thread_t *t = atomic_load(&_ms_threads); t; t = atomic_load(&t->next)) {
    hdr_a += MS_CNT_GET(t->header_alloc);
    hdr_f += MS_CNT_GET(t->header_freed);
    threads++;
  }
  uint64_t usable = 0, live = 0;
  for (unsigned c = 0; c < MS_CLASS_COUNT; c++) {
    ms_class_counters_t s;
    sum_class(c, &s);
    out->total_allocations += s.allocs + s.lean_allocs;
    out->total_frees += s.frees + s.lean_frees;
    out->total_bytes += s.req_alloc + s.lean_req;
    live += (s.req_alloc - s.req_freed) + _ms_class_lean_live(&s, _ms_class_usable[c]);
    usable += live_usable(c, &s);
  }
  /* requested bytes where free() knows them (blocks with a header: all in header mode, sampled
   * ones in lean mode), usable bytes for lean-mode unsampled blocks: exact either way */
  out->live_bytes = live;
  out->live_allocations = out->total_allocations - out->total_frees;
  out->usable_bytes = usable;
  out->header_bytes = hdr_a - hdr_f;
  uint64_t peak = atomic_load(&_ms_peak_live);
  out->peak_live_bytes = peak > out->live_bytes ? peak : out->live_bytes;
  out->sample_rate = atomic_load(&_ms_sample_rate);
  out->sampled_allocations = _ms_sampled_total();
  out->sampled_live = _ms_sampled_live();
  out->stacks = _ms_stacks_count();
  out->errors = _ms_errors_count();
  out->threads = threads - 1; /* the orphan block is not a thread */
}

MS_EXPORT int ms_stats(ms_stats_t *out) {
  if (!out) return MS_EINVAL;
  if (atomic_load(&_ms_init_state) != 2) _ms_init();
  _ms_guard++;
  _ms_stats_read(out);
  _ms_guard--;
  return MS_OK;
}

MS_EXPORT unsigned ms_class_count(void) { return MS_CLASS_COUNT; }

MS_EXPORT int ms_class_stats(unsigned index, ms_class_stats_t *out) {
  if (!out || index >= MS_CLASS_COUNT) return MS_EINVAL;
  ms_class_counters_t s;
  sum_class(index, &s);
  out->size = _ms_class_max(index);
  out->allocations = s.allocs + s.lean_allocs;
  out->frees = s.frees + s.lean_frees;
  out->requested_bytes = s.req_alloc + s.lean_req - _ms_class_req_freed(&s);
  out->usable_bytes = live_usable(index, &s);
  out->total_requested = s.req_alloc + s.lean_req;
  return MS_OK;
}

MS_EXPORT int ms_set_sample_rate(size_t bytes) {
  if (atomic_load(&_ms_init_state) != 2) _ms_init();
  atomic_store(&_ms_sample_rate, (uint64_t)bytes);
  _ms_sampler_reset_all();
  return MS_OK;
}
