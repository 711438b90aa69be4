/* internal.h — what the library's files share: per-thread state, statistics, hooks between the
 * allocator core (alloc/) and the tracker (track/). Nothing here is public. */
#ifndef MEMSCOPE_ALLOC_INTERNAL_H
#define MEMSCOPE_ALLOC_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "header.h"
#include "memscope.h"
#include "options.h"
#include "size_class.h"

#define MS_LIKELY(x) __builtin_expect(!!(x), 1)
#define MS_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define MS_CACHE_LINE 64
#define MS_INTERNAL __attribute__((visibility("hidden")))

/* Relaxed single-writer counters: only the owning thread writes, any thread may read. A plain
 * load+add+store (no lock prefix) is enough and costs what a normal add costs. */
#define MS_CNT_ADD(c, v) \
  __atomic_store_n(&(c), __atomic_load_n(&(c), __ATOMIC_RELAXED) + (v), __ATOMIC_RELAXED)
#define MS_CNT_GET(c) __atomic_load_n(&(c), __ATOMIC_RELAXED)

/* Per size class counters, one cache line, cumulative (never reset, so blocks can be summed
 * and recycled without merging). Live figures are alloc - freed. Usable bytes are only counted
 * per block for "odd" blocks (classes above MS_CLASS_EXACT_MAX, over-aligned blocks): every
 * other block of a class has the class's one usable size, so readers multiply instead and the
 * fast path saves two counter updates. */
typedef struct ms_class_counters {
  /* lean-mode unsampled blocks (no header): their requested size is not known at free, their
   * usable size is (the class's, or for odd blocks their own: net count and bytes) */
  uint64_t lean_allocs, lean_frees, lean_req;
  int64_t lean_odd_net, lean_odd_bytes;
  /* blocks with a header (every block in header mode, sampled ones in lean mode) */
  uint64_t allocs, frees, req_alloc, req_freed;
  uint64_t usable_alloc, usable_freed; /* odd blocks only */
  uint64_t odd_allocs, odd_frees;
} ms_class_counters_t;

/* Live usable bytes of a class's lean-mode blocks (exact). */
static inline uint64_t _ms_class_lean_live(const ms_class_counters_t *c, uint64_t class_usable) {
  int64_t regular = (int64_t)(c->lean_allocs - c->lean_frees) - c->lean_odd_net;
  int64_t v = regular * (int64_t)class_usable + c->lean_odd_bytes;
  return v > 0 ? (uint64_t)v : 0;
}

/* Requested bytes freed in a class: exact for blocks with a header, estimated with the mean
 * request of the class's lean-mode blocks for theirs (exact again once all are freed). Exact
 * in header mode and at rate 1. */
static inline uint64_t _ms_class_req_freed(const ms_class_counters_t *c) {
  if (!c->lean_frees || !c->lean_allocs) return c->req_freed;
  if (c->lean_frees >= c->lean_allocs) return c->req_freed + c->lean_req;
  return c->req_freed +
         (uint64_t)((unsigned __int128)c->lean_frees * c->lean_req / c->lean_allocs);
}

/* Lean mode (no header on unsampled blocks, alloc/blockmap.h) or header mode (every block has a
 * header, alloc/header.h): fixed by _ms_init() before the first block is made, from
 * MEMSCOPE_CHECKS (header mode when a check needs the bytes around every block). */
extern int _ms_lean_mode;

#define MS_MAX_TAG_DEPTH 16
#define MS_UNWIND_L0 256               /* per-thread unwind-rule cache entries */
#define MS_STACK_L0 512                /* per-thread stack-id cache entries */
#define MS_HELD_MAX 64                 /* freed sampled blocks held per thread ... */
#define MS_HELD_BYTES (64 * 1024)      /* ... up to this many bytes (larger ones are not held) */
#define MS_LIVE_FLUSH (64 * 1024) /* per-thread live-bytes batch for the global peak */
/* At rate 0 a thread still looks at the rate every 4 MiB it allocates: if a reset from
 * ms_set_sample_rate() raced with the thread's own countdown update and was lost, the thread
 * picks up the new rate soon after anyway. */
