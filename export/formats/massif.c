/* massif.c — `memscope convert --format massif`: a massif.out file (Valgrind's heap profiler
 * format) for ms_print and massif-visualizer.
 *
 * Snapshots are the dump's timeline (live bytes over time, time unit ms), plus two detailed
 * snapshots with allocation trees: the peak (heap_tree=peak, at the dump's peak time, from each
 * site's bytes live at the peak) and the moment of the dump (heap_tree=detailed, from each
 * site's live bytes). A timeline point of a format-3 dump also says which sites held the most
 * then (timeline_sites): it becomes a detailed snapshot whose tree holds those sites and one
 * "other sites" line for the rest, so massif-visualizer shows who grew the heap. Points of older
 * dumps carry totals only (heap_tree=empty) rather than a tree we would have to invent. At most
 * MAX_POINTS timeline points are kept (evenly spaced), like massif's own --max-snapshots.
 *
 * A tree is rooted at the allocation functions; each level down is one caller further out
 * (innermost shown frame first, memscope's own frames hidden), children sorted by bytes.
 * Like massif, children under 1% of the snapshot's heap are folded into one
 * "in N places, all below massif's threshold" line. Labels are "0xADDR: function (file:line)".
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"

#define MAX_POINTS 200
#define THRESHOLD_PCT 1.0

typedef struct item {
  const uint32_t *frames;   /* model frame indexes, innermost first */
  uint32_t depth;
  uint64_t bytes;
} item_t;

static uint32_t g_level;   /* qsort has no context; the converter is single-threaded */
static int cmp_item(const void *a, const void *b) {
  const item_t *x = a, *y = b;
  uint64_t fx = x->depth > g_level ? x->frames[g_level] : 0, fy = y->depth > g_level ? y->frames[g_level] : 0;
  int ex = x->depth <= g_level, ey = y->depth <= g_level;
  if (ex != ey) return ex ? -1 : 1;   /* stacks that end here first */
  return fx < fy ? -1 : fx > fy;
}

typedef struct group {
  size_t start, n;
  uint64_t bytes;
} group_t;

static int cmp_group(const void *a, const void *b) {
  const group_t *x = a, *y = b;
  if (x->bytes != y->bytes) return x->bytes < y->bytes ? 1 : -1;
  return x->start < y->start ? -1 : 1;
}

static void label(FILE *out, const ms_frame_t *f) {
  char buf[4096];
  ms_frame_label(f, buf, sizeof buf);
  for (char *p = buf; *p; p++)
    if (*p == '\n' || *p == '\r') *p = ' ';
  fprintf(out, " 0x%" PRIx64 ": %s\n", f->address, buf);
}

/* A node whose items (all sharing frames[0..level-1]) are items[0..n): its line, then its
 * children (one per distinct frames[level]), each already knowing its own child count.
 * frame is the node's frame (NULL for the root). */
static int node(FILE *out, const ms_model_t *m, item_t *items, size_t n, uint32_t level,
                uint64_t bytes, uint64_t heap, unsigned indent, const ms_frame_t *frame,
                const char *rest_label) {
  g_level = level;
  qsort(items, n, sizeof *items, cmp_item);
  size_t i = 0;
  while (i < n && items[i].depth <= level) i++;   /* stacks that end at this frame */
  size_t ng = 0;
  group_t *g = malloc((n - i + 1) * sizeof *g);
  if (!g) return -1;
  while (i < n) {
    size_t j = i;
    uint64_t b = 0;
    while (j < n && items[j].frames[level] == items[i].frames[level]) b += items[j++].bytes;
    if (b) g[ng++] = (group_t){i, j - i, b};
    i = j;
  }
  qsort(g, ng, sizeof *g, cmp_group);
  size_t sig = 0;
  while (sig < ng && (double)g[sig].bytes * 100.0 >= THRESHOLD_PCT * (double)heap) sig++;
  uint64_t below = 0;
  for (size_t k = sig; k < ng; k++) below += g[k].bytes;

  /* At the root, items with no frame at all are bytes without a site: one line of their own. */
  uint64_t unattributed = 0;
  if (!frame)
    for (size_t k = 0; k < n && items[k].depth == 0; k++) unattributed += items[k].bytes;
  fprintf(out, "%*sn%zu: %" PRIu64, indent, "", sig + (ng > sig) + (unattributed > 0), bytes);
  if (frame) label(out, frame);
  else fputs(" (heap allocation functions) malloc/new/new[], --alloc-fns, etc.\n", out);
  int rc = 0;
  for (size_t k = 0; k < sig && rc == 0; k++) {
    item_t *sub = items + g[k].start;
    rc = node(out, m, sub, g[k].n, level + 1, g[k].bytes, heap, indent + 1,
              &m->frames[sub[0].frames[level]], rest_label);
  }
  if (rc == 0 && unattributed)
    fprintf(out, "%*sn0: %" PRIu64 " (%s)\n", indent + 1, "", unattributed, rest_label);
  if (rc == 0 && ng > sig)
    fprintf(out, "%*sn0: %" PRIu64 " in %zu place%s, all below massif's threshold (%.2f%%)\n",
            indent + 1, "", below, ng - sig, ng - sig == 1 ? "" : "s", THRESHOLD_PCT);
  free(g);
  return rc;
}

/* The tree of items[0..n) (room for one more) for a snapshot of `heap` bytes. The root is the
 * snapshot's heap, as in massif; what the items do not account for is one explicit child
 * labelled rest_label. */
static int items_tree(FILE *out, const ms_model_t *m, item_t *items, size_t n, uint64_t total,
                      uint64_t heap, const char *rest_label) {
  uint64_t rest = heap > total ? heap - total : 0;
  if (rest) items[n++] = (item_t){NULL, 0, rest};
  return node(out, m, items, n, 0, total + rest, heap ? heap : total, 0, NULL, rest_label);
}

