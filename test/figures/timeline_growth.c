/* timeline_growth.c — memory that grows in phases, each phase from its own function, for the
 * timeline's "who grew it" figures (figures_test.py timeline): grow_a builds 8 MiB, then
 * grow_b 16 MiB while a is kept, then a is freed and grow_c builds 4 MiB; a pause after each
 * phase lets the tracker take timeline points (MEMSCOPE_INTERVAL_MS=1). Points are taken only
 * when live bytes move (by 64 KiB), so mark() allocates one block after the pause at the peak:
 * that point sees a and b complete, whatever the machine's load. Small, short-lived noise
 * allocations from churn() run all along. Exits 0 with everything freed but c. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BLOCK (64 * 1024)

static void pause_ms(int ms) {
  struct timespec ts = {0, ms * 1000000L};
  nanosleep(&ts, NULL);
}

__attribute__((noinline)) static void churn(int n) {
  for (int i = 0; i < n; i++) {
    char *volatile p = malloc(48 + (size_t)i % 200);
    if (p) p[0] = 1;
    free(p);
  }
}

/* Allocate n blocks into v, a few at a time with pauses, so points fall inside the phase. */
__attribute__((noinline)) static void grow_a(void **v, int n) {
  for (int i = 0; i < n; i++) {
    v[i] = malloc(BLOCK);
    memset(v[i], 1, 64);
    if (i % 16 == 15) pause_ms(2), churn(50);
  }
}
__attribute__((noinline)) static void grow_b(void **v, int n) {
  for (int i = 0; i < n; i++) {
    v[i] = malloc(BLOCK);
    memset(v[i], 2, 64);
    if (i % 16 == 15) pause_ms(2), churn(50);
  }
}
__attribute__((noinline)) static void grow_c(void **v, int n) {
  for (int i = 0; i < n; i++) {
    v[i] = malloc(BLOCK);
    memset(v[i], 3, 64);
    if (i % 16 == 15) pause_ms(2), churn(50);
  }
}

__attribute__((noinline)) static void *mark(void) { return malloc(BLOCK); }

int main(void) {
  static void *a[128], *b[256], *c[64];
  grow_a(a, 128);  /* 8 MiB */
  pause_ms(20);
  grow_b(b, 256);  /* 16 MiB: the peak is a + b = 24 MiB */
  pause_ms(20);
  void *volatile m = mark();
  pause_ms(5);
  free(m);
  for (int i = 0; i < 128; i++) free(a[i]);
  for (int i = 0; i < 256; i++) free(b[i]);
  pause_ms(20);
  grow_c(c, 64);   /* 4 MiB, kept to the end */
  pause_ms(20);
  churn(10);
  return 0;
}