#define MS_RATE0_RECHECK ((int64_t)4 << 20)

/* A call site's figures (track/sites.c), as plain counters: the layout of ms_site_t without the
 * atomics, used for a thread's pending deltas. Counts are fixed point (track/track.h). */
#define MS_SITE_LIFETIMES 8
typedef struct ms_site_figs {
  uint64_t total_bytes, total_count, freed_bytes, freed_count;
  uint64_t lifetime[MS_SITE_LIFETIMES];
  uint64_t temp_count, temp_bytes, realloc_count;
} ms_site_figs_t;
#define MS_SITE_FIELDS (sizeof(ms_site_figs_t) / sizeof(uint64_t))
#define MS_SITE_DELTAS 16 /* per-thread pending site deltas (direct-mapped by stack id) */
typedef struct ms_site_delta {
  uint32_t id; /* 0: empty */
  uint32_t pad_;
  ms_site_figs_t f;
} ms_site_delta_t;

/* A thread's unwind caches (track/cfi_cache.c): (return address, rule) pairs, direct-mapped by
 * address, and its last walk (where the next one may rejoin). */
#define MS_UNWIND_LAST 160 /* frames of the last walk kept (>= MS_STACK_DEPTH_MAX + own frames) */
typedef struct ms_unwind_frame {
  uint64_t sp, pc, bp;      /* the walk's state on reaching the frame */
  uint64_t ra_addr, bp_addr; /* the stack words it read to leave it (0: none) */
} ms_unwind_frame_t;
typedef struct ms_unwind_walk {
  uint32_t n;        /* frames recorded */
  uint32_t complete; /* it reached the end of the stack (else it was cut at its frame limit) */
  uint32_t epoch;    /* of the rules it used */
  uint32_t pad_;
  ms_unwind_frame_t f[MS_UNWIND_LAST];
} ms_unwind_walk_t;
typedef struct ms_unwind_cache {
  uint32_t epoch;      /* the rule epoch (track/cfi_cache.c) top[] and by_pc[] were filled in */
  uint32_t pad_;
  uint64_t top[2 * 8]; /* rules of the last walk's top 8 frames (memscope's own, mostly) */
  uint64_t by_pc[2 * MS_UNWIND_L0];
  ms_unwind_walk_t last; /* the last walk, rewritten in place by the next */
} ms_unwind_cache_t;

/* A (key, value) pair of a thread's own cache, written key last: a signal handler running on
 * the same thread meanwhile never pairs a key with another key's value (only the compiler can
 * reorder within one thread). Used by the unwind and stack-id caches of track/. */
static inline void _ms_pair_put(uint64_t *e, uint64_t key, uint64_t value) {
  e[0] = 0;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  e[1] = value;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  e[0] = key;
}

/* Everything a thread owns. Blocks are mmap'd, kept in a global list for the readers, and
 * recycled when their thread exits (the counters just keep accumulating). */
