/* overflow.c — writes one byte past the end of a 20-byte block (mimalloc's 48-byte class leaves
 * slack, so the write lands in the canary); found when the block is freed ("free") or
 * reallocated ("realloc"). Expect buffer_overflow at block + 20. */
#include <string.h>

#include "common.h"

NOINLINE char *make_block(void) { return malloc(20); }
NOINLINE void fill_block(char *p) {
  strcpy(opaque(p), "0123456789012345678"); /* 19 chars + NUL = 20 bytes: fine */
  p[20] = 0;                                /* the off-by-one */
}
NOINLINE void drop_block(char *p) { free(opaque(p)); }

int main(int argc, char **argv) {
  char *p = make_block();
  announce("block", p);
  announce("access", p + 20);
  fill_block(p);
  if (argc > 1 && strcmp(argv[1], "realloc") == 0) p = realloc(opaque(p), 4000);
  drop_block(p);
  puts("survived");
  return 0;
}
