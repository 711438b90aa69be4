/* inline_site.c — allocations made inside functions the compiler inlined (issue 17: a site read
 * "main demo.c:22" where line 22 is inside session_new, inlined into main).
 *
 * record_new() is inlined into make_records(), which is inlined into main(); the malloc call's
 * return address therefore lies in main's code. The converter must still show the stack as
 * record_new (line of the malloc) <- make_records (line of the call) <- main (line of the call),
 * the two inlined frames marked "inlined" (test/figures/figures_test.py checks the lines with
 * the MARK comments below). Built with -O2 -g. */
#include <stdlib.h>
#include <string.h>

typedef struct record { char name[40]; double *values; } record_t;

static inline __attribute__((always_inline)) record_t *record_new(int i) {
  record_t *r = malloc(sizeof *r);               /* MARK:record_new */
  if (!r) abort();
  memset(r, 0, sizeof *r);
  r->name[0] = (char)('a' + i % 26);
  return r;
}

static inline __attribute__((always_inline)) void make_records(record_t **out, int n) {
  for (int i = 0; i < n; i++) out[i] = record_new(i);   /* MARK:make_records */
}

int main(void) {
  record_t *volatile recs[64];
  make_records((record_t **)recs, 64);           /* MARK:main */
  int sum = 0;
  for (int i = 0; i < 64; i++) { sum += recs[i]->name[0]; free(recs[i]); }
  return sum == 0;
}
