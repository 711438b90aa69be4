/* blockmap.h — the side structure that lets free() tell a plain mimalloc block from one memscope
 * must look at, without touching the block (lean mode, alloc/lean.c; see alloc/header.h for
 * the header mode used when a check needs the bytes around every block).
 *
 * The address space is cut into 32 MiB chunks, mimalloc 2's segment size and alignment, so a
 * chunk is either part of one mimalloc segment or not mimalloc's at all. One word per chunk, in
 * a lazily-touched reservation indexed by address >> 25:
 *
 *   chunk word:  [ bitmap pointer (4 KiB aligned) | HUGE_INTERIOR | OWNED ]
 *
 *   OWNED          mi_is_in_heap_region() said yes for a pointer of this chunk once: later
 *                  frees in it skip that call (it cost ~5% of a malloc/free pair)
 *   HUGE_INTERIOR  the chunk lies inside a huge block (> 16 MiB, its own segment) past the
 *                  block's first chunk: a pointer here is never a block start, and handing it
 *                  to mimalloc would make it read user data as a segment header
 *   bitmap         2 bits per 8 bytes of the chunk (1 MiB of address space, touched only where
 *                  marked blocks are), allocated when the first marked block appears:
 *
 *       chunk offset / 8 = i      word i / 32, bits 2 (i % 32) and 2 (i % 32) + 1, a state:
 *       0  nothing: a plain block (or no block) starts here
 *       1  SAMPLED: a live sampled block starts here; it has a 64-byte header in front of it
 *                   (named too when its tag word says so)
 *       2  NAMED:   a live named or reference-counted block without header (track/variables.c)
 *       3  FREED:   a sampled block that was freed and is held back (malloc.c, the freed-sample
 *                   ring) so its address is not reused yet: a free of it is a double free
 *
 * So an unsampled, unnamed block costs free() one load of its chunk word (the same few cache
 * lines for the whole heap), one load of a bitmap word when its chunk holds marked blocks, and
 * nothing in the block. Marks are set and cleared with atomic OR/AND (neighbouring blocks may
 * be freed by other threads); reads are plain relaxed loads: a block's own mark is only
 * changed by whoever owns the block.
 *
 * Limit, written down in docs/CHECKS.md: OWNED is never cleared. mimalloc rarely returns a
 * segment to the OS; if it did, and another allocator later mapped that range, an invalid
 * free() of that allocator's pointer would reach mimalloc, as on bare mimalloc.
 */
#ifndef MEMSCOPE_ALLOC_BLOCKMAP_H
#define MEMSCOPE_ALLOC_BLOCKMAP_H

#include <stdint.h>

#define MS_CHUNK_SHIFT 25 /* 32 MiB: mimalloc 2's MI_SEGMENT_SHIFT */
#define MS_CHUNK_COUNT (((uint64_t)1) << (47 - MS_CHUNK_SHIFT))
#define MS_CHUNK_OWNED ((uintptr_t)1)
#define MS_CHUNK_HUGE_INTERIOR ((uintptr_t)2)
#define MS_CHUNK_FLAGS ((uintptr_t)4095)
#define MS_HUGE_MIN ((uint64_t)16 << 20) /* mimalloc 2: larger blocks get a segment of their own */

#define MS_MARK_NONE 0u
#define MS_MARK_SAMPLED 1u
#define MS_MARK_NAMED 2u
#define MS_MARK_FREED 3u

extern uintptr_t *_ms_chunks; /* MS_CHUNK_COUNT words, set up by _ms_blockmap_init() */

static inline uintptr_t _ms_chunk_word(const void *p) {
  uintptr_t i = (uintptr_t)p >> MS_CHUNK_SHIFT;
  return i < MS_CHUNK_COUNT ? __atomic_load_n(&_ms_chunks[i], __ATOMIC_RELAXED) : 0;
}

/* The mark (MS_MARK_*) of the block starting at p, given p's chunk word. */
static inline unsigned _ms_marks_in(uintptr_t word, const void *p) {
  const uint64_t *bm = (const uint64_t *)(word & ~MS_CHUNK_FLAGS);
  if (!bm) return 0;
  uintptr_t i = ((uintptr_t)p & ((((uintptr_t)1) << MS_CHUNK_SHIFT) - 1)) >> 3;
  return (unsigned)(__atomic_load_n(&bm[i >> 5], __ATOMIC_RELAXED) >> (2 * (i & 31))) & 3u;
}
static inline unsigned _ms_marks(const void *p) { return _ms_marks_in(_ms_chunk_word(p), p); }

void _ms_blockmap_init(void);
/* Set the mark of the block at p (allocating the chunk's bitmap on first use; MS_MARK_NONE
 * never allocates). Returns -1 when no bitmap could be had (the block then stays unmarked). */
int _ms_mark_set(const void *p, unsigned mark);
/* Is p inside mimalloc's heap? Asks mimalloc once per chunk and remembers a yes. 0 for pointers
 * inside a huge block past its first chunk. */
int _ms_chunk_owned_slow(const void *p);
static inline int _ms_chunk_owned(const void *p) {
  return (_ms_chunk_word(p) & (MS_CHUNK_OWNED | MS_CHUNK_HUGE_INTERIOR)) == MS_CHUNK_OWNED ||
         _ms_chunk_owned_slow(p);
}
/* A huge block [p, p + usable) was allocated (on = 1) or is being freed (on = 0). */
void _ms_blockmap_huge(const void *p, uint64_t usable, int on);
int _ms_in_huge_interior(const void *p);

#endif /* MEMSCOPE_ALLOC_BLOCKMAP_H */
