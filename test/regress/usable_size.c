/* usable_size.c — every byte up to malloc_usable_size() belongs to the program (glibc documents
 * it; redis's sds and many others write there). Regression: realloc copied only the requested
 * size, so bytes the program wrote between the request and the usable size were lost on a move
 * (redis-server could not even read its command line). Checked for every size from 1 to 64 KiB
 * and for aligned blocks:
 *   - realloc to a larger size (a move) and to a smaller one keeps every written byte;
 *   - calloc zeroes every usable byte (a block reused from a freed, dirtied one included);
 *   - malloc_usable_size is never smaller than the request.
 * Prints the first failures on stderr and exits 1 on any. USABLE_SIZE_MAX shortens the range. */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long failures;

static void fail(const char *what, size_t n, size_t align, size_t u, size_t at) {
  if (failures++ < 8)
    fprintf(stderr, "FAIL %s: n=%zu align=%zu usable=%zu first bad byte at %zu\n", what, n, align, u, at);
}

static size_t first_not(const unsigned char *p, size_t len, unsigned char v) {
  for (size_t i = 0; i < len; i++)
    if (p[i] != v) return i;
  return len;
}

static unsigned char pattern(size_t i) { return (unsigned char)(0xA5u ^ (i * 7u)); }

static size_t first_not_pattern(const unsigned char *p, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (p[i] != pattern(i)) return i;
  return len;
}

/* Fill the whole usable block, then move it with realloc (grow) and shrink it. */
static void check_block(unsigned char *p, size_t n, size_t align) {
  if (!p) { fail("allocation returned NULL", n, align, 0, 0); return; }
  if (align > 1 && ((uintptr_t)p & (align - 1))) fail("misaligned", n, align, 0, 0);
  size_t u = malloc_usable_size(p);
  if (u < n) fail("usable < requested", n, align, u, 0);
  for (size_t i = 0; i < u; i++) p[i] = pattern(i);
  unsigned char *q = realloc(p, u + 100);
  if (!q) { fail("realloc grow returned NULL", n, align, u, 0); free(p); return; }
  size_t bad = first_not_pattern(q, u);
  if (bad != u) fail("realloc grow lost bytes", n, align, u, bad);
  size_t half = u / 2 ? u / 2 : 1;
  unsigned char *r = realloc(q, half);
  if (!r) { fail("realloc shrink returned NULL", n, align, u, 0); free(q); return; }
  bad = first_not_pattern(r, half);
  if (bad != half) fail("realloc shrink lost bytes", n, align, u, bad);
  free(r);
}

int main(void) {
  const char *env = getenv("USABLE_SIZE_MAX"); /* the guard-page runs use a shorter range */
  size_t max = env ? strtoul(env, NULL, 0) : 65536;
  for (size_t n = 1; n <= max; n++) {
    check_block(malloc(n), n, 1);
    /* calloc after a dirty free of the same size: the reused block must be zero throughout */
    unsigned char *d = malloc(n);
    if (d) { memset(d, 0xEE, malloc_usable_size(d)); free(d); }
    unsigned char *z = calloc(1, n);
    if (!z) { fail("calloc returned NULL", n, 1, 0, 0); continue; }
    size_t u = malloc_usable_size(z), bad = first_not(z, u, 0);
    if (bad != u) fail("calloc left usable bytes non-zero", n, 1, u, bad);
    free(z);
  }
  static const size_t aligns[] = {16, 32, 64, 256, 4096, 65536};
  for (size_t a = 0; a < sizeof aligns / sizeof *aligns; a++)
    for (size_t n = 1; n <= max; n += n < 512 ? 1 : 61) {
      void *p = NULL;
      if (posix_memalign(&p, aligns[a], n) != 0) p = NULL;
      check_block(p, n, aligns[a]);
      check_block(aligned_alloc(aligns[a], n), n, aligns[a]);
    }
  /* reallocarray follows realloc */
  unsigned char *p = malloc(40);
  size_t u = malloc_usable_size(p);
  for (size_t i = 0; i < u; i++) p[i] = pattern(i);
  unsigned char *q = reallocarray(p, u + 100, 2);
  size_t bad = q ? first_not_pattern(q, u) : 0;
  if (!q || bad != u) fail("reallocarray lost bytes", 40, 1, u, bad);
  free(q);
  fprintf(stderr, "usable_size: %lu failures\n", failures);
  return failures != 0;
}
