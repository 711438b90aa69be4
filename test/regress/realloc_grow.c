/* realloc_grow.c — a buffer grown by small steps must be resized in place while its block has
 * room, sampled or not (regression: a sampled block used to move, i.e. copy itself, on every
 * step — 1400x slower than mimalloc at the default rate). Counts the moves: mimalloc itself
 * moves a growing 1 MiB block only when it outgrows its usable size. Prints the count and
 * fails above 200 moves for 32768 steps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
  size_t n = 1u << 20;
  char *p = malloc(n);
  if (!p) return 2;
  memset(p, 1, n);
  unsigned moves = 0, steps = 0;
  for (; n < (3u << 20); n += 64, steps++) {
    char *q = realloc(p, n);
    if (!q) return 2;
    moves += q != p;
    p = q;
  }
  printf("realloc_grow: %u moves in %u steps\n", moves, steps);
  free(p);
  return moves > 200;
}
