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
  uint64_t allocs, frees;
  uint64_t req_alloc, req_freed;
  uint64_t usable_alloc, usable_freed; /* odd blocks only */
  uint64_t odd_allocs, odd_frees;
} ms_class_counters_t;

#define MS_MAX_TAG_DEPTH 16
#define MS_LIVE_FLUSH (64 * 1024) /* per-thread live-bytes batch for the global peak */
/* At rate 0 a thread still looks at the rate every 4 MiB it allocates: if a reset from
 * ms_set_sample_rate() raced with the thread's own countdown update and was lost, the thread
 * picks up the new rate soon after anyway. */
#define MS_RATE0_RECHECK ((int64_t)4 << 20)

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

/* Statistics (alloc/stats.c). */
void _ms_stats_read(struct ms_stats *out);

/* The sampler (track/sampler.c). */
int64_t _ms_sampler_next(ms_thread_t *t);    /* a fresh countdown */
void _ms_sampler_reset_all(void);            /* after ms_set_sample_rate */

/* Tracker hooks (track/). The sampled block's record is the 48 bytes in front of its guard word.
 * Called with the re-entrancy guard held. */
void _ms_track_alloc(ms_thread_t *t, void *p, uint64_t size, void *record);
void _ms_track_free(ms_thread_t *t, void *p, uint64_t tag, void *block, void *caller);
/* realloc moved old (tag otag, still live) to q (tag qtag); called before old is released */
void _ms_track_realloc(void *old, uint64_t otag, void *q, uint64_t qtag);
/* a sampled block was resized in place from old to n bytes */
void _ms_track_resize(void *block, uint64_t old, uint64_t n);
void _ms_track_init(void);
void _ms_track_atfork_prepare(void);
void _ms_track_atfork_parent(void);
void _ms_track_atfork_child(void);
void _ms_track_at_exit(void);

/* Memory errors (track/errors.c): report a bad free/realloc of p. kind is ms_dump_error_kind_t. */
void _ms_report_error(unsigned kind, const void *p, uint64_t size, const void *record);

/* Write a short message to stderr without stdio. */
void _ms_write_stderr(const char *msg);

#endif /* MEMSCOPE_ALLOC_INTERNAL_H */
