/* track.h — shared by the tracker's files: the sample record kept inside sampled blocks, the
 * stack table and the per-site figures. The allocator core sees only the hooks in
 * alloc/internal.h. */
#ifndef MEMSCOPE_TRACK_TRACK_H
#define MEMSCOPE_TRACK_TRACK_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "dump.h"
#include "memscope.h"
#include "internal.h"

/* The tracker's record of a sampled allocation: the first 32 bytes of its 48-byte header. */
typedef struct ms_sample {
  uint64_t check;        /* _ms_record_check() of the block: a heap overflow out of the block
                          * below lands here first and is reported, not trusted */
  uint64_t weight_bytes; /* bytes this sample stands for (== size at rate 1) */
  uint64_t time_flags;   /* allocation time since start in ns (low 56 bits: 2.2 years) | flags */
  uint32_t stack;        /* stack (= site) id; 0 = unknown */
  uint32_t thread;       /* serial of the allocating thread (ms_thread_t.serial); its live-set
                          * shard is thread % MS_LIVE_SHARDS */
} ms_sample_t;
_Static_assert(sizeof(ms_sample_t) == MS_SAMPLE_RECORD_SIZE, "sample record must fill its slot");
#define MS_SAMPLE_TIME_MASK ((((uint64_t)1) << 56) - 1)
static inline uint64_t _ms_sample_time(const ms_sample_t *r) { return r->time_flags & MS_SAMPLE_TIME_MASK; }

static inline uint64_t _ms_record_check(const void *p) { return ~_ms_guard_value(p); }

/* EXACT records (lean mode at rate 1): one word in front of the tag word, alloc/header.h:
 *   bits 0-19 stack id (ids are < MS_STACK_CAP = 2^20), bit 20 live, bits 21-28 check,
 *   bits 29-63 allocation time in microseconds since start (35 bits: 9.5 hours, then it wraps)
 * The check byte folds the word's other bits with the block's address and a secret: a write
 * into the word from before the block (or past the end of the block below) changes it, and any
 * one damaged byte is always caught. */
#define MS_EXACT_STACK_MASK 0xfffffu
#define MS_EXACT_LIVE (((uint64_t)1) << 20)
#define MS_EXACT_CHECK_SHIFT 21
#define MS_EXACT_CHECK_MASK (((uint64_t)0xff) << MS_EXACT_CHECK_SHIFT)
#define MS_EXACT_TIME_SHIFT 29
#define MS_EXACT_TICK_NS 1000u
#define MS_EXACT_TICK_MASK ((((uint64_t)1) << 35) - 1)
static inline uint64_t *_ms_exact_word(const void *p) { return (uint64_t *)p - 2; }
static inline uint64_t _ms_exact_ticks(uint64_t ns) { return (ns / MS_EXACT_TICK_NS) & MS_EXACT_TICK_MASK; }
static inline uint64_t _ms_exact_check(const void *p, uint64_t w) {
  uint64_t x = (w & ~(MS_EXACT_LIVE | MS_EXACT_CHECK_MASK)) ^ _ms_guard_value(p);
  x ^= x >> 32;
  x ^= x >> 16;
  x ^= x >> 8;
  return (x & 0xff) << MS_EXACT_CHECK_SHIFT;
}
static inline uint64_t _ms_exact_make(const void *p, uint32_t stack, uint64_t now) {
  uint64_t w = (stack & MS_EXACT_STACK_MASK) | (_ms_exact_ticks(now) << MS_EXACT_TIME_SHIFT);
  return w | _ms_exact_check(p, w);
}
static inline int _ms_exact_intact(const void *p, uint64_t w) {
  return (w & MS_EXACT_CHECK_MASK) == _ms_exact_check(p, w);
}
/* Age of an EXACT block at time now (ns, to the microsecond; modulo 9.5 hours). */
static inline uint64_t _ms_exact_age_ns(uint64_t w, uint64_t now) {
  return ((_ms_exact_ticks(now) - (w >> MS_EXACT_TIME_SHIFT)) & MS_EXACT_TICK_MASK) * MS_EXACT_TICK_NS;
}

static inline ms_sample_t *_ms_sample_of(const void *p) { return _ms_block_of(p, MS_HDR_SAMPLED); }

/* A sampled block as the tracker's readers see it, whichever its record's kind. */
typedef struct ms_block_info {
  void *p;
  uint64_t size;         /* requested */
  uint64_t weight_bytes; /* bytes it stands for (its size at rate 1) */
  uint64_t time_ns;      /* allocation time since start */
  uint32_t stack;
  uint32_t thread;       /* allocating thread's serial; 0 (unknown) for EXACT records */
} ms_block_info_t;

