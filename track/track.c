/* track.c — the tracker's entry points called by the allocator core: a sampled allocation gets
 * its weight, time, stack and a place in the live set; its free updates its site (lifetime,
 * temporary or not) and the module-crossing table; realloc links the two blocks. Also the
 * tracker's set-up, fork handlers and at-exit work, and its private allocation helpers.
 * Everything here runs with the re-entrancy guard held, so the unwinder's own mallocs are not
 * tracked.
 */
#include <mimalloc.h>
#include <string.h>

#include "track.h"

void *_ms_xalloc(size_t n) { return mi_malloc(n); }
void *_ms_xcalloc(size_t n, size_t size) { return mi_calloc(n, size); }
void *_ms_xrealloc(void *p, size_t n) { return mi_realloc(p, n); }
void _ms_xfree(void *p) { mi_free(p); }
char *_ms_xstrdup(const char *s) { return s ? mi_strdup(s) : NULL; }

void _ms_track_init(void) {
  _ms_stacks_init();
  _ms_sites_init();
}

void _ms_track_alloc(ms_thread_t *t, void *p, uint64_t size, void *block) {
  ms_sample_t *r = block;
  uint64_t rate = atomic_load_explicit(&_ms_sample_rate, memory_order_relaxed);
  r->weight_bytes = _ms_sample_weight(size, rate);
  r->time_flags = _ms_now_ns() & MS_SAMPLE_TIME_MASK;
  r->thread = t->serial;
  r->check = _ms_record_check(p);
  r->stack = _ms_stack_capture(t->tag_depth ? t->tags[t->tag_depth - 1] : 0);
  _ms_sites_on_alloc(t, r->stack, r->weight_bytes, _ms_sample_count_weight(r->weight_bytes, size));
  MS_CNT_ADD(t->sampled_allocs, 1);
  t->last_sample = p;
  t->last_sample_seq = _ms_thread_progress(t);
  _ms_live_insert(r);
}

void _ms_track_free(ms_thread_t *t, void *p, uint64_t tag, void *block, void *caller) {
  uint64_t size = _ms_tag_size(tag);
  if (tag & MS_TAG_NAMED) _ms_vars_on_free(p, size);
  if (_ms_tag_kind(tag) != MS_HDR_SAMPLED) return;
  ms_sample_t *r = block;
  _ms_live_remove(r);
  uint64_t now = _ms_now_ns();
  /* temporary: the thread's last allocation, freed by it before it allocated again */
  int temporary = t->last_sample == p && _ms_thread_progress(t) == t->last_sample_seq;
  uint64_t wcount = _ms_sample_count_weight(r->weight_bytes, size);
  _ms_sites_on_free(t, r->stack, r->weight_bytes, wcount, (now - _ms_sample_time(r)) & MS_SAMPLE_TIME_MASK, temporary);
  MS_CNT_ADD(t->sampled_frees, 1);
  uint64_t ret = (uint64_t)(uintptr_t)caller;
  if (ret && !_ms_is_own_address(ret)) {
    uint32_t fm = _ms_module_of(ret - 1), am = _ms_site_module(r->stack);
    if (fm != am && fm != MS_DUMP_NONE && am != MS_DUMP_NONE)
      _ms_crossing_add(am, fm, r->weight_bytes, wcount);
  }
}

void _ms_track_realloc(void *old, uint64_t otag, void *q, uint64_t n) {
  if (_ms_tag_kind(otag) == MS_HDR_SAMPLED) {
    ms_sample_t *r = _ms_block_of(old, MS_HDR_SAMPLED);
    uint64_t wcount = _ms_sample_count_weight(r->weight_bytes, _ms_tag_size(otag));
    _ms_sites_on_realloc(_ms_self, r->stack, wcount);
  }
  if (otag & MS_TAG_NAMED) _ms_vars_on_realloc(old, q, n);
}

/* An in-place resize moves the block's contribution at its site from (old weight, count) to
 * (new weight, count): booked as a free of the old and an allocation of the new, without a
 * lifetime, so live = total - freed stays right. */
void _ms_track_resize(void *block, uint64_t old, uint64_t n) {
  ms_sample_t *r = block;
  uint64_t rate = atomic_load_explicit(&_ms_sample_rate, memory_order_relaxed);
  uint64_t w_old = r->weight_bytes, w_new = rate == 0 ? n : _ms_sample_weight(n, rate);
  uint64_t c_old = _ms_sample_count_weight(w_old, old), c_new = _ms_sample_count_weight(w_new, n);
  ms_site_t *s = _ms_site(r->stack);
  atomic_fetch_add_explicit(&s->total_bytes, w_new, memory_order_relaxed);
  atomic_fetch_add_explicit(&s->total_count, c_new, memory_order_relaxed);
  atomic_fetch_add_explicit(&s->freed_bytes, w_old, memory_order_relaxed);
  atomic_fetch_add_explicit(&s->freed_count, c_old, memory_order_relaxed);
  atomic_fetch_add_explicit(&s->realloc_count, c_new, memory_order_relaxed);
  r->weight_bytes = w_new;
}

void _ms_track_atfork_prepare(void) {
  _ms_snapshot_lock(1);
  _ms_sites_lock(1);
  _ms_vars_atfork_prepare();
  _ms_errors_lock(1);
  _ms_modules_lock(1);
  _ms_timeline_lock(1);
  _ms_threads_lock(1);
  _ms_live_lock_all();
}

void _ms_track_atfork_parent(void) {
  _ms_live_unlock_all();
  _ms_threads_lock(0);
  _ms_timeline_lock(0);
  _ms_modules_lock(0);
  _ms_errors_lock(0);
  _ms_vars_atfork_release();
  _ms_sites_lock(0);
  _ms_snapshot_lock(0);
}

void _ms_track_atfork_child(void) {
  _ms_track_atfork_parent();
  _ms_sites_fork_child();
  _ms_stacks_fork_child();
  _ms_signal_fork_child();
}

void _ms_track_at_exit(void) {
  if (_ms_options.leak_report) _ms_leak_report();
  if (_ms_options.output) _ms_snapshot_write(NULL, MS_DUMP_REASON_EXIT);
}
