/* double_free.c — frees the same block twice: expect double_free at the block's address. */
#include "common.h"

NOINLINE char *make_block(void) { return malloc(40); }
NOINLINE void drop_block(char *p) { free(opaque(p)); }
NOINLINE void drop_block_again(char *p) { free(opaque(p)); }

int main(void) {
  char *p = make_block();
  announce("block", p);
  announce("access", p);
  drop_block(p);
  drop_block_again(p);
  puts("survived");
  return 0;
}
