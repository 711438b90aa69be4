/* R6: ms_set_sample_rate() resets other threads' countdowns with a plain store that races with
 * the owner's load/modify/store on the malloc fast path (countdown_set after mi_malloc). When the
 * old rate was 0 the countdown is INT64_MAX: a lost reset means that thread never samples.
 * Start with MEMSCOPE_SAMPLE_RATE=0, switch to 4096 while a worker allocates. */
#include <memscope.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
static atomic_int stop;
static void *worker(void *a) {
  (void)a;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    void *p = malloc(32);
    __asm__ volatile("" ::"r"(p) : "memory");
    free(p);
  }
  return NULL;
}
int main(void) {
  int lost = 0, runs = 10;
  for (int r = 0; r < runs; r++) {
    ms_set_sample_rate(0);
    atomic_store(&stop, 0);
    pthread_t th;
    pthread_create(&th, NULL, worker, NULL);
    usleep(20000);
    ms_stats_t a, b;
    ms_stats(&a);
    ms_set_sample_rate(4096); /* worker allocates 32 B per iteration: a sample every ~128 */
    /* on a loaded machine the worker may get little CPU: give it up to 2 s to sample */
    for (int wait = 0; wait < 200; wait++) {
      usleep(10000);
      ms_stats(&b);
      if (b.sampled_allocations != a.sampled_allocations) break;
    }
    atomic_store(&stop, 1);
    pthread_join(th, NULL);
    if (b.sampled_allocations == a.sampled_allocations) lost++;
  }
  printf("runs where the worker never sampled after ms_set_sample_rate(4096): %d/%d\n", lost, runs);
  return lost != 0;
}
