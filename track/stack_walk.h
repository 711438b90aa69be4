/* stack_walk.h — stack walking for the tracker and the fault handler (track/stack_walk.c). */
#ifndef MS_STACK_WALK_H
#define MS_STACK_WALK_H

#include <stdint.h>

#include "internal.h"

/* Fill buf with up to max return addresses, innermost first, starting in the caller of
 * _ms_unwind. Opens no descriptor, takes no lock, allocates nothing. Returns the count. */
int _ms_unwind(void **buf, int max);
/* The same, with the calling thread's rule caches (or NULL). */
int _ms_unwind_l0(void **buf, int max, ms_unwind_cache_t *l0);

/* Bind to libgcc_s's own unwinder (once, at start-up, before the first _ms_unwind). */
void _ms_unwind_init(void);

/* The cached CFI walker (track/cfi_cache.c). _ms_cfi_walk starts at a frame whose return
 * address is pc, with the caller's stack pointer sp and frame register bp; returns the count,
 * or -1 when a frame needs the full unwinder. l0: a thread's own rule caches, or NULL. */
void _ms_cfi_init(void *find_fde_function);
int _ms_cfi_walk(void **buf, int max, uint64_t pc, uint64_t sp, uint64_t bp, ms_unwind_cache_t *l0);
void _ms_cfi_flush(void);

#endif
