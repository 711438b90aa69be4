/* header_floor.c — the cheapest possible "mimalloc + a 16-byte header" allocator, as a yardstick.
 *
 * bench/run.sh preloads it next to memscope (configuration `header-floor`): it keeps a 16-byte
 * header in front of every block (the requested size and a live mark, read back on free and
 * realloc, exactly the memory traffic any header design pays) plus one thread-local byte
 * counter, and nothing else: no size classes, no sharded statistics, no checks, no sampling.
 * Its distance from bare mimalloc is the part of memscope's overhead that comes from having a
 * header at all (the cache miss of reading it in free, the bigger blocks); the distance from it
 * to memscope's statistics-only mode is memscope's own per-call work. Not a real allocator: it
 * trusts every pointer it is given.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <mimalloc.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define HDR 16
#define LIVE (0xA7ull << 56)

static __thread int64_t live_bytes; /* the one statistic: enough to need the size on free */

static void *finish(char *block, size_t n) {
  if (!block) {
    errno = ENOMEM;
    return NULL;
  }
  ((uint64_t *)block)[1] = n | LIVE;
  live_bytes += (int64_t)n;
  return block + HDR;
}

static uint64_t tag_of(void *p) { return ((uint64_t *)p)[-1]; }

void *malloc(size_t n) { return finish(mi_malloc(n + HDR), n); }

void *calloc(size_t k, size_t n) {
  size_t t;
  if (__builtin_mul_overflow(k, n, &t)) {
    errno = ENOMEM;
    return NULL;
  }
  return finish(mi_zalloc(t + HDR), t);
}

void free(void *p) {
  if (!p) return;
  uint64_t tag = tag_of(p);
  live_bytes -= (int64_t)(tag & ~LIVE);
  ((uint64_t *)p)[-1] = 0;
  mi_free((char *)p - HDR);
}

void *realloc(void *p, size_t n) {
  if (!p) return malloc(n);
  uint64_t old = tag_of(p) & ~LIVE;
  char *b = mi_realloc((char *)p - HDR, n + HDR);
  if (!b) {
    errno = ENOMEM;
    return NULL;
  }
  live_bytes -= (int64_t)old;
  return finish(b, n);
}

void *reallocarray(void *p, size_t k, size_t n) {
  size_t t;
  if (__builtin_mul_overflow(k, n, &t)) {
    errno = ENOMEM;
    return NULL;
  }
  return realloc(p, t);
}

static void *aligned(size_t align, size_t n) {
  if (align <= HDR) return malloc(n);
  return finish(mi_malloc_aligned_at(n + HDR, align, HDR), n);
}

int posix_memalign(void **out, size_t align, size_t n) {
  if (align < sizeof(void *) || (align & (align - 1))) return EINVAL;
  void *p = aligned(align, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
void *aligned_alloc(size_t align, size_t n) { return aligned(align, n); }
void *memalign(size_t align, size_t n) { return aligned(align, n); }
void *valloc(size_t n) { return aligned((size_t)getpagesize(), n); }
void *pvalloc(size_t n) {
  size_t pg = (size_t)getpagesize();
  return aligned(pg, (n + pg - 1) & ~(pg - 1));
}
size_t malloc_usable_size(void *p) { return p ? (size_t)(tag_of(p) & ~LIVE) : 0; }
