/* hooks.h — the seam from the allocator core (alloc/) to the tracker (track/): every tracker
 * function alloc/ calls, and nothing else. alloc/internal.h includes it; the other direction
 * (what the tracker uses of alloc/) is alloc/internal.h itself. Built with -Wmissing-prototypes,
 * so a function that crosses the seam without being declared here does not compile cleanly. */
#ifndef MEMSCOPE_TRACK_HOOKS_H
#define MEMSCOPE_TRACK_HOOKS_H

#include <stdint.h>

struct ms_thread;

/* The sampler (track/sampler.c). */
int64_t _ms_sampler_next(struct ms_thread *t);    /* a fresh countdown */
void _ms_sampler_reset_all(void);            /* after ms_set_sample_rate */

/* Tracker hooks (track/). A sampled block's record is in its header (alloc/header.h: SAMPLED
 * or EXACT, the kind). Called with the re-entrancy guard held. */
void _ms_track_alloc(struct ms_thread *t, void *p, uint64_t size, unsigned kind);
void _ms_track_free(struct ms_thread *t, void *p, uint64_t tag, void *block, void *caller);
/* realloc moved old (tag otag, still live) to q (n bytes); called before old is released */
void _ms_track_realloc(void *old, uint64_t otag, void *q, uint64_t n);
/* a sampled block was resized in place from old to n bytes */
void _ms_track_resize(void *p, unsigned kind, uint64_t old, uint64_t n);
/* a freed sampled block goes back to mimalloc: drop its block-map bit first */
void _ms_track_forget(void *p);
void _ms_track_init(void);
void _ms_track_atfork_prepare(void);
void _ms_track_atfork_parent(void);
void _ms_track_atfork_child(void);
void _ms_track_at_exit(void);

/* Memory errors (track/errors.c): report a bad free/realloc of p. kind is ms_dump_error_kind_t. */
void _ms_report_error(unsigned kind, const void *p, uint64_t size, const void *record);

/* Errors found by the checks in alloc/ (track/errors.c): the full report with its stacks, and
 * the end of the process when the action says so. */
void _ms_report_error_ex(unsigned kind, const void *addr, uint64_t size, uint32_t stack,
                         uint32_t alloc_stack, uint32_t free_stack, const char *detail);
void _ms_checks_die(void);

/* Figures for ms_stats() and the peak (track/). */
void _ms_track_peak(uint64_t live);         /* sites.c: a new global peak: copy per-site figures */
void _ms_timeline_maybe_add(uint64_t live); /* timeline.c */
uint64_t _ms_stacks_count(void);            /* stacks.c */
uint64_t _ms_sampled_total(void);           /* sites.c */
uint64_t _ms_sampled_live(void);
uint64_t _ms_errors_count(void);            /* errors.c */
void _ms_thread_retired(struct ms_thread *t); /* threads.c: keep an exiting thread's figures */

#endif /* MEMSCOPE_TRACK_HOOKS_H */
