/* html_model.c — ms_html_write(): the converter's model -> JSON (ms_json_write, the very
 * document `memscope convert -o x.json` writes) -> the self-contained page (html.c).
 * Kept apart from html.c so that the page writer builds and is tested without the converter. */
#include <stdio.h>
#include <stdlib.h>

#include "json_out.h"
#include "memscope.h"
#include "report.h"

int ms_html_write(FILE *out, const ms_model_t *m) {
  if (!out || !m) return MS_EINVAL;
  char *json = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&json, &len);
  if (!mem) return MS_ENOMEM;
  int rc = ms_json_write(mem, m);
  if (fclose(mem) != 0 && rc == 0) rc = -1;
  if (rc != 0) {
    free(json);
    return MS_ENOMEM;
  }
  rc = _ms_html_write_json(out, json, len);
  free(json);
  return rc;
}
