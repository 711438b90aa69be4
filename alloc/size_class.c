/* size_class.c — fills the per-class usable-size table from mimalloc itself (mi_good_size), so
 * that memscope's idea of "usable bytes" cannot drift from the allocator it wraps. Classes whose
 * blocks are larger than MS_CLASS_EXACT_MAX keep 0: their usable size is asked per block. */
#include "size_class.h"

#include <mimalloc.h>

uint32_t _ms_class_usable[MS_CLASS_COUNT];
/* _ms_class_compute((w) * 8) for w = 0..128, written out so that it needs no initialisation
 * (test/test_size_class.c checks it against the computation). */
const uint8_t _ms_class_table[MS_CLASS_TABLE_MAX / 8 + 1] = {
    1, 1, 2, 4, 4, 6, 6, 8, 8, 9, 9, 10, 10, 11, 11, 12,
    12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15, 16, 16, 16,
    16, 17, 17, 17, 17, 17, 17, 17, 17, 18, 18, 18, 18, 18, 18, 18,
    18, 19, 19, 19, 19, 19, 19, 19, 19, 20, 20, 20, 20, 20, 20, 20,
    20, 21, 21, 21, 21, 21, 21, 21, 21, 21, 21, 21, 21, 21, 21, 21,
    21, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22,
    22, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23,
    23, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24,
    24,
};

void _ms_size_class_init(void) {
  for (unsigned c = 1; c < MS_CLASS_COUNT; c++) {
    uint64_t max = _ms_class_max(c);
    if (max > MS_CLASS_EXACT_MAX) break;
    if (_ms_class_of(max) != c) continue; /* a gap in the numbering (2W rounding) */
    _ms_class_usable[c] = (uint32_t)mi_good_size(max);
  }
}
