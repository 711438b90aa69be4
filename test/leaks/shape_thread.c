/* A block reached only from another thread's stack (the thread is blocked in read() when the
 * process exits): still reachable. */
#include <pthread.h>
#include <unistd.h>
#include "shape.h"
static int ready[2], block[2];
static void *worker(void *arg) {
  (void)arg;
  void *volatile p = shape_alloc(72);
  char c = 1;
  if (write(ready[1], &c, 1) != 1) return NULL;
  if (read(block[0], &c, 1) < 0) return NULL; /* never returns: nobody writes */
  return (void *)p;
}
int main(void) {
  if (pipe(ready) || pipe(block)) return 1;
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  char c;
  if (read(ready[0], &c, 1) != 1) return 1;
  scrub();
  return 0; /* exit with the worker still blocked */
}
