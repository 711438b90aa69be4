/* text.c — `memscope report`: a plain-text summary in the spirit of heaptrack_print.
 *
 * Sections, most actionable first: summary, memory errors, leaks (exit dumps), findings,
 * then top sites by peak contribution, live bytes, total bytes, allocation count and
 * temporary allocations, then threads, modules and tags when there is more than one. Every
 * site is printed with its symbolised stack (memscope's own frames hidden).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"

#define STACK_LINES 8   /* frames printed per stack; the rest is summarised */

static const char *kind_words(uint32_t kind) {
  static const char *w[MS_LEAK_KINDS] = {"", "definitely lost", "indirectly lost", "possibly lost",
                                         "still reachable"};
  return kind < MS_LEAK_KINDS ? w[kind] : "";
}

/* The leak check's totals by class and the suppressed figures, or why there are none. */
static void leak_classes(FILE *out, const ms_model_t *m) {
  char a[32], b[32];
  if (m->leak_check == MS_LEAK_CHECK_DONE) {
    for (uint32_t k = 1; k < MS_LEAK_KINDS; k++)
      fprintf(out, "  %-16s %s in %" PRIu64 " blocks\n", kind_words(k),
              ms_fmt_bytes(m->kind_bytes[k], a, sizeof a), m->kind_count[k]);
  } else if (m->leak_check == MS_LEAK_CHECK_SAMPLED) {
    fputs("  classes unknown: sampling mode, unsampled blocks are not known, so definitely/"
          "indirectly/possibly lost and still reachable cannot be computed; figures below are "
          "sampled live blocks (estimates). Run at --sample-rate 1 for classes.\n", out);
  } else if (m->leak_check == MS_LEAK_CHECK_FAILED) {
    fputs("  classes unknown: the leak check could not run\n", out);
  } else {
    fputs("  classes unknown: no leak check (MEMSCOPE_LEAK_CHECK=1 or memscope run --leak-check "
          "tells lost from still-reachable blocks)\n", out);
  }
  fprintf(out, "  suppressed:      %s in %" PRIu64 " blocks", ms_fmt_bytes(m->suppressed_bytes, b, sizeof b),
          m->suppressed_count);
  uint32_t rules = 0;
  for (uint32_t i = 0; i < m->n_suppressions; i++) rules += m->suppressions[i].hits != 0;
  fprintf(out, " (%u suppression%s matched)\n", rules, rules == 1 ? "" : "s");
}

static void print_stack(FILE *out, const ms_model_t *m, uint32_t stack, const char *indent) {
  char buf[1024];
  if (stack >= m->n_stacks || m->stacks[stack].depth == 0) {
    fprintf(out, "%s(no stack recorded)\n", indent);
    return;
  }
  const ms_mstack_t *st = &m->stacks[stack];
  uint32_t n = st->depth < STACK_LINES ? st->depth : STACK_LINES;
  for (uint32_t i = 0; i < n; i++) {
    ms_frame_label(&m->frames[st->frames[i]], buf, sizeof buf);
    fprintf(out, "%s%s %s%s\n", indent, i ? "  " : "at", buf,
            m->frames[st->frames[i]].inlined ? " [inlined]" : "");
  }
  if (st->depth > n) fprintf(out, "%s  ... %u more frames\n", indent, st->depth - n);
  if (st->truncated)
    fprintf(out, "%s  [truncated: the stack was cut at %u frames, MEMSCOPE_STACK_DEPTH]\n", indent,
            m->dump->options.stack_depth);
}

static double secs(uint64_t ns) { return (double)ns / 1e9; }

static const char *reason_text(uint32_t r) {
  return r == MS_DUMP_REASON_EXIT ? "at exit" : r == MS_DUMP_REASON_SIGNAL ? "on signal" : "snapshot";
}

