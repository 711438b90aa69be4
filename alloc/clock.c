/* clock.c — the tracker's clock: nanoseconds since start, read twice per sampled allocation
 * (its time, and its lifetime at free). clock_gettime() costs 25-100 ns on virtual machines
 * (measured here: ~10% of a rate-1 Python run), so when the CPU has an invariant TSC (CPUID
 * 0x80000007 EDX bit 8: constant rate, not stopped in sleep states) the clock is rdtsc scaled
 * by a factor measured against CLOCK_MONOTONIC. The factor is first measured once 5 ms have
 * passed (before that, clock_gettime answers) and refined as the run goes on; both clocks agree
 * to well under a microsecond over any run.
 */
#include <cpuid.h>
#include <time.h>
#include <x86intrin.h>

#include "internal.h"

static uint64_t tsc0, mono0;        /* a simultaneous pair of readings, at start */
static _Atomic uint64_t scale_q32;  /* ns per tick in 32.32 fixed point; 0 = not yet measured */
static _Atomic uint64_t scale_at;   /* tick delta the scale was measured over */
static int have_tsc;

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Called once from _ms_init, before any other thread can allocate. Returns the start time. */
uint64_t _ms_clock_init(void) {
  unsigned a, b, c, d;
  have_tsc = __get_cpuid(0x80000007, &a, &b, &c, &d) && (d & (1u << 8));
  mono0 = mono_ns();
  tsc0 = __rdtsc();
  return mono0;
}

/* Measure (or refine) the scale when the run is at least twice as old as the last measure. */
static uint64_t calibrate(uint64_t ticks) {
  uint64_t mono = mono_ns() - mono0;
  if (mono < 5000000ull || ticks == 0) return 0; /* too early for a precise factor */
  uint64_t q = (uint64_t)(((unsigned __int128)mono << 32) / ticks);
  atomic_store_explicit(&scale_q32, q, memory_order_relaxed);
  atomic_store_explicit(&scale_at, ticks, memory_order_relaxed);
  return q;
}

uint64_t _ms_now_ns(void) {
  if (!have_tsc) return mono_ns() - _ms_start_ns;
  uint64_t ticks = __rdtsc() - tsc0;
  uint64_t q = atomic_load_explicit(&scale_q32, memory_order_relaxed);
  if (MS_UNLIKELY(q == 0 || ticks > 2 * atomic_load_explicit(&scale_at, memory_order_relaxed))) {
    uint64_t nq = calibrate(ticks);
    if (nq == 0 && q == 0) return mono_ns() - _ms_start_ns;
    if (nq) q = nq;
  }
  return (mono0 - _ms_start_ns) + (uint64_t)(((unsigned __int128)ticks * q) >> 32);
}
