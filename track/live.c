/* live.c — the live set of sampled blocks. A sampled block is in it while its sampled bit is set
 * in the block map (alloc/blockmap.h) and its record says LIVE; nothing links the records, so
 * adding or removing a block touches only the block's own header and one bitmap word (a linked
 * list made every free touch its two neighbours' headers: two cache misses in a large heap, a
 * fifth of a rate-1 churn run).
 *
 * 64 small locks, one per shard of allocating threads, keep snapshots consistent: insert, remove
 * and forgetting a block's bit take the lock of the record's shard (the owning thread's, so
 * uncontended but for frees on other threads); a visit holds every lock while it walks the
 * bitmaps, so no block can join, leave or go back to mimalloc under it. Visits are rare
 * (snapshots, the leak check) and cost a scan of 1 bit per 16 bytes of the chunks that ever
 * held a sampled block.
 */
#include <mimalloc.h>

#include "blockmap.h"
#include "checks.h"
#include "track.h"

/* ms_sample_t.time_flags: in the live set (set at insert, cleared at free, under the lock) */
#define REC_LIVE (((uint64_t)1) << 56)

typedef struct live_shard {
  _Atomic int lock;
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

/* The record has been filled: publish it (its bit makes it visible to visits). */
void _ms_live_insert(ms_sample_t *r) {
  live_shard_t *s = &shards[r->thread % MS_LIVE_SHARDS];
  shard_lock(s);
  r->time_flags |= REC_LIVE;
  if (_ms_sampled_set(_ms_sample_ptr(r), 1) == 0) s->count++;
  else r->time_flags &= ~REC_LIVE; /* no map (reserved by the caller, so not expected) */
  shard_unlock(s);
}

/* A free: the block leaves the live set. Its bit stays while the allocator holds the freed
 * block back (double-free detection); _ms_live_forget() clears it. */
void _ms_live_remove(ms_sample_t *r) {
  if (r->check != _ms_record_check(_ms_sample_ptr(r))) {
    /* the program's error, found from inside the tracker (guard held): report it anyway */
    int guard = _ms_guard;
    _ms_guard = 0;
    _ms_report_error(4 /* buffer_underflow */, _ms_sample_ptr(r), 0, NULL);
    _ms_guard = guard;
    return; /* the record cannot be trusted: leave it (and its site's figures) as they are */
  }
  live_shard_t *s = &shards[r->thread % MS_LIVE_SHARDS];
  shard_lock(s);
  if (r->time_flags & REC_LIVE) {
    r->time_flags &= ~REC_LIVE;
    s->count--;
  }
  shard_unlock(s);
}

/* The block goes back to mimalloc: clear its bit first, under the lock, so a visit never reads
 * a record whose memory may already be someone else's. */
void _ms_track_forget(void *record) {
  ms_sample_t *r = record;
  live_shard_t *s = &shards[r->thread % MS_LIVE_SHARDS];
  shard_lock(s);
  _ms_sampled_set(_ms_sample_ptr(r), 0);
  shard_unlock(s);
}

typedef struct visit {
  void (*fn)(ms_sample_t *r, void *arg);
  void *arg;
  uint64_t n;
} visit_t;

static void visit_bit(void *p, void *arg) {
  visit_t *v = arg;
  ms_sample_t *r = _ms_block_of(p, MS_HDR_SAMPLED);
  if (!(r->time_flags & REC_LIVE)) return; /* freed, held back */
  v->fn(r, v->arg);
  v->n++;
}

uint64_t _ms_live_visit(void (*fn)(ms_sample_t *r, void *arg), void *arg) {
  visit_t v = {fn, arg, 0};
  _ms_live_lock_all();
  _ms_sampled_each(visit_bit, &v);
  _ms_live_unlock_all();
  return v.n;
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
