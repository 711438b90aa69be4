/* cmd_diff.c — `memscope diff OLD NEW`: per-site growth between two dumps (diff.c), as text
 * or, with --format json, as a JSON document for scripts. */
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "diff.h"
#include "json_out.h"

static const char help[] =
    "usage: memscope diff OLD NEW [options]\n"
    "\n"
    "Show what grew and shrank between two dumps, per allocation site, sorted by the size of\n"
    "the change in live bytes. Sites are matched by their symbolised stack (function, file,\n"
    "line; module+offset when there are no symbols), so dumps from different runs of the same\n"
    "program match even though addresses differ (ASLR).\n"
    "\n"
    "      --top N          sites to list (default 20)\n"
    "  -f, --format F       text (default) | json\n"
    MS_CLI_HELP_LOAD_OPTIONS
    "\n"
    "Exit status: 0 success, 1 bad input file, 2 usage error.\n";

static const char *sbytes(int64_t v, char *buf, size_t len) {
  char tmp[40];
  ms_fmt_bytes(v < 0 ? (uint64_t)-v : (uint64_t)v, tmp, sizeof tmp);
  snprintf(buf, len, "%s%s", v < 0 ? "-" : "+", tmp);
  return buf;
}

static const ms_model_t *entry_model(const ms_diff_entry_t *e, const ms_model_t *o,
                                     const ms_model_t *n, uint32_t *site) {
  if (e->new_site != MS_DUMP_NONE) {
    *site = e->new_site;
    return n;
  }
  *site = e->old_site;
  return o;
}

static void text(const ms_diff_t *d, const ms_model_t *o, const ms_model_t *n, const char *op,
                 const char *np, unsigned top) {
  char a[48], b[48], c[48];
  printf("memscope diff: %s -> %s\n", op, np);
  printf("  live bytes:      %s -> %s (%s)\n", ms_fmt_bytes(o->dump->summary.live_bytes, a, sizeof a),
         ms_fmt_bytes(n->dump->summary.live_bytes, b, sizeof b), sbytes(d->delta_live_bytes, c, sizeof c));
  printf("  peak live bytes: %s -> %s (%s)\n", ms_fmt_bytes(o->dump->summary.peak_live_bytes, a, sizeof a),
         ms_fmt_bytes(n->dump->summary.peak_live_bytes, b, sizeof b), sbytes(d->delta_peak_bytes, c, sizeof c));
  printf("  bytes allocated: %s -> %s (%s)\n", ms_fmt_bytes(o->dump->summary.total_bytes, a, sizeof a),
         ms_fmt_bytes(n->dump->summary.total_bytes, b, sizeof b), sbytes(d->delta_total_bytes, c, sizeof c));
  printf("  sites: %u matched, %u only in OLD, %u only in NEW\n", d->matched, d->only_old, d->only_new);
  unsigned shown = 0;
  for (uint32_t i = 0; i < d->n && shown < top; i++) {
    const ms_diff_entry_t *e = &d->entries[i];
    if (e->delta_bytes == 0 && e->delta_count == 0) break;
    if (!shown) puts("\nCHANGES IN LIVE MEMORY BY SITE");
    shown++;
    uint32_t site;
    const ms_model_t *m = entry_model(e, o, n, &site);
    printf("  %u. %s (%+" PRId64 " blocks): %s -> %s%s\n", shown, sbytes(e->delta_bytes, a, sizeof a),
           e->delta_count, ms_fmt_bytes(e->old_bytes, b, sizeof b), ms_fmt_bytes(e->new_bytes, c, sizeof c),
           e->old_site == MS_DUMP_NONE ? " [new site]" : e->new_site == MS_DUMP_NONE ? " [gone]" : "");
    const ms_mstack_t *st = m->sites[site].stack < m->n_stacks ? &m->stacks[m->sites[site].stack] : NULL;
    if (!st || !st->depth) {
      puts("       (no stack recorded)");
      continue;
    }
    for (uint32_t k = 0; k < st->depth && k < 6; k++) {
      char buf[1024];
      ms_frame_label(&m->frames[st->frames[k]], buf, sizeof buf);
      printf("       %s %s\n", k ? "  " : "at", buf);
    }
  }
  if (!shown) puts("\nno site changed its live memory");
}

