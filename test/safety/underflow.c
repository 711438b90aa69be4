/* underflow.c — writes 12 bytes before a 40-byte block, into memscope's guard word; found when
 * the block is freed. Expect buffer_underflow at the block's address. */
#include "common.h"

NOINLINE char *make_block(void) { return malloc(40); }
NOINLINE void write_before(char *p) { ((volatile char *)opaque(p))[-12] ^= 0x5a; }
NOINLINE void drop_block(char *p) { free(opaque(p)); }

int main(void) {
  char *p = make_block();
  announce("block", p);
  announce("access", p);
  write_before(p);
  drop_block(p);
  puts("survived");
  return 0;
}
