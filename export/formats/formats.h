/* formats.h — the file outputs of a model other than JSON (json_out.h): folded stacks, the
 * text report, pprof and massif. Each writer lives in its own file and reads only the model (model.h).
 * Both return 0, or -1 when writing to out failed. */
#ifndef MEMSCOPE_FORMATS_FORMATS_H
#define MEMSCOPE_FORMATS_FORMATS_H

#include <stdio.h>

#include "model.h"

/* One line per site for flamegraph.pl, inferno and speedscope, weighted as folded.c says; -2
 * for an unknown weight name (a usage error). */
int ms_folded_write(FILE *out, const ms_model_t *m, const char *weight);  /* folded.c */
/* `memscope report`: the plain-text summary, at most top sites per table. */
/* The folded --value names: >= 0 when name is one, -1 otherwise (NULL = the default). */
int ms_folded_value(const char *name);                                      /* folded.c */
int ms_text_report_write(FILE *out, const ms_model_t *m, unsigned top);   /* text.c */
/* pprof: gzip'ed profile.proto; debug_dir as for the model (inline chains are read again). */
int ms_pprof_write(FILE *out, const ms_model_t *m, const char *debug_dir);  /* pprof.c */
/* massif: a massif.out file for ms_print and massif-visualizer. */
int ms_massif_write(FILE *out, const ms_model_t *m);                         /* massif.c */

/* The dump's timeline_sites rows grouped by timeline point: rows (*rows_out)[k] for k in
 * [start[p], start[p + 1]) are point p's, in file order (biggest first as the tracker writes
 * them). Both arrays are malloc'ed (free them); -1 when out of memory. */
int ms_point_sites_group(const ms_dump_t *d, uint32_t **start_out, uint32_t **rows_out); /* point_sites.c */

#endif /* MEMSCOPE_FORMATS_FORMATS_H */
