/* uaf_guard.c — accesses a guard-page block (MEMSCOPE_CHECKS uaf=1): "read" / "write" after
 * free (expect use_after_free at block + 24), "overflow" reads just past the end of a 64-byte
 * block (right-aligned against the guard page: expect buffer_overflow at block + 64). */
#include <string.h>

#include "common.h"

NOINLINE char *make_block(void) { return malloc(64); }
NOINLINE void drop_block(char *p) { free(opaque(p)); }
NOINLINE int read_block(char *p, int i) { return ((volatile char *)opaque(p))[i]; }
NOINLINE void write_block(char *p, int i) { ((volatile char *)opaque(p))[i] = 1; }

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "read";
  char *p = make_block();
  announce("block", p);
  if (strcmp(mode, "overflow") == 0) {
    announce("access", p + 64);
    printf("%d\n", read_block(p, 64));
  } else {
    announce("access", p + 24);
    drop_block(p);
    if (strcmp(mode, "write") == 0) write_block(p, 24);
    else printf("%d\n", read_block(p, 24));
  }
  puts("survived");
  return 0;
}
