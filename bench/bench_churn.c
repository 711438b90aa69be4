/* bench_churn.c — allocation churn workloads for bench/run.sh.
 *
 *   bench_churn st [ops]            one thread
 *   bench_churn mt [threads] [ops]  several threads (default 4), some frees on other threads
 *
 * Each thread keeps a working set of live blocks (a slot array). Every operation picks a slot at
 * random: an empty slot gets a new block; a full one is, one time in eight, resized with realloc,
 * otherwise freed and refilled. Sizes follow a power law over 8..4096 bytes (Pareto, P(size > s)
 * ~ (8/s)^0.9: most blocks small, a long tail of large ones), as in real programs. Every block is
 * written (first and last byte) so that allocators cannot win by never touching memory. In the
 * threaded mode one block in sixteen is handed to the next thread, which frees it: cross-thread
 * frees are the expensive case for per-thread allocators and trackers alike.
 * The program prints a checksum of the work done; it only uses malloc/realloc/free, so the same
 * binary measures glibc, mimalloc and memscope (via LD_PRELOAD).
 */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 65536       /* live blocks per thread */
#define HANDOFF_BATCH 64  /* cross-thread frees travel in batches: one lock per 64 blocks */
#define MAX_THREADS 64
#define SIZE_TABLE 65536  /* sizes are drawn once up front: pow() must not dilute the timing */

static uint64_t rng_next(uint64_t *s) { /* xorshift64*: deterministic, cheap */
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * 0x2545F4914F6CDD1DULL;
}

static size_t draw_size(uint64_t *s) {
  double u = ((rng_next(s) >> 11) + 1) * (1.0 / 9007199254740993.0); /* (0, 1] */
  double v = 8.0 * pow(u, -1.0 / 0.9);
  return v > 4096.0 ? 4096 : (size_t)v;
}

/* A mailbox per thread: other threads push full batches, the owner drains and frees them. */
struct mailbox {
  pthread_mutex_t lock;
  void **items;
  size_t count, cap;
};

static size_t size_table[SIZE_TABLE];

struct worker {
  int id, nthreads;
  long ops;
  uint64_t checksum;
  struct mailbox *boxes;
};

static void mailbox_push(struct mailbox *b, void **batch, size_t n) {
  pthread_mutex_lock(&b->lock);
  if (b->count + n > b->cap) {
    b->cap = (b->count + n) * 2;
    b->items = realloc(b->items, b->cap * sizeof *b->items);
    if (!b->items) abort();
  }
  memcpy(b->items + b->count, batch, n * sizeof *batch);
  b->count += n;
  pthread_mutex_unlock(&b->lock);
}

static void mailbox_drain(struct mailbox *b) {
  void *local[1024];
  for (;;) {
    size_t n = 0;
    pthread_mutex_lock(&b->lock);
    while (b->count > 0 && n < 1024) local[n++] = b->items[--b->count];
    pthread_mutex_unlock(&b->lock);
    if (n == 0) return;
    for (size_t i = 0; i < n; i++) free(local[i]);
  }
}

static void touch(unsigned char *p, size_t n, uint64_t v) {
  p[0] = (unsigned char)v;
  p[n - 1] = (unsigned char)(v >> 8);
}

static void *run_worker(void *arg) {
  struct worker *w = arg;
  void **slot = calloc(SLOTS, sizeof *slot);
  size_t *len = calloc(SLOTS, sizeof *len);
  void *batch[HANDOFF_BATCH];
  size_t nbatch = 0;
  uint64_t s = 0x9E3779B97F4A7C15ULL * (uint64_t)(w->id + 1);
  if (!slot || !len) abort();

  for (long op = 0; op < w->ops; op++) {
    uint64_t r = rng_next(&s);
    size_t i = r % SLOTS;
    size_t n = size_table[(r >> 16) % SIZE_TABLE];
    if (slot[i] == NULL) {
      slot[i] = malloc(n);
    } else if ((r >> 32) % 8 == 0) {
      unsigned char first = *(unsigned char *)slot[i];
      slot[i] = realloc(slot[i], n);
      if (slot[i]) w->checksum += first == *(unsigned char *)slot[i]; /* contents kept */
    } else {
      if (w->nthreads > 1 && (r >> 40) % 16 == 0) {
        batch[nbatch++] = slot[i];
        if (nbatch == HANDOFF_BATCH) {
          mailbox_push(&w->boxes[(w->id + 1) % w->nthreads], batch, nbatch);
          nbatch = 0;
        }
      } else {
        free(slot[i]);
      }
      slot[i] = malloc(n);
    }
    if (!slot[i]) abort();
    len[i] = n;
    touch(slot[i], n, r);
    w->checksum += n;
    if (w->nthreads > 1 && (op & 1023) == 0) mailbox_drain(&w->boxes[w->id]);
  }
  if (nbatch) mailbox_push(&w->boxes[(w->id + 1) % w->nthreads], batch, nbatch);
  for (size_t i = 0; i < SLOTS; i++) free(slot[i]);
  free(slot);
  free(len);
  return NULL;
}

int main(int argc, char **argv) {
  int mt = argc > 1 && strcmp(argv[1], "mt") == 0;
  if (argc < 2 || (!mt && strcmp(argv[1], "st") != 0)) {
    fprintf(stderr, "usage: %s st [ops] | mt [threads] [ops]\n", argv[0]);
    return 2;
  }
  int nthreads = mt ? (argc > 2 ? atoi(argv[2]) : 4) : 1;
  long ops = atol(argc > (mt ? 3 : 2) ? argv[mt ? 3 : 2] : "20000000");
  if (nthreads < 1 || nthreads > MAX_THREADS || ops < 1) {
    fprintf(stderr, "bench_churn: bad thread count or op count\n");
    return 2;
  }
  uint64_t seed = 42;
  for (size_t i = 0; i < SIZE_TABLE; i++) size_table[i] = draw_size(&seed);
  struct mailbox boxes[MAX_THREADS];
  struct worker w[MAX_THREADS];
  pthread_t tid[MAX_THREADS];
  for (int t = 0; t < nthreads; t++) {
    pthread_mutex_init(&boxes[t].lock, NULL);
    boxes[t].items = NULL;
    boxes[t].count = boxes[t].cap = 0;
    w[t] = (struct worker){t, nthreads, ops / nthreads, 0, boxes};
  }
  if (nthreads == 1) {
    run_worker(&w[0]);
  } else {
    for (int t = 0; t < nthreads; t++)
      if (pthread_create(&tid[t], NULL, run_worker, &w[t])) abort();
    for (int t = 0; t < nthreads; t++) pthread_join(tid[t], NULL);
  }
  uint64_t sum = 0;
  for (int t = 0; t < nthreads; t++) {
    mailbox_drain(&boxes[t]);
    free(boxes[t].items);
    sum += w[t].checksum;
  }
  printf("threads=%d ops=%ld checksum=%llu\n", nthreads, ops, (unsigned long long)sum);
  return 0;
}