/* The allocation tree of one snapshot: peak != 0 uses each site's bytes at the peak. */
static int heap_tree(FILE *out, const ms_model_t *m, int peak, uint64_t heap) {
  item_t *items = malloc((m->n_sites + 1) * sizeof *items);
  if (!items) return -1;
  size_t n = 0;
  uint64_t total = 0;
  for (uint32_t i = 0; i < m->n_sites; i++) {
    const ms_msite_t *s = &m->sites[i];
    uint64_t b = peak ? s->peak_bytes : s->live_bytes;
    if (!b) continue;
    const ms_mstack_t *st = s->stack < m->n_stacks ? &m->stacks[s->stack] : NULL;
    items[n++] = (item_t){st ? st->frames : NULL, st ? st->depth : 0, b};
    total += b;
  }
  /* the allocations a dump has no stack for, estimation error */
  int rc = items_tree(out, m, items, n, total, heap, "no allocation site recorded for these bytes");
  free(items);
  return rc;
}

/* The tree of timeline point p from its listed sites (rows[start[p] .. start[p + 1]) of
 * d->timeline_sites); the rest of its live bytes is "other sites". */
static int point_tree(FILE *out, const ms_model_t *m, const uint32_t *rows, uint32_t from,
                      uint32_t to, uint64_t heap) {
  const ms_dump_t *d = m->dump;
  item_t *items = malloc(((size_t)(to - from) + 1) * sizeof *items);
  if (!items) return -1;
  size_t n = 0;
  uint64_t total = 0;
  for (uint32_t k = from; k < to; k++) {
    const ms_dump_point_site_t *t = &d->timeline_sites[rows[k]];
    if (!t->bytes || t->stack >= m->n_stacks) continue;   /* no stack: part of "other" */
    items[n++] = (item_t){m->stacks[t->stack].frames, m->stacks[t->stack].depth, t->bytes};
    total += t->bytes;
  }
  int rc = items_tree(out, m, items, n, total, heap, "other sites: not among the biggest at this moment");
  free(items);
  return rc;
}

typedef struct snap {
  uint64_t time_ns, bytes;
  int kind;        /* 0 empty, 1 detailed (dump time), 2 peak, 3 timeline point with its sites */
  uint32_t point;  /* kind 3: index into timeline */
} snap_t;

static int cmp_snap(const void *a, const void *b) {
  const snap_t *x = a, *y = b;
  if (x->time_ns != y->time_ns) return x->time_ns < y->time_ns ? -1 : 1;
  return x->kind - y->kind;
}

int ms_massif_write(FILE *out, const ms_model_t *m) {
  const ms_dump_t *d = m->dump;
  snap_t *sn = malloc((MAX_POINTS + 3) * sizeof *sn);
  if (!sn) return -1;
  size_t n = 0;
  uint32_t tl = d->n_timeline;
  /* The points' listed sites, grouped by point (point_sites.c). */
  int with_sites = d->format_version >= 3 && tl;
  uint32_t *start = NULL, *rows = NULL;
  if (with_sites && ms_point_sites_group(d, &start, &rows) != 0) {
    free(sn);
    return -1;
  }
  /* Timeline points, evenly thinned to MAX_POINTS. */
  for (uint32_t k = 0; k < MAX_POINTS && k < tl; k++) {
    uint32_t i = tl <= MAX_POINTS ? k : (uint32_t)((uint64_t)k * (tl - 1) / (MAX_POINTS - 1));
    sn[n++] = (snap_t){d->timeline[i].time_ns, d->timeline[i].live_bytes, with_sites ? 3 : 0, i};
  }
  sn[n++] = (snap_t){d->summary.peak_time_ns, d->summary.peak_live_bytes, 2, 0};
  sn[n++] = (snap_t){d->process.dump_time_ns, d->summary.live_bytes, 1, 0};
  qsort(sn, n, sizeof *sn, cmp_snap);

  fprintf(out, "desc: memscope dump of pid %" PRIu64 ", %s, sample rate %" PRIu64 "\n", d->process.pid,
          d->process.reason == MS_DUMP_REASON_EXIT ? "taken at exit" : "snapshot", d->options.sample_rate);
  fputs("cmd:", out);
  if (d->process.argc == 0) fprintf(out, " %s", d->process.exe ? d->process.exe : "?");
  for (uint32_t i = 0; i < d->process.argc; i++) {
    fputc(' ', out);
    for (const char *p = d->process.argv[i] ? d->process.argv[i] : ""; *p; p++)
      fputc(*p == '\n' || *p == '\r' ? ' ' : *p, out);
  }
  fputs("\ntime_unit: ms\n", out);
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    fprintf(out, "#-----------\nsnapshot=%zu\n#-----------\n", i);
    fprintf(out, "time=%" PRIu64 "\nmem_heap_B=%" PRIu64 "\nmem_heap_extra_B=0\nmem_stacks_B=0\n",
            sn[i].time_ns / 1000000, sn[i].bytes);
    if (sn[i].kind == 0) {
      fputs("heap_tree=empty\n", out);
      continue;
    }
    fprintf(out, "heap_tree=%s\n", sn[i].kind == 2 ? "peak" : "detailed");
    if (sn[i].kind == 3)
      rc = point_tree(out, m, rows, start[sn[i].point], start[sn[i].point + 1], sn[i].bytes);
    else
      rc = heap_tree(out, m, sn[i].kind == 2, sn[i].bytes);
  }
  free(start);
  free(rows);
  free(sn);
  return rc == 0 && !ferror(out) ? 0 : -1;
}
