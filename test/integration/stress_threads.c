/* stress_threads.c — 64-thread allocation stress for memscope (run linked or under LD_PRELOAD).
 *
 * Rounds of 64 threads are created and joined. Each thread runs a random mix of malloc, calloc,
 * realloc, posix_memalign, aligned_alloc and free over its own slots, fills every block with a
 * pattern naming its owner and checks the pattern before releasing it (catches blocks handed out
 * twice or clobbered). One block in eight is handed to another thread through a lock-free
 * multi-producer stack per thread (the block itself is the list node, so the hand-over allocates
 * nothing), and that thread checks and frees it: frees on other threads than the allocating one.
 * Meanwhile a reader thread calls ms_stats() (and, with --snapshot DIR, ms_snapshot() during
 * round 2) in a loop, and in the middle of round 2 the main thread fork()s, likely while a
 * snapshot is being taken: the child allocates, frees, starts threads of its own, checks its
 * own counters return to its baseline, writes a dump of its own (with --snapshot) and exits 0.
 *
 * Checks: contents, alignment, the child's exit status, and that ms_stats() live_bytes and
 * live_allocations return exactly to the baseline taken before the first round (after a warm-up
 * round, so glibc's cached thread stacks and stdio buffers are already there). A watchdog alarm()
 * turns a deadlock into a failure. Without memscope loaded (ms_stats is weak) the counter checks
 * are skipped, unless --require-stats is given.
 *
 * Usage: stress_threads [--require-stats] [--snapshot DIR] [--rounds N] [--ops N]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memscope.h"

#define NTHREADS 64
#define SLOTS 48
#define WATCHDOG_SECONDS 150

/* Every block starts with this header, so any thread can check and free it. */
struct block {
  struct block *next; /* link in a hand-over stack */
  size_t size;        /* bytes the owner asked for (>= sizeof(struct block)) */
  uint32_t owner;     /* thread index that wrote the pattern */
  uint32_t seq;
};

struct handoff { /* Treiber stack; the owner takes the whole list at once, so no ABA problem */
  _Atomic(struct block *) head;
  char pad[64 - sizeof(void *)];
};

static struct handoff inbox[NTHREADS];
static atomic_long allocs_done, cross_frees, failures;
static atomic_int stop_reader, current_round, snapshots_taken;
static int rounds = 4;
static long ops_per_thread = 6000;
static const char *snapshot_dir;

static void fail(const char *what, long a, long b) {
  fprintf(stderr, "stress_threads: FAIL %s (%ld, %ld)\n", what, a, b);
  atomic_fetch_add(&failures, 1);
}

static uint8_t pattern(uint32_t owner, uint32_t seq) { return (uint8_t)(owner * 31u + seq * 7u + 1u); }

static void fill(struct block *b, size_t size, uint32_t owner, uint32_t seq) {
  b->next = NULL;
  b->size = size;
  b->owner = owner;
  b->seq = seq;
  memset((char *)b + sizeof *b, pattern(owner, seq), size - sizeof *b);
}

static void check(const struct block *b) {
  const uint8_t *p = (const uint8_t *)b + sizeof *b;
  uint8_t want = pattern(b->owner, b->seq);
  size_t n = b->size - sizeof *b;
  /* checking every byte of large blocks costs more than it finds; ends and a stride suffice */
  for (size_t i = 0; i < n; i += (n > 256 ? 61 : 1))
    if (p[i] != want) {
      fail("block contents changed", (long)b->owner, (long)i);
      return;
    }
  if (n && p[n - 1] != want) fail("block tail changed", (long)b->owner, (long)n);
}

