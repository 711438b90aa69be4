/* dso.c — a shared library that allocates blocks and keeps them (lifecycle.c dlopens it, calls
 * dso_alloc, then dlcloses it while the blocks are still live). */
#include <stdlib.h>

static void *kept[64];

int dso_alloc(int n, void **out) {
  for (int i = 0; i < n && i < 64; i++) {
    kept[i] = malloc(100 + (size_t)i);
    out[i] = kept[i];
  }
  return n;
}
