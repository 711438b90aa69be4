/* svg.c — static, standalone SVG charts of a model, for documents and CI artefacts:
 *   "timeline"   live heap bytes and RSS over time, the peak marked; stacked by the sites that
 *                held the most when the dump lists them per point (format 3)
 *   "flamegraph" allocation sites by live bytes (total bytes when nothing is live), as an
 *                icicle (root on top, like the HTML view); every frame has a <title> tooltip
 *   "sites"      the top 20 allocation sites as horizontal bars
 *   NULL         all three, one under the other.
 * Output is plain SVG 1.1 with no script and no external reference, so it renders the same in
 * browsers, rsvg-convert and image viewers. Every string from the dump passes xml_text(), which
 * escapes markup characters and replaces bytes that are not valid UTF-8 or not allowed in XML,
 * so a strange file or function name can never produce invalid XML.
 * Each chart is first drawn into a memory buffer, which gives its height before the <svg>
 * header (which needs the total size) is written.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "memscope.h"
#include "report.h"
#include "utf8.h"

#define SVG_W 1200.0
#define FONT "font-family=\"DejaVu Sans, Verdana, sans-serif\""
#define MONO "font-family=\"DejaVu Sans Mono, monospace\""

/* ------------------------------------------------------------------ text */

/* Length of the well-formed UTF-8 sequence at s (n bytes available) whose character XML 1.0
 * allows (no C0 controls but tab and line breaks, no U+FFFE/U+FFFF), 0 if none. */
