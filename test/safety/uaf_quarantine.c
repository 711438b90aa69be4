/* uaf_quarantine.c — writes into a block after freeing it; the quarantine (MEMSCOPE_CHECKS
 * quarantine=SIZE) finds the changed fill pattern when the block leaves it, pushed out by later
 * frees. Expect use_after_free at block + 8. */
#include "common.h"

NOINLINE char *make_block(void) { return malloc(64); }
NOINLINE void drop_block(char *p) { free(opaque(p)); }
NOINLINE void write_after_free(char *p) { ((volatile char *)opaque(p))[8] = 'x'; }
NOINLINE void churn(void) {
  for (int i = 0; i < 4000; i++) free(opaque(malloc(64)));
}

int main(void) {
  char *p = make_block();
  announce("block", p);
  announce("access", p + 8);
  drop_block(p);
  write_after_free(p);
  churn();
  puts("survived");
  return 0;
}
