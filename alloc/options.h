/* options.h — memscope's run-time options, read once from MEMSCOPE_<NAME> (see options.c). */
#ifndef MEMSCOPE_ALLOC_OPTIONS_H
#define MEMSCOPE_ALLOC_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "parse.h"   /* _ms_parse_size, _ms_parse_uint */

/* X(field, ENV-suffix, kind, default) — one list makes the struct, the defaults and the parser.
 * kinds: SIZE (K/M/G suffixes), UINT, BOOL (on/off/1/0/yes/no/true/false), SIGNAL (name or
 * number, 0 = off), STRING. */
#define MS_OPTIONS(X)                                   \
  X(sample_rate, SAMPLE_RATE, SIZE, 512 * 1024)         \
  X(output, OUTPUT, STRING, 0)                          \
  X(snapshot_signal, SNAPSHOT_SIGNAL, SIGNAL, 0)        \
  X(interval_ms, INTERVAL_MS, UINT, 10)                 \
  X(stack_depth, STACK_DEPTH, UINT, 32)                 \
  X(leak_report, LEAK_REPORT, BOOL, 0)                  \
  X(checks, CHECKS, STRING, 0)                          \
  X(seed, SEED, UINT, 0)                                \
  X(unwind, UNWIND, STRING, 0)

#define MS_OPT_FIELD_SIZE uint64_t
#define MS_OPT_FIELD_UINT uint64_t
#define MS_OPT_FIELD_BOOL uint64_t
#define MS_OPT_FIELD_SIGNAL uint64_t
#define MS_OPT_FIELD_STRING const char *

typedef struct ms_options {
#define MS_OPT_DECL_(field, env, kind, def) MS_OPT_FIELD_##kind field;
  MS_OPTIONS(MS_OPT_DECL_)
#undef MS_OPT_DECL_
} ms_options_t;

#define MS_STACK_DEPTH_MAX 128

extern ms_options_t _ms_options;

/* Read the environment (unless secure execution). Warnings go to stderr, one line each. */
void _ms_options_init(void);

/* Parsers, exposed for the unit tests (sizes and numbers: parse.h). 0, or -1 on a bad value. */
int _ms_parse_bool(const char *s, uint64_t *out);
int _ms_parse_signal(const char *s, uint64_t *out);

#endif