static size_t utf8_ok(const unsigned char *s, size_t n) {
  uint32_t cp;
  size_t len = ms_utf8_char(s, n, &cp);
  if (!len) return 0;
  if (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') return 0;
  return cp == 0xFFFE || cp == 0xFFFF ? 0 : len;
}

/* Writes at most max_chars characters of s as XML text, "…" when cut. */
static void xml_text_n(FILE *out, const char *s, size_t max_chars) {
  if (!s) return;
  const unsigned char *p = (const unsigned char *)s;
  size_t n = strlen(s), chars = 0;
  while (n) {
    if (chars + 1 >= max_chars && n > 0) {
      /* Cut only if more than one character remains. */
      size_t l = utf8_ok(p, n);
      if (!(l && l == n)) { fputs("\xE2\x80\xA6", out); return; }
    }
    size_t l = utf8_ok(p, n);
    if (!l) { fputs("\xEF\xBF\xBD", out); p++; n--; chars++; continue; }
    switch (*p) {
    case '&': fputs("&amp;", out); break;
    case '<': fputs("&lt;", out); break;
    case '>': fputs("&gt;", out); break;
    case '"': fputs("&quot;", out); break;
    case '\'': fputs("&apos;", out); break;
    default: fwrite(p, 1, l, out);
    }
    p += l; n -= l; chars++;
  }
}
static void xml_text(FILE *out, const char *s) { xml_text_n(out, s, SIZE_MAX); }

static const char *fmt_time(uint64_t ns, char *buf, size_t len) {
  double v = (double)ns;
  if (v >= 60e9) snprintf(buf, len, "%.1f min", v / 60e9);
  else if (v >= 1e9) snprintf(buf, len, "%.2f s", v / 1e9);
  else if (v >= 1e6) snprintf(buf, len, "%.1f ms", v / 1e6);
  else if (v >= 1e3) snprintf(buf, len, "%.0f us", v / 1e3);
  else snprintf(buf, len, "%llu ns", (unsigned long long)ns);
  return buf;
}

/* Round axis ticks (the HTML report's MS.niceTicks): steps of 1, 2, 2.5 or 5 times a power of
 * ten of one unit per axis (B/KiB/MiB... or ns/us/ms/s), so ticks read 0, 32, 64 MiB. */
typedef struct axis {
  double div, step;   /* unit in raw units; tick step in units */
  const char *unit;
} axis_t;

static axis_t nice_axis(double lo, double hi, int n, int bytes) {
  axis_t a = {1, 1, bytes ? "B" : "ns"};
  if (!(hi > lo)) hi = lo + 1;
  double span = hi - lo;
  if (bytes) {
    static const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int k = 0;
    while (k < 4 && hi >= 1024.0 * pow(1024.0, k)) k++;
    a.unit = u[k], a.div = pow(1024.0, k);
  } else {
    static const char *u[] = {"ns", "us", "ms", "s"};
    static const double d[] = {1, 1e3, 1e6, 1e9};
    int k = 0;
    while (k < 3 && span >= 2 * d[k + 1]) k++;
    a.unit = u[k], a.div = d[k];
  }
  double raw = span / a.div / n, p = pow(10, floor(log10(raw)));
  static const double mult[] = {1, 2, 2.5, 5, 10};
  for (int i = 0; i < 5; i++) {
    a.step = mult[i] * p;
    if (a.step >= raw) break;
  }
  if (bytes && a.div == 1 && a.step < 1) a.step = 1;
  return a;
}

static const char *tick_label(double v, const axis_t *a, char *buf, size_t len) {
  double x = v / a->div;
  if (fabs(x) < 1e-12) snprintf(buf, len, "0");
  else snprintf(buf, len, "%.*f %s", a->step >= 1 ? 0 : (int)fmin(3, ceil(-log10(a->step) - 1e-9)), x, a->unit);
  return buf;
}

static void title_line(FILE *out, double y, const char *title, const char *sub) {
  fprintf(out, "<text x=\"10\" y=\"%.1f\" font-size=\"17\" font-weight=\"bold\" " FONT ">", y);
  xml_text(out, title);
  fputs("</text>\n", out);
  if (sub) {
    fprintf(out, "<text x=\"10\" y=\"%.1f\" font-size=\"12\" fill=\"#5b6475\" " FONT ">", y + 18);
    xml_text(out, sub);
    fputs("</text>\n", out);
  }
}

/* ------------------------------------------------------------------ timeline */

/* "Who grew it", as the HTML timeline draws it: columns at the timeline's points (and the exact
 * peak), each the bytes of the SVG_SERIES sites that held the most at some point, then "other
 * sites" = the rest of the column's live bytes. A site a point does not list counts as other
 * there; at the peak the sites are the 12 biggest by peak_bytes, so that column is the peak. */
static void short_label(char *label); /* top sites, below */

#define SVG_SERIES 8
#define PEAK_SITES 12 /* as many as a timeline point lists */
static const char *const series_colour[SVG_SERIES + 1] = {
  "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#bab0ac"};

typedef struct tl_stack {
  uint32_t n;                    /* columns */
  uint64_t *t, *live, *v;        /* per column; v: n x (SVG_SERIES + 1), the series then other */
  uint32_t series[SVG_SERIES];   /* their stacks */
  uint32_t n_series;
} tl_stack_t;

static void stack_free(tl_stack_t *s) {
  free(s->t), free(s->live), free(s->v);
  memset(s, 0, sizeof *s);
}

/* The peak bytes of stack st if its site is among the PEAK_SITES biggest at the peak, else 0. */
static uint64_t peak_of(const ms_model_t *m, uint32_t st) {
  for (uint32_t k = 0; k < PEAK_SITES && k < m->n_sites && m->by_peak; k++) {
    const ms_msite_t *x = &m->sites[m->by_peak[k]];
    if (x->stack == st) return x->peak_bytes;
  }
  return 0;
}

/* Fills s for a dump with per-point sites; 0 columns (nothing to stack) otherwise or on error. */
static void stack_build(const ms_model_t *m, tl_stack_t *s) {
  const ms_dump_t *d = m->dump;
  memset(s, 0, sizeof *s);
  if (d->format_version < 3 || d->n_timeline < 2 || !m->n_stacks) return;
  uint32_t *start = NULL, *rows = NULL;
  uint64_t *best = calloc(m->n_stacks, sizeof *best);
  if (!best || ms_point_sites_group(d, &start, &rows) != 0) {
    free(best);
    return;
  }
  for (uint32_t i = 0; i < d->n_timeline_sites; i++) {
    const ms_dump_point_site_t *r = &d->timeline_sites[i];
    if (r->stack < m->n_stacks && r->bytes > best[r->stack]) best[r->stack] = r->bytes;
  }
  for (uint32_t k = 0; k < PEAK_SITES && k < m->n_sites && m->by_peak; k++) {
    const ms_msite_t *x = &m->sites[m->by_peak[k]];
    if (x->stack < m->n_stacks && x->peak_bytes > best[x->stack]) best[x->stack] = x->peak_bytes;
  }
  while (s->n_series < SVG_SERIES) { /* the biggest first; 8 passes over the stacks */
    uint32_t pick = MS_DUMP_NONE;
    for (uint32_t i = 0; i < m->n_stacks; i++)
      if (best[i] && (pick == MS_DUMP_NONE || best[i] > best[pick])) pick = i;
    if (pick == MS_DUMP_NONE) break;
    s->series[s->n_series++] = pick;
    best[pick] = 0;
  }
  free(best);
  uint64_t pt = d->summary.peak_time_ns, pb = d->summary.peak_live_bytes;
  uint64_t t0 = d->timeline[0].time_ns, t1 = d->timeline[d->n_timeline - 1].time_ns;
  int with_peak = pb && pt >= t0 && pt <= t1;
  uint32_t cap = d->n_timeline + 1, W = SVG_SERIES + 1;
  s->t = malloc(cap * sizeof *s->t);
  s->live = malloc(cap * sizeof *s->live);
  s->v = calloc((size_t)cap * W, sizeof *s->v);
  if (!s->t || !s->live || !s->v) {
    free(start), free(rows);
    stack_free(s);
    return;
  }
  for (uint32_t p = 0; p < d->n_timeline; p++) {
    if (with_peak && d->timeline[p].time_ns >= pt) { /* the exact peak, a column of its own */
      uint64_t *v = &s->v[(size_t)s->n * W], sum = 0;
      for (uint32_t j = 0; j < s->n_series; j++) sum += v[j] = peak_of(m, s->series[j]);
      v[SVG_SERIES] = pb > sum ? pb - sum : 0;
      s->t[s->n] = pt, s->live[s->n++] = pb;
      with_peak = 0;
    }
    uint64_t *v = &s->v[(size_t)s->n * W], sum = 0;
    for (uint32_t k = start[p]; k < start[p + 1]; k++) {
      const ms_dump_point_site_t *r = &d->timeline_sites[rows[k]];
      for (uint32_t j = 0; j < s->n_series; j++)
        if (r->stack == s->series[j]) v[j] += r->bytes, sum += r->bytes;
    }
    v[SVG_SERIES] = d->timeline[p].live_bytes > sum ? d->timeline[p].live_bytes - sum : 0;
    s->t[s->n] = d->timeline[p].time_ns, s->live[s->n++] = d->timeline[p].live_bytes;
  }
  free(start), free(rows);
}

static double chart_timeline(FILE *out, const ms_model_t *m) {
  const ms_dump_t *d = m->dump;
  const double H = 330, L = 80, R = 20, T = 52, B = 40;
  char a[64], b[64], sub[512], c1[32], c2[32], c3[32], c4[32];
  /* The overhead in docs/REPORTS.md's words, the same as the HTML, JSON and text report. */
  const ms_fragmentation_t *fr = &m->fragmentation;
  snprintf(sub, sizeof sub, "peak %s live at %s; %u points. Live at the dump: requested %s + rounding %s = usable %s; memscope metadata %s",
           ms_fmt_bytes(d->summary.peak_live_bytes, a, sizeof a), fmt_time(d->summary.peak_time_ns, b, sizeof b), d->n_timeline,
           ms_fmt_bytes(fr->requested_bytes, c1, sizeof c1), ms_fmt_bytes(fr->rounding_bytes, c2, sizeof c2),
           ms_fmt_bytes(fr->usable_bytes, c3, sizeof c3), ms_fmt_bytes(fr->metadata_bytes, c4, sizeof c4));
  tl_stack_t st;
  stack_build(m, &st);
  title_line(out, 22, st.n ? "Live heap over time, by allocation site, and RSS" : "Live heap and RSS over time", sub);
  if (d->n_timeline < 2) {
    fprintf(out, "<text x=\"10\" y=\"%.1f\" font-size=\"13\" " FONT ">No timeline: fewer than two points were recorded.</text>\n", T + 30);
    stack_free(&st);
    return T + 50;
  }
  uint64_t t0 = d->timeline[0].time_ns, t1 = t0, ymax = 1;
  for (uint32_t i = 0; i < d->n_timeline; i++) {
    const ms_dump_point_t *p = &d->timeline[i];
    if (p->time_ns < t0) t0 = p->time_ns;
    if (p->time_ns > t1) t1 = p->time_ns;
    if (p->live_bytes > ymax) ymax = p->live_bytes;
    if (p->rss_bytes > ymax) ymax = p->rss_bytes;
  }
  if (d->summary.peak_live_bytes > ymax) ymax = d->summary.peak_live_bytes;
  for (uint32_t c = 0; c < st.n; c++) { /* a column's sites can exceed its live bytes (estimates) */
    uint64_t top = 0;
    for (uint32_t j = 0; j <= SVG_SERIES; j++) top += st.v[(size_t)c * (SVG_SERIES + 1) + j];
    if (top > ymax) ymax = top;
  }
  axis_t ya = nice_axis(0, (double)ymax, 4, 1);
  double ytop = ceil((double)ymax / ya.div / ya.step - 1e-9) * ya.step * ya.div;
  if (ytop > (double)ymax) ymax = (uint64_t)ytop;
  double span = t1 > t0 ? (double)(t1 - t0) : 1.0, pw = SVG_W - L - R, ph = H - T - B;
#define TX(t) (L + pw * ((double)(t) - (double)t0) / span)
#define TY(v) (T + ph * (1.0 - (double)(v) / (double)ymax))
  for (double v = 0; v <= (double)ymax + 0.5; v += ya.step * ya.div) {
    double y = TY(v);
    fprintf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#d9dde5\"/>\n", L, L + pw, y, y);
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\" fill=\"#5b6475\" " FONT ">%s</text>\n",
            L - 6, y + 4, tick_label(v, &ya, a, sizeof a));
  }
  axis_t xa = nice_axis((double)t0, (double)t1, 8, 0);
  for (double v = ceil((double)t0 / xa.div / xa.step - 1e-9) * xa.step * xa.div; v <= (double)t1 + 0.5; v += xa.step * xa.div)
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\" fill=\"#5b6475\" " FONT ">%s</text>\n",
            TX(v), H - B + 16, tick_label(v, &xa, a, sizeof a));
  /* Axis titles. */
  fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\" fill=\"#5b6475\" " FONT ">time since the program started</text>\n",
          L + pw / 2, H - 6);
  fprintf(out, "<text x=\"14\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\" fill=\"#5b6475\" transform=\"rotate(-90 14 %.1f)\" " FONT ">live bytes</text>\n",
          T + ph / 2, T + ph / 2);
  /* RSS (dashed) first, then live bytes as a filled area on top. */
  int has_rss = 0;
  for (uint32_t i = 0; i < d->n_timeline; i++) has_rss |= d->timeline[i].rss_bytes != 0;
  if (has_rss && !st.n) {
    fputs("<polyline fill=\"none\" stroke=\"#9a6bd6\" stroke-width=\"1.5\" stroke-dasharray=\"6 3\" points=\"", out);
    for (uint32_t i = 0; i < d->n_timeline; i++)
      fprintf(out, "%.1f,%.1f ", TX(d->timeline[i].time_ns), TY(d->timeline[i].rss_bytes));
    fputs("\"/>\n", out);
  }
  /* The exact peak lies between two points: the curve goes through it, so the marker is on
   * the curve's real maximum (issue 17). */
  uint64_t pt = d->summary.peak_time_ns, pb = d->summary.peak_live_bytes;
  int peak_drawn = !(pb && pt >= t0 && pt <= t1);
  if (st.n) {
    /* one area per series, bottom up, then "other sites": each between the running sums */
    char label[1024];
    const uint32_t W = SVG_SERIES + 1;
    for (uint32_t j = 0; j <= SVG_SERIES; j++) {
      if (j < SVG_SERIES && j >= st.n_series) continue;
      fprintf(out, "<path class=\"site-area\" fill=\"%s\" fill-opacity=\"0.85\" d=\"", series_colour[j]);
      for (uint32_t c = 0; c < st.n; c++) { /* upper edge, left to right */
        uint64_t hi = 0;
        for (uint32_t k = 0; k <= j; k++) hi += st.v[(size_t)c * W + k];
        fprintf(out, "%s%.1f,%.1f", c ? " L" : "M", TX(st.t[c]), TY(hi));
      }
      for (uint32_t c = st.n; c-- > 0;) { /* lower edge, back */
        uint64_t lo = 0;
        for (uint32_t k = 0; k < j; k++) lo += st.v[(size_t)c * W + k];
        fprintf(out, " L%.1f,%.1f", TX(st.t[c]), TY(lo));
      }
      fputs(" Z\"><title>", out);
      if (j < SVG_SERIES) {
        ms_stack_label(m, st.series[j], label, sizeof label);
        xml_text(out, label);
      } else {
        fputs("other sites (not among these at that moment)", out);
      }
      fputs("</title></path>\n", out);
    }
  } else {
    fprintf(out, "<path fill=\"#2f6fdb\" fill-opacity=\"0.18\" stroke=\"#2f6fdb\" stroke-width=\"2\" d=\"M%.1f,%.1f", TX(d->timeline[0].time_ns), TY(0));
    for (uint32_t i = 0; i < d->n_timeline; i++) {
      if (!peak_drawn && d->timeline[i].time_ns >= pt) {
        fprintf(out, " L%.1f,%.1f", TX(pt), TY(pb));
        peak_drawn = 1;
      }
      fprintf(out, " L%.1f,%.1f", TX(d->timeline[i].time_ns), TY(d->timeline[i].live_bytes));
    }
    fprintf(out, " L%.1f,%.1f Z\"/>\n", TX(d->timeline[d->n_timeline - 1].time_ns), TY(0));
  }
  if (has_rss && st.n) { /* over the opaque site areas */
    fputs("<polyline fill=\"none\" stroke=\"#9a6bd6\" stroke-width=\"1.5\" stroke-dasharray=\"6 3\" points=\"", out);
    for (uint32_t i = 0; i < d->n_timeline; i++)
      fprintf(out, "%.1f,%.1f ", TX(d->timeline[i].time_ns), TY(d->timeline[i].rss_bytes));
    fputs("\"/>\n", out);
  }
  if (pt >= t0 && pt <= t1) {
    double x = TX(pt);
    fprintf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#d23f3f\" stroke-width=\"2\" stroke-dasharray=\"5 4\"/>\n",
            x, x, T, T + ph);
    fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"#d23f3f\"/>\n", x, TY(pb));
    int left = x > L + pw - 160;
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"#d23f3f\" text-anchor=\"%s\" " FONT ">peak %s</text>\n",
            left ? x - 6 : x + 6, T + 14, left ? "end" : "start", ms_fmt_bytes(d->summary.peak_live_bytes, a, sizeof a));
  }
  /* Legend (stacked: the sites' legend is under the chart). */
  if (!st.n)
    fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"4\" fill=\"#2f6fdb\"/>"
                 "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" " FONT ">live heap</text>\n", SVG_W - 260, 18.0, SVG_W - 240, 22.0);
  if (has_rss)
    fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"4\" fill=\"#9a6bd6\"/>"
                 "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" " FONT ">RSS</text>\n", SVG_W - 150, 18.0, SVG_W - 130, 22.0);
  double h = H;
  if (st.n) { /* the sites' legend under the chart, three to a line */
    char label[1024];
    uint32_t k = 0;
    for (uint32_t j = 0; j <= SVG_SERIES; j++) {
      if (j < SVG_SERIES && j >= st.n_series) continue;
      double x = 10 + (k % 3) * (SVG_W - 20) / 3, y = H + 6 + (k / 3) * 18;
      fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"10\" fill=\"%s\"/>", x, y, series_colour[j]);
      fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" " MONO ">", x + 16, y + 9);
      if (j < SVG_SERIES) {
        ms_stack_label(m, st.series[j], label, sizeof label);
        short_label(label);
        xml_text_n(out, label, 52);
      } else {
        fputs("other sites", out);
      }
      fputs("</text>\n", out);
      k++;
    }
    h = H + 6 + ((k + 2) / 3) * 18 + 4;
  }
  stack_free(&st);
