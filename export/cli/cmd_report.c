/* cmd_report.c — `memscope report DUMP`: the text report (export/formats/text.c) on stdout,
 * or with --format json the JSON document (json_out.c) limited to the top N sites and leaks,
 * for scripts and CI gates. */
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
    MS_CLI_HELP_LOAD_OPTIONS
    "\n"
    "Exit status: 0 success, 1 bad input file, 2 usage error.\n";

int _ms_cmd_report(int argc, char **argv) {
  ms_cli_top_format_t o = {.cmd = "report", .top = 10, .top_max = 1000000};
  ms_load_options_t lo = {0};
  const ms_cli_command_t cmd = {"report", help, "f:", _ms_cli_top_format_opts, NULL, &lo,
                                _ms_cli_top_format_option, &o};
  int rc = _ms_cli_options(&cmd, argc, argv);
  if (rc == MS_OPT_CONTINUE) rc = _ms_cli_one_operand("report", "DUMP", argc, argv);
  if (rc != MS_OPT_CONTINUE) return rc;
  ms_loaded_t l;
  rc = _ms_cli_load(argv[optind], &lo, &l);
  if (rc != MS_EXIT_OK) return rc;
  int wr;
  if (o.as_json) {
    ms_json_options_t jo = {0};
    jo.max_sites = o.top_given ? (uint32_t)o.top : 0;
    wr = ms_json_write_opts(stdout, &l.model, &jo);
  } else {
    wr = ms_text_report_write(stdout, &l.model, (unsigned)o.top);
  }
  if (fflush(stdout) != 0) wr = -1;
  _ms_cli_unload(&l);
  if (wr != 0) return _ms_cli_fail(MS_EXIT_INPUT, "report: could not write to standard output");
  return MS_EXIT_OK;
}
