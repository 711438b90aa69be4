/* golden_prog.c — a fixed program whose dump the golden tests convert (test/cli/cli_test.py).
 *
 * Everything it allocates is deterministic: three 100-byte leaks from leak_three(), one
 * strdup leak from leak_string() (definitely lost: nothing keeps it; the others stay reachable
 * through keep[]), 1000 temporary 64-byte buffers, 2000 tiny 8-byte blocks
 * (freed), a buffer grown by realloc 40 times, and one named variable. Changing a line here
 * changes the expected line numbers in test/golden/golden_prog.json: regenerate it with
 * MEMSCOPE_UPDATE_GOLDEN=1 ctest -R cli_golden.
 */
#include <stdlib.h>
#include <string.h>

#include "memscope.h"

static void *keep[8];

__attribute__((noinline)) static void leak_three(void) {
  for (int i = 0; i < 3; i++) keep[i] = malloc(100);
}

__attribute__((noinline)) static void leak_string(void) {
  char *volatile lost = strdup("a string that is never freed"); (void)lost; // definitely lost
}

__attribute__((noinline)) static void temporaries(void) {
  for (int i = 0; i < 1000; i++) {
    char *volatile t = malloc(64);
    t[0] = (char)i;
    free(t);
  }
}

__attribute__((noinline)) static void tiny(void) {
  void **v = malloc(2000 * sizeof *v);
  for (int i = 0; i < 2000; i++) v[i] = malloc(8);
  for (int i = 0; i < 2000; i++) free(v[i]);
  free(v);
}

__attribute__((noinline)) static void grow(void) {
  char *buf = NULL;
  for (int i = 1; i <= 40; i++) buf = realloc(buf, (size_t)i * 100);
  MS_TRACK(buf);
  free(buf);
}

int main(void) {
  leak_three();
  leak_string();
  temporaries();
  tiny();
  grow();
  return 0;
}
