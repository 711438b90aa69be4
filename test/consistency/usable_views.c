/* usable_views.c — the program's view of a block (every byte up to malloc_usable_size) against
 * memscope's (the requested size), for the entry points and block kinds that test/regress/
 * usable_size.c does not walk: memalign/valloc/pvalloc, realloc and reallocarray from NULL,
 * realloc in place after the slack was written, named blocks (ms_track: their realloc always
 * moves), blocks written to the end of their slack while a dump is taken (the dump verifies
 * canaries), and the counters afterwards.
 *
 * Run preloaded (not linked: memscope.h's weak API binds at run time) under every
 * MEMSCOPE_SAMPLE_RATE / MEMSCOPE_CHECKS combination by test/consistency.cmake; run.sh fails the
 * test if memscope reports anything on stderr (writing the slack after asking for its size is
 * legal, so any report is a false positive). Exits 1 after printing the first failures. */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memscope.h"

static unsigned long failures;

static void fail(const char *how, const char *what, size_t n, size_t u, size_t at) {
  if (failures++ < 10)
    fprintf(stderr, "FAIL %s: %s n=%zu usable=%zu first bad byte at %zu\n", how, what, n, u, at);
}

static unsigned char pattern(size_t i, unsigned seed) { return (unsigned char)(seed ^ (i * 13u)); }

static void fill(unsigned char *p, size_t len, unsigned seed) {
  for (size_t i = 0; i < len; i++) p[i] = pattern(i, seed);
}

static size_t first_bad(const unsigned char *p, size_t len, unsigned seed) {
  for (size_t i = 0; i < len; i++)
    if (p[i] != pattern(i, seed)) return i;
  return len;
}

/* Write the whole usable block, realloc it a little larger (in place when the slack allows),
 * then much larger (a move), then smaller: the bytes the program may rely on survive each step.
 * Frees the block. */
static void walk(const char *how, unsigned char *p, size_t n, size_t min_usable, size_t align) {
  if (!p) { fail(how, "allocation returned NULL", n, 0, 0); return; }
  if (align > 1 && ((uintptr_t)p % align) != 0) fail(how, "misaligned", n, 0, 0);
  size_t u = malloc_usable_size(p);
  if (u < min_usable) fail(how, "usable size below the request", n, u, 0);
  fill(p, u, 0x5A);
  /* in place if it fits: every byte up to the new size must still be there */
  size_t m = u > n ? n + (u - n) / 2 + 1 : n + 1;
  unsigned char *q = realloc(p, m);
  if (!q) { fail(how, "realloc (small growth) returned NULL", n, u, 0); free(p); return; }
  size_t keep = m < u ? m : u, bad = first_bad(q, keep, 0x5A);
  if (bad != keep) fail(how, "realloc (small growth) lost bytes", n, u, bad);
  size_t u2 = malloc_usable_size(q);
  fill(q, u2, 0xA3);
  unsigned char *r = realloc(q, u2 * 2 + 4096);
  if (!r) { fail(how, "realloc (move) returned NULL", n, u2, 0); free(q); return; }
  bad = first_bad(r, u2, 0xA3);
  if (bad != u2) fail(how, "realloc (move) lost bytes", n, u2, bad);
  unsigned char *s = reallocarray(r, (u2 + 1) / 2, 1);
  if (!s) { fail(how, "reallocarray (shrink) returned NULL", n, u2, 0); free(r); return; }
  bad = first_bad(s, (u2 + 1) / 2, 0xA3);
  if (bad != (u2 + 1) / 2) fail(how, "reallocarray (shrink) lost bytes", n, u2, bad);
  free(s);
}

/* A named block: memscope always moves it on realloc (the NAMED path), which must copy as much
 * as any other move. */
static void walk_named(size_t n) {
  unsigned char *p = malloc(n);
  if (!p) { fail("named", "malloc returned NULL", n, 0, 0); return; }
  if (ms_track) ms_track(p, "buffer", "unsigned char[]", __FILE__, __LINE__);
  walk("named", p, n, n, 1);
}