static void json(const ms_diff_t *d, const ms_model_t *o, const ms_model_t *n, const char *op,
                 const char *np, unsigned top) {
  printf("{\"old\":");
  ms_json_string(stdout, op);
  printf(",\"new\":");
  ms_json_string(stdout, np);
  printf(",\"delta_live_bytes\":%" PRId64 ",\"delta_peak_bytes\":%" PRId64
         ",\"delta_total_bytes\":%" PRId64 ",\"matched\":%u,\"only_old\":%u,\"only_new\":%u,\"sites\":[",
         d->delta_live_bytes, d->delta_peak_bytes, d->delta_total_bytes, d->matched, d->only_old, d->only_new);
  for (uint32_t i = 0; i < d->n && i < top; i++) {
    const ms_diff_entry_t *e = &d->entries[i];
    uint32_t site;
    const ms_model_t *m = entry_model(e, o, n, &site);
    char loc[1024];
    ms_stack_label(m, m->sites[site].stack, loc, sizeof loc);
    printf("%s{\"location\":", i ? "," : "");
    ms_json_string(stdout, loc);
    printf(",\"old_bytes\":%" PRIu64 ",\"new_bytes\":%" PRIu64 ",\"delta_bytes\":%" PRId64
           ",\"old_count\":%" PRIu64 ",\"new_count\":%" PRIu64 ",\"delta_count\":%" PRId64
           ",\"old_total_bytes\":%" PRIu64 ",\"new_total_bytes\":%" PRIu64 ",\"status\":\"%s\"}",
           e->old_bytes, e->new_bytes, e->delta_bytes, e->old_count, e->new_count, e->delta_count,
           e->old_total, e->new_total,
           e->old_site == MS_DUMP_NONE ? "new" : e->new_site == MS_DUMP_NONE ? "gone" : "matched");
  }
  puts("]}");
}

int _ms_cmd_diff(int argc, char **argv) {
  ms_cli_top_format_t o = {.cmd = "diff", .top = 20, .top_max = UINT32_MAX};
  ms_load_options_t lo = {0};
  const ms_cli_command_t cmd = {"diff", help, "f:", _ms_cli_top_format_opts, NULL, &lo,
                                _ms_cli_top_format_option, &o};
  int rc = _ms_cli_options(&cmd, argc, argv);
  if (rc != MS_OPT_CONTINUE) return rc;
  if (argc - optind != 2) return _ms_cli_fail(MS_EXIT_USAGE, "diff: needs OLD and NEW dumps (see memscope diff --help)");
  const char *op = argv[optind], *np = argv[optind + 1];
  ms_loaded_t old, new;
  rc = _ms_cli_load(op, &lo, &old);
  if (rc != MS_EXIT_OK) return rc;
  rc = _ms_cli_load(np, &lo, &new);
  if (rc != MS_EXIT_OK) {
    _ms_cli_unload(&old);
    return rc;
  }
  ms_diff_t d;
  if (ms_diff_build(&d, &old.model, &new.model) != 0) {
    rc = _ms_cli_fail(MS_EXIT_INPUT, "diff: out of memory");
  } else {
    if (o.as_json) json(&d, &old.model, &new.model, op, np, (unsigned)o.top);
    else text(&d, &old.model, &new.model, op, np, (unsigned)o.top);
    if (fflush(stdout) != 0) rc = _ms_cli_fail(MS_EXIT_INPUT, "diff: could not write to standard output");
    ms_diff_free(&d);
  }
  _ms_cli_unload(&new);
  _ms_cli_unload(&old);
  return rc;
}
