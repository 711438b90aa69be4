/* quarantine_slack.c — a write after free into the part of a block between the requested size and
 * malloc_usable_size(). While the block was live those bytes were the program's (it asked for
 * them), so after free() a write there is as much a use-after-free as one into the requested
 * bytes. Gap: MEMSCOPE_CHECKS=quarantine fills and verifies only the requested bytes, so the
 * write below goes unreported (the same write at offset 0 aborts with use_after_free).
 *   QUARANTINE_WHERE=slack|req quarantine_slack */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  const char *where = getenv("QUARANTINE_WHERE");
  int slack = where && where[0] == 's';
  unsigned char *volatile p = malloc(20);
  size_t u = malloc_usable_size(p);
  size_t at = slack ? u - 1 : 0;
  free(p);
  p[at] = 1; /* the use after free */
  for (int i = 0; i < 200000; i++) free(malloc(100)); /* push the block out of quarantine */
  printf("usable %zu, wrote at %zu after free: not reported\n", u, at);
  return 0;
}
