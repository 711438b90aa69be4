/* live.c — the live set of sampled blocks: intrusive doubly-linked lists through the sample
 * records (which live inside the blocks' headers), split into 64 shards by allocating thread,
 * each with its own small lock. Insert and remove are O(1); a free on another thread locks only
 * the block's shard. Snapshots visit the shards one at a time, so at most one shard's
 * allocators wait, and only for as long as copying that shard takes.
 */
#include <mimalloc.h>

#include "checks.h"
#include "track.h"

typedef struct live_shard {
  _Atomic int lock;
  ms_sample_t *head;
  uint64_t count;
} __attribute__((aligned(MS_CACHE_LINE))) live_shard_t;

static live_shard_t shards[MS_LIVE_SHARDS];

static inline void shard_lock(live_shard_t *s) {
  while (atomic_exchange_explicit(&s->lock, 1, memory_order_acquire))
    while (atomic_load_explicit(&s->lock, memory_order_relaxed)) __builtin_ia32_pause();
}
static inline void shard_unlock(live_shard_t *s) {
  atomic_store_explicit(&s->lock, 0, memory_order_release);
}

void _ms_live_insert(ms_sample_t *r) {
  live_shard_t *s = &shards[r->shard % MS_LIVE_SHARDS];
  shard_lock(s);
  r->prev = NULL;
  r->next = s->head;
  if (s->head) s->head->prev = r;
  s->head = r;
  s->count++;
  shard_unlock(s);
}

/* A link may be followed only if it can be a record: aligned, inside mimalloc's heap or the
 * guard-page pool (alloc/guarded.c). */
static int plausible(const ms_sample_t *q) {
  return ((uintptr_t)q & 15) == 0 && (mi_is_in_heap_region(q) || _ms_guarded_contains(q));
}

/* The record sits in front of the block's guard word, where an underflow of this block or an
 * overflow of the block below lands: check both neighbours still point back at r before
 * unlinking, so corrupted links are reported instead of written through. */
void _ms_live_remove(ms_sample_t *r) {
  live_shard_t *s = &shards[r->shard % MS_LIVE_SHARDS];
  shard_lock(s);
  if ((r->prev && !plausible(r->prev)) || (r->next && !plausible(r->next)) ||
      (r->prev ? r->prev->next != r : s->head != r) || (r->next && r->next->prev != r)) {
    shard_unlock(s);
    /* the program's error, found from inside the tracker (guard held): report it anyway */
    int guard = _ms_guard;
    _ms_guard = 0;
    _ms_report_error(4 /* buffer_underflow */, _ms_sample_ptr(r), 0, NULL);
    _ms_guard = guard;
    return; /* leave the list as it is: the record cannot be trusted */
  }
  if (r->prev) r->prev->next = r->next;
  else s->head = r->next;
  if (r->next) r->next->prev = r->prev;
  s->count--;
  shard_unlock(s);
}

uint64_t _ms_live_visit(void (*fn)(ms_sample_t *r, void *arg), void *arg) {
  uint64_t n = 0;
  for (unsigned i = 0; i < MS_LIVE_SHARDS; i++) {
    live_shard_t *s = &shards[i];
    shard_lock(s);
    for (ms_sample_t *r = s->head; r; r = r->next, n++) fn(r, arg);
    shard_unlock(s);
  }
  return n;
}

uint64_t _ms_live_count(void) {
  uint64_t n = 0;
  for (unsigned i = 0; i < MS_LIVE_SHARDS; i++) n += __atomic_load_n(&shards[i].count, __ATOMIC_RELAXED);
  return n;
}

/* fork: hold every shard lock across fork so the child never inherits one mid-update */
void _ms_live_lock_all(void) {
  for (unsigned i = 0; i < MS_LIVE_SHARDS; i++) shard_lock(&shards[i]);
}
void _ms_live_unlock_all(void) {
  for (unsigned i = 0; i < MS_LIVE_SHARDS; i++) shard_unlock(&shards[i]);
}
