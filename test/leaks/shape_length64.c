/* A block reached only through a pointer 8 bytes in, whose first word holds the rest's
 * length (how length-prefixed allocators such as SQLite's hand out memory): memcheck's
 * default "length64" heuristic counts it as still reachable. */
#include <stdint.h>
#include "shape.h"
char *volatile user;
__attribute__((noinline)) static void make(void) {
  uint64_t *p = shape_alloc(80);
  p[0] = 80 - 8;
  user = (char *)(p + 1);
}
int main(void) { make(); scrub(); return 0; }