static void summary(FILE *out, const ms_model_t *m) {
  const ms_dump_t *d = m->dump;
  const ms_dump_summary_t *s = &d->summary;
  char a[32], b[32], c[32], e[32];
  fprintf(out, "memscope report: pid %" PRIu64 " %s, dump taken %s after %.3f s\n",
          d->process.pid, d->process.exe ? d->process.exe : "?", reason_text(d->process.reason),
          secs(d->process.dump_time_ns));
  if (d->process.argc) {
    fputs("command:", out);
    for (uint32_t i = 0; i < d->process.argc && i < 32; i++)
      fprintf(out, " %s", d->process.argv[i] ? d->process.argv[i] : "");
    fputc('\n', out);
  }
  uint64_t rate = d->options.sample_rate;
  if (rate == 1) fputs("sampling: every allocation (exact)\n", out);
  else if (rate == 0) fputs("sampling: off (statistics only, no stacks)\n", out);
  else fprintf(out, "sampling: one sample per %s on average (figures per site are estimates)\n",
               ms_fmt_bytes(rate, a, sizeof a));
  fputs("\nSUMMARY\n", out);
  fprintf(out, "  allocations:       %" PRIu64 " (%s), frees: %" PRIu64 "\n", s->total_allocations,
          ms_fmt_bytes(s->total_bytes, a, sizeof a), s->total_frees);
  fprintf(out, "  peak live:         %s at %.3f s\n", ms_fmt_bytes(s->peak_live_bytes, a, sizeof a),
          secs(s->peak_time_ns));
  fprintf(out, "  live at dump:      %s in %" PRIu64 " blocks\n", ms_fmt_bytes(s->live_bytes, a, sizeof a),
          s->live_allocations);
  if (m->is_exit)
    fprintf(out, "  leaked:            %s in %" PRIu64 " blocks from %u stacks\n",
            ms_fmt_bytes(m->leaked_bytes, a, sizeof a), m->leaked_count, m->n_leaks);
  if (m->is_exit && m->leak_check == MS_LEAK_CHECK_DONE)
    fprintf(out, "  definitely lost:   %s in %" PRIu64 " blocks (indirectly %s, possibly %s, still "
                 "reachable %s)\n",
            ms_fmt_bytes(m->kind_bytes[MS_LEAK_DEFINITE], a, sizeof a), m->kind_count[MS_LEAK_DEFINITE],
            ms_fmt_bytes(m->kind_bytes[MS_LEAK_INDIRECT], b, sizeof b),
            ms_fmt_bytes(m->kind_bytes[MS_LEAK_POSSIBLE], c, sizeof c),
            ms_fmt_bytes(m->kind_bytes[MS_LEAK_REACHABLE], e, sizeof e));
  if (m->temp_count)
    fprintf(out, "  temporary:         %" PRIu64 " allocations (%.1f%% of all)\n", m->temp_count,
            s->total_allocations ? 100.0 * (double)m->temp_count / (double)s->total_allocations : 0.0);
  /* docs/REPORTS.md "Overhead": the same words and numbers as the JSON, HTML and SVG. */
  const ms_fragmentation_t *fr = &m->fragmentation;
  char dd[32];
  fprintf(out, "  heap overhead:     %s = rounding %s (usable %s - requested %s) + memscope metadata %s\n",
          ms_fmt_bytes(fr->overhead_bytes, a, sizeof a), ms_fmt_bytes(fr->rounding_bytes, b, sizeof b),
          ms_fmt_bytes(fr->usable_bytes, c, sizeof c), ms_fmt_bytes(fr->requested_bytes, dd, sizeof dd),
          ms_fmt_bytes(fr->metadata_bytes, e, sizeof e));
  if (s->rss_bytes)
    fprintf(out, "  RSS:               %s (peak %s)\n", ms_fmt_bytes(s->rss_bytes, a, sizeof a),
            ms_fmt_bytes(s->peak_rss_bytes, b, sizeof b));
  fprintf(out, "  sites: %u, stacks: %u, threads: %u, errors: %u\n", m->n_sites, m->n_stacks,
          m->n_threads, m->n_errors);
  if (m->n_truncated)
    fprintf(out, "  truncated stacks:  %u of %u reached the %u-frame limit (MEMSCOPE_STACK_DEPTH)\n",
            m->n_truncated, m->n_stacks, d->options.stack_depth);
}

