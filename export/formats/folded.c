/* folded.c — "folded stacks" for flamegraph.pl, inferno and speedscope.
 *
 * One line per site: frames from outermost to innermost joined by ';', a space, and the
 * weight (live bytes by default). Frame names are the function when known, else
 * module+0xoffset, else the raw address; ';' and line breaks inside names would break the
 * format, so they are replaced.
 */
#include <string.h>

#include "formats.h"

static void put_frame(FILE *out, const ms_frame_t *f) {
  char buf[1024];
  if (f->function) snprintf(buf, sizeof buf, "%s", f->function);
  else ms_frame_label(f, buf, sizeof buf);
  for (char *p = buf; *p; p++)
    if (*p == ';') *p = ':';
    else if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
  fputs(buf, out);
}

static uint64_t weight_of(const ms_msite_t *s, int w) {
  switch (w) {
    case 1: return s->total_bytes;
    case 2: return s->total_count;
    case 3: return s->peak_bytes;
    case 4: return s->temp_count;
    case 5: return s->live_count;
    default: return s->live_bytes;
  }
}

/* weight: "live" (bytes, default), "live-count", "total", "count", "peak", "temp"; an
 * unknown name returns -2 so the caller can report a usage error. */
int ms_folded_write(FILE *out, const ms_model_t *m, const char *weight) {
  int w = 0;
  if (!weight || !strcmp(weight, "live")) w = 0;
  else if (!strcmp(weight, "total")) w = 1;
  else if (!strcmp(weight, "count")) w = 2;
  else if (!strcmp(weight, "peak")) w = 3;
  else if (!strcmp(weight, "temp")) w = 4;
  else if (!strcmp(weight, "live-count")) w = 5;
  else return -2;
  for (uint32_t i = 0; i < m->n_sites; i++) {
    const ms_msite_t *s = &m->sites[i];
    uint64_t v = weight_of(s, w);
    if (!v) continue;
    if (s->stack >= m->n_stacks || m->stacks[s->stack].depth == 0) {
      fputs("[unknown]", out);
    } else {
      const ms_mstack_t *st = &m->stacks[s->stack];
      for (uint32_t k = st->depth; k-- > 0;) {
        put_frame(out, &m->frames[st->frames[k]]);
        if (k) fputc(';', out);
      }
    }
    fprintf(out, " %llu\n", (unsigned long long)v);
  }
  return ferror(out) ? -1 : 0;
}
