/* cmd_report.c — `memscope report DUMP`: the text report (export/formats/text.c) on stdout,
 * or with --format json the JSON document (json_out.c) limited to the top N sites and leaks,
 * for scripts and CI gates. */
#include <getopt.h>
#include <string.h>

#include "cli.h"
#include "json_out.h"

static const char help[] =
    "usage: memscope report DUMP [options]\n"
    "\n"
    "Print a text summary of a dump: peak, leaks (dumps taken at exit), memory errors,\n"
    "findings, and the top allocation sites by peak, live bytes, total bytes, count and\n"
    "temporary allocations, each with its symbolised stack.\n"
    "\n"
    "      --top N          sites per section (default 10)\n"
    "  -f, --format F       text (default) | json: the JSON of `convert` (docs/JSON.md);\n"
    "                       all sites and leaks unless --top N is given\n"
    "      --no-symbols     do not read binaries; frames are module+offset\n"
    "      --debug-dir DIR  where separate debug info lives (default /usr/lib/debug)\n"
    "  -q, --quiet          no progress display\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit status: 0 success, 1 bad input file, 2 usage error.\n";

int _ms_cmd_report(int argc, char **argv) {
  static const struct option opts[] = {
      {"top", required_argument, 0, 't'}, {"no-symbols", no_argument, 0, 'S'},
      {"format", required_argument, 0, 'f'},
      {"debug-dir", required_argument, 0, 'D'}, {"quiet", no_argument, 0, 'q'},
      {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  uint64_t top = 10;
  int as_json = 0, top_given = 0;
  ms_load_options_t lo = {0};
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":f:hq", opts, NULL)) != -1) {
    switch (c) {
      case 't':
        if (_ms_parse_size(optarg, &top) != 0 || top == 0 || top > 1000000)
          return _ms_cli_fail(MS_EXIT_USAGE, "report: --top needs a positive number, got '%s'", optarg);
        top_given = 1;
        break;
      case 'f':
        if (!strcmp(optarg, "json")) as_json = 1;
        else if (!strcmp(optarg, "text")) as_json = 0;
        else return _ms_cli_fail(MS_EXIT_USAGE, "report: unknown format '%s' (text, json)", optarg);
        break;
      case 'S': lo.no_symbols = 1; break;
      case 'D': lo.debug_dir = optarg; break;
      case 'q': lo.quiet = 1; break;
      case 'h': fputs(help, stdout); return MS_EXIT_OK;
      case ':': return _ms_cli_fail(MS_EXIT_USAGE, "report: option '%s' needs a value", argv[optind - 1]);
      default: return _ms_cli_fail(MS_EXIT_USAGE, "report: unknown option '%s' (see memscope report --help)", argv[optind - 1]);
    }
  }
  if (optind >= argc) return _ms_cli_fail(MS_EXIT_USAGE, "report: missing DUMP (see memscope report --help)");
  if (argc - optind > 1) return _ms_cli_fail(MS_EXIT_USAGE, "report: unexpected argument '%s'", argv[optind + 1]);
  ms_loaded_t l;
  int rc = _ms_cli_load(argv[optind], &lo, &l);
  if (rc != MS_EXIT_OK) return rc;
  int wr;
  if (as_json) {
    ms_json_options_t jo = {0};
    jo.max_sites = top_given ? (uint32_t)top : 0;
    wr = ms_json_write_opts(stdout, &l.model, &jo);
  } else {
    wr = ms_text_report_write(stdout, &l.model, (unsigned)top);
  }
  if (fflush(stdout) != 0) wr = -1;
  _ms_cli_unload(&l);
  if (wr != 0) return _ms_cli_fail(MS_EXIT_INPUT, "report: could not write to standard output");
  return MS_EXIT_OK;
}
