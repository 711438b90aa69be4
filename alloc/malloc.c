/* malloc.c — the malloc family: every C entry point memscope provides in place of glibc's.
 *
 * Two block layouts, fixed at start-up (_ms_lean_mode, decided in _ms_init from
 * MEMSCOPE_CHECKS):
 *
 *   lean mode (the default): an unsampled block is exactly the block mimalloc returns; memscope
 *   neither writes nor reads its bytes. Its size on free comes from mimalloc (usable size ->
 *   size class). Sampled blocks get the 48-byte SAMPLED header of alloc/header.h and a mark in
 *   the block map (alloc/blockmap.h), which is how free() finds them; named blocks get a mark
 *   too. Every figure that needs a requested size is exact for sampled blocks and estimated
 *   per size class for the others (docs/FORMAT.md).
 *
 *   header mode (MEMSCOPE_CHECKS turns on a check that needs the bytes around every block:
 *   canaries, quarantine, guard pages, or `headers`): every block carries a header
 *   (alloc/header.h) that free() reads, so double, invalid and underflowing frees are caught
 *   for every block.
 *
 * Each allocation bumps the calling thread's size-class counters and the sampler's countdown.
 * Only when the countdown runs out does the allocation take the sampled path into the tracker.
 * Every byte up to malloc_usable_size() is the program's: realloc keeps it, calloc zeroes it.
 *
 * Semantics follow glibc 2.36 where mimalloc differs: realloc(p, 0) frees and returns NULL;
 * every failure sets ENOMEM (mimalloc 2.0.9 leaves errno alone for some absurd sizes); free()
 * never changes errno; memalign/aligned_alloc round a non-power-of-two alignment up;
 * posix_memalign validates its alignment and never touches errno.
 */
#include <errno.h>
#include <malloc.h>
#include <mimalloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blockmap.h"
#include "checks.h"
#include "entry.h"
#include "internal.h"
#include "memscope.h"

#include "visibility.h"   /* MS_EXPORT */

/* ------------------------------------------------------------------ thread state access */

static _Atomic int orphan_lock;
static __thread unsigned t_orphan_depth __attribute__((tls_model("initial-exec")));
extern ms_thread_t _ms_orphan; /* thread.c: shared block for threads past their exit */

/* The calling thread's block. When the thread has none (it is exiting, or memscope is being
 * initialised by this very call) the shared orphan block is used under a spin lock. The lock is
 * re-entrant per thread: a report or a tracker call made while holding it may allocate. */
static ms_thread_t *orphan_enter(int *locked) {
  if (t_orphan_depth == 0)
    while (atomic_exchange_explicit(&orphan_lock, 1, memory_order_acquire))
      __builtin_ia32_pause();
  t_orphan_depth++;
  *locked = 1;
  return &_ms_orphan;
}
static inline ms_thread_t *thread_enter(int *locked) {
  ms_thread_t *t = _ms_self;
  if (MS_LIKELY(t != NULL)) return t;
  t = _ms_thread_slow();
  return t ? t : orphan_enter(locked);
}
static inline void thread_leave(int locked) {
  if (MS_UNLIKELY(locked) && --t_orphan_depth == 0)
    atomic_store_explicit(&orphan_lock, 0, memory_order_release);
}

/* fork child: the lock may have been held by a thread that does not exist here */
void _ms_orphan_fork_child(void) {
  if (t_orphan_depth == 0) atomic_store(&orphan_lock, 0);
}

