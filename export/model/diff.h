/* diff.h — what grew and shrank between two dumps, per allocation site.
 *
 * Sites are matched by their symbolised stack (ms_mstack_t.key_hash: function, file, line, or
 * module basename + offset per frame), never by raw address, so two runs of the same program
 * with different ASLR layouts still line up. Sites with the same symbolic stack in one dump
 * (e.g. differing only in memscope's hidden frames) are summed. */
#ifndef MEMSCOPE_CLI_DIFF_H
#define MEMSCOPE_CLI_DIFF_H

#include <stdint.h>

#include "model.h"

typedef struct ms_diff_entry {
  uint32_t old_site, new_site;     /* a representative site in each model, or MS_DUMP_NONE */
  uint64_t old_bytes, new_bytes;   /* live bytes */
  uint64_t old_count, new_count;   /* live count */
  uint64_t old_total, new_total;   /* total bytes allocated */
  int64_t delta_bytes, delta_count;
} ms_diff_entry_t;

typedef struct ms_diff {
  uint32_t n;
  ms_diff_entry_t *entries;        /* sorted by |delta_bytes| desc, then |delta_count| */
  int64_t delta_live_bytes, delta_peak_bytes, delta_total_bytes;
  uint32_t matched, only_old, only_new;
} ms_diff_t;

/* 0 or MS_ENOMEM. */
int ms_diff_build(ms_diff_t *out, const ms_model_t *old_m, const ms_model_t *new_m);
void ms_diff_free(ms_diff_t *d);

#endif /* MEMSCOPE_CLI_DIFF_H */
