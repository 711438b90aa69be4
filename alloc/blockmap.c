/* blockmap.c — the chunk table and block marks described in blockmap.h: set-up, marking and
 * unmarking sampled/named blocks, the cached ownership check, huge-block interiors.
 *
 * All memory here comes from mmap with MAP_NORESERVE and is touched only where used: the chunk
 * table is 32 MiB of address space of which a program touches a few pages (its heap spans few
 * chunks), a chunk's bitmap is 1 MiB of address space touched a page per 256 KiB of heap that
 * holds marked blocks. Nothing here takes a lock or allocates through malloc.
 */
#include "blockmap.h"

#include <mimalloc.h>
#include <stddef.h>
#include <sys/mman.h>

#define BITMAP_BYTES ((((size_t)1) << MS_CHUNK_SHIFT) / 8 * 2 / 8) /* 2 bits per 8 bytes */

uintptr_t *_ms_chunks;

static void *map_lazy(size_t bytes) {
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

/* A table nobody can write to still answers "no marks, not known": every free then takes the
 * validating slow path, which is correct, only slower. */
static uintptr_t no_chunks[1];

void _ms_blockmap_init(void) {
  if (_ms_chunks) return;
  uintptr_t *t = map_lazy(MS_CHUNK_COUNT * sizeof(uintptr_t));
  _ms_chunks = t ? t : no_chunks;
}

static int table_ok(uintptr_t i) { return _ms_chunks != no_chunks && i < MS_CHUNK_COUNT; }

static uint64_t *bitmap_of(const void *p, int create) {
  uintptr_t i = (uintptr_t)p >> MS_CHUNK_SHIFT;
  if (!table_ok(i)) return NULL;
  uintptr_t w = __atomic_load_n(&_ms_chunks[i], __ATOMIC_ACQUIRE);
  if ((w & ~MS_CHUNK_FLAGS) || !create) return (uint64_t *)(w & ~MS_CHUNK_FLAGS);
  uint64_t *bm = map_lazy(BITMAP_BYTES);
  if (!bm) return NULL;
  for (;;) { /* install it, keeping whatever flags the word has meanwhile */
    if (w & ~MS_CHUNK_FLAGS) { /* another thread won */
      munmap(bm, BITMAP_BYTES);
      return (uint64_t *)(w & ~MS_CHUNK_FLAGS);
    }
    if (__atomic_compare_exchange_n(&_ms_chunks[i], &w, w | (uintptr_t)bm, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE))
      return bm;
  }
}

static inline void bit_position(const void *p, size_t *word, unsigned *shift) {
  uintptr_t i = ((uintptr_t)p & ((((uintptr_t)1) << MS_CHUNK_SHIFT) - 1)) >> 3;
  *word = i >> 5;
  *shift = 2 * (unsigned)(i & 31);
}

int _ms_mark_set(const void *p, unsigned mark) {
  uint64_t *bm = bitmap_of(p, mark != MS_MARK_NONE);
  if (!bm) return mark == MS_MARK_NONE ? 0 : -1;
  size_t w;
  unsigned s;
  bit_position(p, &w, &s);
  uint64_t old = __atomic_load_n(&bm[w], __ATOMIC_RELAXED), want;
  do { /* neighbouring blocks' marks share the word: change only ours */
    want = (old & ~((uint64_t)3 << s)) | ((uint64_t)(mark & 3u) << s);
  } while (!__atomic_compare_exchange_n(&bm[w], &old, want, 1, __ATOMIC_RELEASE,
                                        __ATOMIC_RELAXED));
  return 0;
}

static void chunk_flags(uintptr_t i, uintptr_t set, uintptr_t clear) {
  if (!table_ok(i)) return;
  uintptr_t w = __atomic_load_n(&_ms_chunks[i], __ATOMIC_RELAXED);
  while (!__atomic_compare_exchange_n(&_ms_chunks[i], &w, (w & ~clear) | set, 0, __ATOMIC_RELEASE,
                                      __ATOMIC_RELAXED)) {
  }
}

int _ms_in_huge_interior(const void *p) {
  return (_ms_chunk_word(p) & MS_CHUNK_HUGE_INTERIOR) != 0;
}

int _ms_chunk_owned_slow(const void *p) {
  uintptr_t w = _ms_chunk_word(p);
  if (w & MS_CHUNK_HUGE_INTERIOR) return 0;
  if (w & MS_CHUNK_OWNED) return 1;
  if (!mi_is_in_heap_region(p)) return 0;
  chunk_flags((uintptr_t)p >> MS_CHUNK_SHIFT, MS_CHUNK_OWNED, 0);
  return 1;
}

/* A huge block's chunks after its first are all block: mark them before the pointer reaches
 * the program, clear them when the block is freed (mimalloc may reuse the range for anything). */
void _ms_blockmap_huge(const void *p, uint64_t usable, int on) {
  if (usable < MS_HUGE_MIN) return;
  uintptr_t first = ((uintptr_t)p >> MS_CHUNK_SHIFT) + 1;
  uintptr_t last = ((uintptr_t)p + usable - 1) >> MS_CHUNK_SHIFT;
  for (uintptr_t i = first; i <= last; i++)
    chunk_flags(i, on ? MS_CHUNK_HUGE_INTERIOR : 0,
                on ? MS_CHUNK_OWNED : MS_CHUNK_HUGE_INTERIOR);
}
