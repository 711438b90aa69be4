/* blockmap.h — the side structure that lets free() tell a plain mimalloc block from one memscope
 * must look at, without touching the block (lean mode, alloc/lean.c; see alloc/header.h for
 * the header mode used when a check needs the bytes around every block).
 *
 * The address space is cut into 32 MiB chunks, mimalloc 2's segment size and alignment, so a
 * chunk is either part of one mimalloc segment or not mimalloc's at all. One word per chunk, in
 * a lazily-touched reservation indexed by address >> 25:
 *
 *   chunk word:  [ map pointer (4 KiB aligned) | HAS_NAMED | HUGE_INTERIOR | OWNED ]
 *
 *   OWNED          mi_is_in_heap_region() said yes for a pointer of this chunk once: later
 *                  frees in it skip that call (it cost ~5% of a malloc/free pair)
 *   HUGE_INTERIOR  the chunk lies inside a huge block (> 16 MiB, its own segment) past the
 *                  block's first chunk: a pointer here is never a block start, and handing it
 *                  to mimalloc would make it read user data as a segment header
 *   HAS_NAMED      a named block (track/variables.c) was made in this chunk once: frees here
 *                  look at the named bits (sticky: programs name few blocks)
 *   map            allocated when the chunk's first sampled or named block appears, 768 KiB of
 *                  address space touched only where used:
 *
 *       sampled bits, 1 per 16 bytes (256 KiB)   named bits, 1 per 8 bytes (512 KiB)
 *       +------------------------------------+---------------------------------------------+
 *       | bit i: a sampled block (live, or   | bit j: a named block without header starts  |
 *       | freed and held back) starts at     | at chunk + 8 j                              |
 *       | chunk + 16 i                       |                                             |
 *       +------------------------------------+---------------------------------------------+
 *
 *   A sampled block's user pointer is 16-aligned (its mimalloc block of 32 bytes or more is, and
 *   the header is 48 or 16 bytes, with at least one byte after it), and no other block can start
 *   within the same 16 bytes, so the bit
 *   names exactly one block. Whether it is live or freed-and-held (malloc.c: a second free of it
 *   is a double free) its tag word says. One bit per 16 bytes keeps the map at 1/128 of the
 *   address range where sampled blocks come and go (a page of it per 64 KiB of such heap).
 *
 * So an unsampled, unnamed block costs free() one load of its chunk word (the same few cache
 * lines for the whole heap) and, where its chunk holds sampled blocks, one load of a map word,
 * and nothing in the block. Bits are set and cleared with atomic OR/AND (neighbouring blocks
 * may be freed by other threads); reads are plain relaxed loads: a block's own bit is only
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
#define MS_CHUNK_HAS_NAMED ((uintptr_t)4)
#define MS_CHUNK_FLAGS ((uintptr_t)4095)
#define MS_CHUNK_MASK ((((uintptr_t)1) << MS_CHUNK_SHIFT) - 1)
#define MS_HUGE_MIN ((uint64_t)16 << 20) /* mimalloc 2: larger blocks get a segment of their own */

/* What _ms_marks() says of the block starting at p. */
#define MS_MARK_NONE 0u    /* a plain block (or no block) */
#define MS_MARK_SAMPLED 1u /* a sampled block with its header: live, or freed and held back */
#define MS_MARK_NAMED 2u   /* a named block without header */

extern uintptr_t *_ms_chunks; /* MS_CHUNK_COUNT words, set up by _ms_blockmap_init() */

static inline uintptr_t _ms_chunk_word(const void *p) {
  uintptr_t i = (uintptr_t)p >> MS_CHUNK_SHIFT;
  return i < MS_CHUNK_COUNT ? __atomic_load_n(&_ms_chunks[i], __ATOMIC_RELAXED) : 0;
}

/* free()'s fast test, given p's chunk word: 1 when p may be a sampled or named block (look
 * closer with _ms_marks), 0 when it is certainly a plain one. */
static inline int _ms_marks_in(uintptr_t word, const void *p) {
  const uint64_t *bm = (const uint64_t *)(word & ~MS_CHUNK_FLAGS);
  if (!bm) return 0;
  if (word & MS_CHUNK_HAS_NAMED) return 1;
  uintptr_t i = ((uintptr_t)p & MS_CHUNK_MASK) >> 4;
  return (int)((__atomic_load_n(&bm[i >> 6], __ATOMIC_RELAXED) >> (i & 63)) & 1u);
}

/* MS_MARK_* of the block starting exactly at p. */
unsigned _ms_marks(const void *p);
/* The sampled block whose first 16 bytes hold p (p inside them but not its start), or NULL:
 * a free of p is then an interior free of that block. */
const void *_ms_sampled_near(const void *p);
void _ms_blockmap_init(void);
/* Set or clear the sampled bit of p (16-aligned) / the named bit of p (allocating the chunk's
 * map on first use). Setting returns -1 when no map could be had (the block stays unmarked). */
int _ms_sampled_set(const void *p, int on);
int _ms_named_set(const void *p, int on);
/* Make sure p's chunk has a map (0), so that setting p's sampled bit later cannot fail; -1 when
 * no memory could be had. */
int _ms_sampled_reserve(const void *p);
/* Call fn for the start of every block whose sampled bit is set (live or held-back sampled
 * blocks), chunk by chunk in address order; returns how many. The caller keeps bits from
 * changing meanwhile (track/live.c holds every live-set lock). */
uint64_t _ms_sampled_each(void (*fn)(void *p, void *arg), void *arg);
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
