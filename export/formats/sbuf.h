/* sbuf.h — a growing, always NUL-terminated string buffer, for the formats that build a line
 * or a value before writing it (folded.c: a stack's line; json_out.c: an escaped string).
 * Header-only (static inline) and internal to export/formats/. Out of memory sets `failed`
 * and drops what follows, so a writer checks once at the end instead of after every piece. */
#ifndef MEMSCOPE_FORMATS_SBUF_H
#define MEMSCOPE_FORMATS_SBUF_H

#include <stdlib.h>
#include <string.h>

typedef struct sbuf {
  char *p;        /* NULL until the first byte; free() when done */
  size_t len, cap;
  int failed;     /* 1 after an allocation failed */
} sbuf_t;

static inline void sb_put(sbuf_t *b, const char *s, size_t n) {
  if (b->failed) return;
  if (b->cap - b->len < n + 1) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n + 1) cap *= 2;
    char *np = realloc(b->p, cap);
    if (!np) {
      b->failed = 1;
      return;
    }
    b->p = np;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = 0;
}

#endif /* MEMSCOPE_FORMATS_SBUF_H */
