/* R4: a free() late in thread exit (after memscope's own pthread-key destructor, so the thread
 * uses the shared orphan block under orphan_lock) finds a damaged canary. The report path
 * allocates (dlopen of libdw, snapshot...), which re-enters _ms_alloc -> thread_enter ->
 * spins on orphan_lock, held by this same thread: the process hangs.
 * Run with MEMSCOPE_CHECKS=overflow. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static pthread_key_t key;
static void late_free(void *p) { free(p); }
static void *worker(void *arg) {
  (void)arg;
  char *p = malloc(10);
  memset(p, 'x', 12); /* damages the canary */
  pthread_setspecific(key, p);
  return NULL;
}
int main(void) {
  free(malloc(1));                       /* memscope initialised: its key is created first */
  pthread_key_create(&key, late_free);
  pthread_t th;
  pthread_create(&th, NULL, worker, NULL);
  pthread_join(th, NULL);
  fprintf(stderr, "joined\n");
  return 0;
}
