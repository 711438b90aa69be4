/* cli_common.c — option parsing, loading a dump into a model with one-line errors, progress.
 *
 * Every failure a user can cause with a bad file ends here as exactly one line on stderr,
 * "memscope: PATH: reason", and exit status 1 (MS_EXIT_INPUT); every usage error likewise as
 * one line, "memscope: CMD: reason", and exit status 2 (MS_EXIT_USAGE), worded the same for
 * every command because _ms_cli_options() is the one getopt loop. Progress is drawn only when
 * stderr is a terminal and the work is big enough to notice, so scripts and tests see no
 * noise.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

int _ms_cli_fail(int code, const char *fmt, ...) {
  va_list ap;
  fputs("memscope: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return code;
}

/* ---------------------------------------------------------------- options */

/* The options of every command that loads dumps, appended to the command's own. */
static const struct option load_opts[] = {
    {"no-symbols", no_argument, 0, MS_OPT_NO_SYMBOLS}, {"debug-dir", required_argument, 0, MS_OPT_DEBUG_DIR},
    {"quiet", no_argument, 0, 'q'}};
static const struct option help_opt = {"help", no_argument, 0, 'h'};

int _ms_cli_options(const ms_cli_command_t *cmd, int argc, char **argv) {
  struct option opts[48];
  size_t n = 0;
  for (const struct option *o = cmd->longopts; o && o->name && n < 40; o++) opts[n++] = *o;
  if (cmd->load)
    for (size_t i = 0; i < sizeof load_opts / sizeof *load_opts; i++) opts[n++] = load_opts[i];
  opts[n++] = help_opt;
  opts[n] = (struct option){0, 0, 0, 0};
  /* ':' first (after a '+'): a missing value is reported as ':', not as an unknown option */
  const char *own = cmd->shortopts ? cmd->shortopts : "";
  int plus = own[0] == '+';
  char shortopts[64];
  snprintf(shortopts, sizeof shortopts, "%s:%sh%s", plus ? "+" : "", own + plus,
           cmd->load ? "q" : "");
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
    int rc = MS_EXIT_OK;
    const ms_cli_store_t *st = cmd->store;
    while (st && st->opt && st->opt != c) st++;
    if (st && st->opt) {
      if (st->str) *st->str = optarg;
      if (st->flag) *st->flag = 1;
    } else if (c == 'h') {
      fputs(cmd->help, stdout);
      return MS_EXIT_OK;
    } else if (c == ':') {
      return _ms_cli_fail(MS_EXIT_USAGE, "%s: option '%s' needs a value", cmd->name,
                          argv[optind - 1]);
    } else if (c == '?') {
      return _ms_cli_fail(MS_EXIT_USAGE, "%s: unknown option '%s' (see memscope %s --help)",
                          cmd->name, argv[optind - 1], cmd->name);
    } else if (cmd->load && c == MS_OPT_NO_SYMBOLS) {
      cmd->load->no_symbols = 1;
    } else if (cmd->load && c == MS_OPT_DEBUG_DIR) {
      cmd->load->debug_dir = optarg;
    } else if (cmd->load && c == 'q') {
      cmd->load->quiet = 1;
    } else {
      rc = cmd->on_option(cmd->ctx, c, optarg);
    }
    if (rc != MS_EXIT_OK) return rc;
  }
  return MS_OPT_CONTINUE;
}

int _ms_cli_number(const char *cmd, const char *opt, const char *arg, uint64_t min, uint64_t max,
                   uint64_t *out) {
  uint64_t v;
  if (_ms_parse_size(arg, &v) != 0 || v < min || v > max)
    return _ms_cli_fail(MS_EXIT_USAGE, "%s: %s needs a %snumber, got '%s'", cmd, opt,
                        min ? "positive " : "", arg);
  *out = v;
  return MS_EXIT_OK;
}

int _ms_cli_text_or_json(const char *cmd, const char *arg, int *as_json) {
  if (!strcmp(arg, "json")) *as_json = 1;
  else if (!strcmp(arg, "text")) *as_json = 0;
  else return _ms_cli_fail(MS_EXIT_USAGE, "%s: unknown format '%s' (text, json)", cmd, arg);
  return MS_EXIT_OK;
}

