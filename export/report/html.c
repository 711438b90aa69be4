/* html.c — writes the self-contained HTML dashboard around a JSON document.
 *
 * The page is a fixed shell: inline CSS, the report's JSON inside a
 * <script type="application/json"> element, then the inline scripts (dygraphs and our own
 * assets/, embedded at build time). All drawing happens in the browser, from the same JSON that
 * `memscope convert -o x.json` writes, so the HTML and JSON views can never disagree.
 * A Content-Security-Policy meta tag forbids every network fetch: the report works offline and
 * cannot leak the profile anywhere when opened.
 *
 * Safety of the embedding: in JSON, '<', '>' and '&' can only occur inside strings, where the
 * escapes \u003c, \u003e and \u0026 mean the same characters. Rewriting them means no string
 * from the profiled program (a file name, a variable name) can close the element or open a
 * comment, whatever it contains.
 */
#include <stdio.h>
#include <string.h>

#include "assets.h"
#include "memscope.h"
#include "report.h"

static int put_asset(FILE *out, const char *open, const unsigned char *data, size_t len,
                     const char *close) {
  if (len == 0) return 0; /* an asset not available at build time (dygraphs) */
  fputs(open, out);
  fwrite(data, 1, len, out);
  fputs(close, out);
  return 0;
}

/* Copies JSON text, escaping the three characters that matter to an HTML parser. */
static void put_json_escaped(FILE *out, const char *json, size_t len) {
  size_t start = 0;
  for (size_t i = 0; i < len; i++) {
    const char *esc = NULL;
    switch (json[i]) {
    case '<': esc = "\\u003c"; break;
    case '>': esc = "\\u003e"; break;
    case '&': esc = "\\u0026"; break;
    default: continue;
    }
    fwrite(json + start, 1, i - start, out);
    fputs(esc, out);
    start = i + 1;
  }
  fwrite(json + start, 1, len - start, out);
}

int _ms_html_write_json(FILE *out, const char *json, size_t len) {
  return _ms_html_write_json_meta(out, json, len, NULL);
}

int _ms_html_write_json_meta(FILE *out, const char *json, size_t len, const char *meta) {
  if (!out || (!json && len)) return MS_EINVAL;
  fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n"
        "<meta name=\"generator\" content=\"memscope\">\n"
        "<title>memscope report</title>\n", out);
  put_asset(out, "<style>\n", _ms_asset_dygraph_css, _ms_asset_dygraph_css_len, "\n</style>\n");
  put_asset(out, "<style>\n", _ms_asset_report_css, _ms_asset_report_css_len, "\n</style>\n");
  fputs("</head>\n<body>\n"
        "<noscript><p class=\"noscript\">This memscope report draws its charts and tables with "
        "JavaScript; please enable it for this file (it makes no network requests).</p></noscript>\n"
        "<div id=\"app\" aria-live=\"polite\"><p class=\"loading\">Loading report&hellip;</p></div>\n"
        "<script type=\"application/json\" id=\"ms-data\">", out);
  put_json_escaped(out, json ? json : "", len);
  fputs("</script>\n", out);
  if (meta) {
    fputs("<script type=\"application/json\" id=\"ms-meta\">", out);
    put_json_escaped(out, meta, strlen(meta));
    fputs("</script>\n", out);
  }
  put_asset(out, "<script>\n", _ms_asset_dygraph_js, _ms_asset_dygraph_js_len, "\n</script>\n");
  put_asset(out, "<script>\n", _ms_asset_util_js, _ms_asset_util_js_len, "\n</script>\n");
  put_asset(out, "<script>\n", _ms_asset_flame_js, _ms_asset_flame_js_len, "\n</script>\n");
  put_asset(out, "<script>\n", _ms_asset_table_js, _ms_asset_table_js_len, "\n</script>\n");
  put_asset(out, "<script>\n", _ms_asset_views_js, _ms_asset_views_js_len, "\n</script>\n");
  put_asset(out, "<script>\n", _ms_asset_tree_js, _ms_asset_tree_js_len, "\n</script>\n");
  put_asset(out, "<script>\n", _ms_asset_main_js, _ms_asset_main_js_len, "\n</script>\n");
  fputs("</body>\n</html>\n", out);
  if (fflush(out) != 0 || ferror(out)) return MS_EIO;
  return MS_OK;
}
