/* api_unloaded.c — memscope.h's API in a program that is NOT linked with libmemscope: it must
 * link (weak declarations) and run, every MS_* macro returning MS_ENOTLOADED and touching
 * nothing. Run again with LD_PRELOAD=libmemscope.so and "--loaded", the same calls must reach
 * the library and succeed. Exit status 0 when every expectation holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../test_compiler.h"
MS_TEST_ALLOW_FREED_POINTERS  /* this file asks about fresh and freed blocks on purpose */

#include "memscope.h"

static int failures;
#define EXPECT(cond)                                                   \
  do {                                                                 \
    if (!(cond)) {                                                     \
      fprintf(stderr, "api_unloaded: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                      \
    }                                                                  \
  } while (0)

int main(int argc, char **argv) {
  int loaded = argc > 1 && strcmp(argv[1], "--loaded") == 0;
  int *values = malloc(8 * sizeof *values);
  if (!values) return 2;
  int want = loaded ? MS_OK : MS_ENOTLOADED;
  EXPECT(MS_TRACK(values) == want);
  EXPECT(MS_TRACK_AS(values, "int[8]") == want);
  EXPECT(MS_REF_RETAIN(values) == (loaded ? 1 : MS_ENOTLOADED));
  EXPECT(MS_REF(values, 5) == (loaded ? 5 : MS_ENOTLOADED));
  EXPECT(MS_REF_RELEASE(values) == (loaded ? 4 : MS_ENOTLOADED));
  EXPECT(MS_TAG_PUSH("phase") == want);
  EXPECT(MS_TAG_POP() == want);
  char path[64];
  snprintf(path, sizeof path, "/tmp/ms_api_unloaded_%d.msp", (int)getpid());
  EXPECT(MS_SNAPSHOT(path) == want);
  EXPECT((access(path, F_OK) == 0) == loaded); /* a dump only when memscope is there */
  unlink(path);
  EXPECT((ms_stats != NULL) == loaded); /* the weak symbols resolve only with the library */
  free(values);
  return failures ? 1 : 0;
}