typedef uint64_t (*site_metric_t)(const ms_msite_t *);
static uint64_t m_peak(const ms_msite_t *s) { return s->peak_bytes; }
static uint64_t m_live(const ms_msite_t *s) { return s->live_bytes; }
static uint64_t m_total(const ms_msite_t *s) { return s->total_bytes; }
static uint64_t m_count(const ms_msite_t *s) { return s->total_count; }
static uint64_t m_temp(const ms_msite_t *s) { return s->temp_count; }

static void top_sites(FILE *out, const ms_model_t *m, const char *title, const uint32_t *order,
                      site_metric_t metric, int is_count, unsigned top) {
  char a[32], b[32];
  unsigned shown = 0;
  for (uint32_t k = 0; k < m->n_sites && shown < top; k++) {
    uint32_t i = order ? order[k] : k;
    const ms_msite_t *s = &m->sites[i];
    uint64_t v = metric(s);
    if (!v) break;
    if (!shown) fprintf(out, "\n%s\n", title);
    shown++;
    if (is_count)
      fprintf(out, "  %u. %" PRIu64 " allocations (%s total, %s live)\n", shown, v,
              ms_fmt_bytes(s->total_bytes, a, sizeof a), ms_fmt_bytes(s->live_bytes, b, sizeof b));
    else
      fprintf(out, "  %u. %s (%" PRIu64 " allocations, %" PRIu64 " live)\n", shown,
              ms_fmt_bytes(v, a, sizeof a), s->total_count, s->live_count);
    print_stack(out, m, s->stack, "       ");
  }
}

/* GROWTH TO THE PEAK: from the timeline's per-point sites (dump format 3), each site's live
 * bytes at the point with the most live bytes minus at the first point, biggest first. A site
 * not listed at a point (each lists its biggest) counts as 0 there, as in the HTML's range view. */
typedef struct growth {
  uint32_t stack;
  uint64_t start, peak;
} growth_t;

static int by_growth(const void *a, const void *b) {
  const growth_t *x = a, *y = b;
  uint64_t gx = x->peak > x->start ? x->peak - x->start : 0, gy = y->peak > y->start ? y->peak - y->start : 0;
  return (gx < gy) - (gx > gy);
}

static void growth_to_peak(FILE *out, const ms_model_t *m, unsigned top) {
  const ms_dump_t *d = m->dump;
  if (d->n_timeline < 2 || !d->n_timeline_sites) return;
  uint32_t pk = 0;
  for (uint32_t p = 1; p < d->n_timeline; p++)
    if (d->timeline[p].live_bytes > d->timeline[pk].live_bytes) pk = p;
  if (pk == 0) return;
  growth_t *g = calloc(d->n_timeline_sites, sizeof *g);
  if (!g) return;
  uint32_t n = 0;
  for (uint32_t i = 0; i < d->n_timeline_sites; i++) {
    const ms_dump_point_site_t *r = &d->timeline_sites[i];
    if (r->point != 0 && r->point != pk) continue;
    uint32_t k = 0;
    while (k < n && g[k].stack != r->stack) k++;
    if (k == n) g[n++] = (growth_t){r->stack, 0, 0};
    if (r->point == 0) g[k].start = r->bytes;
    else g[k].peak = r->bytes;
  }
  qsort(g, n, sizeof *g, by_growth);
  char a[32], b[32], c[32];
  unsigned shown = 0;
  for (uint32_t k = 0; k < n && shown < top && g[k].peak > g[k].start; k++) {
    if (!shown)
      fprintf(out, "\nGROWTH TO THE PEAK (timeline: live bytes by site, first point -> the fullest point, %s -> %s)\n",
              ms_fmt_bytes(d->timeline[0].live_bytes, a, sizeof a),
              ms_fmt_bytes(d->timeline[pk].live_bytes, b, sizeof b));
    shown++;
    fprintf(out, "  %u. +%s (%s -> %s)\n", shown, ms_fmt_bytes(g[k].peak - g[k].start, a, sizeof a),
            ms_fmt_bytes(g[k].start, b, sizeof b), ms_fmt_bytes(g[k].peak, c, sizeof c));
    print_stack(out, m, g[k].stack, "       ");
  }
  free(g);
}

