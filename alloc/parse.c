/* parse.c — numbers and sizes as options spell them (parse.h), shared by the environment
 * options (options.c) and the command line. Runs inside the first malloc when options are
 * read, so it uses no stdio, no locale and allocates nothing.
 */
#include "parse.h"

#include <string.h>

int _ms_parse_uint(const char *s, uint64_t *out) {
  if (!s || !*s) return -1;
  uint64_t v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return -1;
    uint64_t digit = (uint64_t)(*s - '0');
    if (v > (UINT64_MAX - digit) / 10) return -1; /* exact: UINT64_MAX itself still parses */
    v = v * 10 + digit;
  }
  *out = v;
  return 0;
}

int _ms_parse_size(const char *s, uint64_t *out) {
  if (!s || !*s) return -1;
  char digits[32];
  size_t n = strlen(s);
  unsigned shift = 0;
  char last = s[n - 1];
  if (last == 'b' || last == 'B') { /* accept "512KB", "1MiB" loosely: strip B, then i */
    n--;
    if (n && (s[n - 1] == 'i' || s[n - 1] == 'I')) n--;
    if (!n) return -1;
    last = s[n - 1];
  }
  switch (last) {
    case 'k': case 'K': shift = 10; n--; break;
    case 'm': case 'M': shift = 20; n--; break;
    case 'g': case 'G': shift = 30; n--; break;
    default: break;
  }
  if (n == 0 || n >= sizeof digits) return -1;
  memcpy(digits, s, n);
  digits[n] = 0;
  uint64_t v;
  if (_ms_parse_uint(digits, &v) != 0) return -1;
  if (shift && v > (UINT64_MAX >> shift)) return -1;
  *out = v << shift;
  return 0;
}