static inline int64_t countdown_get(ms_thread_t *t) {
  return __atomic_load_n(&t->sample_countdown, __ATOMIC_RELAXED);
}
static inline void countdown_set(ms_thread_t *t, int64_t v) {
  __atomic_store_n(&t->sample_countdown, v, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ counters */

/* Counters for an allocation of n bytes in class cls with header h. Blocks of an exact class
 * need no usable-size bookkeeping; odd ones (large, over-aligned) ask mimalloc. */
/* sampled: a sampled block flushes after the tracker has booked it at its site (_ms_alloc), so
 * that a peak it sets is copied with the block in it. */
static inline void count_alloc_regular(ms_thread_t *t, unsigned cls, uint64_t n, size_t h,
                                       int sampled) {
  ms_class_counters_t *c = &t->cls[cls];
  MS_CNT_ADD(c->allocs, 1);
  MS_CNT_ADD(c->req_alloc, n);
  MS_CNT_ADD(t->header_alloc, h);
  t->live_delta += (int64_t)n;
  if (MS_UNLIKELY(t->live_delta >= MS_LIVE_FLUSH) && !sampled) _ms_live_flush(t);
}

static inline void count_free_regular(ms_thread_t *t, unsigned cls, uint64_t n, size_t h) {
  ms_class_counters_t *c = &t->cls[cls];
  MS_CNT_ADD(c->frees, 1);
  MS_CNT_ADD(c->req_freed, n);
  MS_CNT_ADD(t->header_freed, h);
  t->live_delta -= (int64_t)n;
  if (MS_UNLIKELY(t->live_delta <= -MS_LIVE_FLUSH)) _ms_live_flush(t);
}

static inline int is_odd(unsigned cls, int aligned) {
  return aligned || _ms_class_usable[cls] == 0;
}

static inline void count_alloc(ms_thread_t *t, unsigned cls, uint64_t n, void *block,
                               int aligned, size_t h, int sampled) {
  count_alloc_regular(t, cls, n, h, sampled);
  if (MS_UNLIKELY(is_odd(cls, aligned))) {
    MS_CNT_ADD(t->cls[cls].odd_allocs, 1);
    MS_CNT_ADD(t->cls[cls].usable_alloc, mi_usable_size(block));
  }
}

static inline void count_free(ms_thread_t *t, unsigned cls, uint64_t n, void *block,
                              int aligned, size_t h) {
  count_free_regular(t, cls, n, h);
  if (MS_UNLIKELY(is_odd(cls, aligned))) {
    MS_CNT_ADD(t->cls[cls].odd_frees, 1);
    MS_CNT_ADD(t->cls[cls].usable_freed, mi_usable_size(block));
  }
}

static inline uint64_t usable_of(void *block, unsigned cls, int aligned) {
  uint32_t u = _ms_class_usable[cls];
  return (MS_LIKELY(u != 0) && !aligned) ? u : mi_usable_size(block);
}

/* Lean mode, unsampled blocks: the class and usable size come from mimalloc's block (the
 * request n maps to the same bin mimalloc serves it from, test_size_class checks it), the
 * requested bytes are kept per class on allocation only. Live bytes move by usable size. */
static inline void lean_count_alloc(ms_thread_t *t, unsigned cls, uint64_t n, uint64_t usable) {
  ms_class_counters_t *c = &t->cls[cls];
  MS_CNT_ADD(c->lean_allocs, 1);
  MS_CNT_ADD(c->lean_req, n);
  t->live_delta += (int64_t)usable;
  if (MS_UNLIKELY(t->live_delta >= MS_LIVE_FLUSH)) _ms_live_flush(t);
}
static inline void lean_count_free(ms_thread_t *t, unsigned cls, uint64_t usable) {
  MS_CNT_ADD(t->cls[cls].lean_frees, 1);
  t->live_delta -= (int64_t)usable;
  if (MS_UNLIKELY(t->live_delta <= -MS_LIVE_FLUSH)) _ms_live_flush(t);
}
/* Odd blocks (above MS_CLASS_EXACT_MAX, over-aligned): their usable size is their own. */
static void lean_count_alloc_any(ms_thread_t *t, uint64_t n, void *p) {
  uint64_t u = mi_usable_size(p);
  unsigned cls = _ms_class_of(u);
  if (_ms_class_usable[cls] != u) {
    MS_CNT_ADD(t->cls[cls].lean_odd_net, 1);
    MS_CNT_ADD(t->cls[cls].lean_odd_bytes, (int64_t)u);
  }
  lean_count_alloc(t, cls, n, u);
}
static void lean_count_free_any(ms_thread_t *t, uint64_t u) {
  unsigned cls = _ms_class_of(u);
  if (_ms_class_usable[cls] != u) {
    MS_CNT_ADD(t->cls[cls].lean_odd_net, -1);
    MS_CNT_ADD(t->cls[cls].lean_odd_bytes, -(int64_t)u);
  }
  lean_count_free(t, cls, u);
}

/* ------------------------------------------------------------------ allocation */

/* Decide the header kind for a request; SAMPLED when the sampler's countdown ran out. */
static inline unsigned header_kind(ms_thread_t *t, size_t n, size_t align) {
  int64_t cd = countdown_get(t) - (int64_t)n;
  countdown_set(t, cd);
  if (MS_UNLIKELY(cd <= 0) && !_ms_guard) {
    int64_t next = _ms_sampler_next(t); /* -1 when the rate is 0 (statistics only) */
    if (next >= 0) {
      countdown_set(t, next);
      return MS_HDR_SAMPLED;
    }
    countdown_set(t, MS_RATE0_RECHECK);
  }
  return (n <= MS_SHORT_MAX && align <= 8) ? MS_HDR_SHORT : MS_HDR_NORMAL;
}

/* Lean mode: an unsampled block is the block mimalloc returns, nothing in front of it.
 * mimalloc aligns blocks of 16 bytes and more to 16, smaller ones to 8. Also where a sampled
 * block goes when it could not be marked (no memory for the chunk's bitmap). */
static void *lean_plain_alloc(ms_thread_t *t, size_t n, size_t align, int zero) {
  void *p;
  if (align <= 8 || (align <= 16 && n >= 16)) {
    p = zero ? mi_zalloc(n) : mi_malloc(n);
  } else {
    /* mimalloc 2.0.9 returns misaligned blocks for sizes that are a multiple of an alignment
     * of 256 or more, up to 1 KiB (it assumes such bins start aligned): one byte more takes
     * its path that really aligns (test/regress/usable_size.c) */
    size_t m = (align >= 256 && n <= 1024 && (n & (align - 1)) == 0) ? n + 1 : n;
    p = zero ? mi_zalloc_aligned(m, align) : mi_malloc_aligned(m, align);
  }
  if (MS_UNLIKELY(p == NULL)) {
    errno = ENOMEM;
    return NULL;
  }
  if (MS_LIKELY(!_ms_guard)) lean_count_alloc_any(t, n, p);
  if (MS_UNLIKELY(n >= MS_HUGE_MIN)) _ms_blockmap_huge(p, mi_usable_size(p), 1);
  return p;
}

/* The one allocation routine behind every entry point. align <= 16 means "natural". */
MS_INTERNAL void *_ms_alloc(size_t n, size_t align, int zero) {
  if (MS_UNLIKELY(n > MS_SIZE_MAX)) {
    errno = ENOMEM;
    return NULL;
  }
  int locked = 0;
  ms_thread_t *t = thread_enter(&locked);
  unsigned kind = locked ? ((n <= MS_SHORT_MAX && align <= 8) ? MS_HDR_SHORT : MS_HDR_NORMAL)
                         : header_kind(t, n, align);
  if (_ms_lean_mode && kind != MS_HDR_SAMPLED) {
    void *p = lean_plain_alloc(t, n, align, zero);
    thread_leave(locked);
    return p;
  }
  /* exact mode (lean, rate 1): every block is sampled and weighs its size, so the record fits
   * in one word (alloc/header.h, EXACT) */
  if (kind == MS_HDR_SAMPLED && _ms_lean_mode &&
      atomic_load_explicit(&_ms_sample_rate, memory_order_relaxed) == 1)
    kind = MS_HDR_EXACT;
  size_t h = _ms_hdr_len(kind);
  int aligned = align > 16;
  void *block = NULL;
  /* CHECKS (alloc/checks.h): 1 in uaf=RATE allocations from the guard-page pool */
  if (MS_UNLIKELY(_ms_check_flags & MS_CHK_UAF) && !_ms_guard && !locked) block = _ms_guarded_alloc(n, h, align, zero);
  /* lean mode: at least one byte after the header: a 0-byte block's pointer would otherwise be
   * where its mimalloc block ends, the next block's start, which is that block's pointer */
  size_t room = n + h + (n == 0 && _ms_lean_mode);
  if (MS_LIKELY(block == NULL)) {
    if (MS_LIKELY(!aligned))
      block = zero ? mi_zalloc(room) : mi_malloc(room);
    else
      block = zero ? mi_zalloc_aligned_at(room, align, h) : mi_malloc_aligned_at(room, align, h);
  }
  if (MS_UNLIKELY(block == NULL)) {
    thread_leave(locked);
    errno = ENOMEM;
    return NULL;
  }
  char *p = (char *)block + h;
  unsigned cls = _ms_class_of(room);
  uint64_t tag = _ms_tag_make(n, cls, kind, aligned);
  if (_ms_kind_guarded(kind)) *_ms_guard_ptr(p) = _ms_guard_value(p);
  if (MS_LIKELY(!_ms_guard)) count_alloc(t, cls, n, block, aligned, h, _ms_kind_sampled(kind));
  else tag |= MS_TAG_UNCOUNTED; /* memscope's own helpers: not the program's memory */
  /* CHECKS: canary after the requested size; GUARDED bit for guard-page blocks */
  if (_ms_check_flags & (MS_CHK_OVERFLOW | MS_CHK_UAF)) tag = _ms_checks_on_alloc(p, block, tag, n, h, cls);
  *_ms_tag_ptr(p) = tag;
  if (_ms_lean_mode) {
    /* lean: free() finds the header through the mark; no mark, no header. The tracker sets the
     * mark once the record is filled (track/live.c); here the chunk's map is made sure of. */
    if (MS_UNLIKELY(_ms_sampled_reserve(p) != 0)) {
      if (MS_LIKELY(!(tag & MS_TAG_UNCOUNTED))) count_free(t, cls, n, block, aligned, h);
      mi_free(block);
      p = lean_plain_alloc(t, n, align, zero);
      thread_leave(locked);
      return p;
    }
    if (MS_UNLIKELY(n + h >= MS_HUGE_MIN)) _ms_blockmap_huge(block, mi_usable_size(block), 1);
  }
  if (MS_UNLIKELY(_ms_kind_sampled(kind))) {
    _ms_guard++;
    _ms_track_alloc(t, p, n, kind);
    _ms_guard--;
    /* a sample costs a stack capture anyway: also publish the live delta, so the global peak
     * is as fine-grained as the sampling (exact at rate 1), not just the 64 KiB batches */
    _ms_live_flush(t);
  }
  thread_leave(locked);
  return p;
}

/* ------------------------------------------------------------------ validation and free */

/* A freed SHORT block's tag word is where mimalloc keeps its free-list link, so the FREED mark
 * is gone: the word is 0 (end of list) or a 16-aligned pointer near p. SHORT blocks start on a
 * 16-byte boundary (16- and 32-byte bins), so p is 8 past one. Only asked on the error path, to
 * tell a double free from an invalid free; it reads nothing but the word itself (asking
 * mimalloc about an arbitrary pointer can crash: an interior pointer of a huge block masks to
 * user data, not to a segment header). */
static int looks_freed_short(const void *p, uint64_t word) {
  uint64_t a = (uint64_t)(uintptr_t)p;
  if ((a & 15) != 8) return 0;
  if (word == 0) return 1;
  return (word & 15) == 0 && (word > a ? word - a : a - word) < (4u << 20);
}

/* Is p a live memscope block? Returns its tag word, or 0 after reporting what is wrong. */
static uint64_t live_tag(const void *p, int report) {
  if (MS_UNLIKELY(((uintptr_t)p & 7) != 0 || !mi_is_in_heap_region(p))) {
    if (_ms_guarded_contains(p)) { /* CHECKS: a guard-page pool block, not mimalloc's */
      if (!_ms_guarded_validate(p, report)) return 0;
    } else {
      if (report) _ms_report_error(1 /* invalid_free */, p, 0, NULL);
      return 0;
    }
  }
  uint64_t tag = *_ms_tag_ptr(p);
  unsigned kind = _ms_tag_kind(tag);
  /* Live state and a valid kind; for NORMAL and SAMPLED blocks the guard word below is the
   * strong check (random data matches p ^ secret with probability 2^-64). The class is not
   * recomputed: an in-place realloc keeps the block's class while its size changes. */
  if (MS_UNLIKELY(_ms_tag_state(tag) != MS_STATE_LIVE || (kind == MS_HDR_EXACT && !_ms_lean_mode) ||
                  _ms_tag_class(tag) >= MS_CLASS_COUNT)) {
    if (report) {
      /* the guard word below still matches p: the tag itself was overwritten (underflow) */
      int guard_ok = ((uintptr_t)p & 4095) >= 16 && *_ms_guard_ptr(p) == _ms_guard_value(p);
      int freed = _ms_tag_state(tag) == MS_STATE_FREED || (!guard_ok && looks_freed_short(p, tag));
      unsigned kind = freed ? 0 /* double_free */ : guard_ok ? 4 /* buffer_underflow */
                                                             : 1 /* invalid_free */;
      _ms_report_error(kind, p, freed ? _ms_tag_size(tag) : 0, NULL);
    }
    return 0;
  }
  if (MS_UNLIKELY(_ms_kind_guarded(kind) && *_ms_guard_ptr(p) != _ms_guard_value(p))) {
    /* The tag looks live but the word before it was overwritten: a buffer underflow (or an
     * overflow of the block below), or p is not a block at all and its "tag" is user data.
     * Either way the header cannot be trusted: report, and never hand the block to mimalloc
     * (it leaks; the default action for this corruption aborts anyway). */
    if (report) _ms_report_error(4 /* buffer_underflow */, p, _ms_tag_size(tag), NULL);
    return 0;
  }
  return tag;
}

/* Lean mode: a freed sampled block keeps its header (tag FREED) and its FREED mark for a while
 * instead of going back to mimalloc at once: its address cannot be reused meanwhile, so a second
 * free of it is a double free for certain, reported with the allocation stack still in the
 * header. At most MS_HELD_MAX blocks and MS_HELD_BYTES per thread; the oldest goes first. */
static void hold_freed_sample(ms_thread_t *t, void *p, uint64_t usable) {
  while (t->held_count == MS_HELD_MAX || (t->held_count && t->held_bytes + usable > MS_HELD_BYTES)) {
    void *q = t->held[t->held_head];
    t->held_head = (t->held_head + 1) % MS_HELD_MAX;
    t->held_count--;
    void *qb = _ms_block_of(q, _ms_tag_kind(*_ms_tag_ptr(q)));
    t->held_bytes -= mi_usable_size(qb);
    _ms_track_forget(q);
    mi_free(qb);
  }
  t->held[(t->held_head + t->held_count) % MS_HELD_MAX] = p;
  t->held_count++;
  t->held_bytes += usable;
}

static inline void release_block(ms_thread_t *t, void *p, uint64_t tag, void *caller) {
  unsigned kind = _ms_tag_kind(tag), cls = _ms_tag_class(tag);
  uint64_t n = _ms_tag_size(tag);
  void *block = _ms_block_of(p, kind);
  if (tag & MS_TAG_CANARIES) _ms_canary_check_of(p, tag, n, "at free"); /* CHECKS: overflow */
  if (MS_UNLIKELY(_ms_kind_sampled(kind) || (tag & MS_TAG_NAMED))) {
    _ms_guard++;
    _ms_track_free(t, p, tag, block, caller);
    _ms_guard--;
  }
  *_ms_tag_ptr(p) = _ms_tag_with_state(tag, MS_STATE_FREED);
  if (MS_LIKELY(!(tag & MS_TAG_UNCOUNTED)))
    count_free(t, cls, n, block, _ms_tag_aligned(tag), _ms_hdr_len(kind));
  /* (no flush for a sampled free: a free cannot make a peak, and the thread's next sampled
   * allocation flushes this with it: one atomic on the shared live figure per allocation, not
   * two, and the single-threaded peak stays exact) */
  if (_ms_lean_mode) { /* (only sampled blocks have a header in lean mode) */
    uint64_t bu = mi_usable_size(block);
    if (MS_UNLIKELY(bu >= MS_HUGE_MIN)) _ms_blockmap_huge(block, bu, 0);
    if (bu <= MS_HELD_BYTES / 4) {
      hold_freed_sample(t, p, bu);
      return;
    }
    _ms_track_forget(p); /* before mimalloc may give the address to another block */
    mi_free(block);
    return;
  }
  if (_ms_kind_sampled(kind)) _ms_track_forget(p); /* header mode holds nothing back */
  /* CHECKS: guard-page blocks go back to their pool; quarantine holds freed blocks back */
  if (MS_UNLIKELY((tag & MS_TAG_GUARDED) || (_ms_check_flags & MS_CHK_QUARANTINE)) &&
      _ms_checks_release(p, tag, block))
    return;
  mi_free(block);
}

/* ------------------------------------------------------------------ lean mode: blocks without
 * a header */

/* What the tracker is told of a lean-mode block that has no header: its requested size was not
 * kept, so its usable size stands in. */
static uint64_t lean_virtual_tag(const void *p, unsigned marks) {
  uint64_t u = mi_usable_size(p);
  if (u > MS_SIZE_MAX) u = MS_SIZE_MAX;
  uint64_t tag = _ms_tag_make(u, _ms_class_of(u), MS_HDR_NORMAL, 0);
  return marks == MS_MARK_NAMED ? tag | MS_TAG_NAMED : tag;
}

/* May lean mode hand p to mimalloc? A pointer outside mimalloc's heap, misaligned, or inside a
 * huge block past its first chunk is an invalid free (reported when asked). Interior pointers
 * of ordinary blocks look like blocks here: only header mode (MEMSCOPE_CHECKS=headers) and
 * sampled blocks catch those (docs/CHECKS.md). */
static int lean_valid(const void *p, int report) {
  if (MS_LIKELY(((uintptr_t)p & 7) == 0 && _ms_chunk_owned(p) && !_ms_sampled_near(p))) return 1;
  if (report) _ms_report_error(1 /* invalid_free */, p, 0, NULL);
  return 0;
}

static inline void lean_release_plain(ms_thread_t *t, void *p, uint64_t u) {
  if (MS_LIKELY(!_ms_guard)) lean_count_free_any(t, u);
  if (MS_UNLIKELY(u >= MS_HUGE_MIN)) _ms_blockmap_huge(p, u, 0);
  mi_free(p);
}

/* free() of anything but a plain block of a known chunk: sampled and named blocks, the first
 * pointer of a chunk, bad pointers, calls from memscope's own helpers. */
static void lean_free_slow(void *p, void *caller) {
  if (!lean_valid(p, 1)) return;
  unsigned marks = _ms_marks(p);
  int locked = 0;
  ms_thread_t *t = thread_enter(&locked);
  if (marks == MS_MARK_SAMPLED) {
    uint64_t tag = live_tag(p, 1); /* freed and held: the tag says so, a double free is reported */
    if (tag) release_block(t, p, tag, caller);
  } else {
    if (marks == MS_MARK_NAMED) {
      _ms_guard++;
      _ms_track_free(t, p, lean_virtual_tag(p, marks), p, caller);
      _ms_guard--;
      _ms_named_set(p, 0);
    }
    lean_release_plain(t, p, mi_usable_size(p));
  }
  thread_leave(locked);
}

static void *header_realloc(void *p, size_t n, void *caller, uint64_t tag);

/* realloc of a lean-mode block. A plain block stays mimalloc's business (mi_realloc keeps every
 * usable byte) unless the sampler picks the growth: then it moves into a new, sampled block. */
static void *lean_realloc(void *p, size_t n, void *caller) {
  if (!lean_valid(p, 1)) {
    errno = EINVAL; /* not ours: we cannot know how many bytes to copy */
    return NULL;
  }
  unsigned marks = _ms_marks(p);
  if (marks == MS_MARK_SAMPLED) {
    uint64_t tag = live_tag(p, 1);
    if (!tag) {
      errno = EINVAL;
      return NULL;
    }
    return header_realloc(p, n, caller, tag);
  }
  uint64_t u = mi_usable_size(p);
  if (marks != MS_MARK_NAMED) {
    int locked = 0;
    ms_thread_t *t = thread_enter(&locked);
    int64_t cd = countdown_get(t), growth = n > u ? (int64_t)(n - u) : 0;
    if (cd - growth > 0 || locked || _ms_guard) {
      if (MS_UNLIKELY(u >= MS_HUGE_MIN)) _ms_blockmap_huge(p, u, 0);
      void *q = mi_realloc(p, n);
      if (MS_UNLIKELY(q == NULL)) {
        if (u >= MS_HUGE_MIN) _ms_blockmap_huge(p, u, 1);
        thread_leave(locked);
        errno = ENOMEM;
        return NULL;
      }
      if (!locked) countdown_set(t, cd - growth);
      if (MS_LIKELY(!_ms_guard)) {
        lean_count_free_any(t, u);
        lean_count_alloc_any(t, n, q);
      }
      if (MS_UNLIKELY(n >= MS_HUGE_MIN)) _ms_blockmap_huge(q, mi_usable_size(q), 1);
      thread_leave(locked);
      return q;
    }
    thread_leave(locked);
  }
  /* Move: into a sampled block, or a named block (whose variable follows it) */
  void *q = _ms_alloc(n, 0, 0);
  if (q == NULL) return NULL;
  memcpy(q, p, u < n ? u : n);
  if (marks == MS_MARK_NAMED) {
    _ms_guard++;
    _ms_track_realloc(p, lean_virtual_tag(p, marks), q, n);
    _ms_guard--;
  }
  lean_free_slow(p, caller);
  return q;
}

/* ------------------------------------------------------------------ free */

MS_INTERNAL void _ms_free(void *p, void *caller) {
  if (MS_UNLIKELY(p == NULL)) return;
  int saved = errno;
  if (_ms_lean_mode) {
    lean_free_slow(p, caller);
  } else {
    uint64_t tag = live_tag(p, 1);
    if (MS_LIKELY(tag != 0)) {
      int locked = 0;
      ms_thread_t *t = thread_enter(&locked);
      release_block(t, p, tag, caller);
      thread_leave(locked);
    }
  }
  errno = saved;
}

/* ------------------------------------------------------------------ realloc */

static void *ms_realloc(void *p, size_t n, void *caller) {
  if (p == NULL) return _ms_alloc(n, 0, 0);
  if (n == 0) { /* glibc: realloc(p, 0) frees p and returns NULL */
    _ms_free(p, caller);
    return NULL;
  }
  if (MS_UNLIKELY(n > MS_SIZE_MAX)) {
    errno = ENOMEM;
    return NULL;
  }
  if (_ms_lean_mode) return lean_realloc(p, n, caller);
  uint64_t tag = live_tag(p, 1);
  if (MS_UNLIKELY(tag == 0)) {
    /* Not ours or not live: we cannot know how many bytes to copy. Refuse, like glibc's
     * "realloc(): invalid pointer" but without aborting the program. */
    errno = EINVAL;
    return NULL;
  }
  return header_realloc(p, n, caller, tag);
}

/* The tag of a block _ms_alloc just made: its header's, or (lean mode, unsampled) a virtual one
 * with the requested size. */
static uint64_t new_block_tag(const void *q, uint64_t n) {
  if (!_ms_lean_mode || _ms_marks(q) == MS_MARK_SAMPLED) return *_ms_tag_ptr(q);
  return _ms_tag_make(n, _ms_class_of(n), MS_HDR_NORMAL, 0);
}

/* realloc of a block with a header (every block in header mode, sampled ones in lean mode). */
static void *header_realloc(void *p, size_t n, void *caller, uint64_t tag) {
  /* CHECKS: verify the canary; a guarded block always moves */
  if (MS_UNLIKELY(tag & (MS_TAG_CANARIES | MS_TAG_GUARDED)) && _ms_checks_realloc(p, tag)) return _ms_guarded_realloc(p, tag, n, caller);
  unsigned kind = _ms_tag_kind(tag), cls = _ms_tag_class(tag);
  uint64_t old = _ms_tag_size(tag);
  size_t h = _ms_hdr_len(kind);
  void *block = _ms_block_of(p, kind);
  int locked = 0;
  ms_thread_t *t = thread_enter(&locked);

  /* In place: the new size still fits the block without wasting more than half of it
   * (mimalloc's own rule), the header kind is still the right one for the new size, and the
   * block is not over-aligned, named or memscope's own. A sampled block stays sampled and keeps
   * its record. The sampler is charged for the growth only: charging the whole new size would
   * make every step of a growing buffer "run out" the countdown and move (a copy per step). */
  unsigned want = _ms_kind_sampled(kind) ? kind
                                         : (n <= MS_SHORT_MAX ? MS_HDR_SHORT : MS_HDR_NORMAL);
  if (kind == want && !_ms_tag_aligned(tag) && !(tag & (MS_TAG_NAMED | MS_TAG_UNCOUNTED))) {
    int64_t cd = countdown_get(t);
    int64_t growth = n > old ? (int64_t)(n - old) : 0;
    uint64_t usable = usable_of(block, cls, 0);
    if (n + h <= usable && n + h >= usable / 2 &&
        (cd - growth > 0 || locked || _ms_guard || _ms_kind_sampled(kind))) {
      if (!locked) countdown_set(t, cd - growth);
      /* the block stays in its mimalloc bin: keep its class, so usable bytes stay exact */
      unsigned ncls = cls;
      count_free(t, cls, old, block, 0, h);
      *_ms_tag_ptr(p) = _ms_tag_make(n, ncls, kind, 0);
      if (_ms_check_flags & MS_CHK_OVERFLOW) *_ms_tag_ptr(p) = _ms_checks_on_alloc(p, block, *_ms_tag_ptr(p), n, h, ncls); /* CHECKS */
      count_alloc(t, ncls, n, block, 0, h, _ms_kind_sampled(kind));
      if (_ms_kind_sampled(kind)) {
        _ms_guard++;
        _ms_track_resize(p, kind, old, n);
        _ms_guard--;
      }
      thread_leave(locked);
      return p;
    }
  }
  thread_leave(locked);

  /* Move: allocate (this is where the sampler may pick the new block), copy, free. Every byte
   * up to the old block's usable size is the program's (redis's sds writes there), not just the
   * requested ones: copy what malloc_usable_size() would have reported. */
  void *q = _ms_alloc(n, 0, 0);
  if (q == NULL) return NULL; /* errno is ENOMEM; the old block stays valid */
  uint64_t keep = _ms_block_usable(p, tag);
  memcpy(q, p, keep < n ? keep : n);
  uint64_t qtag = new_block_tag(q, n);
  if (_ms_kind_sampled(kind) || _ms_kind_sampled(_ms_tag_kind(qtag)) || (tag & MS_TAG_NAMED)) {
    _ms_guard++;
    _ms_track_realloc(p, tag, q, n);
    _ms_guard--;
  }
  locked = 0;
  t = thread_enter(&locked);
  release_block(t, p, tag, caller);
  thread_leave(locked);
  return q;
}

/* ------------------------------------------------------------------ aligned */

static size_t page_size(void) {
  static size_t ps;
  if (!ps) ps = (size_t)sysconf(_SC_PAGESIZE);
  return ps;
}

/* glibc's memalign: alignments that are not powers of two are rounded up. */
static void *ms_memalign(size_t align, size_t n) {
  if (align <= 8) return _ms_alloc(n, 0, 0);
  if (align > ((size_t)1 << 40)) {
    errno = EINVAL;
    return NULL;
  }
  if (align & (align - 1)) align = (size_t)1 << (64 - __builtin_clzll(align));
  return _ms_alloc(n, align, 0);
}

/* ------------------------------------------------------------------ the entry points */

/* Checks that need the general path on every allocation/free (checks.h). */
#define MS_CHK_SLOW_PATHS (MS_CHK_OVERFLOW | MS_CHK_QUARANTINE | MS_CHK_UAF)

/* Header mode's malloc fast path: an unsampled block of an exact size class, no per-allocation
 * checks. Everything else (first call of a thread, samples, large or checked blocks, memscope's
 * own allocations) goes through _ms_alloc, which makes the same header. */
static __attribute__((noinline)) void *header_malloc(size_t n) {
  ms_thread_t *t = _ms_self;
  if (MS_LIKELY(t != NULL && n <= MS_CLASS_EXACT_MAX - 16 && !_ms_guard &&
                !(_ms_check_flags & MS_CHK_SLOW_PATHS))) {
    int64_t cd = countdown_get(t) - (int64_t)n;
    if (MS_LIKELY(cd > 0)) {
      unsigned kind = n <= MS_SHORT_MAX ? MS_HDR_SHORT : MS_HDR_NORMAL;
      size_t h = (size_t)8 << kind;
      void *block = mi_malloc(n + h);
      if (MS_LIKELY(block != NULL)) {
        countdown_set(t, cd);
        char *p = (char *)block + h;
        unsigned cls = _ms_class_of(n + h);
        if (kind != MS_HDR_SHORT) *_ms_guard_ptr(p) = _ms_guard_value(p);
        *_ms_tag_ptr(p) = _ms_tag_make(n, cls, kind, 0);
        count_alloc_regular(t, cls, n, h, 0);
        return p;
      }
    }
  }
  return _ms_alloc(n, 0, 0);
}

static __attribute__((noinline)) void *malloc_slow(size_t n) { return _ms_alloc(n, 0, 0); }

/* Lean mode: mimalloc failed after the counters were moved: move them back. */
static __attribute__((noinline, cold)) void *lean_malloc_failed(size_t n) {
  ms_thread_t *t = _ms_self;
  unsigned cls = _ms_class_of(n);
  ms_class_counters_t *c = &t->cls[cls];
  MS_CNT_ADD(c->lean_allocs, -1);
  MS_CNT_ADD(c->lean_req, -(uint64_t)n);
  t->live_delta -= (int64_t)_ms_class_usable[cls];
  countdown_set(t, countdown_get(t) + (int64_t)n);
  errno = ENOMEM;
  return NULL;
}

/* malloc: in lean mode, a countdown, a class counter and mimalloc's own malloc; the counters
 * move first, so that only n has to live across the call (fewer registers to save). */
MS_EXPORT void *malloc(size_t n) {
  if (MS_LIKELY(_ms_lean_mode)) {
    ms_thread_t *t = _ms_self;
    if (MS_LIKELY(t != NULL && n <= MS_CLASS_EXACT_MAX && !_ms_guard)) {
      int64_t cd = countdown_get(t) - (int64_t)n;
      if (MS_LIKELY(cd > 0)) {
        countdown_set(t, cd);
        unsigned cls = _ms_class_of(n);
        lean_count_alloc(t, cls, n, _ms_class_usable[cls]);
        void *p = mi_malloc(n);
        return MS_LIKELY(p != NULL) ? p : lean_malloc_failed(n);
      }
    }
    return malloc_slow(n);
  }
  return header_malloc(n);
}

/* Header mode's free fast path: a live SHORT or NORMAL block with no flag bits (not sampled,
 * named, uncounted, aligned, canaried or guarded) and an intact guard word. Anything else,
 * including every kind of bad pointer, goes through _ms_free, which reports. */
static __attribute__((noinline)) void header_free(void *p, void *caller) {
  ms_thread_t *t = _ms_self;
  if (MS_LIKELY(p != NULL && t != NULL && ((uintptr_t)p & 7) == 0 &&
                !(_ms_check_flags & MS_CHK_SLOW_PATHS) && mi_is_in_heap_region(p))) {
    uint64_t tag = *_ms_tag_ptr(p);
    uint64_t top = tag >> 48; /* state byte, flag bits 50..55, kind */
    if (MS_LIKELY(top == ((uint64_t)MS_STATE_LIVE << 8 | MS_HDR_NORMAL)
                      ? *_ms_guard_ptr(p) == _ms_guard_value(p)
                      : top == ((uint64_t)MS_STATE_LIVE << 8 | MS_HDR_SHORT))) {
      unsigned kind = (unsigned)top & 3, cls = _ms_tag_class(tag);
      if (MS_LIKELY(cls < MS_CLASS_COUNT && _ms_class_usable[cls] != 0)) {
        int saved = *t->errno_ptr;
        *_ms_tag_ptr(p) = _ms_tag_with_state(tag, MS_STATE_FREED);
        count_free_regular(t, cls, _ms_tag_size(tag), (size_t)8 << kind);
        mi_free(_ms_block_of(p, kind));
        *t->errno_ptr = saved;
        return;
      }
    }
  }
  _ms_free(p, caller);
}

/* Lean mode, a plain block whose usable size is not its class's (large, over-aligned). */
static __attribute__((noinline)) void lean_free_odd(ms_thread_t *t, void *p, uint64_t u) {
  int saved = errno;
  lean_release_plain(t, p, u);
  errno = saved;
}

/* free: in lean mode, a plain block of a chunk known to be mimalloc's costs a look at the block
 * map, mimalloc's usable size and a class counter, then mimalloc's own free. mimalloc's free of
 * a small or medium block never touches errno; other blocks go where errno is saved. */
MS_EXPORT void free(void *p) {
  if (MS_LIKELY(_ms_lean_mode)) {
    uintptr_t w = _ms_chunk_word(p);
    ms_thread_t *t = _ms_self;
    if (MS_LIKELY((w & (MS_CHUNK_OWNED | MS_CHUNK_HUGE_INTERIOR)) == MS_CHUNK_OWNED &&
                  t != NULL && !_ms_guard && ((uintptr_t)p & 7) == 0 && !_ms_marks_in(w, p))) {
      uint64_t u = mi_usable_size(p);
      unsigned cls = _ms_class_of(u);
      if (MS_LIKELY(_ms_class_usable[cls] == u)) {
        lean_count_free(t, cls, u);
        mi_free(p);
      } else {
        lean_free_odd(t, p, u);
      }
      return;
    }
    _ms_free(p, __builtin_return_address(0));
    return;
  }
  header_free(p, __builtin_return_address(0));
}

MS_EXPORT void cfree(void *p) { _ms_free(p, __builtin_return_address(0)); }

MS_EXPORT void *calloc(size_t count, size_t size) {
  size_t n;
  if (__builtin_mul_overflow(count, size, &n)) {
    errno = ENOMEM;
    return NULL;
  }
  return _ms_alloc(n, 0, 1);
}

MS_EXPORT void *realloc(void *p, size_t n) {
  return ms_realloc(p, n, __builtin_return_address(0));
}

MS_EXPORT void *reallocarray(void *p, size_t count, size_t size) {
  size_t n;
  if (__builtin_mul_overflow(count, size, &n)) {
    errno = ENOMEM;
    return NULL;
  }
  return ms_realloc(p, n, __builtin_return_address(0));
}

MS_EXPORT int posix_memalign(void **out, size_t align, size_t n) {
  if (align < sizeof(void *) || (align & (align - 1)) != 0 || align > ((size_t)1 << 40))
    return EINVAL;
  int saved = errno;
  void *p = _ms_alloc(n, align, 0);
  errno = saved;
  if (p == NULL) return ENOMEM;
  *out = p;
  return 0;
}

MS_EXPORT void *aligned_alloc(size_t align, size_t n) { return ms_memalign(align, n); }

MS_EXPORT void *memalign(size_t align, size_t n) { return ms_memalign(align, n); }

MS_EXPORT void *valloc(size_t n) { return _ms_alloc(n, page_size(), 0); }

MS_EXPORT void *pvalloc(size_t n) {
  size_t ps = page_size(), rounded;
  if (__builtin_add_overflow(n, ps - 1, &rounded)) {
    errno = ENOMEM;
    return NULL;
  }
  rounded &= ~(ps - 1);
  return _ms_alloc(rounded ? rounded : ps, ps, 0);
}

/* The bytes the program may use in a live block: from p to the end of mimalloc's block (or, for
 * a guard-page block, to the guard page). What malloc_usable_size() reports and what realloc
 * keeps. */
MS_INTERNAL uint64_t _ms_block_usable(const void *p, uint64_t tag) {
  unsigned kind = _ms_tag_kind(tag);
  if (MS_UNLIKELY(tag & MS_TAG_GUARDED)) return _ms_guarded_usable(p, tag);
  return mi_usable_size(_ms_block_of(p, kind)) - _ms_hdr_len(kind);
}

MS_EXPORT size_t malloc_usable_size(void *p) {
  if (p == NULL) return 0;
  if (_ms_lean_mode) {
    if (!lean_valid(p, 0)) return 0;
    unsigned mark = _ms_marks(p);
    if (mark == MS_MARK_NONE || mark == MS_MARK_NAMED) return mi_usable_size(p);
  }
  uint64_t tag = live_tag(p, 0);
  if (tag == 0) return 0;
  /* CHECKS: the caller may now use the slack, so the canary goes (the size reported is then
   * honest: every byte of it is the program's, and no canary will be found damaged in it) */
  if (tag & MS_TAG_CANARIES) {
    /* zero the canary bytes: a calloc'ed block must read as zero up to its usable size, and
     * for a malloc'ed one the bytes past the request have no defined value anyway */
    memset((char *)p + _ms_tag_size(tag), 0, _ms_canary_len(tag));
    *_ms_tag_ptr(p) = tag & ~MS_TAG_CANARIES;
  }
  return _ms_block_usable(p, tag);
}

/* For the tracker: the tag word of a live memscope block, or 0 (nothing reported). A lean-mode
 * block without a header gets a virtual one (usable size, NAMED when marked). */
MS_INTERNAL uint64_t _ms_live_tag_quiet(const void *p) {
  if (!p) return 0;
  if (_ms_lean_mode) {
    if (!lean_valid(p, 0)) return 0;
    unsigned marks = _ms_marks(p);
    if (marks == MS_MARK_NONE || marks == MS_MARK_NAMED) return lean_virtual_tag(p, marks);
  }
  return live_tag(p, 0);
}

/* For the tracker: p (a live block) is now a named variable, so its free must reach the
 * tracker: a tag bit where the block has a header, a mark in lean mode. */
MS_INTERNAL void _ms_block_set_named(const void *p) {
  if (!_ms_lean_mode || _ms_marks(p) == MS_MARK_SAMPLED) *_ms_tag_ptr(p) |= MS_TAG_NAMED;
  else _ms_named_set(p, 1);
}
