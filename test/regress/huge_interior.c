/* R7: free() of an interior pointer deep inside a huge block (> 32 MiB). The tag word is user
 * data, so live_tag() takes the report path and calls looks_freed_short() ->
 * mi_usable_size(p - 8), which masks p down to a "segment" that is really user data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
  size_t sz = 96u << 20;
  char *p = malloc(sz);
  memset(p, 0x41, sz);
  char *q = p + (40u << 20) + 64;
  fprintf(stderr, "block %p, freeing interior %p\n", (void *)p, (void *)q);
  free(q);
  fprintf(stderr, "survived\n");
  free(p);
  return 0;
}
