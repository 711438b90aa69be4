/* cli.h — what the `memscope` subcommands share: exit codes, parsing their options with the
 * same errors, loading a dump into a model with one-line errors, and progress on a terminal.
 * Internal to the CLI (and its tests); the public surface is the command line (docs/CLI.md). */
#ifndef MEMSCOPE_CLI_CLI_H
#define MEMSCOPE_CLI_CLI_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "dump.h"
#include "formats.h"
#include "model.h"
#include "parse.h"   /* _ms_parse_size: the syntax of the MEMSCOPE_* sizes (alloc/parse.h) */

/* Exit codes of every command (docs/CLI.md). */
enum { MS_EXIT_OK = 0, MS_EXIT_INPUT = 1, MS_EXIT_USAGE = 2 };

/* A dump read from a file and its model. */
typedef struct ms_loaded {
  ms_dump_t dump;
  ms_model_t model;
  int have_dump, have_model;
  double load_seconds;  /* reading + building the model took this long */
} ms_loaded_t;

typedef struct ms_load_options {
  int no_symbols;
  const char *debug_dir;
  int quiet;            /* no progress output even on a terminal */
  const char *suppressions; /* leak suppressions file; NULL: $MEMSCOPE_SUPPRESSIONS */
} ms_load_options_t;

/* Read path and build its model. On failure prints "memscope: PATH: reason" on stderr and
 * returns MS_EXIT_INPUT; returns MS_EXIT_OK on success. */
int _ms_cli_load(const char *path, const ms_load_options_t *o, ms_loaded_t *out);
void _ms_cli_unload(ms_loaded_t *l);

/* Seconds of work after which progress is shown on a terminal: 0.5, or
 * $MEMSCOPE_PROGRESS_AFTER_MS (tests set 0 to see the progress line on any dump). */
double _ms_cli_progress_delay(void);

/* "memscope: " + message on stderr; returns code. */
int _ms_cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));


/* ---- options: one way for every command to read its command line ---- */

/* Codes of the long-only options _ms_cli_options() handles for the commands that load dumps,
 * and its "go on" result (never an exit code). */
enum { MS_OPT_NO_SYMBOLS = 0x100, MS_OPT_DEBUG_DIR = 0x101, MS_OPT_CONTINUE = -1 };

/* An option that only stores: a value option's argument into *str, or 1 into *flag. */
typedef struct ms_cli_store {
  int opt;
  const char **str;
  int *flag;
} ms_cli_store_t;

typedef struct ms_cli_command {
  const char *name;              /* "convert": starts every message */
  const char *help;              /* -h, --help prints it on stdout */
  const char *shortopts;         /* the command's own, getopt syntax ("o:f:"); a leading '+'
                                    stops at the first operand (run: CMD's options are CMD's) */
  const struct option *longopts; /* the command's own, {0}-terminated; may be NULL */
  const ms_cli_store_t *store;   /* of those, the ones that only store; {0}-terminated or NULL */
  ms_load_options_t *load;       /* non-NULL: --no-symbols, --debug-dir DIR and -q/--quiet set it */
  /* The command's other options, one call each: MS_EXIT_OK, or an exit code after _ms_cli_fail. */
  int (*on_option)(void *ctx, int opt, char *arg);
  void *ctx;
} ms_cli_command_t;

/* The --help lines of what _ms_cli_options() adds: the options of the commands that load
 * dumps (ms_cli_command_t.load), and -h itself. */
#define MS_CLI_HELP_LOAD_OPTIONS                                                        \
  "      --no-symbols     do not read binaries; frames are module+offset\n"              \
  "      --debug-dir DIR  where separate debug info lives (default /usr/lib/debug)\n"   \
  "  -q, --quiet          no progress display\n"                                          \
  "  -h, --help           this text\n"

/* Read argv (argv[0] is the command name) with getopt_long. Returns MS_OPT_CONTINUE with optind
 * at the first operand, or the exit code to return: MS_EXIT_OK after --help, MS_EXIT_USAGE after
 * "CMD: option '-x' needs a value" or "CMD: unknown option '-x' (see memscope CMD --help)". */
int _ms_cli_options(const ms_cli_command_t *cmd, int argc, char **argv);

/* A number option (--top N; K/M suffixes as everywhere) in [min, max] into *out: MS_EXIT_OK, or
 * MS_EXIT_USAGE after "CMD: OPT needs a number, got 'ARG'" ("a positive number" when min > 0). */
int _ms_cli_number(const char *cmd, const char *opt, const char *arg, uint64_t min, uint64_t max,
                   uint64_t *out);

/* --format text|json: MS_EXIT_OK, or MS_EXIT_USAGE after "CMD: unknown format 'ARG' (text, json)". */
int _ms_cli_text_or_json(const char *cmd, const char *arg, int *as_json);

/* The --top N and -f/--format text|json of the commands that print (report, diff): options
 * table, and the on_option handler whose ctx is an ms_cli_top_format_t. */
typedef struct ms_cli_top_format {
  const char *cmd;
  uint64_t top, top_max;  /* in: the default and the largest allowed; out: --top */
  int top_given, as_json;
} ms_cli_top_format_t;
extern const struct option _ms_cli_top_format_opts[];
int _ms_cli_top_format_option(void *ctx, int opt, char *arg);

/* Exactly one operand, WHAT (say "DUMP"), at argv[optind]: MS_OPT_CONTINUE, or MS_EXIT_USAGE after
 * "CMD: missing WHAT (see memscope CMD --help)" or "CMD: unexpected argument 'ARG'". */
int _ms_cli_one_operand(const char *cmd, const char *what, int argc, char **argv);

/* Subcommands: argc/argv start at the subcommand name. */
int _ms_cmd_run(int argc, char **argv);
int _ms_cmd_convert(int argc, char **argv);
int _ms_cmd_report(int argc, char **argv);
int _ms_cmd_diff(int argc, char **argv);

#endif /* MEMSCOPE_CLI_CLI_H */
