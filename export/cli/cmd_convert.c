/* cmd_convert.c — `memscope convert DUMP -o OUT [--format json|html|svg|folded|text|pprof|massif]`.
 * (`--compact` with json: the frames/stacks-table form the HTML report embeds.)
 *
 * The format comes from --format or else OUT's extension. html and svg are drawn by the
 * reports library (export/report/, msreport); a build without it says so and exits 2. The
 * output goes through export/outfile.c: checked before the dump is read (a device, FIFO,
 * directory or symlink is refused), written to a temporary file next to OUT and renamed, so a
 * failed conversion never leaves a file that looks complete.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "json_out.h"
#include "outfile.h"
#if defined(MS_HAVE_HTML) || defined(MS_HAVE_SVG)
#include "report.h"
#endif

static const char help[] =
    "usage: memscope convert DUMP -o OUT [--format FORMAT] [options]\n"
    "\n"
    "Convert a memscope dump (.msp) into another format. OUT '-' writes to standard output.\n"
    "\n"
    "  -o, --output OUT     file to write (required)\n"
    "  -f, --format FORMAT  json | html | svg | folded | text | pprof | massif; default: from\n"
    "                       OUT's name (.json .html .htm .svg .folded .txt .pb.gz massif.out.*)\n"
    "      --chart NAME     svg only: timeline | flamegraph | sites (default: all three)\n"
    "      --value V        folded only: what each stack's number is: live (bytes live at\n"
    "                       the dump, default) | bytes (allocated) | count (allocations) |\n"
    "                       peak (bytes live at the peak) | leaked (exit dumps) |\n"
    "                       live-count | temp (temporary allocations); --weight is the same\n"
    "      --top N          json: list at most N sites and leaks (default: all)\n"
    "      --compact        json: each distinct frame and stack once, in \"frames\" and\n"
    "                       \"stacks\" tables; objects carry \"stack_id\" (docs/JSON.md)\n"
    MS_CLI_HELP_LOAD_OPTIONS
    "\n"
    "Exit status: 0 success, 1 bad input file or unwritable output, 2 usage error.\n";

typedef enum { F_NONE, F_JSON, F_HTML, F_SVG, F_FOLDED, F_TEXT, F_PPROF, F_MASSIF } fmt_t;

static fmt_t parse_format(const char *s) {
  if (!strcmp(s, "json")) return F_JSON;
  if (!strcmp(s, "html") || !strcmp(s, "htm")) return F_HTML;
  if (!strcmp(s, "svg")) return F_SVG;
  if (!strcmp(s, "folded") || !strcmp(s, "stacks")) return F_FOLDED;
  if (!strcmp(s, "text") || !strcmp(s, "txt")) return F_TEXT;
  if (!strcmp(s, "pprof")) return F_PPROF;
  if (!strcmp(s, "massif")) return F_MASSIF;
  return F_NONE;
}

static fmt_t format_from_name(const char *path) {
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  size_t len = strlen(base);
  /* pprof's own names (profile.pb.gz) and massif's (massif.out.PID) */
  if ((len > 6 && !strcmp(base + len - 6, ".pb.gz")) || (len > 3 && !strcmp(base + len - 3, ".pb")))
    return F_PPROF;
  if (!strncmp(base, "massif.out", 10)) return F_MASSIF;
  const char *dot = strrchr(base, '.');
  return dot ? parse_format(dot + 1) : F_NONE;
}

static int convert_top(void *top, int opt, char *arg) {
  (void)opt;  /* the one option not in the store: --top */
  return _ms_cli_number("convert", "--top", arg, 0, UINT32_MAX, top);
}

