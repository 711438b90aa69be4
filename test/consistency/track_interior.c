/* track_interior.c — ms_track() / ms_ref_*() given a pointer into the middle of a heap block
 * (MS_TRACK(&array[3]) is an easy mistake) must not change the program's memory. Defect: the
 * word before the pointer is read as a block header; when the program's data there happens to
 * look like a live tag (top byte 0xA7, kind SHORT), memscope "names" it by setting the NAMED bit
 * in the program's own data and returns 0. Expected: MS_ENOTFOUND (or the containing block named)
 * and the data unchanged. Exits 1 when the data changed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "memscope.h"

int main(void) {
  if (!ms_track) { printf("track_interior: not on memscope\n"); return 0; }
  uint64_t *a = malloc(8 * sizeof *a);
  if (!a) return 2;
  for (unsigned i = 0; i < 8; i++) a[i] = 0x1111111111111111ull * i;
  a[2] = 0xA700000000000010ull; /* program data that happens to look like a live header */
  const uint64_t want = a[2];
  int rc = ms_track(&a[3], "a[3]", "uint64_t", __FILE__, __LINE__);
  long r = ms_ref_retain(&a[5]);
  uint64_t got = a[2];
  printf("track_interior: ms_track = %d, ms_ref_retain = %ld, a[2] 0x%016llx -> 0x%016llx\n", rc, r,
         (unsigned long long)want, (unsigned long long)got);
  free(a);
  return got != want;
}