static uint64_t rng(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static size_t pick_size(uint64_t r) {
  static const size_t big[] = {4096, 8192, 65536, 300000};
  switch (r % 16) {
  case 0: return big[(r >> 8) % 4];
  case 1: case 2: case 3: return sizeof(struct block) + (r >> 8) % 1024;
  default: return sizeof(struct block) + (r >> 8) % 128;
  }
}

static void drain(int self) {
  struct block *b = atomic_exchange_explicit(&inbox[self].head, NULL, memory_order_acquire);
  while (b) {
    struct block *next = b->next;
    check(b);
    free(b);
    atomic_fetch_add_explicit(&cross_frees, 1, memory_order_relaxed);
    b = next;
  }
}

static void give(int to, struct block *b) {
  struct block *old = atomic_load_explicit(&inbox[to].head, memory_order_relaxed);
  do b->next = old;
  while (!atomic_compare_exchange_weak_explicit(&inbox[to].head, &old, b, memory_order_release,
                                                memory_order_relaxed));
}

static struct block *new_block(uint64_t r, uint32_t self, uint32_t seq) {
  size_t size = pick_size(r);
  void *p = NULL;
  switch ((r >> 40) % 8) {
  case 0: p = calloc(1, size);
    if (p) for (size_t i = 0; i < size; i += 509) if (((char *)p)[i]) fail("calloc not zeroed", (long)size, (long)i);
    break;
  case 1: {
    size_t align = (size_t)64 << ((r >> 44) % 7); /* 64 .. 4096 */
    int e = posix_memalign(&p, align, size);
    if (e) { fail("posix_memalign", e, (long)size); p = NULL; }
    else if ((uintptr_t)p % align) fail("posix_memalign alignment", (long)align, (long)((uintptr_t)p % align));
    break;
  }
  case 2: p = aligned_alloc(256, (size + 255) & ~(size_t)255);
    if (p && (uintptr_t)p % 256) fail("aligned_alloc alignment", 256, (long)((uintptr_t)p % 256));
    size = (size + 255) & ~(size_t)255;
    break;
  default: p = malloc(size);
    if (p && (uintptr_t)p % 16) fail("malloc alignment", 16, (long)((uintptr_t)p % 16));
  }
  if (!p) { fail("allocation returned NULL", (long)size, errno); abort(); }
  atomic_fetch_add_explicit(&allocs_done, 1, memory_order_relaxed);
  fill(p, size, self, seq);
  return p;
}

static void *worker(void *arg) {
  uint32_t self = (uint32_t)(uintptr_t)arg;
  uint64_t s = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)self << 32) ^ (uint64_t)self;
  struct block *slot[SLOTS] = {0};
  for (long op = 0; op < ops_per_thread; op++) {
    uint64_t r = rng(&s);
    int i = (int)(r % SLOTS);
    uint32_t seq = (uint32_t)op;
    if (!slot[i]) {
      slot[i] = new_block(r, self, seq);
    } else if ((r >> 20) % 6 == 0) { /* realloc keeps the prefix; refill with a new pattern */
      check(slot[i]);
      size_t size = pick_size(r >> 3), keep = slot[i]->size < size ? slot[i]->size : size;
      uint8_t old = pattern(slot[i]->owner, slot[i]->seq);
      struct block *nb = realloc(slot[i], size);
      if (!nb) { fail("realloc returned NULL", (long)size, errno); abort(); }
      const uint8_t *p = (const uint8_t *)nb + sizeof *nb;
      if (keep > sizeof *nb && p[keep - sizeof *nb - 1] != old) fail("realloc lost contents", (long)keep, 0);
      atomic_fetch_add_explicit(&allocs_done, 1, memory_order_relaxed);
      fill(nb, size, self, seq);
      slot[i] = nb;
    } else if ((r >> 24) % 8 == 0) { /* hand over to another thread, which frees it */
      give((int)((self + 1 + (r >> 28) % (NTHREADS - 1)) % NTHREADS), slot[i]);
      slot[i] = NULL;
    } else {
      check(slot[i]);
      free(slot[i]);
      slot[i] = NULL;
    }
    if ((op & 63) == 0) drain((int)self);
  }
  for (int i = 0; i < SLOTS; i++)
    if (slot[i]) { check(slot[i]); free(slot[i]); }
  drain((int)self);
  return NULL;
}

