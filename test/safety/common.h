/* common.h — helpers shared by the safety test programs (test/safety/, one file per error kind): each program commits
 * one memory error on purpose; run_case.py runs it under libmemscope.so and checks the report.
 * Programs print "block=ADDR" and "access=ADDR" on stdout (flushed before the error) so that
 * the driver can compare the addresses in the report with the real ones. */
#ifndef MS_SAFETY_COMMON_H
#define MS_SAFETY_COMMON_H
#include <stdio.h>
#include <stdlib.h>

#define NOINLINE __attribute__((noinline))

static inline void announce(const char *what, const void *p) {
  printf("%s=%p\n", what, p);
  fflush(stdout);
}

/* keep the compiler from reasoning about the pointer (it may not assume malloc semantics) */
static inline void *opaque(void *p) {
  __asm__ volatile("" : "+r"(p));
  return p;
}
#endif
