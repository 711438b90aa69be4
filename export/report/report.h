/* report.h — the HTML dashboard and SVG charts (export/report/, library msreport).
 *
 * Both take the converter's symbolised model (export/model/model.h). The HTML page embeds the
 * model as the JSON `memscope convert -o x.json --compact` writes (ms_json_write_opts, the
 * compact form of the default JSON) and draws every view in the browser; the SVG charts are
 * drawn here, in C, for documents and CI artefacts.
 * Return values: 0 (MS_OK) or a negative MS_* code (MS_EIO when writing failed).
 */
#ifndef MEMSCOPE_REPORT_H
#define MEMSCOPE_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "model.h"

/* The self-contained interactive dashboard: one file, no network needed to view it. */
int ms_html_write(FILE *out, const ms_model_t *m);

/* A standalone SVG chart. chart: "timeline" (live bytes and RSS over time, peak marked),
 * "flamegraph" (sites by live bytes, <title> tooltips) or "sites" (top sites by live bytes);
 * NULL draws all three on one page. An unknown chart name returns MS_EINVAL. */
int ms_svg_write(FILE *out, const ms_model_t *m, const char *chart);

/* Internal, for ms_html_write and the tests: the page around an already-rendered JSON text
 * (len bytes, need not be NUL-terminated). */
int _ms_html_write_json(FILE *out, const char *json, size_t len);
/* Same, with a second small JSON object for the page itself (meta may be NULL), e.g.
 * {"sites_shown":N,"sites_total":M} when the site list had to be cut (see html_model.c). */
int _ms_html_write_json_meta(FILE *out, const char *json, size_t len, const char *meta);

#endif /* MEMSCOPE_REPORT_H */
