/* stack_walk.h — stack walking for the tracker and the fault handler (track/stack_walk.c). */
#ifndef MS_STACK_WALK_H
#define MS_STACK_WALK_H

#include <stdint.h>

/* Fill buf with up to max return addresses, innermost first, starting in the caller of
 * _ms_unwind. Opens no descriptor, takes no lock, allocates nothing. Returns the count. */
int _ms_unwind(void **buf, int max);

/* Bind to libgcc_s's own unwinder (once, at start-up, before the first _ms_unwind). */
void _ms_unwind_init(void);

#endif
