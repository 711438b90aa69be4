/* stack_walk.c — the one place that walks the stack: _ms_unwind() fills return addresses, innermost
 * first, using libgcc's DWARF unwinder (_Unwind_Backtrace from libgcc_s).
 *
 * Why libgcc and not libunwind: libunwind 1.6 (Debian 12) opens a pipe, pipe2(O_CLOEXEC |
 * O_NONBLOCK), on its first use, to validate addresses; the traced program then holds two
 * extra descriptors on its lowest free numbers, which breaks programs that count or pass
 * descriptors (CPython's test_subprocess). libgcc's unwinder opens nothing, takes no lock and
 * allocates nothing on Debian 12: with glibc >= 2.35 and gcc >= 12 it finds a PC's unwind
 * tables with _dl_find_object(), which is lock-free and safe while the loader is busy (a
 * malloc from inside dlopen). It follows DWARF CFI, so stacks are right in code built without
 * frame pointers. Measured cost per stack: bench/RESULTS.md ("Stack-capture cost").
 *
 * Exact mode is the exception: with MEMSCOPE_SAMPLE_RATE=1 at start-up every allocation takes a
 * stack, and libgcc's walk (~4.4 us for 27 frames, bench_unwind) would cost python 2.3x the CPU
 * of libunwind's cached walk (~0.2 us). There libunwind is used, and its pipe is the one thing
 * memscope adds to the process (docs/USAGE.md). MEMSCOPE_UNWIND=libgcc|libunwind chooses
 * explicitly. A frame cache over libgcc's walk would make the exception unnecessary.
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

static int use_libunwind; /* set once by _ms_unwind_init(), before other threads sample */

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
  if (u && strcmp(u, "libunwind") == 0) use_libunwind = 1;
  else if (u && strcmp(u, "libgcc") == 0) use_libunwind = 0;
  else use_libunwind = _ms_options.sample_rate == 1;
  /* RTLD_NOLOAD: libgcc_s is already loaded (a dependency of libmemscope); nothing is opened */
  void *h = dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_NOLOAD);
  if (!h) return;
  backtrace_fn f = (backtrace_fn)dlsym(h, "_Unwind_Backtrace");
  getip_fn g = (getip_fn)dlsym(h, "_Unwind_GetIP");
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

__attribute__((noinline)) int _ms_unwind(void **buf, int max) {
  /* libgcc reports _ms_unwind's own frame first (the return address of _Unwind_Backtrace):
   * skip it, so the result starts in our caller, where unw_backtrace's would. */
  walk_t w = {buf, 0, max, 1, NULL};
  if (max <= 0) return 0;
  if (use_libunwind) { /* its first frame is ours: drop it */
    void *tmp[max + 1];
    int n = unw_backtrace(tmp, max + 1);
    if (n <= 1) return 0;
    memcpy(buf, tmp + 1, (size_t)(n - 1) * sizeof *buf);
    return n - 1;
  }
  backtrace_fn f = __atomic_load_n(&gcc_backtrace, __ATOMIC_ACQUIRE);
  if (f) w.getip = gcc_getip, f(one_frame, &w);
  else _Unwind_Backtrace(one_frame, &w);
  return w.n;
}
