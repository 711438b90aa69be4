/* R9: MEMSCOPE_CHECKS=uaf=1 (every allocation from the guard-page pool). A 1-byte underflow
 * hits the tag word's state byte; free() then takes live_tag()'s report path, which calls
 * looks_freed_short() -> mi_usable_size() on a pointer that mimalloc never allocated. */
#include <stdio.h>
#include <stdlib.h>
int main(void) {
  char *p = malloc(40);
  p[-1] = 0;                 /* underflow by one byte: the top byte of the tag word */
  fprintf(stderr, "freeing %p\n", (void *)p);
  free(p);
  fprintf(stderr, "survived\n");
  return 0;
}
