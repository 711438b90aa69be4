/* header.h — the metadata header memscope puts in front of a block: of every block in header
 * mode (MEMSCOPE_CHECKS headers/overflow/quarantine/uaf/all), of sampled blocks only in lean
 * mode, the default (where unsampled blocks are mimalloc's own and free() finds sampled ones
 * through the block map of alloc/blockmap.h).
 *
 * From a block with a header, free() learns without any lookup the requested size, the size
 * class, whether the block was sampled, and whether it is a live memscope block. All of that
 * sits in one 64-bit "tag word" immediately before the user pointer; what comes before the tag
 * word depends on the header kind, chosen per request so that small blocks pay little:
 *
 *   SHORT (8 bytes), requests of 0..15 bytes: such objects never need more than 8-byte
 *   alignment (an object that needs 16 has a size that is a multiple of 16), so:
 *
 *       block (mimalloc)                      16-byte bin for n <= 8, 24-byte bin for n <= 15
 *       +-----------+---------------------+
 *       | tag word  | user data (n bytes) |
 *       +-----------+---------------------+
 *                   ^ p  (8-aligned)
 *
 *   NORMAL (16 bytes), every other unsampled request; p stays 16-aligned:
 *
 *       +-------------+-----------+---------------------+
 *       | guard word  | tag word  | user data (n bytes) |
 *       +-------------+-----------+---------------------+
 *                                 ^ p
 *
 *   SAMPLED (48 bytes), blocks the sampler picked (track/): the tracker's record lives in the
 *   block itself, so freeing a sampled block finds its record in O(1) with no table:
 *
 *       +----------------------------+-------------+-----------+-----------+
 *       | ms_sample_t (32 bytes)     | guard word  | tag word  | user data |
 *       +----------------------------+-------------+-----------+-----------+
 *
 *   EXACT (16 bytes), sampled blocks of lean mode at rate 1 (exact mode), where every block is
 *   sampled and the weight of a sample is its size: the record is one word, no guard word (lean
 *   mode runs no checks that would look at it), so a live block costs 16 bytes, not 48:
 *
 *       +------------------------------------------------------+-----------+-----------+
 *       | stack id (20) | live | check (8) | time in µs (35) | tag word  | user data |
 *       +------------------------------------------------------+-----------+-----------+
 *
 *   Alignments above 16 use mi_malloc_aligned_at(hdr + n, align, hdr), which aligns block + hdr,
 *   so the header still sits right before p; the ALIGNED bit tells realloc not to hand the block
 *   to mi_realloc (which would not keep the alignment).
 *
 * Tag word bits:
 *     0..39  requested size (requests of 1 TiB or more fail with ENOMEM)
 *    40..47  size class (alloc/size_class.c)
 *    48..49  header kind (SHORT, NORMAL, SAMPLED, EXACT)
 *    50      ALIGNED
 *    51      NAMED: a named variable or reference-counted block (track/variables.c)
 *    52      UNCOUNTED: allocated by memscope's own helpers (unwinder, dump writer) while the
 *            re-entrancy guard was held; kept out of the statistics on both ends
 *    53..55  the safety checks' bits (alloc/checks.h): 53 CANARY (8 canary bytes follow the
 *            requested size), 54 GUARDED (a guard-page pool block), 55 CANARY1 (1 canary byte)
 *    56..63  state: MS_STATE_LIVE while allocated, MS_STATE_FREED after free
 *
 * The guard word is (p XOR a per-process secret); a mismatch on free means the bytes before the
 * block were overwritten (buffer underflow or a wild write). Freed blocks keep MS_STATE_FREED in
 * the tag word until the allocator reuses the memory, which is what makes a double free
 * detectable from the header alone.
 */
#ifndef MEMSCOPE_ALLOC_HEADER_H
#define MEMSCOPE_ALLOC_HEADER_H

#include <stddef.h>
#include <stdint.h>

#define MS_HDR_SHORT 0u
#define MS_HDR_NORMAL 1u
#define MS_HDR_SAMPLED 2u
#define MS_HDR_EXACT 3u /* a sampled block of lean mode at rate 1: 16-byte header */

#define MS_SIZE_BITS 40
#define MS_SIZE_MAX ((((uint64_t)1) << MS_SIZE_BITS) - 1)
#define MS_STATE_LIVE 0xA7u
#define MS_STATE_FREED 0xDEu
#define MS_TAG_ALIGNED (((uint64_t)1) << 50)
#define MS_TAG_NAMED (((uint64_t)1) << 51)
#define MS_TAG_UNCOUNTED (((uint64_t)1) << 52)
#define MS_SHORT_MAX 15 /* largest request that gets a SHORT header */
#define MS_SAMPLE_RECORD_SIZE 32

static inline size_t _ms_hdr_len(unsigned kind) {
  /* 8, 16, 48, 16 */
  return kind == MS_HDR_SAMPLED ? 16 + MS_SAMPLE_RECORD_SIZE : (kind == MS_HDR_SHORT ? 8 : 16);
}
/* SAMPLED and EXACT blocks are the tracker's: a record in the header, a bit in the block map. */
static inline int _ms_kind_sampled(unsigned kind) { return kind >= MS_HDR_SAMPLED; }
/* NORMAL and SAMPLED headers have a guard word in front of the tag word. */
static inline int _ms_kind_guarded(unsigned kind) { return kind == MS_HDR_NORMAL || kind == MS_HDR_SAMPLED; }

static inline uint64_t _ms_tag_make(uint64_t size, unsigned cls, unsigned kind, int aligned) {
  return size | ((uint64_t)cls << 40) | ((uint64_t)kind << 48) | (aligned ? MS_TAG_ALIGNED : 0) |
         ((uint64_t)MS_STATE_LIVE << 56);
}
static inline uint64_t _ms_tag_size(uint64_t tag) { return tag & MS_SIZE_MAX; }
static inline unsigned _ms_tag_class(uint64_t tag) { return (unsigned)(tag >> 40) & 0xff; }
static inline unsigned _ms_tag_kind(uint64_t tag) { return (unsigned)(tag >> 48) & 3; }
static inline int _ms_tag_aligned(uint64_t tag) { return (tag & MS_TAG_ALIGNED) != 0; }
static inline unsigned _ms_tag_state(uint64_t tag) { return (unsigned)(tag >> 56); }
static inline uint64_t _ms_tag_with_state(uint64_t tag, unsigned state) {
  return (tag & ~((uint64_t)0xff << 56)) | ((uint64_t)state << 56);
}

static inline uint64_t *_ms_tag_ptr(const void *p) { return (uint64_t *)p - 1; }
static inline uint64_t *_ms_guard_ptr(const void *p) { return (uint64_t *)p - 2; }
static inline void *_ms_block_of(const void *p, unsigned kind) {
  return (char *)p - _ms_hdr_len(kind);
}

extern uint64_t _ms_guard_secret;
static inline uint64_t _ms_guard_value(const void *p) {
  return (uint64_t)(uintptr_t)p ^ _ms_guard_secret;
}

#endif /* MEMSCOPE_ALLOC_HEADER_H */
