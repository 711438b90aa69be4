/* lifecycle.c CASE [DSO] — process life events on memscope; each case must finish (a watchdog
 * alarm fails it after 120 s) and keep the books exact: ms_stats() live blocks come back to
 * what the program itself holds (bytes too: exact at rate 1, by size class when sampling), and
 * total_allocations - total_frees == live.
 *   fork       a child inherits the books, allocates and frees, exits; the parent's are unchanged
 *   exec       fork+exec, vfork+exec and posix_spawn of this program ("child" case) while the
 *              parent holds live blocks; the children start with fresh books and exit 0
 *   dlopen     a library allocates 32 blocks and is dlclosed while they live: still counted,
 *              then freed by the program; a snapshot after the dlclose is written
 *   snapshot   threads that allocate and exit while another thread writes snapshots in a loop
 *   signal     a SIGPROF timer at 10 kHz interrupts malloc/free over and over: the handler runs,
 *              the program finishes, the books balance
 * Run with LD_PRELOAD=libmemscope.so (the test sets the rate); memscope.h's calls need it loaded.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memscope.h"

extern char **environ;
static int failures;
#define EXPECT(cond)                                                                 \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      fprintf(stderr, "lifecycle %s: %s:%d: %s\n", which, __FILE__, __LINE__, #cond); \
      failures++;                                                                    \
    }                                                                                \
  } while (0)
static const char *which = "?";

static ms_stats_t stats(void) {
  ms_stats_t s;
  if (ms_stats(&s) != MS_OK) {
    fprintf(stderr, "lifecycle: memscope is not loaded\n");
    exit(2);
  }
  return s;
}

/* the books are consistent, and live blocks moved by exactly `blocks` from base. Live bytes: at
 * rate 1 exactly `bytes` (requested sizes); when sampling, unsampled blocks are counted by their
 * usable size (the allocator's size class), so the move must be at least `bytes` and at most
 * the size classes' rounding above it. */
static void books(const ms_stats_t *base, long blocks, long bytes, const char *when) {
  ms_stats_t s = stats();
  long moved = (long)(s.live_bytes - base->live_bytes);
  long lo = bytes < 0 ? -bytes : bytes, got = moved < 0 ? -moved : moved;
  int bytes_ok = s.sample_rate == 1 ? moved == bytes
                                    : (moved < 0) == (bytes < 0) && got >= lo && got <= lo + lo / 4 + 64 * labs(blocks);
  if (s.total_allocations - s.total_frees != s.live_allocations ||
      (long)(s.live_allocations - base->live_allocations) != blocks || !bytes_ok) {
    fprintf(stderr, "lifecycle %s: %s: live %llu blocks %llu bytes (base %llu / %llu, want %+ld / %+ld), "
            "allocations %llu frees %llu\n", which, when, (unsigned long long)s.live_allocations,
            (unsigned long long)s.live_bytes, (unsigned long long)base->live_allocations,
            (unsigned long long)base->live_bytes, blocks, bytes,
            (unsigned long long)s.total_allocations, (unsigned long long)s.total_frees);
    failures++;
  }
}

static void churn(int n) {
  for (int i = 0; i < n; i++) {
    void *volatile p = malloc((size_t)(i % 3000) + 1); /* volatile: gcc drops free(malloc()) */
    free(p);
  }
}

