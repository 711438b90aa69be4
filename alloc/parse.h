/* parse.h — the number and size syntax of memscope's options, one parser for the environment
 * (MEMSCOPE_SAMPLE_RATE=1MiB, alloc/options.c) and the command line (memscope run
 * --sample-rate 1MiB, export/cli/), so both accept exactly the same words.
 * A leaf: it includes no project header; the library and the CLI each compile parse.c. */
#ifndef MEMSCOPE_PARSE_H
#define MEMSCOPE_PARSE_H

#include <stdint.h>

/* Decimal digits only (no sign, no space), up to UINT64_MAX. 0, or -1 on a bad value. */
int _ms_parse_uint(const char *s, uint64_t *out);

/* A size: digits with an optional K, M or G (powers of 1024, either case) and an optional B or
 * iB ("512", "64K", "1MiB", "2gb"). 0, or -1 on a bad value or overflow. */
int _ms_parse_size(const char *s, uint64_t *out);

#endif /* MEMSCOPE_PARSE_H */
