/* size_class.h — memscope's size classes: the same log-linear bins mimalloc uses (8-byte steps
 * up to 64 bytes, rounded to 16; then four classes per power of two), computed from the
 * block size (request + header). Following mimalloc's own bins means each small class has one
 * usable size, so per-class "usable bytes" need no per-allocation call into mimalloc.
 */
#ifndef MEMSCOPE_ALLOC_SIZE_CLASS_H
#define MEMSCOPE_ALLOC_SIZE_CLASS_H

#include <stddef.h>
#include <stdint.h>

#define MS_CLASS_COUNT 160          /* classes 0..159 cover blocks up to 2^41 bytes */
#define MS_CLASS_EXACT_MAX (128 * 1024) /* up to here a class has one usable size */

/* Classes of blocks up to MS_CLASS_TABLE_MAX bytes, by (size + 7) / 8: one load on the fast
 * path instead of the bit arithmetic below. */
#define MS_CLASS_TABLE_MAX 1024
extern const uint8_t _ms_class_table[MS_CLASS_TABLE_MAX / 8 + 1];

static inline unsigned _ms_class_compute(uint64_t block_size) {
  uint64_t w = (block_size + 7) >> 3;
  if (w <= 1) return 1;
  if (w <= 8) return (unsigned)((w + 1) & ~(uint64_t)1);
  w--;
  unsigned b = 63u - (unsigned)__builtin_clzll(w);
  return ((b << 2) + (unsigned)((w >> (b - 2)) & 3)) - 3;
}

static inline unsigned _ms_class_of(uint64_t block_size) {
  if (block_size <= MS_CLASS_TABLE_MAX) return _ms_class_table[(block_size + 7) >> 3];
  return _ms_class_compute(block_size);
}

/* Largest block size that falls in class c. */
static inline uint64_t _ms_class_max(unsigned c) {
  if (c <= 8) return (uint64_t)c * 8;
  unsigned b = (c + 3) >> 2, s = (c + 3) & 3;
  return ((uint64_t)(5 + s) << (b - 2)) * 8;
}

/* Usable bytes of a block of class c when c's blocks all have one size (else 0: ask mimalloc). */
extern uint32_t _ms_class_usable[MS_CLASS_COUNT];
void _ms_size_class_init(void);

#endif