static inline void _ms_block_info(void *p, uint64_t tag, uint64_t now, ms_block_info_t *b) {
  b->p = p;
  b->size = _ms_tag_size(tag);
  if (_ms_tag_kind(tag) == MS_HDR_EXACT) {
    uint64_t w = *_ms_exact_word(p);
    uint64_t age = _ms_exact_age_ns(w, now);
    b->weight_bytes = b->size;
    b->time_ns = now > age ? now - age : 0;
    b->stack = (uint32_t)(w & MS_EXACT_STACK_MASK);
    b->thread = 0;
  } else {
    const ms_sample_t *r = _ms_sample_of(p);
    b->weight_bytes = r->weight_bytes;
    b->time_ns = _ms_sample_time(r);
    b->stack = r->stack;
    b->thread = r->thread;
  }
}

/* The stack id of a sampled block's record (either kind). */
static inline uint32_t _ms_block_stack(const void *p, uint64_t tag) {
  return _ms_tag_kind(tag) == MS_HDR_EXACT ? (uint32_t)(*_ms_exact_word(p) & MS_EXACT_STACK_MASK)
                                           : _ms_sample_of(p)->stack;
}

/* A value that changes whenever the thread allocates: every unsampled allocation of n > 0
 * bytes moves the sampler's countdown, every sampled one the thread's sample count. A sampled
 * block freed while this is unchanged was "temporary" (no other allocation in between, the
 * heaptrack definition) — without an allocation counter on the fast path. */
static inline uint32_t _ms_thread_progress(const ms_thread_t *t) {
  return (uint32_t)(MS_CNT_GET(t->sampled_allocs) * 2654435761u) ^
         (uint32_t)__atomic_load_n(&t->sample_countdown, __ATOMIC_RELAXED);
}

/* Estimated number of allocations a sample stands for, in 1/MS_COUNT_ONE units: counts are
 * accumulated in fixed point so that fractional weights (a 1 MiB sample at 512K stands for
 * 1.156 allocations) add up without rounding bias; dumps divide by MS_COUNT_ONE. */
#define MS_COUNT_ONE 1024u
static inline uint64_t _ms_sample_count_weight(uint64_t weight_bytes, uint64_t size) {
  if (size == 0 || weight_bytes <= size) return MS_COUNT_ONE;
  return (uint64_t)(((unsigned __int128)weight_bytes * MS_COUNT_ONE + size / 2) / size);
}
static inline uint64_t _ms_count_out(uint64_t fixed) {
  if ((int64_t)fixed < 0) return 0; /* a racing free seen before its allocation */
  return (fixed + MS_COUNT_ONE / 2) / MS_COUNT_ONE;
}

/* ---- sampler.c */
uint64_t _ms_sample_weight(uint64_t size, uint64_t rate);

/* ---- set-up and fork handlers of the tracker's files (track.c calls them) */
void _ms_stacks_init(void);
void _ms_sites_init(void);
void _ms_signal_init(void);
void _ms_signal_fork_child(void);
void _ms_sites_fork_child(void);
void _ms_sites_lock(int lock);
void _ms_stacks_fork_child(void);
void _ms_timeline_lock(int lock);
void _ms_errors_lock(int lock);
void _ms_modules_lock(int lock);
void _ms_snapshot_lock(int lock);
void _ms_threads_lock(int lock);

/* ---- stacks.c: lock-free table of deduplicated stacks; id 0 means "unknown / table full" */
#define MS_STACK_CAP (1u << 20)
int _ms_stack_valid(uint32_t id);
uint32_t _ms_stack_capture(uint32_t tag);      /* capture the caller's stack, return its id */
uint32_t _ms_stack_intern(const uint64_t *frames, uint32_t depth, uint32_t tag);
uint32_t _ms_stack_get(uint32_t id, const uint64_t **frames, uint32_t *tag); /* depth */
uint32_t _ms_stack_limit(void);                /* ids in use are < this */
int _ms_is_own_address(uint64_t addr);         /* inside libmemscope.so */

/* ---- sites.c: per-site figures, indexed by stack id */
/* Two cache lines a site, the fields of ms_site_figs_t (alloc/internal.h) as atomics; live =
 * total - freed. Threads add to them in batches (their pending deltas, sites.c), so a reader
 * asks _ms_site_read() for a site's figures, shared plus pending. */
typedef struct ms_site {
  _Atomic uint64_t total_bytes, total_count, freed_bytes, freed_count;
  _Atomic uint64_t lifetime[MS_DUMP_LIFETIME_BUCKETS];
  _Atomic uint64_t temp_count, temp_bytes, realloc_count;
  _Atomic uint32_t module1; /* module of the allocating frame + 1; 0 = not resolved yet */
  uint32_t pad_;
} __attribute__((aligned(128))) ms_site_t;
_Static_assert(sizeof(ms_site_t) == 128, "two cache lines per site");
_Static_assert(MS_DUMP_LIFETIME_BUCKETS == MS_SITE_LIFETIMES, "one lifetime scale");
_Static_assert(offsetof(ms_site_t, realloc_count) == offsetof(ms_site_figs_t, realloc_count),
               "a site's atomics and a delta's counters line up");
