/* json_out.h — the JSON form of a model (docs/JSON.md), shared by `memscope convert` and the
 * HTML report, which embeds exactly this JSON. */
#ifndef MEMSCOPE_CLI_JSON_OUT_H
#define MEMSCOPE_CLI_JSON_OUT_H

#include <stdint.h>
#include <stdio.h>

#include "model.h"

/* Write the whole model as one JSON document (UTF-8, always valid JSON: strings are escaped,
 * invalid UTF-8 bytes become U+FFFD). Returns 0, or -1 when writing to out failed. */
int ms_json_write(FILE *out, const ms_model_t *m);

/* Same, listing at most max_sites sites and leaks (0 = all): huge dumps stay viewable. */
int ms_json_write_limited(FILE *out, const ms_model_t *m, uint32_t max_sites);

/* Write s as a JSON string literal (with quotes); NULL writes null. Used by the reports too. */
void ms_json_string(FILE *out, const char *s);

#endif /* MEMSCOPE_CLI_JSON_OUT_H */