#undef TX
#undef TY
  return h;
}

/* ------------------------------------------------------------------ flame graph */

typedef struct fnode {
  uint32_t parent, child, sibling;  /* first child, next sibling (UINT32_MAX = none) */
  uint32_t frame;                   /* a model frame standing for this node */
  uint32_t depth;
  uint64_t ident;                   /* function + file identity */
  uint64_t value;
  const char *synthetic;            /* not a frame: "[truncated]", "[peak not attributed...]" */
} fnode_t;

typedef struct ftree {
  fnode_t *n;
  uint32_t len, cap;
  uint32_t *slots;                  /* hash (parent, ident) -> node + 1 */
  uint32_t nslots;
} ftree_t;

static uint64_t fnv(uint64_t h, const char *s) {
  if (!s) return h * 1099511628211ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static uint64_t frame_ident(const ms_frame_t *f) {
  uint64_t h = 1469598103934665603ull;
  if (f->function) return fnv(fnv(h, f->function), f->file);
  return f->key_hash ? f->key_hash : f->address; /* unknown: module+offset identity */
}

static uint32_t slot_of(const ftree_t *t, uint32_t parent, uint64_t ident) {
  uint64_t h = (ident ^ ((uint64_t)parent * 0x9E3779B97F4A7C15ull)) * 0xff51afd7ed558ccdull;
  return (uint32_t)(h >> 32) & (t->nslots - 1);
}

static int ftree_grow(ftree_t *t) {
  uint32_t ns = t->nslots ? t->nslots * 2 : 1024;
  uint32_t *s = calloc(ns, sizeof *s);
  if (!s) return -1;
  free(t->slots);
  t->slots = s;
  t->nslots = ns;
  for (uint32_t i = 0; i < t->len; i++) {
    if (i == 0) continue; /* the root is never looked up */
    uint32_t k = slot_of(t, t->n[i].parent, t->n[i].ident);
    while (t->slots[k]) k = (k + 1) & (ns - 1);
    t->slots[k] = i + 1;
  }
  return 0;
}

static uint32_t ftree_child(ftree_t *t, uint32_t parent, uint64_t ident, uint32_t frame) {
  if ((uint64_t)(t->len + 1) * 2 > t->nslots && ftree_grow(t)) return UINT32_MAX;
  uint32_t k = slot_of(t, parent, ident);
  while (t->slots[k]) {
    fnode_t *c = &t->n[t->slots[k] - 1];
    if (c->parent == parent && c->ident == ident) return t->slots[k] - 1;
    k = (k + 1) & (t->nslots - 1);
  }
  if (ms_grow(&t->n, t->len, &t->cap, sizeof *t->n, 1024) != 0) return UINT32_MAX;
  uint32_t i = t->len++;
  fnode_t *c = &t->n[i];
  *c = (fnode_t){parent, UINT32_MAX, t->n[parent].child, frame, t->n[parent].depth + 1, ident, 0, NULL};
  t->n[parent].child = i;
  t->slots[k] = i + 1;
  return i;
}

static int by_value_desc(const void *a, const void *b, void *ctx) {
  const fnode_t *n = ctx;
  uint64_t x = n[*(const uint32_t *)a].value, y = n[*(const uint32_t *)b].value;
  return x < y ? 1 : x > y ? -1 : 0;
}

#define FLAME_ROW 17.0
#define FLAME_MAX_DEPTH 80

typedef struct flame_ctx {
  FILE *out;
  const ms_model_t *m;
  const ftree_t *t;
  uint64_t total;
  const char *unit;
  int bytes;
  double top;
  uint32_t max_depth;
} flame_ctx_t;

static void frame_color(const ms_frame_t *f, uint64_t ident, char *buf, size_t len) {
  unsigned r = (unsigned)(ident % 1000);
  int runtime = !f || !f->function || (f->module_path && (strstr(f->module_path, "libc.so") || strstr(f->module_path, "ld-linux") ||
                                        strstr(f->module_path, "libstdc++")));
  if (runtime) snprintf(buf, len, "hsl(%u,45%%,%u%%)", 195 + r * 30 / 1000, 70 + r * 8 / 1000);
  else snprintf(buf, len, "hsl(%u,88%%,%u%%)", 8 + r * 42 / 1000, 60 + r * 10 / 1000);
}

static void flame_draw(flame_ctx_t *c, uint32_t node, double x, double w) {
  const fnode_t *n = &c->t->n[node];
  const ms_frame_t *f = node && !n->synthetic ? &c->m->frames[n->frame] : NULL;
  double y = c->top + (n->depth) * FLAME_ROW;
  char label[1024], col[48], val[64], pct[32];
  if (n->synthetic) snprintf(label, sizeof label, "%s", n->synthetic);
  else if (node) ms_frame_label(f, label, sizeof label);
  else snprintf(label, sizeof label, "all sites");
  if (c->bytes) ms_fmt_bytes(n->value, val, sizeof val);
  else snprintf(val, sizeof val, "%llu", (unsigned long long)n->value);
  snprintf(pct, sizeof pct, "%.2f%%", c->total ? 100.0 * (double)n->value / (double)c->total : 0.0);
  if (n->synthetic) snprintf(col, sizeof col, "#dcdcdc");
  else if (node) frame_color(f, n->ident, col, sizeof col);
  else snprintf(col, sizeof col, "#b4b9c4");
  if (n->depth > c->max_depth) c->max_depth = n->depth;
  fprintf(c->out, "<g><title>");
  xml_text(c->out, label);
  fprintf(c->out, " \xE2\x80\x94 %s %s (%s)</title><rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"%s\" rx=\"1.5\"/>",
          val, c->unit, pct, x + 0.25, y, w > 0.6 ? w - 0.5 : 0.1, FLAME_ROW - 1, col);
  size_t fit = (size_t)((w - 6) / 6.7);
  if (fit >= 3) {
    const char *shown = f && f->function ? f->function : label;
    fprintf(c->out, "<text x=\"%.2f\" y=\"%.1f\" font-size=\"11\" " MONO ">", x + 3, y + FLAME_ROW - 5);
    xml_text_n(c->out, shown, fit);
    fputs("</text>", c->out);
  }
  fputs("</g>\n", c->out);
  if (n->depth >= FLAME_MAX_DEPTH || !n->value) return;
  uint32_t nk = 0;
  for (uint32_t k = n->child; k != UINT32_MAX; k = c->t->n[k].sibling) nk++;
  if (!nk) return;
  uint32_t *kids = malloc(nk * sizeof *kids);
  if (!kids) return;
  nk = 0;
  for (uint32_t k = n->child; k != UINT32_MAX; k = c->t->n[k].sibling) kids[nk++] = k;
  qsort_r(kids, nk, sizeof *kids, by_value_desc, c->t->n);
  double cx = x;
  for (uint32_t i = 0; i < nk; i++) {
    double cw = w * (double)c->t->n[kids[i]].value / (double)n->value;
    if (cw < 0.5) break; /* sorted: the rest are narrower still (too small to see) */
    flame_draw(c, kids[i], cx, cw);
    cx += cw;
  }
  free(kids);
}

/* The measure of the flame graph and the sites chart, as in the HTML report: bytes live at the
 * peak (which site holds most at the peak), else live bytes, else bytes allocated in total. */
enum { BY_PEAK, BY_LIVE, BY_TOTAL };
static int chart_metric(const ms_model_t *m) {
  int live = 0;
  for (uint32_t i = 0; i < m->n_sites; i++) live |= m->sites[i].live_bytes != 0;
  return m->peak_site_bytes ? BY_PEAK : live ? BY_LIVE : BY_TOTAL;
}
static uint64_t metric_of(const ms_msite_t *s, int by) {
  return by == BY_PEAK ? s->peak_bytes : by == BY_LIVE ? s->live_bytes : s->total_bytes;
}
static const char *metric_name(int by) {
  return by == BY_PEAK ? "bytes live at the peak" : by == BY_LIVE ? "live bytes" : "bytes allocated in total";
}

static uint32_t ftree_synthetic(ftree_t *t, uint32_t parent, const char *name) {
  uint32_t c = ftree_child(t, parent, fnv(1469598103934665603ull, name) | 1, UINT32_MAX);
  if (c != UINT32_MAX) t->n[c].synthetic = name;
  return c;
}

static double chart_flame(FILE *out, const ms_model_t *m) {
  int by = chart_metric(m);
  ftree_t t = {0};
  t.n = malloc(1024 * sizeof *t.n);
  if (!t.n || ftree_grow(&t)) { free(t.n); return 0; }
  t.cap = 1024;
  t.len = 1;
  t.n[0] = (fnode_t){UINT32_MAX, UINT32_MAX, UINT32_MAX, 0, 0, 0, 0, NULL};
  for (uint32_t i = 0; i < m->n_sites; i++) {
    const ms_msite_t *s = &m->sites[i];
    uint64_t v = metric_of(s, by);
    if (!v || s->stack >= m->n_stacks) continue;
    const ms_mstack_t *st = &m->stacks[s->stack];
    uint32_t node = 0;
    t.n[0].value += v;
    if (st->truncated) {   /* cut at the depth limit: never drawn as if it were a root */
      node = ftree_synthetic(&t, 0, "[truncated]");
      if (node == UINT32_MAX) break;
      t.n[node].value += v;
    }
    for (uint32_t k = st->depth; k-- > 0;) {
      uint32_t fi = st->frames[k];
      if (fi >= m->n_frames) break;
      uint32_t c = ftree_child(&t, node, frame_ident(&m->frames[fi]), fi);
      if (c == UINT32_MAX) break;
      t.n[c].value += v;
      node = c;
    }
  }
  /* Under the peak the total is the peak headline: what no site holds is a bar of its own. */
  uint64_t peak = m->dump->summary.peak_live_bytes;
  if (by == BY_PEAK && peak > t.n[0].value) {
    uint32_t g = ftree_synthetic(&t, 0, "[peak not attributed to a site]");
    if (g != UINT32_MAX) {
      t.n[g].value = peak - t.n[0].value;
      t.n[0].value = peak;
    }
  }
  char a[64], sub[256];
  snprintf(sub, sizeof sub, "width = %s (%s); callers on top, callees below; hover a frame for its figures",
           metric_name(by), ms_fmt_bytes(t.n[0].value, a, sizeof a));
  title_line(out, 22, "Allocation flame graph", sub);
  double h;
  if (!t.n[0].value) {
    fputs("<text x=\"10\" y=\"70\" font-size=\"13\" " FONT ">No allocation sites with bytes were recorded.</text>\n", out);
    h = 90;
  } else {
    flame_ctx_t c = {out, m, &t, t.n[0].value, by == BY_PEAK ? "at the peak" : by == BY_LIVE ? "live" : "allocated", 1, 52, 0};
    flame_draw(&c, 0, 10, SVG_W - 20);
    h = c.top + (c.max_depth + 1) * FLAME_ROW + 10;
  }
  free(t.n);
  free(t.slots);
  return h;
}

/* ------------------------------------------------------------------ top sites */

/* "fn (/long/path/file.c:12)" -> "fn (file.c:12)", in place: the bar labels have little room
 * (the <title> tooltip keeps the full path). */
static void short_label(char *label) {
  char *open = strstr(label, " (");
  if (!open) return;
  char *slash = strrchr(open, '/');
  if (slash) memmove(open + 2, slash + 1, strlen(slash + 1) + 1);
}

static double chart_sites(FILE *out, const ms_model_t *m) {
  int by = chart_metric(m);
  /* model->sites is sorted by live bytes; by_peak / by_total order by the others. */
  const uint32_t *order = by == BY_PEAK ? m->by_peak : by == BY_LIVE ? NULL : m->by_total;
  uint32_t n = 0; /* the top 20 sites that have any bytes in the chosen measure */
  while (n < m->n_sites && n < 20) {
    const ms_msite_t *s = &m->sites[order ? order[n] : n];
    if (!metric_of(s, by)) break;
    n++;
  }
  title_line(out, 22, by == BY_PEAK ? "Top allocation sites by bytes live at the peak" :
                      by == BY_LIVE ? "Top allocation sites by live bytes" : "Top allocation sites by bytes allocated", NULL);
  if (!n) {
    fputs("<text x=\"10\" y=\"60\" font-size=\"13\" " FONT ">No allocation sites were recorded.</text>\n", out);
    return 80;
  }
  uint64_t max = 1;
  for (uint32_t i = 0; i < n; i++) {
    const ms_msite_t *s = &m->sites[order ? order[i] : i];
    uint64_t v = metric_of(s, by);
    if (v > max) max = v;
  }
  const double T = 40, RH = 22, L = 430, W = SVG_W - L - 120;
  char label[1024], a[64];
  for (uint32_t i = 0; i < n; i++) {
    const ms_msite_t *s = &m->sites[order ? order[i] : i];
    uint64_t v = metric_of(s, by);
    double y = T + i * RH, w = W * (double)v / (double)max;
    ms_stack_label(m, s->stack, label, sizeof label);
    fprintf(out, "<g><title>");
    xml_text(out, label);
    short_label(label);
    fprintf(out, ": %s %s, %llu allocations</title>", ms_fmt_bytes(v, a, sizeof a),
            by == BY_PEAK ? "at the peak" : by == BY_LIVE ? "live" : "allocated",
            (unsigned long long)s->total_count);
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"end\" " MONO ">", L - 8, y + 15);
    xml_text_n(out, label, 54);
    fprintf(out, "</text><rect x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"#2f6fdb\" rx=\"2\"/>", L, y + 3, w < 1 ? 1 : w, RH - 6);
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"#5b6475\" " FONT ">%s</text></g>\n", L + (w < 1 ? 1 : w) + 6, y + 15, a);
  }
  return T + n * RH + 10;
}