static void *reader(void *arg) {
  (void)arg;
  int n = 0;
  while (!atomic_load(&stop_reader)) {
    ms_stats_t st;
    if (ms_stats && ms_stats(&st) == 0 && st.live_bytes > (1ull << 40))
      fail("absurd live_bytes while running", (long)(st.live_bytes >> 20), 0);
    /* snapshots while round 2 runs, so that one is likely in progress when main forks */
    if (snapshot_dir && ms_snapshot && atomic_load(&current_round) == 2 && n < 4 && ++n) {
      char path[4096];
      snprintf(path, sizeof path, "%s/stress.%d.%d.msp", snapshot_dir, (int)getpid(), n);
      int e = ms_snapshot(path);
      struct stat sb;
      if (e) fail("ms_snapshot during the stress", e, 0);
      else if (stat(path, &sb) != 0 || sb.st_size == 0) fail("ms_snapshot wrote no file", errno, 0);
      else atomic_fetch_add(&snapshots_taken, 1);
      unlink(path); /* only its existence matters here; the format has its own tests */
    }
    usleep(2000);
  }
  return NULL;
}

/* The child's thread allocates and frees only its own blocks: the inboxes still hold blocks of
 * the parent's threads, counted in the child's baseline. */
static void *child_thread(void *arg) {
  uint64_t s = (uintptr_t)arg | 1;
  void *p[64] = {0};
  for (int op = 0; op < 20000; op++) {
    uint64_t r = rng(&s);
    int i = (int)(r % 64);
    if (p[i]) {
      if (*(uint64_t *)p[i] != (uintptr_t)p[i]) fail("child block changed", i, op);
      free(p[i]);
    }
    p[i] = (r >> 32) % 4 ? malloc(8 + (r >> 40) % 3000) : realloc(NULL, 8 + (r >> 40) % 300);
    if (!p[i]) _exit(7);
    *(uint64_t *)p[i] = (uintptr_t)p[i];
  }
  for (int i = 0; i < 64; i++) free(p[i]);
  return NULL;
}

static void child_after_fork(void) {
  alarm(30); /* alarms are not inherited by the child */
  ms_stats_t before, after;
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  /* a first thread puts its stack (and glibc's per-thread blocks kept with it) in the cache */
  if (pthread_create(&t, &attr, child_thread, (void *)1) || pthread_join(t, NULL)) _exit(4);
  int have = ms_stats && ms_stats(&before) == 0;
  void *p[1000];
  for (int k = 0; k < 20; k++) {
    for (int i = 0; i < 1000; i++) {
      p[i] = malloc(16 + (size_t)(i * 37 % 2000));
      if (!p[i]) _exit(3);
      memset(p[i], i, 16);
    }
    for (int i = 0; i < 1000; i++) free(p[i]);
  }
  /* the child can still create threads that allocate */
  if (pthread_create(&t, &attr, child_thread, (void *)2) || pthread_join(t, NULL)) _exit(4);
  if (have && ms_stats(&after) == 0 &&
      (after.live_allocations != before.live_allocations || after.live_bytes != before.live_bytes)) {
    fprintf(stderr, "child: live %" PRIu64 "/%" PRIu64 " -> %" PRIu64 "/%" PRIu64 "\n",
            before.live_allocations, before.live_bytes, after.live_allocations, after.live_bytes);
    _exit(5);
  }
  if (snapshot_dir && ms_snapshot) { /* the child writes its own dump */
    char path[4096];
    struct stat sb;
    snprintf(path, sizeof path, "%s/stress-child.%d.msp", snapshot_dir, (int)getpid());
    if (ms_snapshot(path) != 0 || stat(path, &sb) != 0 || sb.st_size == 0) _exit(8);
    unlink(path);
  }
  if (atomic_load(&failures)) _exit(6);
  exit(0); /* through atexit handlers and library destructors, as a real program would */
}

