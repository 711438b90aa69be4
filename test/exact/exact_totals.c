/* exact_totals.c — a program that counts its own allocations per call site, for exact_test.py:
 * under memscope at rate 1 every site's totals and live figures must equal these counts.
 *
 * Eight threads allocate at three sites (kept, freed, calloc'ed), exit with their last figures
 * still pending in memscope's per-thread buffers, and the main thread then allocates through a
 * longjmp out of a nested call and in a signal handler (raised synchronously, outside malloc).
 * Writes the expected figures as JSON to argv[1]; function names are the sites' names. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline, noclone))
#define NO_TAIL() __asm__ volatile("" ::: "memory")
#define THREADS 8
#define OPS 20000

enum { KEPT, FREED, ZEROED, LONGJMP, SIGNAL, N_SITES };
static const char *names[N_SITES] = {"site_kept", "site_freed", "site_zeroed", "site_longjmp",
                                     "site_signal"};
static _Atomic unsigned long total_count[N_SITES], total_bytes[N_SITES], live_count[N_SITES],
    live_bytes[N_SITES];

static void counted(int site, size_t n, int stays) {
  total_count[site]++;
  total_bytes[site] += n;
  if (stays) {
    live_count[site]++;
    live_bytes[site] += n;
  }
}

NOINLINE void *site_kept(size_t n) { void *p = malloc(n); NO_TAIL(); return p; }
NOINLINE void *site_freed(size_t n) { void *p = malloc(n); NO_TAIL(); return p; }
NOINLINE void *site_zeroed(size_t n) { void *p = calloc(1, n); NO_TAIL(); return p; }
NOINLINE void *site_longjmp(size_t n) { void *p = malloc(n); NO_TAIL(); return p; }
NOINLINE void *site_signal(size_t n) { void *p = malloc(n); NO_TAIL(); return p; }

static void *keep[THREADS][OPS / 10 + 1];

static void *worker(void *arg) {
  long id = (long)arg;
  unsigned seed = (unsigned)id * 2654435761u;
  int nkeep = 0;
  for (int k = 0; k < OPS; k++) {
    seed = seed * 1103515245u + 12345u;
    size_t n = 1 + (seed >> 16) % 600;
    char *a = site_freed(n);
    a[0] = 1;
    counted(FREED, n, 0);
    if (k % 10 == 0) {
      keep[id][nkeep++] = site_kept(n + 1);
      counted(KEPT, n + 1, 1);
    }
    char *z = site_zeroed(n * 2);
    counted(ZEROED, n * 2, 0);
    free(z);
    free(a);
  }
  return NULL; /* exits with this thread's last site figures still pending in memscope */
}

static jmp_buf jump;
static void *jumped[100];
/* gcc takes the longjmp for a call that never returns and calls this recursion infinite */
#pragma GCC diagnostic ignored "-Winfinite-recursion"
NOINLINE static void deep(int depth, int i) {
  if (depth <= 0) {
    jumped[i] = site_longjmp(32 + (size_t)i);
    longjmp(jump, 1);
  }
  deep(depth - 1, i);
  NO_TAIL();
}

static void *from_signal[10];
static volatile int n_signal;
static void on_signal(int sig) {
  (void)sig;
  from_signal[n_signal++] = site_signal(48);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  pthread_t th[THREADS];
  for (long i = 0; i < THREADS; i++) pthread_create(&th[i], NULL, worker, (void *)i);
  for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < 100; i++) {
    if (setjmp(jump) == 0) deep(5 + i % 7, i);
    counted(LONGJMP, 32 + (size_t)i, i % 2);
    if (i % 2 == 0) free(jumped[i]); /* half of them leak */
  }
  signal(SIGUSR1, on_signal);
  for (int i = 0; i < 10; i++) {
    raise(SIGUSR1);
    counted(SIGNAL, 48, i < 3);
  }
  for (int i = 3; i < 10; i++) free(from_signal[i]);
  FILE *f = fopen(argv[1], "w");
  if (!f) return 2;
  fprintf(f, "{");
  for (int s = 0; s < N_SITES; s++)
    fprintf(f, "%s\"%s\": {\"total_count\": %lu, \"total_bytes\": %lu, \"live_count\": %lu, \"live_bytes\": %lu}",
            s ? ", " : "", names[s], total_count[s], total_bytes[s], live_count[s], live_bytes[s]);
  fprintf(f, "}\n");
  fclose(f);
  return 0;
}
