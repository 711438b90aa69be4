/* json_out.h — the JSON form of a model (docs/JSON.md), shared by `memscope convert` and the
 * HTML report, which embeds the compact form of exactly this JSON. */
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

/* Options of ms_json_write_opts. */
typedef struct ms_json_options {
  uint32_t max_sites;   /* list at most this many sites and leaks; 0 = all */
  int compact;          /* 1: the compact form (docs/JSON.md): "frames" and "stacks" tables at
                           the end, "stack_id" (alloc_stack_id, free_stack_id) references in
                           place of "stack": [frame...] arrays. The HTML report embeds this. */
} ms_json_options_t;

/* ms_json_write with options (o may be NULL: all sites, full stacks). */
int ms_json_write_opts(FILE *out, const ms_model_t *m, const ms_json_options_t *o);

/* Write s as a JSON string literal (with quotes); NULL writes null. Used by the reports too. */
void ms_json_string(FILE *out, const char *s);

#endif /* MEMSCOPE_CLI_JSON_OUT_H */
