/* main.c — the `memscope` command: dispatch to the subcommands (one file each: cmd_*.c).
 *
 * Exit status, for every command: 0 success, 1 bad input file (missing, truncated, corrupt,
 * foreign, newer format) or output that could not be written, 2 usage error. `run` instead
 * returns the status of the program it ran. docs/CLI.md is the user documentation.
 */
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: memscope COMMAND [OPTIONS] ...\n"
    "\n"
    "commands:\n"
    "  run [-o FILE] [--sample-rate N] [--] CMD ARGS   run CMD on memscope, write a dump at exit\n"
    "  convert DUMP -o OUT [--format json|html|svg|folded|text|pprof|massif]\n"
    "                                                  convert a dump (format from OUT's name)\n"
    "  report DUMP [--format text|json]                summary: peak, leaks, top sites, findings\n"
    "  diff OLD NEW [--format text|json]               per-site growth between two dumps\n"
    "\n"
    "  -h, --help       this text            -V, --version    print the version\n"
    "\n"
    "`memscope COMMAND --help` describes each command; `man memscope` has everything. Exit\n"
    "status: 0 success, 1 bad input file, 2 usage error (run: the program's own status).\n";

int main(int argc, char **argv) {
  char *sub[3] = {NULL, "--help", NULL};   /* `memscope help CMD` == `memscope CMD --help` */
  if (argc < 2) {
    fputs(usage, stderr);
    return MS_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
    if (!strcmp(cmd, "help") && argc > 2) {
      sub[0] = argv[2];
      if (strcmp(argv[2], "run") && strcmp(argv[2], "convert") && strcmp(argv[2], "report") &&
          strcmp(argv[2], "diff"))
        return _ms_cli_fail(MS_EXIT_USAGE, "unknown command '%s' (see memscope --help)", argv[2]);
      argc = 2;
      argv = sub;
      cmd = argv[0];
      goto dispatch;
    }
    fputs(usage, stdout);
    return MS_EXIT_OK;
  }
  if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V") || !strcmp(cmd, "version")) {
    printf("memscope 0.1.0 (dump format %d)\n", MS_DUMP_FORMAT_VERSION);
    return MS_EXIT_OK;
  }
  argc--;
  argv++;
dispatch:
  if (!strcmp(cmd, "run")) return _ms_cmd_run(argc, argv);
  if (!strcmp(cmd, "convert")) return _ms_cmd_convert(argc, argv);
  if (!strcmp(cmd, "report")) return _ms_cmd_report(argc, argv);
  if (!strcmp(cmd, "diff")) return _ms_cmd_diff(argc, argv);
  return _ms_cli_fail(MS_EXIT_USAGE, "unknown command '%s' (see memscope --help)", cmd);
}
