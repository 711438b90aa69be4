/* api_calls.c — every public function and macro of memscope.h, called the way a user would.
 * Compiled as C (C99 -pedantic, C11, C17) and as C++ (C++11..20) by test/header/matrix.sh with
 * -Wall -Wextra -Werror, never linked with libmemscope. Run plain, each call must give its
 * documented "not loaded" result and not crash; run with LD_PRELOAD=libmemscope.so and
 * "--loaded", the same calls must reach the library and succeed. Exit 0 when all hold.
 * Kept in the common subset of C99 and C++11 on purpose.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memscope.h"

static int failures;
#define EXPECT(cond)                                                              \
  do {                                                                            \
    if (!(cond)) {                                                                \
      fprintf(stderr, "api_calls: %s:%d: %s\n", __FILE__, __LINE__, #cond);      \
      failures++;                                                                 \
    }                                                                             \
  } while (0)

int main(int argc, char **argv) {
  int loaded = argc > 1 && strcmp(argv[1], "--loaded") == 0;
  int *block = (int *)malloc(16 * sizeof(int));
  ms_stats_t st;
  ms_class_stats_t cs;
  int calls = 0;
  if (!block) return 2;
  memset(block, 1, 16 * sizeof(int));

  /* the functions, called directly */
  EXPECT(strcmp(ms_strerror(MS_ENOTLOADED), "memscope is not loaded in this process") == 0);
  EXPECT(strcmp(ms_strerror(MS_OK), "success") == 0);
  memset(&st, 0xff, sizeof st);
  EXPECT(ms_stats(&st) == (loaded ? MS_OK : MS_ENOTLOADED));
  EXPECT(loaded ? st.total_allocations >= 1 : st.total_allocations == 0 && st.live_bytes == 0);
  EXPECT(loaded ? ms_class_count() > 0 : ms_class_count() == 0);
  memset(&cs, 0xff, sizeof cs);
  EXPECT(ms_class_stats(0, &cs) == (loaded ? MS_OK : MS_ENOTLOADED));
  EXPECT(loaded || (cs.allocations == 0 && cs.size == 0));
  EXPECT(ms_set_sample_rate(1) == (loaded ? MS_OK : MS_ENOTLOADED));
  EXPECT(ms_track(block, "block", "int[16]", __FILE__, __LINE__) == (loaded ? MS_OK : MS_ENOTLOADED));
  EXPECT(ms_ref_retain(block) == (loaded ? 1 : MS_ENOTLOADED));
  EXPECT(ms_ref_set(block, 3) == (loaded ? 3 : MS_ENOTLOADED));
  EXPECT(ms_ref_release(block) == (loaded ? 2 : MS_ENOTLOADED));
  EXPECT(ms_tag_push("phase") == (loaded ? MS_OK : MS_ENOTLOADED));
  EXPECT(ms_tag_pop() == (loaded ? MS_OK : MS_ENOTLOADED));
  /* README's form: NULL = the default name (the test runs in a scratch folder) */
  EXPECT(ms_snapshot(NULL) == (loaded ? MS_OK : MS_ENOTLOADED));
  /* arguments are evaluated exactly once, loaded or not */
  EXPECT(ms_set_sample_rate((size_t)(++calls, 512 * 1024)) == (loaded ? MS_OK : MS_ENOTLOADED));
  EXPECT(calls == 1);
  /* the weak symbols themselves */
  EXPECT((ms_snapshot != NULL) == loaded);

  /* the macros */
  EXPECT(MS_TRACK(block) == (loaded ? MS_OK : MS_ENOTLOADED));
  EXPECT(MS_TRACK_AS(block, "int[16]") == (loaded ? MS_OK : MS_ENOTLOADED));
  {
    long r = MS_REF_RETAIN(block);
    long s = MS_REF(block, 7);
    long t = MS_REF_RELEASE(block);
    EXPECT(r == (loaded ? 3 : MS_ENOTLOADED));
    EXPECT(s == (loaded ? 7 : MS_ENOTLOADED));
    EXPECT(t == (loaded ? 6 : MS_ENOTLOADED));
  }
  EXPECT(MS_TAG_PUSH("macro") == (loaded ? MS_OK : MS_ENOTLOADED));
  EXPECT(MS_TAG_POP() == (loaded ? MS_OK : MS_ENOTLOADED));
  EXPECT(MS_SNAPSHOT(NULL) == (loaded ? MS_OK : MS_ENOTLOADED));
  free(block);
  if (!failures) printf("api_calls: %s: ok\n", loaded ? "loaded" : "not loaded");
  return failures ? 1 : 0;
}
