/* size_class.c — fills the per-class usable-size table from mimalloc itself (mi_good_size), so
 * that memscope's idea of "usable bytes" cannot drift from the allocator it wraps. Classes whose
 * blocks are larger than MS_CLASS_EXACT_MAX keep 0: their usable size is asked per block. */
#include "size_class.h"

#include <mimalloc.h>

uint32_t _ms_class_usable[MS_CLASS_COUNT];

void _ms_size_class_init(void) {
  for (unsigned c = 1; c < MS_CLASS_COUNT; c++) {
    uint64_t max = _ms_class_max(c);
    if (max > MS_CLASS_EXACT_MAX) break;
    if (_ms_class_of(max) != c) continue; /* a gap in the numbering (2W rounding) */
    _ms_class_usable[c] = (uint32_t)mi_good_size(max);
  }
}
