/* invalid_free.c — frees a pointer malloc never returned: "interior" (8 bytes into a block) or
 * "stack" (a local variable). Expect invalid_free at that pointer. */
#include <string.h>

#include "common.h"

NOINLINE void free_interior(void) {
  char *p = calloc(1, 64);
  announce("block", p);
  announce("access", p + 16);
  free(opaque(p + 16));
  free(p);
}

NOINLINE void free_stack_pointer(void) {
  long local[4] = {1, 2, 3, 4};
  announce("block", local);
  announce("access", local);
  free(opaque(local));
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "stack") == 0) free_stack_pointer();
  else free_interior();
  puts("survived");
  return 0;
}