/* ------------------------------------------------------------------ page */

typedef double (*chart_fn)(FILE *, const ms_model_t *);

int ms_svg_write(FILE *out, const ms_model_t *m, const char *chart) {
  if (!out || !m || !m->dump) return MS_EINVAL;
  chart_fn fns[3];
  int n = 0;
  if (!chart) {
    fns[n++] = chart_timeline;
    fns[n++] = chart_flame;
    fns[n++] = chart_sites;
  } else if (!strcmp(chart, "timeline")) fns[n++] = chart_timeline;
  else if (!strcmp(chart, "flamegraph") || !strcmp(chart, "flame")) fns[n++] = chart_flame;
  else if (!strcmp(chart, "sites")) fns[n++] = chart_sites;
  else return MS_EINVAL;

  char *buf[3] = {0};
  size_t len[3] = {0};
  double h[3] = {0}, total = 0;
  int rc = MS_OK;
  for (int i = 0; i < n; i++) {
    FILE *mem = open_memstream(&buf[i], &len[i]);
    if (!mem) { rc = MS_ENOMEM; break; }
    h[i] = fns[i](mem, m);
    if (fclose(mem) != 0 || h[i] <= 0) { rc = MS_ENOMEM; break; }
    total += h[i] + (i ? 20 : 0);
  }
  if (rc == MS_OK) {
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" height=\"%.0f\" "
                 "viewBox=\"0 0 %.0f %.0f\">\n", SVG_W, ceil(total), SVG_W, ceil(total));
    fputs("<title>memscope: ", out);
    xml_text(out, m->dump->process.exe ? m->dump->process.exe : "program");
    fputs("</title>\n", out);
    fprintf(out, "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n");
    double y = 0;
    for (int i = 0; i < n; i++) {
      fprintf(out, "<g transform=\"translate(0,%.1f)\">\n", y);
      fwrite(buf[i], 1, len[i], out);
      fputs("</g>\n", out);
      y += h[i] + 20;
    }
    fputs("</svg>\n", out);
    if (fflush(out) != 0 || ferror(out)) rc = MS_EIO;
  }
  for (int i = 0; i < 3; i++) free(buf[i]);
  return rc;
}
