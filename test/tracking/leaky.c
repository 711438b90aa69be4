/* leaky.c — an example program with known leaks at known call chains, for the tracking tests
 * (test/tracking/test_tracking.c runs it under LD_PRELOAD=libmemscope.so). Built twice, with
 * and without frame pointers, and with -rdynamic so the at-exit leak report can name frames.
 *
 * What it leaves allocated at exit (exactly):
 *   leak_root -> leak_mid -> leak_leaf      100 blocks x 1000 bytes (malloc)
 *   other_root -> other_leak                  7 blocks x 4096 bytes (calloc)
 *   grow_root -> grow_buffer                  1 block  of 50000 bytes (realloc'd from 10)
 * and, with the argument "big":
 *   big_root -> big_leaf                 200000 blocks x 48 bytes
 * Everything churn() allocates (10000 blocks) is freed again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../test_compiler.h"

static void *sink[64]; /* keeps nothing alive: the leaks are truly unreachable after return */

NOINLINE void leak_leaf(int n) {
  for (int i = 0; i < n; i++) {
    char *p = malloc(1000);
    memset(p, i, 1000);
    sink[i % 64] = p;
  }
  NO_TAIL();
}
NOINLINE void leak_mid(int n) {
  leak_leaf(n);
  NO_TAIL();
}
NOINLINE void leak_root(void) {
  leak_mid(100);
  NO_TAIL();
}

NOINLINE void other_leak(void) {
  for (int i = 0; i < 7; i++) sink[i] = calloc(1, 4096);
  NO_TAIL();
}
NOINLINE void other_root(void) {
  other_leak();
  NO_TAIL();
}

NOINLINE void grow_buffer(void) {
  char *b = malloc(10);
  for (size_t n = 100; n <= 50000; n = n * 2 > 50000 && n < 50000 ? 50000 : n * 2) {
    b = realloc(b, n);
    b[n - 1] = 1;
    if (n == 50000) break;
  }
  sink[0] = b;
  NO_TAIL();
}
NOINLINE void grow_root(void) {
  grow_buffer();
  NO_TAIL();
}

NOINLINE void churn(void) {
  for (int i = 0; i < 10000; i++) {
    void *p = malloc((size_t)(i % 300) + 1);
    __asm__ volatile("" : "+r"(p));
    free(p);
  }
  NO_TAIL();
}

NOINLINE void big_leaf(int n) {
  for (int i = 0; i < n; i++) sink[i % 64] = malloc(48);
  NO_TAIL();
}
NOINLINE void big_root(void) {
  big_leaf(200000);
  NO_TAIL();
}

int main(int argc, char **argv) {
  leak_root();
  other_root();
  grow_root();
  churn();
  if (argc > 1 && strcmp(argv[1], "big") == 0) big_root();
  memset(sink, 0, sizeof sink);
  puts("leaky: done");
  return 0;
}
