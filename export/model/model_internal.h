/* model_internal.h — what model.c shares with findings.c; internal to export/model/. */
#ifndef MEMSCOPE_MODEL_INTERNAL_H
#define MEMSCOPE_MODEL_INTERNAL_H

#include "model.h"

/* A printf-formatted string kept in the model's arena (freed with the model); "" when out of
 * memory, so messages degrade instead of failing the build. At most 1023 bytes. */
const char *_ms_model_printf(ms_model_t *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Fill m->findings from the finished views; 0 or MS_ENOMEM. */
int _ms_model_build_findings(ms_model_t *m);

#endif /* MEMSCOPE_MODEL_INTERNAL_H */
