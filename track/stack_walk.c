/* stack_walk.c — the one place that walks the stack: _ms_unwind() fills return addresses, innermost
 * first. Three walkers, chosen once at start-up by MEMSCOPE_UNWIND:
 *
 *   cached (default)  track/cfi_cache.c: the DWARF CFI rule of each return address is computed
 *                     once and cached, so a walk is a few loads per frame (bench_unwind: ~8 ns
 *                     a frame against libgcc's ~160 ns). Right for code without frame pointers;
 *                     a frame it cannot follow (signal frames, DWARF expressions) hands the whole
 *                     walk to libgcc.
 *   libgcc            libgcc_s's _Unwind_Backtrace on every walk: interprets CFI each time.
 *   libunwind         unw_backtrace(): cached too, but libunwind 1.6 (Debian 12) opens a pipe,
 *                     pipe2(O_CLOEXEC | O_NONBLOCK), on first use to validate addresses; the
 *                     traced program then holds two extra descriptors on its lowest free numbers
 *                     (breaks programs that count descriptors: CPython's test_subprocess).
 *
 * The cached walker and libgcc open nothing, take no lock and allocate nothing on Debian 12:
 * with glibc >= 2.35 and gcc >= 12, libgcc finds a PC's unwind tables with _dl_find_object(),
 * lock-free and safe while the loader is busy (a malloc from inside dlopen).
 *
 * Like unw_backtrace(), the first address is in the function that called _ms_unwind(), and each
 * is a return address (the symboliser looks up address - 1), except for a frame interrupted by
 * a signal, whose address is the interrupted instruction.
 */
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <libunwind.h>
#include <stddef.h>
#include <string.h>
#include <unwind.h>

#include "internal.h"
#include "stack_walk.h"
#include "visibility.h"

enum { WALK_CACHED, WALK_LIBGCC, WALK_LIBUNWIND };
static int walker; /* set once by _ms_unwind_init(), before other threads sample */

/* libgcc_s's own _Unwind_Backtrace and _Unwind_GetIP, looked up in libgcc_s itself: a plain
 * call binds to the first definition in the process's global scope, and libunwind.so exports
 * both too (a slow unw_step loop that opens libunwind's pipe, and a GetIP that reads the
 * context as libunwind's own cursor), which win in a program linked with libunwind. Set by
 * _ms_unwind_init(); until then (or if the lookup fails) the plain symbols are used. */
typedef _Unwind_Reason_Code (*backtrace_fn)(_Unwind_Trace_Fn, void *);
typedef _Unwind_Ptr (*getip_fn)(struct _Unwind_Context *);
static backtrace_fn gcc_backtrace;
static getip_fn gcc_getip;

void _ms_unwind_init(void) {
  const char *u = _ms_options.unwind;
  if (u && strcmp(u, "libunwind") == 0) walker = WALK_LIBUNWIND;
  else if (u && strcmp(u, "libgcc") == 0) walker = WALK_LIBGCC;
  else walker = WALK_CACHED;
  /* RTLD_NOLOAD: libgcc_s is already loaded (a dependency of libmemscope); nothing is opened */
  void *h = dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_NOLOAD);
  if (!h) {
    if (walker == WALK_CACHED) walker = WALK_LIBGCC;
    return;
  }
  backtrace_fn f = (backtrace_fn)dlsym(h, "_Unwind_Backtrace");
  getip_fn g = (getip_fn)dlsym(h, "_Unwind_GetIP");
  void *find = dlsym(h, "_Unwind_Find_FDE");
  if (walker == WALK_CACHED) {
    if (find) _ms_cfi_init(find);
    else walker = WALK_LIBGCC;
  }
  if (!f || !g) return;
  gcc_getip = g; /* published by the release store below, read after the acquire load */
  __atomic_store_n(&gcc_backtrace, f, __ATOMIC_RELEASE);
  /* the handle is kept: libgcc_s stays loaded for as long as libmemscope is */
}

typedef struct walk {
  void **buf;
  int n, max, skip;
  getip_fn getip;
} walk_t;

static _Unwind_Reason_Code one_frame(struct _Unwind_Context *ctx, void *arg) {
  walk_t *w = arg;
  uintptr_t ip = (uintptr_t)(w->getip ? w->getip(ctx) : _Unwind_GetIP(ctx));
  if (ip == 0 || w->n >= w->max) return _URC_END_OF_STACK;
  if (w->skip > 0) {
    w->skip--;
    return _URC_NO_REASON;
  }
  w->buf[w->n++] = (void *)ip;
  return _URC_NO_REASON;
}

__attribute__((noinline)) static int libgcc_walk(void **buf, int max, int skip) {
  walk_t w = {buf, 0, max, skip, NULL};
  backtrace_fn f = __atomic_load_n(&gcc_backtrace, __ATOMIC_ACQUIRE);
  if (f) w.getip = gcc_getip, f(one_frame, &w);
  else _Unwind_Backtrace(one_frame, &w);
  return w.n;
}

/* Inlined into each of the two entry points below, so that "this frame" is theirs. */
static inline __attribute__((always_inline)) int unwind_here(void **buf, int max, ms_unwind_cache_t *l0) {
  if (max <= 0) return 0;
  if (walker == WALK_CACHED) {
    /* Start from the entry point's own frame: __builtin_frame_address makes the compiler keep
     * rbp as the frame pointer there, so [fp] is the caller's rbp, [fp + 8] our return address
     * (into the caller) and fp + 16 the caller's stack pointer after the return. */
    uint64_t *fp = __builtin_frame_address(0);
    int n = _ms_cfi_walk(buf, max, fp[1], (uint64_t)(uintptr_t)(fp + 2), fp[0], l0);
    if (n >= 0) return n;
    /* a frame the cache cannot follow: the full unwinder, skipping our own frame */
  } else if (walker == WALK_LIBUNWIND) { /* its first frame is ours: drop it */
    void *tmp[max + 1];
    int n = unw_backtrace(tmp, max + 1);
    if (n <= 1) return 0;
    memcpy(buf, tmp + 1, (size_t)(n - 1) * sizeof *buf);
    return n - 1;
  }
  /* libgcc reports _ms_unwind's own frame first (the return address of _Unwind_Backtrace, which
   * libgcc_walk calls): skip it and libgcc_walk's, so the result starts in our caller. */
  int n = libgcc_walk(buf, max, 2);
  __asm__ volatile("" ::: "memory"); /* not a tail call: our frame must stay for the skip */
  return n;
}

__attribute__((noinline)) int _ms_unwind(void **buf, int max) {
  int n = unwind_here(buf, max, NULL);
  __asm__ volatile("" ::: "memory");
  return n;
}

__attribute__((noinline)) int _ms_unwind_l0(void **buf, int max, ms_unwind_cache_t *l0) {
  int n = unwind_here(buf, max, l0);
  __asm__ volatile("" ::: "memory");
  return n;
}

/* dlclose() unmaps code whose cached rules must not apply to what is loaded there next. */
typedef int (*dlclose_fn)(void *);
MS_EXPORT int dlclose(void *handle) {
  static dlclose_fn real;
  dlclose_fn f = __atomic_load_n(&real, __ATOMIC_ACQUIRE);
  if (!f) {
    f = (dlclose_fn)dlsym(RTLD_NEXT, "dlclose");
    if (!f) return -1;
    __atomic_store_n(&real, f, __ATOMIC_RELEASE);
  }
  int rc = f(handle);
  _ms_cfi_flush();
  return rc;
}