int ms_text_report_write(FILE *out, const ms_model_t *m, unsigned top) {
  char a[32];
  if (!top) top = 10;
  summary(out, m);

  if (m->n_errors) {
    fprintf(out, "\nMEMORY ERRORS (%u)\n", m->n_errors);
    for (uint32_t i = 0; i < m->n_errors && i < top; i++) {
      const ms_merror_t *e = &m->errors[i];
      fprintf(out, "  %u. %s at 0x%" PRIx64 " (%" PRIu64 " bytes)%s%s\n", i + 1, e->kind_name,
              e->address, e->size, e->detail ? ": " : "", e->detail ? e->detail : "");
      print_stack(out, m, e->stack, "       ");
      if (e->alloc_stack != MS_DUMP_NONE) {
        fputs("     allocated:\n", out);
        print_stack(out, m, e->alloc_stack, "       ");
      }
      if (e->free_stack != MS_DUMP_NONE) {
        fputs("     freed:\n", out);
        print_stack(out, m, e->free_stack, "       ");
      }
    }
  }

  if (m->is_exit) {
    if (m->n_leaks == 0) {
      fputs("\nLEAKS\n  none: every tracked allocation was freed\n", out);
      if (m->leak_check == MS_LEAK_CHECK_SAMPLED) leak_classes(out, m); /* unsampled ones may live */
    } else {
      fprintf(out, "\nLEAKS (%s in %" PRIu64 " blocks, %u stacks)\n",
              ms_fmt_bytes(m->leaked_bytes, a, sizeof a), m->leaked_count, m->n_leaks);
      leak_classes(out, m);
      /* lost first (the list is sorted so); still-reachable and suppressed ones summarised */
      uint32_t shown = 0, reach_stacks = 0;
      for (uint32_t i = 0; i < m->n_leaks; i++) {
        const ms_leak_t *l = &m->leaks[i];
        if (l->suppressed) continue;
        if (l->kind == MS_LEAK_REACHABLE && m->leak_check == MS_LEAK_CHECK_DONE) {
          reach_stacks++;
          continue;
        }
        if (shown >= top) continue;
        shown++;
        if (l->kind != MS_LEAK_UNKNOWN)
          fprintf(out, "  %u. %s in %" PRIu64 " block%s %s\n", shown, ms_fmt_bytes(l->bytes, a, sizeof a),
                  l->count, l->count == 1 ? " is" : "s are", kind_words(l->kind));
        else
          fprintf(out, "  %u. %s in %" PRIu64 " block%s\n", shown, ms_fmt_bytes(l->bytes, a, sizeof a),
                  l->count, l->count == 1 ? "" : "s");
        print_stack(out, m, l->stack, "       ");
      }
      if (reach_stacks)
        fprintf(out, "  still reachable: %s in %" PRIu64 " blocks from %u stacks (not listed: a "
                     "root still points to them; memscope convert -f json lists them)\n",
                ms_fmt_bytes(m->kind_bytes[MS_LEAK_REACHABLE], a, sizeof a),
                m->kind_count[MS_LEAK_REACHABLE], reach_stacks);
    }
  }

  if (m->n_findings) {
    static const char *sev[] = {"info", "warning", "error"};
    fprintf(out, "\nFINDINGS (%u)\n", m->n_findings);
    for (uint32_t i = 0; i < m->n_findings; i++)
      fprintf(out, "  [%s] %s: %s\n", m->findings[i].severity < 3 ? sev[m->findings[i].severity] : "info",
              m->findings[i].kind_name, m->findings[i].message);
  }

  top_sites(out, m, "PEAK CONTRIBUTIONS (live at the peak)", m->by_peak, m_peak, 0, top);
  if (m->n_sites && m->peak_site_bytes != m->dump->summary.peak_live_bytes) {
    char b[32];
    uint64_t pk = m->dump->summary.peak_live_bytes, ps = m->peak_site_bytes;
    fprintf(out, "  (the sites hold %s of the %s peak: %s %s)\n", ms_fmt_bytes(ps, a, sizeof a),
            ms_fmt_bytes(pk, b, sizeof b),
            ms_fmt_bytes(pk > ps ? pk - ps : ps - pk, (char[32]){0}, 32),
            pk > ps ? "not attributed to a site" : "more, an estimate from samples");
  }
  growth_to_peak(out, m, top);
  top_sites(out, m, "MOST MEMORY LIVE AT DUMP", NULL, m_live, 0, top);
  top_sites(out, m, "MOST BYTES ALLOCATED", m->by_total, m_total, 0, top);
  top_sites(out, m, "MOST ALLOCATIONS", m->by_count, m_count, 1, top);
  top_sites(out, m, "MOST TEMPORARY ALLOCATIONS", m->by_temp, m_temp, 1, top);

  if (m->n_threads > 1) {
    fprintf(out, "\nTHREADS (%u)\n", m->n_threads);
    for (uint32_t i = 0; i < m->n_threads && i < 64; i++) {
      const ms_mthread_t *t = &m->threads[i];
      fprintf(out, "  tid %" PRIu64 "%s%s%s: %" PRIu64 " allocations, %s allocated, %s live%s\n",
              t->tid, t->name ? " (" : "", t->name ? t->name : "", t->name ? ")" : "", t->allocations,
              ms_fmt_bytes(t->allocated_bytes, a, sizeof a),
              ms_fmt_bytes(t->live_bytes, (char[32]){0}, 32), t->alive ? "" : " [exited]");
    }
  }
  if (m->n_crossings) {
    fputs("\nMODULE CROSSINGS (allocated in one module, freed in another)\n", out);
    for (uint32_t i = 0; i < m->n_crossings && i < top; i++) {
      const ms_mcrossing_t *c = &m->crossings[i];
      fprintf(out, "  %s -> %s: %" PRIu64 " blocks, %s\n", m->modules[c->alloc_module].name,
              m->modules[c->free_module].name, c->count, ms_fmt_bytes(c->bytes, a, sizeof a));
    }
  }
  if (m->n_tags) {
    fputs("\nTAGS\n", out);
    for (uint32_t i = 0; i < m->n_tags; i++)
      fprintf(out, "  %s: %s live, %s allocated in %" PRIu64 " allocations\n", m->tags[i].name,
              ms_fmt_bytes(m->tags[i].live_bytes, a, sizeof a),
              ms_fmt_bytes(m->tags[i].total_bytes, (char[32]){0}, 32), m->tags[i].total_count);
  }
  if (m->n_variables) {
    static const char *states[] = {"live", "freed", "leaked"};
    fprintf(out, "\nNAMED VARIABLES (%u)\n", m->n_variables);
    for (uint32_t i = 0; i < m->n_variables && i < 50; i++) {
      const ms_mvariable_t *v = &m->variables[i];
      fprintf(out, "  %s (%s) %s:%u: %" PRIu64 " bytes, %s after %.6f s", v->name, v->type, v->file,
              v->line, v->size, v->state < 3 ? states[v->state] : "?", secs(v->lifetime_ns));
      if (v->max_refcount || v->final_refcount)
        fprintf(out, ", refcount max %lld final %lld%s", (long long)v->max_refcount,
                (long long)v->final_refcount, v->refcount_unbalanced ? " (UNBALANCED)" : "");
      fputc('\n', out);
    }
  }
  return ferror(out) ? -1 : 0;
}
