/* test_clock.c — the tracker's clock (alloc/clock.c): rdtsc scaled against CLOCK_MONOTONIC must
 * agree with CLOCK_MONOTONIC (within 100 us over 300 ms, including the first 5 ms when it
 * still asks clock_gettime) and never go backwards by more than the scale's refinements. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

uint64_t _ms_start_ns;
uint64_t _ms_clock_init(void);
uint64_t _ms_now_ns(void);

static uint64_t mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void test_clock_agrees_with_monotonic(void **state) {
  (void)state;
  _ms_start_ns = _ms_clock_init();
  uint64_t prev = 0, worst = 0, backwards = 0;
  for (;;) {
    uint64_t a = mono() - _ms_start_ns;
    uint64_t t = _ms_now_ns();
    uint64_t b = mono() - _ms_start_ns;
    /* t must lie between a and b, give or take the tolerance */
    uint64_t off = t < a ? a - t : (t > b ? t - b : 0);
    if (off > worst) worst = off;
    if (t < prev && prev - t > backwards) backwards = prev - t;
    prev = t;
    if (a > 300000000ull) break;
  }
  print_message("worst offset %llu ns, worst step back %llu ns\n", (unsigned long long)worst,
                (unsigned long long)backwards);
  assert_true(worst < 100000);
  assert_true(backwards < 100000);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_clock_agrees_with_monotonic)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
