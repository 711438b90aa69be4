/* peak_final.c — a program whose heap peak is made by one large final allocation (the shape of
 * the python run in issue 17, where the final PyUnicode_Join string was missing from "at peak").
 *
 * Three sites rise and fall (so earlier, lower peaks exist and must not be what is reported),
 * then final_join() allocates 4 MiB on top of what is live: that allocation sets the peak. Run
 * at MEMSCOPE_SAMPLE_RATE=1, the sites' "bytes live at the peak" must add up to the summary's
 * peak exactly, with final_join holding its 4 MiB (test/figures/figures_test.py). */
#include <stdlib.h>
#include <string.h>

#define N_SMALL 200

static void *volatile keep[N_SMALL];
static void *volatile medium[16];

__attribute__((noinline)) static void small_objects(void) {
  for (int i = 0; i < N_SMALL; i++) {
    keep[i] = malloc(100 + i);
    memset(keep[i], 1, 100 + i);
  }
  for (int i = 0; i < N_SMALL; i += 2) { free(keep[i]); keep[i] = NULL; }
}

__attribute__((noinline)) static void medium_buffers(void) {
  for (int i = 0; i < 16; i++) {
    medium[i] = malloc(20000);
    memset(medium[i], 2, 20000);
  }
}

__attribute__((noinline)) static void drop_some_medium(void) {
  for (int i = 0; i < 8; i++) { free(medium[i]); medium[i] = NULL; }
}

__attribute__((noinline)) static char *final_join(void) {
  char *s = malloc(4u << 20);
  memset(s, 3, 4u << 20);
  return s;
}

int main(int argc, char **argv) {
  (void)argv;
  small_objects();
  medium_buffers();
  drop_some_medium();
  char *volatile big = final_join();   /* the peak: nothing is allocated after this */
  if (argc > 1) return 0;              /* "keep": exit with everything live (overhead test) */
  free(big);
  for (int i = 0; i < 16; i++) free(medium[i]);
  for (int i = 0; i < N_SMALL; i++) free(keep[i]);
  return 0;
}
