/* init.c — process-wide set-up and tear-down: lazy initialisation from the first malloc (which
 * can come before any constructor runs), the global live/peak figures, fork handlers, and the
 * at-exit work (exit dump, leak report) delegated to the tracker.
 */
#include <errno.h>
#include <fcntl.h>
#include <mimalloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "blockmap.h"
#include "checks.h"
#include "internal.h"
#include "memscope.h"

_Atomic int _ms_init_state;
int _ms_lean_mode;
_Atomic int64_t _ms_live_global;
_Atomic uint64_t _ms_peak_live;
_Atomic uint64_t _ms_peak_time_ns;
_Atomic uint64_t _ms_sample_rate;
uint64_t _ms_start_ns;
uint64_t _ms_guard_secret = 0x6d656d73636f7065ull; /* replaced by a random value at init */




/* A cheap clock (a few ns, 1-4 ms resolution) for decisions that need no precision: the
 * timeline's "has an interval passed", the time of the peak. */
uint64_t _ms_coarse_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  uint64_t t = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
  return t > _ms_start_ns ? t - _ms_start_ns : 0;
}

void _ms_write_stderr(const char *msg) {
  size_t n = strlen(msg);
  while (n) {
    ssize_t w = write(2, msg, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    msg += w, n -= (size_t)w;
  }
}

static void atfork_prepare(void) { _ms_track_atfork_prepare(); }
static void atfork_parent(void) { _ms_track_atfork_parent(); }
static void atfork_child(void) {
  _ms_thread_fork_child();
  _ms_orphan_fork_child();
  _ms_track_atfork_child();
}

void _ms_init(void) {
  int expected = 0;
  if (!atomic_compare_exchange_strong(&_ms_init_state, &expected, 1)) {
    /* Someone is initialising: another thread (wait for it) or this thread, re-entered from
     * inside the set-up (return; the caller falls back to the orphan block). */
    if (_ms_guard) return;
    while (atomic_load_explicit(&_ms_init_state, memory_order_acquire) != 2)
      __builtin_ia32_pause();
    return;
  }
  _ms_guard++;
  /* The block layout first, before anything here can allocate: every block must be made and
   * freed under the same layout. MEMSCOPE_CHECKS is read again (with warnings) by the checks'
   * own set-up; a bad value keeps the defaults, which are lean. */
  if (_ms_checks_parse(secure_getenv("MEMSCOPE_CHECKS")) != 0) _ms_checks_parse(NULL);
  _ms_lean_mode = !(_ms_check_flags & MS_CHK_NEED_HEADERS);
  _ms_blockmap_init(); /* lean mode's marks; in both modes, the sampled blocks (track/live.c) */
  _ms_start_ns = _ms_clock_init();
  uint64_t secret;
  if (getrandom(&secret, sizeof secret, GRND_NONBLOCK) == (ssize_t)sizeof secret)
    _ms_guard_secret = secret | 1;
  _ms_size_class_init();
  _ms_options_init();
  atomic_store(&_ms_sample_rate, _ms_options.sample_rate);
  _ms_thread_registry_init();
  _ms_thread_key_init();
  pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
  _ms_track_init();
  _ms_guard--;
  atomic_store_explicit(&_ms_init_state, 2, memory_order_release);
}

/* Move a thread's batched live delta into the global figure; track a new global peak. */
void _ms_live_flush(ms_thread_t *t) {
  int64_t d = t->live_delta;
  t->live_delta = 0;
  int64_t now = atomic_fetch_add_explicit(&_ms_live_global, d, memory_order_relaxed) + d;
  if (now <= 0) return;
  uint64_t live = (uint64_t)now;
  uint64_t peak = atomic_load_explicit(&_ms_peak_live, memory_order_relaxed);
  int new_peak = 0;
  while (live > peak) {
    if (atomic_compare_exchange_weak_explicit(&_ms_peak_live, &peak, live, memory_order_relaxed,
                                              memory_order_relaxed)) {
      new_peak = 1;
      break;
    }
  }
  if (new_peak) atomic_store_explicit(&_ms_peak_time_ns, _ms_now_ns(), memory_order_relaxed);
  if (_ms_guard) return; /* the tracker's own allocations: no tracker calls */
  _ms_guard++;
  if (new_peak) _ms_track_peak(live);
  /* The timeline asks a clock whether its interval has passed: on every batch flush, but only
   * on every 64th of the per-sample flushes of exact mode (a million a second; the clock read
   * was 2% of a rate-1 run) */
  if (d >= MS_LIVE_FLUSH || d <= -MS_LIVE_FLUSH || (++t->flushes & 63) == 0 || new_peak)
    _ms_timeline_maybe_add(live);
  _ms_guard--;
}

__attribute__((constructor)) static void ms_constructor(void) {
  if (atomic_load(&_ms_init_state) != 2) _ms_init();
}

__attribute__((destructor)) static void ms_destructor(void) {
  if (atomic_load(&_ms_init_state) != 2) return;
  _ms_guard++;
  if (_ms_self) _ms_live_flush(_ms_self);
  _ms_track_at_exit();
  _ms_guard--;
}

#include "visibility.h"   /* MS_EXPORT */

MS_EXPORT const char *ms_strerror(int err) { return ms_strerror_unloaded_(err); }
