/* formats.h — the plain-file outputs of a model other than JSON (json_out.h): folded stacks
 * and the text report. Each writer lives in its own file and reads only the model (model.h).
 * Both return 0, or -1 when writing to out failed. */
#ifndef MEMSCOPE_FORMATS_FORMATS_H
#define MEMSCOPE_FORMATS_FORMATS_H

#include <stdio.h>

#include "model.h"

/* One line per site for flamegraph.pl, inferno and speedscope, weighted as folded.c says; -2
 * for an unknown weight name (a usage error). */
int ms_folded_write(FILE *out, const ms_model_t *m, const char *weight);  /* folded.c */
/* `memscope report`: the plain-text summary, at most top sites per table. */
int ms_text_report_write(FILE *out, const ms_model_t *m, unsigned top);   /* text.c */

#endif /* MEMSCOPE_FORMATS_FORMATS_H */
