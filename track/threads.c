/* threads.c — per-thread figures for dumps: the threads alive now (from their blocks) and the
 * ones that have exited (kept in a bounded list when they exit), with their names. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>

#include "track.h"

#define MAX_RETIRED 1024

typedef struct retired {
  uint64_t tid;
  uint32_t serial;
  char name[16];
  uint64_t allocs, frees, bytes, freed;
} retired_t;

static retired_t retired[MAX_RETIRED];
static uint32_t n_retired;
static uint64_t retired_dropped;
static pthread_mutex_t retired_mutex = PTHREAD_MUTEX_INITIALIZER;

void _ms_threads_lock(int lock) { /* fork handlers */
  if (lock) pthread_mutex_lock(&retired_mutex);
  else pthread_mutex_unlock(&retired_mutex);
}

/* A thread's name from /proc, by tid: safe for any thread, even one exiting right now (the
 * open fails) — pthread_getname_np() on another thread's pthread_t is not. */
static void thread_name(pid_t tid, char out[16]) {
  out[0] = 0;
  if (tid <= 0) return;
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/comm", (int)tid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t n = read(fd, out, 15);
  close(fd);
  if (n <= 0) n = 0;
  out[n] = 0;
  char *nl = strchr(out, '\n');
  if (nl) *nl = 0;
}

void _ms_thread_retired(ms_thread_t *t) {
  _ms_sites_flush(t); /* its pending site deltas: the block may wait long for a new thread */
  retired_t r;
  r.tid = (uint64_t)t->tid;
  r.serial = t->serial;
  thread_name(t->tid, r.name);
  _ms_thread_figures(t, &r.allocs, &r.frees, &r.bytes, &r.freed);
  pthread_mutex_lock(&retired_mutex);
  if (n_retired < MAX_RETIRED) retired[n_retired++] = r;
  else retired_dropped++;
  pthread_mutex_unlock(&retired_mutex);
}

/* thread serial -> index in the dump's threads[], rebuilt by each snapshot (snapshots are
 * serialised by the snapshot mutex) */
static uint32_t *serial_to_dump;
static uint32_t serial_cap;

uint32_t _ms_thread_dump_index(uint32_t serial) {
  return serial < serial_cap ? serial_to_dump[serial] : MS_DUMP_NONE;
}

static void map_serial(uint32_t serial, uint32_t k) {
  if (serial >= serial_cap) {
    uint32_t cap = serial_cap ? serial_cap : 1024;
    while (cap <= serial) cap *= 2;
    uint32_t *m = _ms_xrealloc(serial_to_dump, cap * sizeof *m);
    if (!m) return;
    for (uint32_t i = serial_cap; i < cap; i++) m[i] = MS_DUMP_NONE;
    serial_to_dump = m, serial_cap = cap;
  }
  serial_to_dump[serial] = k;
}

int _ms_threads_fill(ms_dump_t *d) {
  uint32_t live = 0;
  for (ms_thread_t *t = atomic_load(&_ms_threads); t; t = atomic_load(&t->next)) live++;
  pthread_mutex_lock(&retired_mutex);
  uint32_t cap = live + n_retired + 1;
  d->threads = _ms_xcalloc(cap, sizeof *d->threads);
  if (!d->threads) {
    pthread_mutex_unlock(&retired_mutex);
    return MS_ENOMEM;
  }
  for (uint32_t i = 0; i < serial_cap; i++) serial_to_dump[i] = MS_DUMP_NONE;
  uint32_t k = 0;
  for (uint32_t i = 0; i < n_retired; i++) {
    ms_dump_thread_t *o = &d->threads[k++];
    o->tid = retired[i].tid;
    o->name = _ms_xstrdup(retired[i].name);
    o->alive = 0;
    o->allocations = retired[i].allocs, o->frees = retired[i].frees;
    o->allocated_bytes = retired[i].bytes, o->freed_bytes = retired[i].freed;
    map_serial(retired[i].serial, k - 1);
  }
  pthread_mutex_unlock(&retired_mutex);
  pid_t me = getpid();
  for (ms_thread_t *t = atomic_load(&_ms_threads); t && k < cap; t = atomic_load(&t->next)) {
    /* skip the orphan block, free blocks, and blocks a new thread is adopting right now */
    if (t->index == 0 || !atomic_load(&t->in_use) || t->serial == 0 || t->tid == 0) continue;
    ms_dump_thread_t *o = &d->threads[k];
    o->tid = (uint64_t)t->tid;
    char name[16];
    thread_name(t->tid, name);
    if (!name[0] && t->tid == me) snprintf(name, sizeof name, "main");
    o->name = _ms_xstrdup(name);
    o->alive = 1;
    _ms_thread_figures(t, &o->allocations, &o->frees, &o->allocated_bytes, &o->freed_bytes);
    map_serial(t->serial, k);
    k++;
  }
  d->n_threads = k;
  return MS_OK;
}