int _ms_cmd_convert(int argc, char **argv) {
  static const struct option opts[] = {
      {"output", required_argument, 0, 'o'}, {"format", required_argument, 0, 'f'},
      {"chart", required_argument, 0, 'c'},  {"weight", required_argument, 0, 'w'},
      {"value", required_argument, 0, 'w'},  {"top", required_argument, 0, 't'},
      {"compact", no_argument, 0, 'C'},      {0, 0, 0, 0}};
  const char *out_path = NULL, *format = NULL, *chart = NULL, *weight = NULL;
  uint64_t top = 0;
  int compact = 0;
  ms_load_options_t lo = {0};
  const ms_cli_store_t store[] = {{'o', &out_path, NULL}, {'f', &format, NULL},
                                  {'c', &chart, NULL},    {'w', &weight, NULL},
                                  {'C', NULL, &compact},  {0, NULL, NULL}};
  const ms_cli_command_t cmd = {"convert", help, "o:f:", opts, store, &lo, convert_top, &top};
  int rc = _ms_cli_options(&cmd, argc, argv);
  if (rc == MS_OPT_CONTINUE) rc = _ms_cli_one_operand("convert", "DUMP", argc, argv);
  if (rc != MS_OPT_CONTINUE) return rc;
  if (!out_path) return _ms_cli_fail(MS_EXIT_USAGE, "convert: missing -o OUT (see memscope convert --help)");
  const char *in_path = argv[optind];
  fmt_t f = format ? parse_format(format) : format_from_name(out_path);
  if (f == F_NONE) {
    if (format) return _ms_cli_fail(MS_EXIT_USAGE, "convert: unknown format '%s' (json, html, svg, folded, text, pprof, massif)", format);
    return _ms_cli_fail(MS_EXIT_USAGE, "convert: cannot tell the format from '%s'; use --format", out_path);
  }
  if (weight && f != F_FOLDED) return _ms_cli_fail(MS_EXIT_USAGE, "convert: --value/--weight applies to folded output only");
  if (compact && f != F_JSON) return _ms_cli_fail(MS_EXIT_USAGE, "convert: --compact applies to json output only");
  if (chart && f != F_SVG) return _ms_cli_fail(MS_EXIT_USAGE, "convert: --chart applies to svg output only");
  if (weight && ms_folded_value(weight) < 0)
    return _ms_cli_fail(MS_EXIT_USAGE, "convert: unknown value '%s' (live, bytes, count, peak, leaked, live-count, temp)", weight);
#ifndef MS_HAVE_HTML
  if (f == F_HTML) return _ms_cli_fail(MS_EXIT_USAGE, "html output not available in this build");
#endif
#ifndef MS_HAVE_SVG
  if (f == F_SVG) return _ms_cli_fail(MS_EXIT_USAGE, "svg output not available in this build");
#else
  if (chart && strcmp(chart, "timeline") && strcmp(chart, "flamegraph") && strcmp(chart, "sites"))
    return _ms_cli_fail(MS_EXIT_USAGE, "convert: unknown chart '%s' (timeline, flamegraph, sites)", chart);
#endif

  int to_stdout = !strcmp(out_path, "-");
  char err[1024];
  /* before the (possibly slow) load, so a bad OUT fails at once */
  if (!to_stdout && _ms_outfile_check(out_path, err, sizeof err) != 0)
    return _ms_cli_fail(MS_EXIT_INPUT, "%s", err);

  ms_loaded_t l;
  rc = _ms_cli_load(in_path, &lo, &l);
  if (rc != MS_EXIT_OK) return rc;
  if (f == F_FOLDED && weight && !strcmp(weight, "leaked") && !l.model.is_exit) {
    _ms_cli_unload(&l);
    return _ms_cli_fail(MS_EXIT_INPUT, "%s: not taken at exit, so nothing is leaked yet (use --value live)", in_path);
  }

  ms_outfile_t *of = NULL;
  FILE *out = stdout;
  if (!to_stdout) {
    of = malloc(sizeof *of);
    if (!of || _ms_outfile_open(of, out_path, 0666, err, sizeof err) != 0 ||
        !(out = fdopen(of->fd, "w"))) {
      if (!of) snprintf(err, sizeof err, "out of memory");
      else if (of->fd >= 0) snprintf(err, sizeof err, "%s: cannot write: %s", out_path, strerror(errno)), _ms_outfile_abort(of);
      free(of);
      _ms_cli_unload(&l);
      return _ms_cli_fail(MS_EXIT_INPUT, "%s", err);
    }
  }
  /* Reading took long, so writing will too: say what is happening until it is done. */
  int show = !lo.quiet && isatty(STDERR_FILENO) && l.load_seconds >= _ms_cli_progress_delay();
  if (show) {
    fprintf(stderr, "\rmemscope: %s: writing %s", in_path, out_path);
    fflush(stderr);
  }
  int wr = 0;
  switch (f) {
    case F_JSON: {
      ms_json_options_t jo = {(uint32_t)top, compact};
      wr = ms_json_write_opts(out, &l.model, &jo);
      break;
    }
    case F_FOLDED: wr = ms_folded_write(out, &l.model, weight); break;
    case F_TEXT: wr = ms_text_report_write(out, &l.model, top ? (unsigned)top : 10); break;
    case F_PPROF: wr = ms_pprof_write(out, &l.model, lo.debug_dir); break;
    case F_MASSIF: wr = ms_massif_write(out, &l.model); break;
#ifdef MS_HAVE_HTML
    case F_HTML: wr = ms_html_write(out, &l.model); break;
#endif
#ifdef MS_HAVE_SVG
    case F_SVG: wr = ms_svg_write(out, &l.model, chart); break;
#endif
    default: wr = -1; break;
  }
  if (fflush(out) != 0 || ferror(out)) wr = -1;
  if (show) fputs("\r\033[K", stderr);
  err[0] = 0;
  if (!to_stdout) {
    if (fclose(out) != 0) wr = -1;
    of->fd = -1; /* closed by fclose */
    if (wr != 0) _ms_outfile_abort(of);
    else if (_ms_outfile_commit(of, err, sizeof err) != 0) wr = -1;
    free(of);
  }
  _ms_cli_unload(&l);
  if (err[0]) return _ms_cli_fail(MS_EXIT_INPUT, "%s", err);
  if (wr != 0) return _ms_cli_fail(MS_EXIT_INPUT, "%s: could not write the output (error %d)", out_path, wr);
  return MS_EXIT_OK;
}
