/* R3: a 16-byte heap overflow out of one block lands in the next block's sample record (the 48
 * bytes in front of its guard word, which the guard word does not protect). free() of the next
 * block passes live_tag() (guard and tag intact) and _ms_live_remove() then writes through the
 * overwritten prev/next pointers: memscope crashes (or writes to an attacker-chosen address)
 * instead of reporting a buffer overflow. Run with MEMSCOPE_SAMPLE_RATE=1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
  char *a = malloc(48), *b = malloc(48);
  fprintf(stderr, "a=%p b=%p (b - a = %td)\n", (void *)a, (void *)b, b - a);
  if (b - a != 112) { fprintf(stderr, "blocks not adjacent; adjust\n"); return 2; }
  memset(a, 0x41, 48 + 16);  /* 16 bytes past a's end: b's record prev/next */
  free(b);
  fprintf(stderr, "survived\n");
  return 0;
}
