/* cli_common.c — loading a dump into a model with one-line errors, size parsing, progress.
 *
 * Every failure a user can cause with a bad file ends here as exactly one line on stderr,
 * "memscope: PATH: reason", and exit status 1 (MS_EXIT_INPUT). Progress is drawn only when
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
