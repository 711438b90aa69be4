/* R1: a live sampled block with a damaged canary + MEMSCOPE_OUTPUT: the exit dump's canary
 * verification reports a fatal error, whose die path writes a dump while the snapshot mutex is
 * still held by the same thread -> self-deadlock (process hangs instead of aborting). */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
int main(void) {
  char *p = malloc(10);        /* SHORT block, 24/32 bin: slack holds the canary */
  memset(p, 'x', 12);          /* 2-byte overflow into the canary */
  printf("leaving main with a damaged canary on a live block\n");
  fflush(stdout);
  return 0;                    /* exit dump verifies live canaries */
}
