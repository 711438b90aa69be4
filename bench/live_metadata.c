/* live_metadata.c — memory per live block: allocates COUNT blocks of SIZE bytes, keeps them all
 * live, and prints the process's resident memory before and after (VmRSS), and the difference
 * per block. Run under bare mimalloc and under memscope (bench/exact.sh's metadata table, or by
 * hand with LD_PRELOAD): the difference between the two per-block figures is what memscope adds
 * to each live block — its header, the size-class rounding the header causes, its block map.
 *
 *   live_metadata [count=4000000] [size=32]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long rss_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "VmRSS:", 6) == 0) kb = atol(line + 6);
  if (f) fclose(f);
  return kb;
}

int main(int argc, char **argv) {
  long count = argc > 1 ? atol(argv[1]) : 4000000;
  size_t size = argc > 2 ? (size_t)atol(argv[2]) : 32;
  if (count <= 0 || size == 0) return 2;
  char **blocks = malloc((size_t)count * sizeof *blocks);
  if (!blocks) return 1;
  memset(blocks, 0, (size_t)count * sizeof *blocks); /* the pointer array resident up front */
  long before = rss_kb();
  for (long i = 0; i < count; i++) {
    blocks[i] = malloc(size);
    if (!blocks[i]) return 1;
    blocks[i][0] = (char)i;
  }
  long after = rss_kb();
  printf("count=%ld size=%zu rss_before_kb=%ld rss_after_kb=%ld bytes_per_block=%.1f\n", count, size,
         before, after, (double)(after - before) * 1024.0 / (double)count);
  for (long i = 0; i < count; i++) free(blocks[i]);
  free(blocks);
  return 0;
}