static int case_fork(void) {
  ms_stats_t base = stats();
  void *held[10];
  for (int i = 0; i < 10; i++) held[i] = malloc(1000);
  books(&base, 10, 10000, "before fork");
  pid_t pid = fork();
  if (pid == 0) {
    books(&base, 10, 10000, "child after fork");
    churn(20000);
    void *volatile more = malloc(5000);
    books(&base, 11, 15000, "child after its own work");
    free(more);
    for (int i = 0; i < 10; i++) free(held[i]);
    books(&base, 0, 0, "child after freeing");
    _exit(failures ? 1 : 0);
  }
  churn(20000);
  int st = 0;
  EXPECT(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  books(&base, 10, 10000, "parent after the child");
  for (int i = 0; i < 10; i++) free(held[i]);
  books(&base, 0, 0, "parent at the end");
  return 0;
}

static int case_child(void) {
  ms_stats_t s = stats();
  /* fresh books: a new image has allocated only what its start-up needed */
  EXPECT(s.live_allocations < 1000);
  churn(5000);
  return failures ? 1 : 0;
}

static void wait_ok(pid_t pid, const char *how) {
  int st = 0;
  if (pid <= 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    fprintf(stderr, "lifecycle exec: %s child failed (status %d)\n", how, st);
    failures++;
  }
}

static int case_exec(const char *self) {
  ms_stats_t base = stats();
  void *held = malloc(4321);
  char *args[] = {(char *)self, (char *)"child", NULL};
  pid_t pid = fork();
  if (pid == 0) {
    execv(self, args);
    _exit(127);
  }
  wait_ok(pid, "fork+exec");
  pid = vfork();
  if (pid == 0) {
    execv(self, args);
    _exit(127);
  }
  wait_ok(pid, "vfork+exec");
  pid_t sp = 0;
  EXPECT(posix_spawn(&sp, self, NULL, NULL, args, environ) == 0);
  wait_ok(sp, "posix_spawn");
  books(&base, 1, 4321, "after the children");
  free(held);
  books(&base, 0, 0, "at the end");
  return 0;
}

static int case_dlopen(const char *dso, const char *dir) {
  ms_stats_t base = stats();
  void *h = dlopen(dso, RTLD_NOW);
  if (!h) {
    fprintf(stderr, "lifecycle dlopen: %s\n", dlerror());
    return 1;
  }
  ms_stats_t opened = stats(); /* dlopen itself allocates (and keeps) loader data */
  int (*fn)(int, void **) = (int (*)(int, void **))dlsym(h, "dso_alloc");
  void *blocks[32];
  EXPECT(fn && fn(32, blocks) == 32);
  long bytes = 0;
  for (int i = 0; i < 32; i++) bytes += 100 + i;
  books(&opened, 32, bytes, "after the library allocated");
  EXPECT(dlclose(h) == 0);
  ms_stats_t closed = stats();
  EXPECT(closed.live_allocations >= base.live_allocations + 32); /* its blocks are still counted */
  char path[4200];
  snprintf(path, sizeof path, "%s/dlclosed.%d.msp", dir, (int)getpid());
  EXPECT(ms_snapshot(path) == MS_OK); /* stacks into an unloaded library: still written */
  for (int i = 0; i < 32; i++) free(blocks[i]);
  books(&closed, -32, -bytes, "after freeing the library's blocks");
  return 0;
}

static volatile int stop_snapshots;
static const char *snap_dir;

static void *snapshotter(void *arg) {
  (void)arg;
  char path[4200];
  int n = 0;
  while (!stop_snapshots) {
    snprintf(path, sizeof path, "%s/threads.%d.%d.msp", snap_dir, (int)getpid(), n++ % 4);
    int rc = ms_snapshot(path);
    if (rc != MS_OK && rc != MS_EBUSY) {
      fprintf(stderr, "lifecycle snapshot: ms_snapshot: %s\n", ms_strerror(rc));
      failures++;
    }
  }
  return (void *)(long)n;
}

static void *short_lived(void *arg) {
  churn(2000);
  return malloc((size_t)(long)arg); /* handed to main, freed there */
}

static void *idle(void *arg) { return arg; }

static int case_snapshot(const char *dir) {
  snap_dir = dir;
  /* warm glibc's thread caches first (stacks and their TLS blocks are kept for reuse) */
  pthread_t warm[9];
  for (int i = 0; i < 9; i++) pthread_create(&warm[i], NULL, idle, NULL);
  for (int i = 0; i < 9; i++) pthread_join(warm[i], NULL);
  ms_stats_t base = stats();
  pthread_t snap;
  pthread_create(&snap, NULL, snapshotter, NULL);
  void *kept[200];
  long bytes = 0;
  for (int round = 0; round < 25; round++) {
    pthread_t t[8];
    for (int i = 0; i < 8; i++) pthread_create(&t[i], NULL, short_lived, (void *)(long)(64 + i));
    for (int i = 0; i < 8; i++) pthread_join(t[i], &kept[round * 8 + i]), bytes += 64 + i;
  }
  stop_snapshots = 1;
  void *n;
  pthread_join(snap, &n);
  EXPECT((long)n > 0);
  books(&base, 200, bytes, "after 200 threads exited during snapshots");
  for (int i = 0; i < 200; i++) free(kept[i]);
  books(&base, 0, 0, "at the end");
  return 0;
}

static volatile sig_atomic_t ticks;
static void on_prof(int sig) {
  (void)sig;
  ticks++;
}

static int case_signal(void) {
  ms_stats_t base = stats();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_prof;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGPROF, &sa, NULL);
  struct itimerval it = {{0, 100}, {0, 100}};
  setitimer(ITIMER_PROF, &it, NULL);
  void *held[64] = {0};
  for (int i = 0; i < 400000 || ticks < 20; i++) {
    int k = i & 63;
    free(held[k]);
    held[k] = malloc((size_t)(i % 5000) + 1);
    if (i > 50000000) break;
  }
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_PROF, &off, NULL);
  EXPECT(ticks >= 20);
  for (int k = 0; k < 64; k++) free(held[k]);
  books(&base, 0, 0, "after the interrupted loop");
  return 0;
}

int main(int argc, char **argv) {
  alarm(120); /* a hang is a failure, not a stuck test run */
  which = argc > 1 ? argv[1] : "?";
  const char *arg = argc > 2 ? argv[2] : "/tmp";
  int rc;
  if (!strcmp(which, "fork")) rc = case_fork();
  else if (!strcmp(which, "exec")) rc = case_exec("/proc/self/exe");
  else if (!strcmp(which, "child")) return case_child();
  else if (!strcmp(which, "dlopen")) rc = case_dlopen(arg, argc > 3 ? argv[3] : "/tmp");
  else if (!strcmp(which, "snapshot")) rc = case_snapshot(arg);
  else if (!strcmp(which, "signal")) rc = case_signal();
  else {
    fprintf(stderr, "usage: lifecycle fork|exec|dlopen DSO DIR|snapshot DIR|signal\n");
    return 2;
  }
  if (!rc && !failures) printf("lifecycle %s: ok\n", which);
  return rc || failures ? 1 : 0;
}
