/* cli.h — what the `memscope` subcommands share: exit codes, loading a dump into a model with
 * one-line errors, and progress on a terminal.
 * Internal to the CLI (and its tests); the public surface is the command line (docs/CLI.md). */
#ifndef MEMSCOPE_CLI_CLI_H
#define MEMSCOPE_CLI_CLI_H

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


/* Subcommands: argc/argv start at the subcommand name. */
int _ms_cmd_run(int argc, char **argv);
int _ms_cmd_convert(int argc, char **argv);
int _ms_cmd_report(int argc, char **argv);
int _ms_cmd_diff(int argc, char **argv);

#endif /* MEMSCOPE_CLI_CLI_H */
