/* bench_unwind.c — cost of capturing one stack of ~20 frames with each candidate unwinder.
 *
 * The tracker captures a stack for every sampled allocation (every allocation at rate 1), so the
 * unwinder's cost per capture decides whether rate 1 can stay within 2x of bare mimalloc. This
 * program builds a call chain of a given depth (unwind_chain.c, built with and without frame
 * pointers), and at its bottom captures the stack N times with:
 *   glibc backtrace()            (libgcc's DWARF unwinder underneath)
 *   _Unwind_Backtrace directly   (memscope's fallback: track/stack_walk.c, opens no descriptor)
 *   memscope's cached CFI walker (track/cfi_cache.c, the default: rules cached per return
 *                                 address, with and without the per-thread cache)
 *   libunwind unw_backtrace()    with each caching policy (none, global, per-thread)
 *   libunwind unw_init_local + unw_step loop (the slow, general API)
 *   a frame-pointer walk         (fast, but only right when every frame keeps a frame pointer)
 * It prints, per method and chain flavour, the frames found and the median thread-CPU ns per capture over
 * several repetitions. With threads > 1 the same measurement runs in that many threads at once
 * (each thread's median is printed): shows whether a cache shared between threads contends.
 * Usage: bench_unwind [depth=20] [iterations=100000] [threads=1]
 */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <execinfo.h>
#include <libunwind.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unwind.h>

#include "internal.h"
#include "stack_walk.h"

#define MAX_FRAMES 64
#define REPS 5

typedef void (*ms_chain_leaf_fn)(void *arg);
int ms_chain_fp(int depth, ms_chain_leaf_fn leaf, void *arg);
int ms_chain_nofp(int depth, ms_chain_leaf_fn leaf, void *arg);

typedef int (*capture_fn)(void **buf, int max);

static _Thread_local uintptr_t stack_lo, stack_hi; /* this thread's stack: bounds the FP walk */
static pthread_barrier_t start_line;
static int nthreads = 1;

static int cap_glibc(void **buf, int max) { return backtrace(buf, max); }

static _Unwind_Ptr (*gcc_getip)(struct _Unwind_Context *);
struct gcc_walk {
  void **buf;
  int n, max;
};
static _Unwind_Reason_Code gcc_frame(struct _Unwind_Context *ctx, void *arg) {
  struct gcc_walk *w = arg;
  if (w->n >= w->max) return _URC_END_OF_STACK;
  w->buf[w->n++] = (void *)gcc_getip(ctx);
  return _URC_NO_REASON;
}
/* libgcc_s's own: this program also links libunwind, whose _Unwind_Backtrace and _Unwind_GetIP
 * would win a plain call (memscope looks them up the same way, track/stack_walk.c) */
static _Unwind_Reason_Code (*gcc_backtrace)(_Unwind_Trace_Fn, void *);
static int cap_gcc_unwind(void **buf, int max) {
  struct gcc_walk w = {buf, 0, max};
  gcc_backtrace(gcc_frame, &w);
  return w.n;
}
static int cap_unw_backtrace(void **buf, int max) { return unw_backtrace(buf, max); }

/* memscope's walker, started at this function's frame as track/stack_walk.c starts it */
static _Thread_local ms_unwind_cache_t cfi_thread_cache;
static ms_unwind_cache_t *cfi_cache_used;
__attribute__((noinline)) static int cap_cfi(void **buf, int max) {
  uint64_t *fp = __builtin_frame_address(0);
  int n = _ms_cfi_walk(buf, max, fp[1], (uint64_t)(uintptr_t)(fp + 2), fp[0], cfi_cache_used);
  __asm__ volatile("" ::: "memory");
  return n < 0 ? 0 : n;
}

static int cap_unw_step(void **buf, int max) {
  unw_context_t ctx;
  unw_cursor_t cur;
  int n = 0;
  unw_getcontext(&ctx);
  if (unw_init_local(&cur, &ctx) < 0) return 0;
  while (n < max && unw_step(&cur) > 0) {
    unw_word_t ip;
    unw_get_reg(&cur, UNW_REG_IP, &ip);
    buf[n++] = (void *)ip;
  }
  return n;
}

/* Follow the saved-rbp chain; stop when the next frame is not above this one, leaves the
 * stack, or is misaligned — that is how the walk ends (early) in code without frame pointers. */
__attribute__((noinline)) static int cap_fp(void **buf, int max) {
  uintptr_t *fp = __builtin_frame_address(0);
  int n = 0;
  while (n < max) {
    if ((uintptr_t)fp < stack_lo || (uintptr_t)fp + 16 > stack_hi || ((uintptr_t)fp & 7)) break;
    uintptr_t ret = fp[1];
    uintptr_t *next = (uintptr_t *)fp[0];
    if (ret == 0) break;
    buf[n++] = (void *)ret;
    if (next <= fp) break;
    fp = next;
  }
  return n;
}

