/* reach.h — the leak check's entry points (track/reach.c), for the snapshot path. */
#ifndef MEMSCOPE_TRACK_REACH_H
#define MEMSCOPE_TRACK_REACH_H

#include <stdint.h>

#include "dump.h"

/* MEMSCOPE_LEAK_CHECK is on (read once; ignored in set-uid programs). */
int _ms_reach_enabled(void);
/* Stop the other threads, classify every live block, resume them; writes allocs[i].kind and,
 * when totals is not NULL, bytes ([k][0]) and blocks ([k][1]) per class. Returns an
 * ms_dump_leak_check_t (DONE, SAMPLED or FAILED). */
int _ms_reach_check(ms_dump_alloc_t *allocs, uint32_t n_allocs, uint64_t totals[MS_LEAK_KINDS][2]);
/* Set by ms_snapshot(): the checking thread's stack is a root from here up. */
extern __thread uint64_t _ms_reach_from __attribute__((tls_model("initial-exec")));

#endif
