/* consumer.c — a program built against an installed memscope (pkg-config or find_package):
 * it must link, load the library and see its own allocation counted. */
#include <memscope.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  void *volatile p = malloc(100);
  MS_TRACK_AS(p, "buffer");
  ms_stats_t s;
  if (!ms_stats || ms_stats(&s) != MS_OK || s.live_allocations == 0) {
    puts("memscope not loaded");
    return 1;
  }
  printf("memscope loaded: %llu live\n", (unsigned long long)s.live_allocations);
  free(p);
  return 0;
}
