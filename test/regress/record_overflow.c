/* R3: a 16-byte heap overflow out of one block lands in the next block's sample record (the 32
 * bytes in front of its guard word, which the guard word does not protect). free() of the next
 * block passes live_tag() (guard and tag intact); the tracker must then notice the record's
 * check word is gone and report a buffer overflow (it once wrote through overwritten list
 * pointers: a crash, or a write to an attacker-chosen address). Run with MEMSCOPE_SAMPLE_RATE=1
 * and MEMSCOPE_CHECKS=headers (SAMPLED records; lean mode's exact-mode EXACT records are one word
 * with no check word: alloc/header.h). Two 48-byte requests with 48-byte headers: 96-byte
 * mimalloc blocks, side by side. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
  char *a = malloc(48), *b = malloc(48);
  fprintf(stderr, "a=%p b=%p (b - a = %td)\n", (void *)a, (void *)b, b - a);
  if (b - a != 96) { fprintf(stderr, "blocks not adjacent; adjust\n"); return 2; }
  memset(a, 0x41, 48 + 16);  /* 16 bytes past a's end: b's record check word */
  free(b);
  fprintf(stderr, "survived\n");
  return 0;
}