struct run {
  capture_fn fn;
  long iters;
  int frames;
  double ns;
};

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: steady on a loaded machine */
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void leaf(void *arg) {
  struct run *r = arg;
  void *buf[MAX_FRAMES];
  r->frames = r->fn(buf, MAX_FRAMES); /* warm-up: loads libgcc_s, fills caches */
  double t0 = now_ns();
  for (long i = 0; i < r->iters; i++) r->fn(buf, MAX_FRAMES);
  r->ns = (now_ns() - t0) / (double)r->iters;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void measure(const char *name, capture_fn fn, int depth, long iters) {
  static const struct { const char *label; int (*chain)(int, ms_chain_leaf_fn, void *); } chains[] = {
      {"fp", ms_chain_fp}, {"nofp", ms_chain_nofp}};
  for (size_t c = 0; c < 2; c++) {
    double ns[REPS];
    struct run r = {fn, iters, 0, 0};
    for (int k = 0; k < REPS; k++) {
      if (nthreads > 1) pthread_barrier_wait(&start_line); /* all threads measure together */
      chains[c].chain(depth, leaf, &r);
      ns[k] = r.ns;
    }
    qsort(ns, REPS, sizeof ns[0], cmp_double);
    printf("%-28s %-5s %s frames=%-3d ns/capture median=%8.1f min=%8.1f max=%8.1f\n", name,
           chains[c].label, nthreads > 1 ? "(per thread)" : "", r.frames, ns[REPS / 2], ns[0], ns[REPS - 1]);
  }
}

static void *cfi_find_fde;
static void cfi_init_once(void) { _ms_cfi_init(cfi_find_fde); }

struct config {
  int depth;
  long iters;
};

static void *run_all(void *arg) {
  const struct config *cfg = arg;
  int depth = cfg->depth;
  long iters = cfg->iters;
  pthread_attr_t attr;
  void *addr;
  size_t size;
  pthread_getattr_np(pthread_self(), &attr);
  pthread_attr_getstack(&attr, &addr, &size);
  pthread_attr_destroy(&attr);
  stack_lo = (uintptr_t)addr;
  stack_hi = stack_lo + size;

  measure("glibc backtrace()", cap_glibc, depth, iters);
  void *gcc = dlopen("libgcc_s.so.1", RTLD_NOW);
  gcc_backtrace = gcc ? (_Unwind_Reason_Code(*)(_Unwind_Trace_Fn, void *))dlsym(gcc, "_Unwind_Backtrace") : NULL;
  gcc_getip = gcc ? (_Unwind_Ptr(*)(struct _Unwind_Context *))dlsym(gcc, "_Unwind_GetIP") : NULL;
  if (gcc_backtrace && gcc_getip) measure("_Unwind_Backtrace (libgcc)", cap_gcc_unwind, depth, iters);
  void *find = gcc ? dlsym(gcc, "_Unwind_Find_FDE") : NULL;
  if (find) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    cfi_find_fde = find;
    pthread_once(&once, cfi_init_once);
    cfi_cache_used = NULL;
    measure("memscope cached CFI (shared)", cap_cfi, depth, iters * 4);
    cfi_cache_used = &cfi_thread_cache;
    measure("memscope cached CFI (thread)", cap_cfi, depth, iters * 4);
  }
  unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_NONE);
  measure("unw_backtrace cache=none", cap_unw_backtrace, depth, iters);
  measure("unw_step loop cache=none", cap_unw_step, depth, iters / 4);
  unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_GLOBAL);
  measure("unw_backtrace cache=global", cap_unw_backtrace, depth, iters);
  measure("unw_step loop cache=global", cap_unw_step, depth, iters / 4);
  unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
  measure("unw_backtrace cache=thread", cap_unw_backtrace, depth, iters);
  measure("unw_step loop cache=thread", cap_unw_step, depth, iters / 4);
  measure("frame-pointer walk", cap_fp, depth, iters * 10);
  return NULL;
}

int main(int argc, char **argv) {
  struct config cfg = {argc > 1 ? atoi(argv[1]) : 20, argc > 2 ? atol(argv[2]) : 100000};
  nthreads = argc > 3 ? atoi(argv[3]) : 1;
  if (cfg.depth < 1 || cfg.depth > 40 || cfg.iters < 10 || nthreads < 1 || nthreads > 64) {
    fprintf(stderr, "usage: bench_unwind [depth 1..40] [iterations >= 10] [threads 1..64]\n");
    return 2;
  }
  printf("# chain depth %d (+ main, libc start frames), %ld captures per repetition, %d reps, "
         "%d thread(s)\n", cfg.depth, cfg.iters, REPS, nthreads);
  if (nthreads == 1) {
    run_all(&cfg);
    return 0;
  }
  pthread_t tid[64];
  pthread_barrier_init(&start_line, NULL, (unsigned)nthreads);
  for (int t = 0; t < nthreads; t++) pthread_create(&tid[t], NULL, run_all, &cfg);
  for (int t = 0; t < nthreads; t++) pthread_join(tid[t], NULL);
  pthread_barrier_destroy(&start_line);
  return 0;
}
