/* html_model.c — ms_html_write(): the converter's model -> JSON in its compact form (the
 * document `memscope convert -o x.json --compact` writes: each distinct frame and stack once,
 * see docs/JSON.md) -> the self-contained page (html.c). The compact form is what keeps a
 * 100k-stack report at tens of MB instead of 440 MB (docs/REPORTS.md, "Scale"); the page's
 * scripts read both forms. Kept apart from html.c so that the page writer builds and is
 * tested without the converter.
 *
 * Size guard: a browser reads the embedded JSON as one JavaScript string, and V8 strings stop
 * at about 512 MiB; past that the page could not open at all. So when the JSON exceeds
 * MS_HTML_JSON_LIMIT (448 MiB), the page lists only the biggest sites and leaks
 * (ms_json_write_opts with max_sites; sites are sorted by live bytes) and says so; the JSON
 * output still has everything.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "json_out.h"
#include "memscope.h"
#include "report.h"

#define MS_HTML_JSON_LIMIT ((size_t)448 << 20)

/* MEMSCOPE_HTML_JSON_LIMIT (bytes) lowers the limit: the tests use it to exercise the cut
 * on small dumps. */
static size_t json_limit(void) {
  const char *e = getenv("MEMSCOPE_HTML_JSON_LIMIT");
  char *end;
  unsigned long long v = e && *e ? strtoull(e, &end, 10) : 0;
  return v && !*end && v < MS_HTML_JSON_LIMIT ? (size_t)v : MS_HTML_JSON_LIMIT;
}

static int render(const ms_model_t *m, uint32_t max_sites, char **json, size_t *len) {
  *json = NULL;
  *len = 0;
  FILE *mem = open_memstream(json, len);
  if (!mem) return MS_ENOMEM;
  ms_json_options_t o = {max_sites, 1};
  int rc = ms_json_write_opts(mem, m, &o);
  if (fclose(mem) != 0) rc = -1;
  if (rc != 0) {
    free(*json);
    *json = NULL;
    return MS_ENOMEM;
  }
  return MS_OK;
}

int ms_html_write(FILE *out, const ms_model_t *m) {
  if (!out || !m) return MS_EINVAL;
  char *json;
  size_t len;
  int rc = render(m, 0, &json, &len);
  if (rc) return rc;
  char meta[128];
  const char *metap = NULL;
  uint32_t shown = m->n_sites;
  size_t limit = json_limit();
  while (len > limit && shown > 1) {
    /* Sites and leaks dominate the size: scale their number down with some margin. */
    shown = (uint32_t)((double)shown * (double)limit / (double)len * 0.9);
    if (shown < 1) shown = 1;
    free(json);
    if ((rc = render(m, shown, &json, &len))) return rc;
    snprintf(meta, sizeof meta, "{\"sites_shown\":%u,\"sites_total\":%u}", shown, m->n_sites);
    metap = meta;
  }
  rc = _ms_html_write_json_meta(out, json, len, metap);
  free(json);
  return rc;
}
