/* live.c — the live set of sampled blocks. A sampled block is in it while its sampled bit is set
 * in the block map (alloc/blockmap.h) and its record says LIVE; nothing links the records, so
 * adding or removing a block touches only the block's own header and one bitmap word (a linked
 * list made every free touch its two neighbours' headers: two cache misses in a large heap, a
 * fifth of a rate-1 churn run).
 *
 * 64 small locks keep snapshots consistent: insert, remove and forgetting a block's bit take the
 * calling thread's lock (so uncontended but by visits); a visit holds every lock while it walks the
 * bitmaps, so no block can join, leave or go back to mimalloc under it. Visits are rare
 * (snapshots, the leak check) and cost a scan of 1 bit per 16 bytes of the chunks that ever
 * held a sampled block.
 */
#include <mimalloc.h>

#include "blockmap.h"
#include "checks.h"
#include "track.h"

/* The live flag: ms_sample_t.time_flags' top bits (SAMPLED), MS_EXACT_LIVE (EXACT); set at
 * insert, cleared at free, under the shard lock. */
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

/* The lock a change takes: the calling thread's. A visit holds every lock, so whichever one a
 * change holds keeps it out of a visit; the calling thread's stays in that thread's cache and
 * is contended only by visits (locking the block's shard instead, by address, made 4 threads
 * pass the locks' lines back and forth: a fifth of a 4-thread rate-1 churn). Per-shard counts
 * may go below zero (a block freed by another thread than the one that made it); their sum is
 * the live count. */
static inline live_shard_t *my_shard(void) {
  ms_thread_t *t = _ms_self;
  return &shards[(t ? t->index : 0) % MS_LIVE_SHARDS];
}

static inline uint64_t *live_word(void *p, unsigned kind, uint64_t *bit) {
  if (kind == MS_HDR_EXACT) {
    *bit = MS_EXACT_LIVE;
    return _ms_exact_word(p);
  }
  *bit = REC_LIVE;
  return &_ms_sample_of(p)->time_flags;
}

/* The record has been filled: publish it (its bit makes it visible to visits). */
void _ms_live_insert(void *p, unsigned kind) {
  live_shard_t *s = my_shard();
  uint64_t bit, *w = live_word(p, kind, &bit);
  shard_lock(s);
  if (_ms_sampled_set(p, 1) == 0) {
    *w |= bit;
    s->count++;
  } /* else no map (reserved by the caller, so not expected): the block stays out of the set */
  shard_unlock(s);
}

/* A free: the block leaves the live set. Its bit stays while the allocator holds the freed
 * block back (double-free detection); _ms_track_forget() clears it. */
int _ms_live_remove(void *p, unsigned kind) {
  int intact = kind == MS_HDR_SAMPLED ? _ms_sample_of(p)->check == _ms_record_check(p)
                                      : _ms_exact_intact(p, *_ms_exact_word(p));
  live_shard_t *s = my_shard();
  uint64_t bit, *w = live_word(p, kind, &bit);
  shard_lock(s);
  if (*w & bit) { /* (a damaged record still leaves the set: the block is being freed) */
    *w &= ~bit;
    s->count--;
  }
  shard_unlock(s);
  if (!intact) {
    /* the program's error, found from inside the tracker (guard held): report it anyway */
    int guard = _ms_guard;
    _ms_guard = 0;
    _ms_report_error(4 /* buffer_underflow */, p, 0, NULL);
    _ms_guard = guard;
    return 0; /* the record cannot be trusted: its site's figures are left as they are */
  }
  return 1;
}

/* The block goes back to mimalloc: clear its bit first, under the lock, so a visit never reads
 * a record whose memory may already be someone else's. */
void _ms_track_forget(void *p) {
  live_shard_t *s = my_shard();
  shard_lock(s);
  _ms_sampled_set(p, 0);
  shard_unlock(s);
}

typedef struct visit {
  void (*fn)(const ms_block_info_t *b, void *arg);
  void *arg;
  uint64_t n, now;
} visit_t;

static void visit_bit(void *p, void *arg) {
  visit_t *v = arg;
  uint64_t tag = *_ms_tag_ptr(p);
  unsigned kind = _ms_tag_kind(tag);
  if (!_ms_kind_sampled(kind)) return; /* (cannot be: the bit is only set on sampled blocks) */
  uint64_t bit, *w = live_word(p, kind, &bit);
  if (!(*w & bit)) return; /* freed, held back */
  ms_block_info_t b;
  _ms_block_info(p, tag, v->now, &b);
  v->fn(&b, v->arg);
  v->n++;
}

uint64_t _ms_live_visit(void (*fn)(const ms_block_info_t *b, void *arg), void *arg) {
  _ms_live_lock_all();
  visit_t v = {fn, arg, 0, _ms_now_ns()}; /* after the locks: no block inserted later than now */
  _ms_sampled_each(visit_bit, &v);
  _ms_live_unlock_all();
  return v.n;
}

uint64_t _ms_live_count(void) {
  uint64_t n = 0; /* (sums per-shard counts that may each wrap below zero) */
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
