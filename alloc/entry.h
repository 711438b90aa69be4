/* entry.h — the allocation routines behind every entry point (alloc/malloc.c), for the other
 * files of alloc/ that allocate or free on the program's behalf: guard-page realloc (guarded.c)
 * and the C++ operators (new_delete.cpp, hence plain C types and C linkage). */
#ifndef MEMSCOPE_ALLOC_ENTRY_H
#define MEMSCOPE_ALLOC_ENTRY_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Allocate n bytes (align <= 16 means natural alignment; zero: calloc). NULL + ENOMEM on
 * failure. */
void *_ms_alloc(size_t n, size_t align, int zero);
/* Free p (NULL is fine); caller is the program's return address, for reports. */
void _ms_free(void *p, void *caller);
/* glibc's old name for free, still exported for programs that call it */
void cfree(void *p);

#ifdef __cplusplus
}
#endif

#endif /* MEMSCOPE_ALLOC_ENTRY_H */
