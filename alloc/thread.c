/* thread.c — per-thread blocks: creation on a thread's first allocation, the registry readers
 * walk, recycling at thread exit, and fork.
 *
 * A block holds the thread's size-class counters and sampler state. Counters are cumulative, so
 * a block freed by an exiting thread is simply handed to the next new thread and keeps counting;
 * the registry only ever grows to the largest number of threads alive at once. Blocks come from
 * mmap, never from the tracked heap.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

__thread ms_thread_t *_ms_self __attribute__((tls_model("initial-exec")));
__thread int _ms_guard __attribute__((tls_model("initial-exec")));
static __thread int t_dead __attribute__((tls_model("initial-exec")));

_Atomic(ms_thread_t *) _ms_threads;
ms_thread_t _ms_orphan __attribute__((aligned(MS_CACHE_LINE)));
static pthread_key_t thread_key;
static _Atomic int key_ready;


static void thread_totals(ms_thread_t *t, uint64_t *allocs, uint64_t *frees, uint64_t *bytes,
                          uint64_t *freed) {
  uint64_t a = 0, f = 0, b = 0, fb = 0;
  for (unsigned c = 0; c < MS_CLASS_COUNT; c++) {
    ms_class_counters_t k = {.lean_allocs = MS_CNT_GET(t->cls[c].lean_allocs),
                             .lean_frees = MS_CNT_GET(t->cls[c].lean_frees),
                             .lean_req = MS_CNT_GET(t->cls[c].lean_req),
                             .allocs = MS_CNT_GET(t->cls[c].allocs),
                             .frees = MS_CNT_GET(t->cls[c].frees),
                             .req_alloc = MS_CNT_GET(t->cls[c].req_alloc),
                             .req_freed = MS_CNT_GET(t->cls[c].req_freed)};
    a += k.allocs + k.lean_allocs;
    f += k.frees + k.lean_frees;
    b += k.req_alloc + k.lean_req;
    fb += _ms_class_req_freed(&k);
  }
  *allocs = a, *frees = f, *bytes = b, *freed = fb;
}

/* Per-thread figures since the block was adopted by its current thread. */
void _ms_thread_figures(ms_thread_t *t, uint64_t *allocs, uint64_t *frees, uint64_t *bytes,
                        uint64_t *freed) {
  thread_totals(t, allocs, frees, bytes, freed);
  *allocs -= t->base_allocs, *frees -= t->base_frees;
  *bytes -= t->base_bytes, *freed -= t->base_freed_bytes;
}

static void thread_exit(void *arg) {
  ms_thread_t *t = arg;
  _ms_guard++;
  _ms_thread_retired(t);
  _ms_guard--;
  _ms_live_flush(t);
  t_dead = 1;
  _ms_self = NULL; /* later allocations of this dying thread use the orphan block */
  t->tid = 0;      /* readers skip the block until its next thread has filled it in */
  t->serial = 0;
  atomic_store_explicit(&t->in_use, 0, memory_order_release);
}

void _ms_thread_key_init(void) {
  if (pthread_key_create(&thread_key, thread_exit) == 0) atomic_store(&key_ready, 1);
}

static ms_thread_t *adopt_block(void) {
  for (ms_thread_t *t = atomic_load(&_ms_threads); t; t = atomic_load(&t->next)) {
    int expected = 0;
    if (t != &_ms_orphan && atomic_load_explicit(&t->in_use, memory_order_relaxed) == 0 &&
        atomic_compare_exchange_strong(&t->in_use, &expected, 1))
      return t;
  }
  void *mem = mmap(NULL, sizeof(ms_thread_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
  if (mem == MAP_FAILED) return NULL;
  static _Atomic uint32_t blocks_made;
  ms_thread_t *t = mem;
  t->index = atomic_fetch_add(&blocks_made, 1) + 1; /* 0 is the orphan block */
  atomic_store(&t->in_use, 1);
  ms_thread_t *head = atomic_load(&_ms_threads);
  do {
    atomic_store(&t->next, head);
  } while (!atomic_compare_exchange_weak(&_ms_threads, &head, t));
  return t;
}

ms_thread_t *_ms_thread_slow(void) {
  if (t_dead) return NULL;
  if (atomic_load_explicit(&_ms_init_state, memory_order_acquire) != 2) {
    _ms_init();
    if (atomic_load_explicit(&_ms_init_state, memory_order_acquire) != 2) return NULL;
  }
  if (_ms_guard) return NULL; /* re-entered from our own set-up below */
  _ms_guard++;
  ms_thread_t *t = adopt_block();
  if (t) {
    thread_totals(t, &t->base_allocs, &t->base_frees, &t->base_bytes, &t->base_freed_bytes);
    static _Atomic uint32_t serials;
    t->serial = atomic_fetch_add(&serials, 1) + 1;
    t->tid = (pid_t)gettid();
    t->errno_ptr = &errno;
    t->tag_depth = 0;
    t->rng = ((uint64_t)t->tid << 32) ^ _ms_now_ns() ^ (uint64_t)(uintptr_t)t;
    if (_ms_options.seed) t->rng = _ms_options.seed * 0x9E3779B97F4A7C15ull + (uint64_t)t->index;
    if (!t->rng) t->rng = 1;
    int64_t cd = _ms_sampler_next(t);
    t->sample_countdown = cd >= 0 ? cd : MS_RATE0_RECHECK;
    _ms_self = t;
    if (atomic_load(&key_ready)) pthread_setspecific(thread_key, t);
  }
  _ms_guard--;
  return t;
}

/* The orphan block is part of the registry from the start, so readers always see it. */
void _ms_thread_registry_init(void) {
  _ms_orphan.sample_countdown = INT64_MAX;
  atomic_store(&_ms_orphan.in_use, 1);
  ms_thread_t *head = atomic_load(&_ms_threads);
  do {
    atomic_store(&_ms_orphan.next, head);
  } while (!atomic_compare_exchange_weak(&_ms_threads, &head, &_ms_orphan));
}

/* In a fork child only the forking thread exists: every other block is free for reuse. */
void _ms_thread_fork_child(void) {
  for (ms_thread_t *t = atomic_load(&_ms_threads); t; t = atomic_load(&t->next)) {
    if (t == _ms_self || t == &_ms_orphan) continue;
    if (atomic_load(&t->in_use)) {
      /* Fold its unflushed live delta into the global so totals stay right. */
      atomic_fetch_add(&_ms_live_global, t->live_delta);
      t->live_delta = 0;
      /* Its owner may have been mid-update when the parent forked; nobody will finish that:
       * an odd site sequence would make every reader wait and then accept torn copies, a
       * half-rewritten last walk could be rejoined, a half-evicted held ring freed twice. The
       * held blocks are left to leak. */
      uint32_t seq = atomic_load(&t->site_seq);
      if (seq & 1) atomic_store(&t->site_seq, seq + 1);
      t->unwind.last.n = 0;
      t->held_count = 0, t->held_head = 0, t->held_bytes = 0;
      atomic_store(&t->in_use, 0);
    }
  }
  if (_ms_self) _ms_self->tid = (pid_t)gettid();
}
