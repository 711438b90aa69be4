/* folded.c — "folded stacks" for flamegraph.pl, inferno and speedscope.
 *
 * One line per distinct stack: frames from outermost to innermost joined by ';', a space, and
 * a number (what the number is, --value, is listed in value_names below and docs/CLI.md).
 * Frame names are the function when known, else module+0xoffset, else the raw address, and are
 * never shortened. Different sites can print the same line (the same functions at different
 * lines or tags, two addresses in one function); those lines are merged into one and their
 * numbers added, since flamegraph tools expect each stack once. ';' and line breaks inside
 * names would break the format, so they are replaced. Lines are sorted by number, largest
 * first, then by text, so the output is deterministic.
 */
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "sbuf.h"

enum { V_LIVE, V_BYTES, V_COUNT, V_PEAK, V_LEAKED, V_LIVE_COUNT, V_TEMP };

/* --value (and its older spelling --weight) names. "total" is the old name of "bytes". */
static const struct { const char *name; int v; } value_names[] = {
    {"live", V_LIVE},   {"bytes", V_BYTES},          {"total", V_BYTES}, {"count", V_COUNT},
    {"peak", V_PEAK},   {"leaked", V_LEAKED},        {"live-count", V_LIVE_COUNT},
    {"temp", V_TEMP},
};

int ms_folded_value(const char *name) {
  if (!name) return V_LIVE;
  for (size_t i = 0; i < sizeof value_names / sizeof value_names[0]; i++)
    if (!strcmp(name, value_names[i].name)) return value_names[i].v;
  return -1;
}

static void put_frame(sbuf_t *b, const ms_frame_t *f) {
  char small[256];
  const char *name = f->function;
  if (!name) {
    ms_frame_label(f, small, sizeof small);   /* module+0xoffset or 0xaddr: short */
    name = small;
  }
  size_t start = b->len;
  sb_put(b, name, strlen(name));
  if (b->failed) return;
  for (char *p = b->p + start; *p; p++)
    if (*p == ';') *p = ':';
    else if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
}

typedef struct line {
  size_t off;          /* into the text buffer */
  uint64_t value;
} line_t;

static const char *g_text;   /* qsort context; the converter is single-threaded */
static int cmp_line(const void *a, const void *b) {
  const line_t *x = a, *y = b;
  if (x->value != y->value) return x->value < y->value ? 1 : -1;
  return strcmp(g_text + x->off, g_text + y->off);
}

static uint64_t hash_text(const char *s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
  return h ^ (h >> 31);
}

/* (stack, value) pairs of the chosen --value. */
typedef struct entry {
  uint32_t stack;
  uint64_t value;
} entry_t;

static size_t entries(const ms_model_t *m, int v, entry_t *out) {
  size_t n = 0;
  if (v == V_LEAKED) {
    for (uint32_t i = 0; i < m->n_leaks; i++)
      if (m->leaks[i].bytes) out[n++] = (entry_t){m->leaks[i].stack, m->leaks[i].bytes};
    return n;
  }
  for (uint32_t i = 0; i < m->n_sites; i++) {
    const ms_msite_t *s = &m->sites[i];
    uint64_t x = v == V_BYTES ? s->total_bytes : v == V_COUNT ? s->total_count
               : v == V_PEAK ? s->peak_bytes : v == V_LIVE_COUNT ? s->live_count
               : v == V_TEMP ? s->temp_count : s->live_bytes;
    if (x) out[n++] = (entry_t){s->stack, x};
  }
  return n;
}

int ms_folded_write(FILE *out, const ms_model_t *m, const char *weight) {
  int v = ms_folded_value(weight);
  if (v < 0) return -2;
  size_t cap = (m->n_sites > m->n_leaks ? m->n_sites : m->n_leaks) + 1;
  entry_t *e = malloc(cap * sizeof *e);
  line_t *lines = malloc(cap * sizeof *lines);
  size_t hcap = 16;
  while (hcap < cap * 2) hcap <<= 1;
  uint32_t *slots = calloc(hcap, sizeof *slots);   /* line index + 1, 0 = empty */
  sbuf_t text = {0};
  int rc = -1;
  if (!e || !lines || !slots) goto out;
  size_t ne = entries(m, v, e), nl = 0;
  for (size_t i = 0; i < ne; i++) {
    size_t off = text.len;
    const ms_mstack_t *st = e[i].stack < m->n_stacks ? &m->stacks[e[i].stack] : NULL;
    if (!st || st->depth == 0) {
      sb_put(&text, "[unknown]", 9);
    } else {
      for (uint32_t k = st->depth; k-- > 0;) {
        put_frame(&text, &m->frames[st->frames[k]]);
        if (k) sb_put(&text, ";", 1);
      }
    }
    sb_put(&text, "", 1);   /* NUL-separated lines */
    if (text.failed) goto out;
    size_t h = hash_text(text.p + off) & (hcap - 1);
    while (slots[h] && strcmp(text.p + lines[slots[h] - 1].off, text.p + off)) h = (h + 1) & (hcap - 1);
    if (slots[h]) {
      lines[slots[h] - 1].value += e[i].value;
      text.len = off;   /* a duplicate: drop its text */
    } else {
      lines[nl] = (line_t){off, e[i].value};
      slots[h] = (uint32_t)++nl;
    }
  }
  g_text = text.p;
  if (nl) qsort(lines, nl, sizeof *lines, cmp_line);
  for (size_t i = 0; i < nl; i++)
    fprintf(out, "%s %llu\n", text.p + lines[i].off, (unsigned long long)lines[i].value);
  rc = ferror(out) ? -1 : 0;
out:
  free(e);
  free(lines);
  free(slots);
  free(text.p);
  return rc;
}