ms_site_t *_ms_site(uint32_t id);
void _ms_sites_on_alloc(ms_thread_t *t, uint32_t id, uint64_t wbytes, uint64_t wcount);
void _ms_sites_on_free(ms_thread_t *t, uint32_t id, uint64_t wbytes, uint64_t wcount,
                       uint64_t lifetime_ns, int temporary);
void _ms_sites_on_realloc(ms_thread_t *t, uint32_t id, uint64_t wcount);
void _ms_sites_flush(ms_thread_t *t); /* a thread's pending deltas into the shared sites */
/* Reading figures: between _ms_sites_read_begin() and _end(), _ms_site_read() gives a site's
 * shared figures plus every thread's pending deltas (exact when the other threads are quiet;
 * a moment's estimate while they allocate, as any unlocked read). */
void _ms_sites_read_begin(void);
void _ms_sites_read_end(void);
/* Same as _ms_sites_read_begin() but never waits: 0 when another read is under way (for the
 * timeline's points, taken on allocating threads that hold the timeline lock). */
int _ms_sites_read_try_begin(void);
void _ms_site_read(uint32_t id, ms_site_figs_t *out);
/* Live figures of a read site (clamped at 0: a racing free can be seen before its allocation). */
static inline uint64_t _ms_figs_live_bytes(const ms_site_figs_t *f) {
  int64_t v = (int64_t)(f->total_bytes - f->freed_bytes);
  return v > 0 ? (uint64_t)v : 0;
}
static inline uint64_t _ms_figs_live_count(const ms_site_figs_t *f) { /* fixed point */
  int64_t v = (int64_t)(f->total_count - f->freed_count);
  return v > 0 ? (uint64_t)v : 0;
}
/* Live figures at the last copied peak (sites.c). */
void _ms_site_peak(uint32_t id, uint64_t *bytes, uint64_t *count);
/* The module of a site's allocating frame, resolved once per site. */
uint32_t _ms_site_module(uint32_t id);

/* ---- live.c: the live set of sampled blocks (their block-map bits), 64 shard locks */
#define MS_LIVE_SHARDS 64
void _ms_live_insert(void *p, unsigned kind);
int _ms_live_remove(void *p, unsigned kind); /* 0: the record was overwritten (reported) */
/* Visit every live sample with every shard locked; returns the number visited. */
uint64_t _ms_live_visit(void (*fn)(const ms_block_info_t *b, void *arg), void *arg);
void _ms_live_lock_all(void);
void _ms_live_unlock_all(void);
uint64_t _ms_live_count(void);

/* ---- modules.c: the module map */
uint32_t _ms_module_of(uint64_t addr);         /* index in the cached map, or MS_DUMP_NONE */
int _ms_modules_fill(ms_dump_t *d);            /* for a dump */
void _ms_crossing_add(uint32_t alloc_module, uint32_t free_module, uint64_t bytes, uint64_t count);
int _ms_crossings_fill(ms_dump_t *d);

/* ---- variables.c: named variables, reference counts, tags */
void _ms_vars_on_free(const void *p, uint64_t size);
void _ms_vars_on_realloc(const void *old, const void *newp, uint64_t size);
int _ms_vars_fill(ms_dump_t *d);
int _ms_tags_fill(ms_dump_t *d);
void _ms_vars_atfork_prepare(void);
void _ms_vars_atfork_release(void);

/* ---- timeline.c */
int _ms_timeline_fill(ms_dump_t *d);
uint64_t _ms_read_rss(void);
uint64_t _ms_read_peak_rss(void);

/* ---- threads.c */
int _ms_threads_fill(ms_dump_t *d);
uint32_t _ms_thread_dump_index(uint32_t serial); /* thread serial -> threads[] index */

/* ---- errors.c */
int _ms_errors_fill(ms_dump_t *d);
const char *_ms_error_kind_name(unsigned kind);
void _ms_print_stack(const char *title, uint32_t stack); /* symbolised, on stderr */

/* ---- snapshot.c */
int _ms_snapshot_write(const char *path, uint32_t reason);
void _ms_leak_report(void);

/* tracker's own memory: straight from mimalloc, never through the tracked path */
void *_ms_xalloc(size_t n);
void *_ms_xcalloc(size_t n, size_t size);
void *_ms_xrealloc(void *p, size_t n);
void _ms_xfree(void *p);
char *_ms_xstrdup(const char *s);

#endif