const struct option _ms_cli_top_format_opts[] = {
    {"top", required_argument, 0, 't'}, {"format", required_argument, 0, 'f'}, {0, 0, 0, 0}};

int _ms_cli_top_format_option(void *ctx, int c, char *arg) {
  ms_cli_top_format_t *o = ctx;
  if (c == 'f') return _ms_cli_text_or_json(o->cmd, arg, &o->as_json);
  o->top_given = 1;  /* 't' */
  return _ms_cli_number(o->cmd, "--top", arg, 1, o->top_max, &o->top);
}

int _ms_cli_one_operand(const char *cmd, const char *what, int argc, char **argv) {
  if (optind >= argc)
    return _ms_cli_fail(MS_EXIT_USAGE, "%s: missing %s (see memscope %s --help)", cmd, what, cmd);
  if (argc - optind > 1)
    return _ms_cli_fail(MS_EXIT_USAGE, "%s: unexpected argument '%s'", cmd, argv[optind + 1]);
  return MS_OPT_CONTINUE;
}

/* ---------------------------------------------------------------- loading */

double _ms_cli_progress_delay(void) {
  const char *e = getenv("MEMSCOPE_PROGRESS_AFTER_MS");
  char *end;
  if (e && *e) {
    double ms = strtod(e, &end);
    if (*end == 0 && ms >= 0) return ms / 1000.0;
  }
  return 0.5;
}

typedef struct progress_state {
  const char *path;
  double delay;
  struct timespec start;
  int shown;
  int last_pct;
} progress_state_t;

static double elapsed(const struct timespec *t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Draw "\rmemscope: FILE: symbolising 42%" once the work has taken half a second. */
static void progress_cb(void *ctx, const char *stage, uint64_t done, uint64_t total) {
  progress_state_t *p = ctx;
  int pct = total ? (int)(done * 100 / total) : 100;
  if (pct == p->last_pct) return;
  p->last_pct = pct;
  if (!p->shown && elapsed(&p->start) < p->delay) return;
  p->shown = 1;
  fprintf(stderr, "\rmemscope: %s: %s %3d%%", p->path, stage, pct);
  fflush(stderr);
}

int _ms_cli_load(const char *path, const ms_load_options_t *o, ms_loaded_t *out) {
  char err[512];
  memset(out, 0, sizeof *out);
  progress_state_t ps = {path, _ms_cli_progress_delay(), {0, 0}, 0, -1};
  clock_gettime(CLOCK_MONOTONIC, &ps.start);
  int rc = ms_dump_read_file(path, &out->dump, err, sizeof err);
  if (rc != 0) {
    ms_dump_free(&out->dump);
    return _ms_cli_fail(MS_EXIT_INPUT, "%s: %s", path, err[0] ? err : "cannot read the dump");
  }
  out->have_dump = 1;
  ms_model_options_t mo = {0};
  mo.no_symbols = o ? o->no_symbols : 0;
  mo.debug_dir = o ? o->debug_dir : NULL;
  mo.suppressions = o && o->suppressions ? o->suppressions : getenv("MEMSCOPE_SUPPRESSIONS");
  if (!(o && o->quiet) && isatty(STDERR_FILENO)) {
    mo.progress = progress_cb;
    mo.progress_ctx = &ps;
  }
  rc = ms_model_build(&out->model, &out->dump, &mo, err, sizeof err);
  if (ps.shown) fputs("\r\033[K", stderr);
  if (rc != 0) {
    _ms_cli_unload(out);
    return _ms_cli_fail(MS_EXIT_INPUT, "%s: %s", path, err);
  }
  out->have_model = 1;
  out->load_seconds = elapsed(&ps.start);
  return MS_EXIT_OK;
}

void _ms_cli_unload(ms_loaded_t *l) {
  if (l->have_model) ms_model_free(&l->model);
  if (l->have_dump) ms_dump_free(&l->dump);
  memset(l, 0, sizeof *l);
}
