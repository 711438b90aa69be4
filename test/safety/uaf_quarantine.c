/* uaf_quarantine.c — writes into a block after freeing it; the quarantine (MEMSCOPE_CHECKS
 * quarantine=SIZE) finds the changed fill pattern when the block leaves it: pushed out by later
 * frees (default), or drained when the freeing thread exits ("thread"). Expect use_after_free
 * at block + 8. */
#include <pthread.h>
#include <string.h>

#include "common.h"

NOINLINE char *make_block(void) { return malloc(64); }
NOINLINE void drop_block(char *p) { free(opaque(p)); }
NOINLINE void write_after_free(char *p) { ((volatile char *)opaque(p))[8] = 'x'; }
NOINLINE void churn(void) {
  for (int i = 0; i < 4000; i++) free(opaque(malloc(64)));
}

NOINLINE void *thread_main(void *arg) {
  (void)arg;
  char *p = make_block();
  announce("block", p);
  announce("access", p + 8);
  drop_block(p);
  write_after_free(p);
  return NULL; /* the thread's quarantine is verified as the thread exits */
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "thread") == 0) {
    pthread_t t;
    pthread_create(&t, NULL, thread_main, NULL);
    pthread_join(t, NULL);
    puts("survived");
    return 0;
  }
  char *p = make_block();
  announce("block", p);
  announce("access", p + 8);
  drop_block(p);
  write_after_free(p);
  churn();
  puts("survived");
  return 0;
}