int main(void) {
  ms_stats_t before, after;
  int have_stats = ms_stats && ms_stats(&before) == 0; /* weak: NULL when not on memscope */
  size_t ps = (size_t)sysconf(_SC_PAGESIZE);
  static const size_t sizes[] = {1,    7,    8,    9,    15,   16,   17,   24,    25,    31,
                                 32,   33,   40,   47,   48,   63,   64,   65,    100,   127,
                                 128,  129,  255,  256,  257,  511,  512,  1000,  1024,  2047,
                                 2048, 3000, 4095, 4096, 4097, 8000, 8192, 16383, 16384, 20000,
                                 32768, 65536, 100000, 262144, 1048576};
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    size_t n = sizes[i];
    walk("malloc", malloc(n), n, n, 1);
    walk("realloc(NULL)", realloc(NULL, n), n, n, 1);
    walk("reallocarray(NULL)", reallocarray(NULL, n, 1), n, n, 1);
    walk("memalign(32)", memalign(32, n), n, n, 32);
    walk("memalign(48)", memalign(48, n), n, n, 64); /* not a power of two: glibc rounds up */
    walk("memalign(4096)", memalign(4096, n), n, n, 4096);
    walk("valloc", valloc(n), n, n, ps);
    walk("pvalloc", pvalloc(n), n, (n + ps - 1) / ps * ps, ps); /* the whole rounded size */
    walk_named(n);
    /* calloc: zero up to the usable size, also in a block that reuses a dirtied one */
    unsigned char *d = malloc(n);
    if (d) { memset(d, 0xEE, malloc_usable_size(d)); free(d); }
    unsigned char *z = calloc(n, 1);
    if (z) {
      size_t u = malloc_usable_size(z), j = 0;
      while (j < u && z[j] == 0) j++;
      if (j != u) fail("calloc", "usable bytes not zero", n, u, j);
    }
    walk("calloc", z, n, n, 1);
  }

  /* reallocarray overflow: ENOMEM and the old block untouched */
  unsigned char *p = malloc(100);
  size_t u = malloc_usable_size(p);
  fill(p, u, 0x11);
  errno = 0;
  if (reallocarray(p, SIZE_MAX / 2, 3) != NULL || errno != ENOMEM)
    fail("reallocarray", "overflow did not fail with ENOMEM", 100, u, 0);
  size_t bad = first_bad(p, u, 0x11);
  if (bad != u) fail("reallocarray", "overflow changed the old block", 100, u, bad);
  free(p);

  /* Blocks written to the end of their slack while a dump is taken: the dump verifies the
   * canaries of live blocks (MEMSCOPE_CHECKS=overflow); none of these may be reported. */
  enum { LIVE = 256 };
  unsigned char *live[LIVE];
  for (int i = 0; i < LIVE; i++) {
    size_t n = sizes[i % (sizeof sizes / sizeof *sizes - 3)];
    live[i] = malloc(n);
    if (live[i]) fill(live[i], malloc_usable_size(live[i]), (unsigned)i);
  }
  const char *dir = getenv("CONSISTENCY_DUMP_DIR");
  if (dir && ms_snapshot) {
    char path[4096];
    snprintf(path, sizeof path, "%s/usable_views.%d.msp", dir, (int)getpid());
    int rc = ms_snapshot(path);
    if (rc != 0 && rc != MS_ENOTLOADED) fail("snapshot", ms_strerror(rc), 0, 0, 0);
    unlink(path);
  }
  for (int i = 0; i < LIVE; i++) {
    if (!live[i]) continue;
    size_t lu = malloc_usable_size(live[i]);
    bad = first_bad(live[i], lu, (unsigned)i);
    if (bad != lu) fail("live", "slack bytes changed while live", lu, lu, bad);
    free(live[i]);
  }

  /* every block is gone: the counters are back near where they started (the requested sizes
   * counted on the way in are the ones taken off on the way out, whatever realloc did) */
  if (have_stats && ms_stats(&after) == 0) {
    /* the tolerance of the other counter tests: stdio's buffer and per-thread batching */
    if (after.live_allocations > before.live_allocations + 16 ||
        after.live_bytes > before.live_bytes + 4096) {
      fprintf(stderr, "FAIL stats: live %llu blocks / %llu bytes at the end, %llu / %llu at start\n",
              (unsigned long long)after.live_allocations, (unsigned long long)after.live_bytes,
              (unsigned long long)before.live_allocations, (unsigned long long)before.live_bytes);
      failures++;
    }
  }
  printf("usable_views: %lu failures%s\n", failures, have_stats ? "" : " (not on memscope)");
  return failures != 0;
}
