/* sampler.c — which allocations get a stack, and what each sample stands for.
 *
 * Sampling is by bytes, per thread: the countdown to the next sample is drawn from an
 * exponential distribution with mean R (MEMSCOPE_SAMPLE_RATE), and every allocation subtracts
 * its size; the allocation that takes the countdown to zero or below is sampled. This is a
 * Poisson process over allocated bytes with rate 1/R: each byte is "hit" independently with
 * probability 1/R (in the continuous limit), so an allocation of s bytes is sampled with
 * probability
 *
 *     p(s) = 1 - exp(-s / R)
 *
 * independently of what came before (the exponential is memoryless, so the countdown left over
 * from earlier allocations does not bias later ones). Horvitz-Thompson then gives unbiased
 * estimators: a sample of size s stands for 1/p(s) allocations and s/p(s) bytes, i.e.
 *
 *     weight_bytes(s) = s / (1 - exp(-s / R))
 *
 * For s >> R the weight tends to s (large allocations are always sampled, counted once); for
 * s << R it tends to R (each small sample stands for about R bytes). R = 1 means "every
 * allocation": the countdown is kept at 0 so every allocation is sampled with weight s.
 * The same scheme is used by jemalloc (prof_sample) and tcmalloc; test/test_sampler.c checks
 * the estimator statistically with fixed seeds.
 */
#include <math.h>

#include "track.h"

static inline uint64_t next_random(ms_thread_t *t) {
  /* xorshift64*: tiny, fast, good enough for sampling decisions */
  uint64_t x = t->rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  t->rng = x;
  return x * 0x2545F4914F6CDD1Dull;
}

/* A fresh countdown for t: bytes until its next sample. -1 when sampling is off. */
int64_t _ms_sampler_next(ms_thread_t *t) {
  uint64_t rate = atomic_load_explicit(&_ms_sample_rate, memory_order_relaxed);
  if (rate == 0) return -1;
  if (rate == 1) return 0;
  /* u uniform in (0, 1]: 53 random bits, never 0 so log(u) is finite */
  double u = (double)((next_random(t) >> 11) + 1) * (1.0 / 9007199254740992.0);
  double draw = -log(u) * (double)rate;
  if (draw >= 9.0e18) return INT64_MAX;
  int64_t cd = (int64_t)draw;
  return cd > 0 ? cd : 1;
}

uint64_t _ms_sample_weight(uint64_t size, uint64_t rate) {
  if (rate <= 1 || size == 0) return size;
  double p = -expm1(-(double)size / (double)rate); /* 1 - exp(-s/R), accurate for small s/R */
  double w = (double)size / p;
  return w >= 1.8e19 ? UINT64_MAX : (uint64_t)(w + 0.5);
}

/* After ms_set_sample_rate: every thread draws a new countdown at its next allocation. The
 * owner's own load/store of the countdown may race with this store; the worst case is one
 * allocation sampled under the old countdown, which the weights already account for. */
void _ms_sampler_reset_all(void) {
  for (ms_thread_t *t = atomic_load(&_ms_threads); t; t = atomic_load(&t->next))
    if (t->index != 0) __atomic_store_n(&t->sample_countdown, 0, __ATOMIC_RELAXED);
}
