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
#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>

#define SAMPLED_BYTES ((((size_t)1) << MS_CHUNK_SHIFT) / 16 / 8) /* 1 bit per 16 bytes */
#define NAMED_BYTES ((((size_t)1) << MS_CHUNK_SHIFT) / 8 / 8)    /* 1 bit per 8 bytes */
#define BITMAP_BYTES (SAMPLED_BYTES + NAMED_BYTES)

uintptr_t *_ms_chunks;

static void *map_lazy(size_t bytes) {
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

/* A table nobody can write to still answers "no marks, not known": every free then takes the
 * validating slow path, which is correct, only slower. */
static uintptr_t no_chunks[1];

/* The chunks that have a map, in the order their maps appeared (index + 1; 0 while the append
 * is finishing): what _ms_sampled_each() walks instead of the whole chunk table. */
static _Atomic uint32_t *mapped_chunks;
static _Atomic uint32_t n_mapped;

void _ms_blockmap_init(void) {
  if (_ms_chunks) return;
  uintptr_t *t = map_lazy(MS_CHUNK_COUNT * sizeof(uintptr_t));
  mapped_chunks = map_lazy(MS_CHUNK_COUNT * sizeof(uint32_t));
  _ms_chunks = t && mapped_chunks ? t : no_chunks;
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
                                    __ATOMIC_ACQUIRE)) {
      uint32_t k = atomic_fetch_add_explicit(&n_mapped, 1, memory_order_relaxed);
      atomic_store_explicit(&mapped_chunks[k], (uint32_t)i + 1, memory_order_release);
      return bm;
    }
  }
}

static int bit_update(uint64_t *words, uintptr_t i, int on) {
  uint64_t m = (uint64_t)1 << (i & 63);
  if (on) __atomic_fetch_or(&words[i >> 6], m, __ATOMIC_RELEASE);
  else __atomic_fetch_and(&words[i >> 6], ~m, __ATOMIC_RELEASE);
  return 0;
}
static int bit_get(const uint64_t *words, uintptr_t i) {
  return (int)((__atomic_load_n(&words[i >> 6], __ATOMIC_ACQUIRE) >> (i & 63)) & 1u);
}

int _ms_sampled_set(const void *p, int on) {
  uint64_t *bm = bitmap_of(p, on);
  if (!bm) return on ? -1 : 0;
  return bit_update(bm, ((uintptr_t)p & MS_CHUNK_MASK) >> 4, on);
}

int _ms_sampled_reserve(const void *p) { return bitmap_of(p, 1) ? 0 : -1; }

/* Walks the sampled bits of every chunk with a map: 256 KiB of bitmap per 32 MiB chunk, read a
 * word at a time (untouched pages read as zeros without being made resident). */
uint64_t _ms_sampled_each(void (*fn)(void *p, void *arg), void *arg) {
  uint64_t n = 0;
  uint32_t chunks = _ms_chunks == no_chunks ? 0 : atomic_load_explicit(&n_mapped, memory_order_acquire);
  for (uint32_t k = 0; k < chunks; k++) {
    uint32_t i1 = atomic_load_explicit(&mapped_chunks[k], memory_order_acquire);
    if (i1 == 0) continue; /* its map is being installed: no bit can be set in it yet */
    uintptr_t i = i1 - 1;
    const uint64_t *bm = (const uint64_t *)(__atomic_load_n(&_ms_chunks[i], __ATOMIC_ACQUIRE) & ~MS_CHUNK_FLAGS);
    if (!bm) continue;
    char *base = (char *)(i << MS_CHUNK_SHIFT);
    for (size_t w = 0; w < SAMPLED_BYTES / 8; w++) {
      uint64_t bits = __atomic_load_n(&bm[w], __ATOMIC_ACQUIRE);
      while (bits) {
        unsigned b = (unsigned)__builtin_ctzll(bits);
        bits &= bits - 1;
        fn(base + ((w * 64 + b) << 4), arg);
        n++;
      }
    }
  }
  return n;
}

static void chunk_flags(uintptr_t i, uintptr_t set, uintptr_t clear);

int _ms_named_set(const void *p, int on) {
  uint64_t *bm = bitmap_of(p, on);
  if (!bm) return on ? -1 : 0;
  if (on) chunk_flags((uintptr_t)p >> MS_CHUNK_SHIFT, MS_CHUNK_HAS_NAMED, 0);
  return bit_update(bm + SAMPLED_BYTES / 8, ((uintptr_t)p & MS_CHUNK_MASK) >> 3, on);
}

unsigned _ms_marks(const void *p) {
  uintptr_t w = _ms_chunk_word(p);
  const uint64_t *bm = (const uint64_t *)(w & ~MS_CHUNK_FLAGS);
  if (!bm) return MS_MARK_NONE;
  uintptr_t off = (uintptr_t)p & MS_CHUNK_MASK;
  if ((off & 15) == 0 && bit_get(bm, off >> 4)) return MS_MARK_SAMPLED;
  if ((w & MS_CHUNK_HAS_NAMED) && bit_get(bm + SAMPLED_BYTES / 8, off >> 3)) return MS_MARK_NAMED;
  return MS_MARK_NONE;
}

const void *_ms_sampled_near(const void *p) {
  uintptr_t w = _ms_chunk_word(p);
  const uint64_t *bm = (const uint64_t *)(w & ~MS_CHUNK_FLAGS);
  uintptr_t off = (uintptr_t)p & MS_CHUNK_MASK;
  if (!bm || (off & 15) == 0 || !bit_get(bm, off >> 4)) return NULL;
  return (const void *)((uintptr_t)p & ~(uintptr_t)15);
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
