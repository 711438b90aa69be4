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

void _ms_track_alloc(ms_thread_t *t, void *p, uint64_t size, unsigned kind) {
  uint32_t stack = _ms_stack_capture(t->tag_depth ? t->tags[t->tag_depth - 1] : 0);
  uint64_t weight;
  if (kind == MS_HDR_EXACT) {
    weight = size; /* rate 1 */
    *_ms_exact_word(p) = _ms_exact_make(p, stack, _ms_now_ns());
  } else {
    ms_sample_t *r = _ms_sample_of(p);
    uint64_t rate = atomic_load_explicit(&_ms_sample_rate, memory_order_relaxed);
    weight = r->weight_bytes = _ms_sample_weight(size, rate);
    r->time_flags = _ms_now_ns() & MS_SAMPLE_TIME_MASK;
    r->thread = t->serial;
    r->check = _ms_record_check(p);
    r->stack = stack;
  }
  _ms_sites_on_alloc(t, stack, weight, _ms_sample_count_weight(weight, size));
  MS_CNT_ADD(t->sampled_allocs, 1);
  t->last_sample = p;
  t->last_sample_seq = _ms_thread_progress(t);
  _ms_live_insert(p, kind);
}

void _ms_track_free(ms_thread_t *t, void *p, uint64_t tag, void *block, void *caller) {
  (void)block;
  uint64_t size = _ms_tag_size(tag);
  unsigned kind = _ms_tag_kind(tag);
  if (tag & MS_TAG_NAMED) _ms_vars_on_free(p, size);
  if (!_ms_kind_sampled(kind) || !_ms_live_remove(p, kind)) return;
  uint64_t now = _ms_now_ns();
  ms_block_info_t b;
  _ms_block_info(p, tag, now, &b);
  /* temporary: the thread's last allocation, freed by it before it allocated again */
  int temporary = t->last_sample == p && _ms_thread_progress(t) == t->last_sample_seq;
  uint64_t wcount = _ms_sample_count_weight(b.weight_bytes, size);
  uint64_t age = kind == MS_HDR_EXACT ? now - b.time_ns : (now - b.time_ns) & MS_SAMPLE_TIME_MASK;
  _ms_sites_on_free(t, b.stack, b.weight_bytes, wcount, age, temporary);
  MS_CNT_ADD(t->sampled_frees, 1);
  uint64_t ret = (uint64_t)(uintptr_t)caller;
  if (ret && !_ms_is_own_address(ret)) {
    uint32_t fm = _ms_module_of(ret - 1), am = _ms_site_module(b.stack);
    if (fm != am && fm != MS_DUMP_NONE && am != MS_DUMP_NONE)
      _ms_crossing_add(am, fm, b.weight_bytes, wcount);
  }
}

void _ms_track_realloc(void *old, uint64_t otag, void *q, uint64_t n) {
  if (_ms_kind_sampled(_ms_tag_kind(otag))) {
    ms_block_info_t b;
    _ms_block_info(old, otag, 0, &b);
    uint64_t wcount = _ms_sample_count_weight(b.weight_bytes, _ms_tag_size(otag));
    _ms_sites_on_realloc(_ms_self, b.stack, wcount);
  }
  if (otag & MS_TAG_NAMED) _ms_vars_on_realloc(old, q, n);
}

/* An in-place resize moves the block's contribution at its site from (old weight, count) to
 * (new weight, count): booked as a free of the old and an allocation of the new, without a
 * lifetime, so live = total - freed stays right. */
void _ms_track_resize(void *p, unsigned kind, uint64_t old, uint64_t n) {
  uint64_t rate = atomic_load_explicit(&_ms_sample_rate, memory_order_relaxed);
  ms_sample_t *r = kind == MS_HDR_SAMPLED ? _ms_sample_of(p) : NULL;
  uint64_t w_old = r ? r->weight_bytes : old;
  uint64_t w_new = !r || rate == 0 ? n : _ms_sample_weight(n, rate);
  uint64_t c_old = _ms_sample_count_weight(w_old, old), c_new = _ms_sample_count_weight(w_new, n);
  ms_site_t *s = _ms_site(_ms_block_stack(p, *_ms_tag_ptr(p)));
  atomic_fetch_add_explicit(&s->total_bytes, w_new, memory_order_relaxed);
  atomic_fetch_add_explicit(&s->total_count, c_new, memory_order_relaxed);
  atomic_fetch_add_explicit(&s->freed_bytes, w_old, memory_order_relaxed);
  atomic_fetch_add_explicit(&s->freed_count, c_old, memory_order_relaxed);
  atomic_fetch_add_explicit(&s->realloc_count, c_new, memory_order_relaxed);
  if (r) r->weight_bytes = w_new;
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