typedef struct ms_thread {
  /* hot: touched by every malloc/free of the owning thread */
  int64_t sample_countdown;        /* bytes until the next sample; <= 0 means sample now */
  int64_t live_delta;              /* requested bytes not yet added to the global live count */
  uint64_t header_alloc, header_freed;
  uint64_t sampled_allocs, sampled_frees; /* samples taken / released by this thread */
  int *errno_ptr;                  /* this thread's errno (free() must not change it) */
  uint64_t rng;                    /* xorshift state for the sampler */
  uint32_t index;                  /* position in the registry, stable for the block's life */
  uint32_t serial;                 /* the thread using the block: unique per adoption, 1-based */
  uint32_t tag_depth;
  uint32_t tags[MS_MAX_TAG_DEPTH]; /* interned tag ids (track/), innermost last */
  ms_class_counters_t cls[MS_CLASS_COUNT] __attribute__((aligned(MS_CACHE_LINE)));
  /* lean mode: freed sampled blocks held back from mimalloc for a while (malloc.c), so that a
   * second free of one is recognised as a double free (their user pointers, oldest first) */
  void *held[MS_HELD_MAX];
  uint32_t held_head, held_count;
  uint64_t held_bytes;
  /* the thread's last sampled block and its progress count right after it (track/track.c): a
   * free of that block while the count is unchanged is a "temporary" allocation */
  const void *last_sample;
  uint32_t last_sample_seq;
  uint32_t flushes; /* _ms_live_flush calls, to space out the timeline's clock reads */
  /* the tracker's per-thread caches (track/cfi_cache.c, track/stacks.c): unwind rules by return
   * address and stack ids by stack hash, small enough to stay in cache between samples; not
   * used in the shared orphan block (index 0) */
  ms_unwind_cache_t unwind;
  uint64_t stack_l0[2 * MS_STACK_L0];
  /* site figures not yet added to the shared sites (track/sites.c); site_seq is odd while the
   * owner changes them, so that readers on other threads take a consistent copy */
  _Atomic uint32_t site_seq;
  ms_site_delta_t site_deltas[MS_SITE_DELTAS];
  /* cold */
  _Atomic int in_use;
  _Atomic(struct ms_thread *) next;
  pid_t tid;
  uint64_t base_allocs, base_frees, base_bytes, base_freed_bytes; /* at adoption */
} ms_thread_t;

extern __thread ms_thread_t *_ms_self __attribute__((tls_model("initial-exec")));
extern __thread int _ms_guard __attribute__((tls_model("initial-exec")));

/* Registry of thread blocks (alloc/thread.c). */
extern _Atomic(ms_thread_t *) _ms_threads;
ms_thread_t *_ms_thread_slow(void);          /* first allocation of a thread */
void _ms_thread_fork_child(void);
void _ms_thread_key_init(void);
void _ms_thread_registry_init(void);
/* A thread block's figures since its current thread adopted it (for the tracker's threads). */
void _ms_thread_figures(ms_thread_t *t, uint64_t *allocs, uint64_t *frees, uint64_t *bytes,
                        uint64_t *freed);
void _ms_orphan_fork_child(void);            /* malloc.c: the orphan lock in a fork child */
uint64_t _ms_clock_init(void);               /* clock.c: start the tracker clock */

/* Global state (alloc/init.c). */
extern _Atomic int _ms_init_state;            /* 0 none, 1 running, 2 done */
extern _Atomic int64_t _ms_live_global;       /* sum of flushed live deltas */
extern _Atomic uint64_t _ms_peak_live;
extern _Atomic uint64_t _ms_peak_time_ns;
extern _Atomic uint64_t _ms_sample_rate;
extern uint64_t _ms_start_ns;
void _ms_init(void);
void _ms_live_flush(ms_thread_t *t);
uint64_t _ms_now_ns(void);                   /* monotonic, since start */
uint64_t _ms_coarse_now_ns(void);            /* same clock, coarse and cheaper */

/* The bytes the program may use in a live block with tag word tag (malloc.c): what
 * malloc_usable_size() reports, and what realloc keeps when it moves the block. */
uint64_t _ms_block_usable(const void *p, uint64_t tag);
/* For the tracker (malloc.c): the tag word of a live block or 0 (lean mode: a virtual tag for a
 * block without header), and marking a block as a named variable. */
uint64_t _ms_live_tag_quiet(const void *p);
void _ms_block_set_named(const void *p);

/* Statistics (alloc/stats.c). */
void _ms_stats_read(struct ms_stats *out);

/* Write a short message to stderr without stdio. */
void _ms_write_stderr(const char *msg);

/* alloc/ -> track/: the tracker's functions the allocator core calls (track/hooks.h). */
#include "hooks.h"

#endif /* MEMSCOPE_ALLOC_INTERNAL_H */
