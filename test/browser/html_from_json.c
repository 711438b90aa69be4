/* html_from_json.c — test driver: wraps a JSON file (the converter's JSON shape) into the
 * HTML report with the same page writer ms_html_write uses, so the browser test can check the
 * page on hand-made and generated data (e.g. 100k sites) independently of the dump pipeline.
 * Usage: html_from_json IN.json OUT.html */
#include <stdio.h>
#include <stdlib.h>

#include "report.h"

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s IN.json OUT.html\n", argv[0]);
    return 2;
  }
  FILE *in = fopen(argv[1], "rb");
  if (!in) { perror(argv[1]); return 1; }
  char *buf = NULL;
  size_t len = 0, cap = 0, n;
  do {
    if (len + 65536 > cap) {
      cap = cap ? cap * 2 : 1 << 20;
      char *nb = realloc(buf, cap);
      if (!nb) { fprintf(stderr, "out of memory\n"); return 1; }
      buf = nb;
    }
    n = fread(buf + len, 1, cap - len, in);
    len += n;
  } while (n > 0);
  fclose(in);
  FILE *out = fopen(argv[2], "wb");
  if (!out) { perror(argv[2]); return 1; }
  int rc = _ms_html_write_json(out, buf, len);
  if (fclose(out) != 0) rc = -1;
  free(buf);
  if (rc != 0) { fprintf(stderr, "%s: writing failed (%d)\n", argv[2], rc); return 1; }
  return 0;
}