static void run_round(int round) {
  pthread_t tid[NTHREADS];
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  /* small stacks: all 64 stay in glibc's stack cache, so glibc's own per-thread allocations
     (kept with cached stacks) are the same after every round */
  pthread_attr_setstacksize(&attr, 256 * 1024);
  atomic_store(&current_round, round);
  for (int t = 0; t < NTHREADS; t++)
    if (pthread_create(&tid[t], &attr, worker, (void *)(uintptr_t)t)) { fail("pthread_create", t, 0); abort(); }
  if (round == 2) {
    usleep(1000);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) fail("fork", errno, 0);
    if (pid == 0) child_after_fork();
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
      fail("forked child did not exit 0", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
           WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  }
  for (int t = 0; t < NTHREADS; t++) pthread_join(tid[t], NULL);
  pthread_attr_destroy(&attr);
  for (int t = 0; t < NTHREADS; t++) drain(t); /* blocks given to threads that had finished */
}

int main(int argc, char **argv) {
  int require = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--require-stats")) require = 1;
    else if (!strcmp(argv[i], "--snapshot") && i + 1 < argc) snapshot_dir = argv[++i];
    else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--ops") && i + 1 < argc) ops_per_thread = atol(argv[++i]);
    else { fprintf(stderr, "usage: %s [--require-stats] [--snapshot DIR] [--rounds N] [--ops N]\n", argv[0]); return 2; }
  }
  alarm(WATCHDOG_SECONDS); /* SIGALRM's default action kills us: a deadlock becomes a failure */
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("stress_threads: %d threads x %d rounds x %ld ops, memscope %s\n", NTHREADS, rounds,
         ops_per_thread, ms_stats ? "loaded" : "NOT loaded");
  if (require && !ms_stats) { printf("FAIL: ms_stats() is not available\n"); return 1; }

  /* The reader starts before the baseline: glibc keeps a new thread's blocks (its DTV) with its
   * cached stack after the join, which would otherwise look like a leak. */
  pthread_t rd;
  if (pthread_create(&rd, NULL, reader, NULL)) { fail("reader thread", 0, 0); return 1; }
  run_round(0); /* warm-up: thread stacks, TLS and stdio exist from here on */
  ms_stats_t base = {0}, end = {0};
  if (ms_stats) ms_stats(&base);
  long allocs_before = atomic_load(&allocs_done);

  for (int r = 1; r <= rounds; r++) run_round(r);
  atomic_store(&stop_reader, 1);
  pthread_join(rd, NULL);

  long done = atomic_load(&allocs_done) - allocs_before;
  printf("allocations+reallocs %ld, cross-thread frees %ld, snapshots %d\n", done,
         atomic_load(&cross_frees), atomic_load(&snapshots_taken));
  if (snapshot_dir && ms_snapshot && atomic_load(&snapshots_taken) == 0)
    fail("no snapshot was taken during round 2", 0, 0);
  if (ms_stats) {
    ms_stats(&end);
    printf("live allocations %" PRIu64 " -> %" PRIu64 ", live bytes %" PRIu64 " -> %" PRIu64
           ", total allocations +%" PRIu64 "\n", base.live_allocations, end.live_allocations,
           base.live_bytes, end.live_bytes, end.total_allocations - base.total_allocations);
    if (end.live_allocations != base.live_allocations)
      fail("live_allocations did not return to the baseline", (long)base.live_allocations, (long)end.live_allocations);
    if (end.live_bytes != base.live_bytes)
      fail("live_bytes did not return to the baseline", (long)base.live_bytes, (long)end.live_bytes);
    if (end.total_allocations - base.total_allocations < (uint64_t)done)
      fail("total_allocations counted fewer allocations than were made",
           (long)(end.total_allocations - base.total_allocations), done);
    if (end.peak_live_bytes < end.live_bytes) fail("peak below live", (long)end.peak_live_bytes, (long)end.live_bytes);
  }
  long f = atomic_load(&failures);
  printf("%s\n", f ? "FAIL" : "PASS");
  return f ? 1 : 0;
}
