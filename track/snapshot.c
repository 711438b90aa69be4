/* snapshot.c — turning the tracker's state into a dump file: ms_snapshot(), the dump at exit,
 * the signal-triggered dump (written by a helper thread, never in the handler), and the
 * MEMSCOPE_LEAK_REPORT summary.
 *
 * A snapshot copies state piece by piece, each under its own short lock (a live-set shard, the
 * variables table...), never stopping allocation in all threads at once; serialising and
 * writing happen after the copies, outside every lock the allocator needs. The file is written
 * under a temporary name (O_EXCL|O_NOFOLLOW) and renamed, so a crash mid-write never leaves a
 * file that looks complete.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"
#include "reach.h"
#include "outfile.h"
#include "track.h"


static pthread_mutex_t snapshot_mutex = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint32_t sequence;

void _ms_snapshot_lock(int lock) {
  if (lock) pthread_mutex_lock(&snapshot_mutex);
  else pthread_mutex_unlock(&snapshot_mutex);
}

/* ---------------------------------------------------------------- building the dump */

typedef struct collect {
  ms_dump_alloc_t *allocs;
  uint32_t n, cap;
  const uint32_t *stack_map;
  uint32_t stack_limit, n_tags;
} collect_t;

static uint32_t map_stack(const uint32_t *map, uint32_t limit, uint32_t id) {
  return (id && id < limit) ? map[id] : MS_DUMP_NONE;
}

static void collect_alloc(const ms_block_info_t *r, void *arg) {
  collect_t *c = arg;
  if (c->n == c->cap) {
    uint32_t cap = c->cap ? c->cap * 2 : 1024;
    void *a = _ms_xrealloc(c->allocs, (size_t)cap * sizeof *c->allocs);
    if (!a) return;
    c->allocs = a, c->cap = cap;
  }
  ms_dump_alloc_t *a = &c->allocs[c->n++];
  a->address = (uint64_t)(uintptr_t)r->p;
  a->size = r->size;
  a->weight_bytes = r->weight_bytes;
  a->time_ns = r->time_ns;
  a->stack = map_stack(c->stack_map, c->stack_limit, r->stack);
  a->thread = r->thread; /* thread serial; mapped to threads[] after */
  a->kind = MS_LEAK_UNKNOWN; /* the leak check (reach.c) fills it in later */
  const uint64_t *frames;
  uint32_t tag = 0;
  _ms_stack_get(r->stack, &frames, &tag);
  a->tag = (tag && tag - 1 < c->n_tags) ? tag - 1 : MS_DUMP_NONE;
}

static char *read_small_file(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = _ms_xalloc(cap + 1);
  while (buf) {
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
    if (n == cap) {
      if (cap >= (1u << 20)) break;
      cap *= 2;
      char *nb = _ms_xrealloc(buf, cap + 1);
      if (!nb) break;
      buf = nb;
    }
  }
  close(fd);
  if (buf) buf[n] = 0;
  *len = n;
  return buf;
}

static void fill_process(ms_dump_t *d, uint32_t reason, uint32_t seq) {
  ms_dump_process_t *p = &d->process;
  p->pid = (uint64_t)getpid();
  p->ppid = (uint64_t)getppid();
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = 0;
  p->exe = _ms_xstrdup(exe);
  size_t len = 0;
  char *cmd = read_small_file("/proc/self/cmdline", &len);
  if (cmd) {
    uint32_t argc = 0;
    for (size_t i = 0; i < len; i++) argc += cmd[i] == 0;
    p->argv = _ms_xcalloc(argc ? argc : 1, sizeof *p->argv);
    if (p->argv) {
      size_t i = 0;
      for (uint32_t k = 0; k < argc && i < len; k++) {
        p->argv[k] = _ms_xstrdup(cmd + i);
        i += strlen(cmd + i) + 1;
      }
      p->argc = argc;
    }
    _ms_xfree(cmd);
  }
  struct timespec rt;
  clock_gettime(CLOCK_REALTIME, &rt);
  uint64_t now = _ms_now_ns();
  uint64_t wall = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec;
  p->start_time_unix_ns = wall > now ? wall - now : 0;
  p->dump_time_ns = now;
  p->reason = reason;
  p->sequence = seq;
}

static int fill_stacks_and_sites(ms_dump_t *d, uint32_t **map_out, uint32_t *limit_out) {
  uint32_t limit = _ms_stack_limit();
  uint32_t *map = _ms_xalloc((size_t)limit * sizeof *map);
  if (!map) return MS_ENOMEM;
  uint32_t n = 0;
  for (uint32_t id = 0; id < limit; id++) map[id] = _ms_stack_valid(id) ? n++ : MS_DUMP_NONE;
  d->stacks = _ms_xcalloc(n ? n : 1, sizeof *d->stacks);
  d->sites = _ms_xcalloc(n ? n : 1, sizeof *d->sites);
  if (!d->stacks || !d->sites) return _ms_xfree(map), MS_ENOMEM;
  uint32_t ns = 0;
  _ms_sites_read_begin();
  for (uint32_t id = 1; id < limit; id++) {
    if (map[id] == MS_DUMP_NONE) continue;
    const uint64_t *frames;
    uint32_t tag;
    uint32_t depth = _ms_stack_get(id, &frames, &tag);
    ms_dump_stack_t *s = &d->stacks[map[id]];
    s->frames = _ms_xalloc((depth ? depth : 1) * sizeof(uint64_t));
    if (s->frames) {
      memcpy(s->frames, frames, depth * sizeof(uint64_t));
      s->depth = depth;
    }
    ms_site_figs_t src;
    _ms_site_read(id, &src);
    uint64_t total = src.total_count;
    if (!total) continue;
    ms_dump_site_t *o = &d->sites[ns++];
    o->stack = map[id];
    o->tag = (tag && tag - 1 < d->n_tags) ? tag - 1 : MS_DUMP_NONE;
    o->live_bytes = _ms_figs_live_bytes(&src);
    o->live_count = _ms_count_out(_ms_figs_live_count(&src));
    o->total_bytes = src.total_bytes;
    o->total_count = _ms_count_out(total);
    uint64_t pb, pc;
    _ms_site_peak(id, &pb, &pc);
    o->peak_bytes = pb;
    o->peak_count = _ms_count_out(pc);
    o->temp_count = _ms_count_out(src.temp_count);
    o->temp_bytes = src.temp_bytes;
    o->realloc_count = _ms_count_out(src.realloc_count);
    for (unsigned b = 0; b < MS_DUMP_LIFETIME_BUCKETS; b++)
      o->lifetime[b] = _ms_count_out(src.lifetime[b]);
    /* live figures are estimates read without a lock: never let a racing free show negative */
  }
  _ms_sites_read_end();
  d->n_stacks = n;
  d->n_sites = ns;
  *map_out = map;
  *limit_out = limit;
  return MS_OK;
}

static int fill_classes(ms_dump_t *d) {
  d->classes = _ms_xcalloc(MS_CLASS_COUNT, sizeof *d->classes);
  if (!d->classes) return MS_ENOMEM;
  uint32_t k = 0;
  for (unsigned c = 0; c < MS_CLASS_COUNT; c++) {
    ms_class_stats_t s;
    ms_class_stats(c, &s);
    if (!s.allocations) continue;
    ms_dump_class_t *o = &d->classes[k++];
    o->size = s.size, o->allocations = s.allocations, o->frees = s.frees;
    o->requested_bytes = s.requested_bytes, o->usable_bytes = s.usable_bytes;
    o->total_requested = s.total_requested;
  }
  d->n_classes = k;
  return MS_OK;
}

static void remap_ids(ms_dump_t *d, const uint32_t *map, uint32_t limit) {
  for (uint32_t i = 0; i < d->n_allocs; i++)
    d->allocs[i].thread = _ms_thread_dump_index(d->allocs[i].thread);
  for (uint32_t i = 0; i < d->n_variables; i++) {
    ms_dump_variable_t *v = &d->variables[i];
    v->alloc_stack = map_stack(map, limit, v->alloc_stack);
    v->free_stack = map_stack(map, limit, v->free_stack);
    v->thread = _ms_thread_dump_index(v->thread);
    for (uint32_t e = 0; e < v->n_events; e++) {
      v->events[e].stack = map_stack(map, limit, v->events[e].stack);
      v->events[e].thread = _ms_thread_dump_index(v->events[e].thread);
    }
  }
  for (uint32_t i = 0; i < d->n_errors; i++) {
    ms_dump_error_t *e = &d->errors[i];
    e->stack = map_stack(map, limit, e->stack);
    e->alloc_stack = map_stack(map, limit, e->alloc_stack);
    e->free_stack = map_stack(map, limit, e->free_stack);
    e->thread = _ms_thread_dump_index(e->thread);
  }
  /* the timeline's top sites (timeline.c): tracker ids -> dump stacks */
  for (uint32_t i = 0; i < d->n_timeline_sites; i++)
    d->timeline_sites[i].stack = map_stack(map, limit, d->timeline_sites[i].stack);
}

static void free_dump(ms_dump_t *d) {
  /* everything came from _ms_x*, i.e. mimalloc directly */
  _ms_xfree(d->process.exe);
  for (uint32_t i = 0; i < d->process.argc; i++) _ms_xfree(d->process.argv[i]);
  _ms_xfree(d->process.argv);
  _ms_xfree(d->options.checks);
  for (uint32_t i = 0; i < d->n_modules; i++) _ms_xfree(d->modules[i].path);
  _ms_xfree(d->modules);
  if (d->stacks)
    for (uint32_t i = 0; i < d->n_stacks; i++) _ms_xfree(d->stacks[i].frames);
  _ms_xfree(d->stacks);
  for (uint32_t i = 0; i < d->n_tags; i++) _ms_xfree(d->tags[i]);
  _ms_xfree(d->tags);
  _ms_xfree(d->sites);
  _ms_xfree(d->allocs);
  _ms_xfree(d->classes);
  for (uint32_t i = 0; i < d->n_variables; i++) {
    _ms_xfree(d->variables[i].name), _ms_xfree(d->variables[i].type);
    _ms_xfree(d->variables[i].file), _ms_xfree(d->variables[i].events);
  }
  _ms_xfree(d->variables);
  _ms_xfree(d->timeline);
  _ms_xfree(d->timeline_sites);
  _ms_xfree(d->errors);
  for (uint32_t i = 0; i < d->n_threads; i++) _ms_xfree(d->threads[i].name);
  _ms_xfree(d->threads);
  _ms_xfree(d->crossings);
}

static int build_dump(ms_dump_t *d, uint32_t reason, uint32_t seq) {
  memset(d, 0, sizeof *d);
  d->format_version = MS_DUMP_FORMAT_VERSION;
  fill_process(d, reason, seq);
  d->options.sample_rate = atomic_load(&_ms_sample_rate);
  d->options.stack_depth = (uint32_t)_ms_options.stack_depth;
  d->options.interval_ms = (uint32_t)_ms_options.interval_ms;
  d->options.checks = _ms_xstrdup(_ms_checks_describe()); /* normalised, as in force */

  ms_stats_t st;
  _ms_stats_read(&st);
  ms_dump_summary_t *s = &d->summary;
  s->total_allocations = st.total_allocations, s->total_frees = st.total_frees;
  s->total_bytes = st.total_bytes, s->live_bytes = st.live_bytes;
  s->live_allocations = st.live_allocations, s->peak_live_bytes = st.peak_live_bytes;
  s->peak_time_ns = atomic_load(&_ms_peak_time_ns);
  s->usable_bytes = st.usable_bytes, s->header_bytes = st.header_bytes;
  s->rss_bytes = _ms_read_rss(), s->peak_rss_bytes = _ms_read_peak_rss();
  s->sampled_allocations = st.sampled_allocations;

  int rc;
  uint32_t *map = NULL, limit = 0;
  if ((rc = _ms_tags_fill(d)) || (rc = _ms_modules_fill(d)) ||
      (rc = fill_stacks_and_sites(d, &map, &limit)) || (rc = fill_classes(d)) ||
      (rc = _ms_threads_fill(d)) || (rc = _ms_vars_fill(d)) || (rc = _ms_errors_fill(d)) ||
      (rc = _ms_timeline_fill(d)) || (rc = _ms_crossings_fill(d)))
    goto out;
  collect_t c = {.cap = 0, .stack_map = map, .stack_limit = limit, .n_tags = d->n_tags};
  uint64_t expect = _ms_live_count();
  c.cap = (uint32_t)(expect + expect / 8 + 16);
  c.allocs = _ms_xalloc((size_t)c.cap * sizeof *c.allocs);
  if (!c.allocs) c.cap = 0;
  _ms_live_visit(collect_alloc, &c);
  d->allocs = c.allocs, d->n_allocs = c.n;
  /* ru_maxrss lags (the kernel folds per-thread RSS counters in lazily): the peak RSS is at
   * least every RSS we have read ourselves */
  for (uint32_t i = 0; i < d->n_timeline; i++)
    if (d->timeline[i].rss_bytes > d->summary.peak_rss_bytes)
      d->summary.peak_rss_bytes = d->timeline[i].rss_bytes;
  if (d->summary.rss_bytes > d->summary.peak_rss_bytes) d->summary.peak_rss_bytes = d->summary.rss_bytes;
  remap_ids(d, map, limit);
out:
  _ms_xfree(map);
  return rc;
}

/* ---------------------------------------------------------------- file names and writing */

static int expand_template(const char *tmpl, uint32_t seq, char *out, size_t cap) {
  size_t k = 0;
  for (const char *p = tmpl; *p; p++) {
    char tmp[32];
    const char *ins = NULL;
    if (p[0] == '%' && p[1] == 'p') snprintf(tmp, sizeof tmp, "%d", (int)getpid()), ins = tmp, p++;
    else if (p[0] == '%' && p[1] == 'n') snprintf(tmp, sizeof tmp, "%u", seq), ins = tmp, p++;
    else if (p[0] == '%' && p[1] == '%') ins = "%", p++;
    if (ins) {
      size_t l = strlen(ins);
      if (k + l >= cap) return -1;
      memcpy(out + k, ins, l), k += l;
    } else {
      if (k + 1 >= cap) return -1;
      out[k++] = *p;
    }
  }
  out[k] = 0;
  return 0;
}

/* The dump into path through export/outfile.c: a temporary file (O_EXCL|O_NOFOLLOW) in path's
 * folder, renamed only over a regular file or nothing. why gets the reason of a failure. */
static int write_dump_file(const char *path, const ms_dump_t *d, char *why, size_t cap) {
  ms_outfile_t *o = _ms_xalloc(sizeof *o); /* 8 KiB: not on a small thread stack */
  if (!o) return MS_ENOMEM;
  int rc = MS_EIO;
  if (_ms_outfile_open(o, path, 0644, why, cap) == 0) {
    rc = ms_dump_write(d, o->fd);
    if (rc != MS_OK) _ms_outfile_abort(o);
    else if (_ms_outfile_commit(o, why, cap) != 0) rc = MS_EIO;
  }
  _ms_xfree(o);
  return rc;
}

int _ms_snapshot_write(const char *path, uint32_t reason) {
  if (atomic_load(&_ms_init_state) != 2) return MS_ENOTLOADED;
  _ms_guard++;
  uint32_t seq = atomic_fetch_add(&sequence, 1);
  char final_path[4096];
  const char *tmpl = path ? path : (_ms_options.output ? _ms_options.output : "memscope.%p.%n.msp");
  int rc = MS_OK;
  if (path ? (strlen(path) >= sizeof final_path ? -1 : (strcpy(final_path, path), 0))
           : expand_template(tmpl, seq, final_path, sizeof final_path)) {
    _ms_guard--;
    return MS_EINVAL;
  }
  /* Canaries of live blocks are verified first, outside snapshot_mutex: a damaged one is a fatal
   * error by default, and the fatal path writes a dump itself. Not in the dump a fatal error
   * writes on its way out (it would find that same error again). */
  extern _Atomic int _ms_dying;
  if (!atomic_load(&_ms_dying)) _ms_checks_snapshot();
  pthread_mutex_lock(&snapshot_mutex);
  ms_dump_t d;
  rc = build_dump(&d, reason, seq);
  if (rc == MS_OK && _ms_reach_enabled())
    d.summary.leak_check = (uint32_t)_ms_reach_check(d.allocs, d.n_allocs, NULL);
  char why[1024] = "";
  if (rc == MS_OK) rc = write_dump_file(final_path, &d, why, sizeof why);
  free_dump(&d);
  pthread_mutex_unlock(&snapshot_mutex);
  if (rc != MS_OK) {
    char msg[1100];
    if (why[0]) snprintf(msg, sizeof msg, "memscope: could not write dump %s\n", why);
    else snprintf(msg, sizeof msg, "memscope: could not write dump %s: %s\n", final_path, ms_strerror(rc));
    _ms_write_stderr(msg);
  }
  _ms_guard--;
  return rc;
}

#include "visibility.h"   /* MS_EXPORT */

MS_EXPORT int ms_snapshot(const char *path) {
  if (atomic_load(&_ms_init_state) != 2) _ms_init();
  /* reach.c: the caller's frames are leak-check roots */
  volatile uint64_t here = 0;
  _ms_reach_from = (uint64_t)(uintptr_t)&here;
  int rc = _ms_snapshot_write(path, MS_DUMP_REASON_SNAPSHOT);
  _ms_reach_from = 0;
  return rc;
}

/* ---------------------------------------------------------------- signal-triggered dumps */

static sem_t signal_sem;
static _Atomic int signal_ready;

static void on_signal(int sig) {
  (void)sig;
  int saved = errno;
  sem_post(&signal_sem); /* async-signal-safe; the helper thread does the work */
  errno = saved;
}

static void *signal_thread(void *arg) {
  (void)arg;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  for (;;) {
    if (sem_wait(&signal_sem) != 0) continue;
    _ms_snapshot_write(NULL, MS_DUMP_REASON_SIGNAL);
  }
  return NULL;
}

static void start_signal_thread(void) {
  pthread_t th;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (pthread_create(&th, &attr, signal_thread, NULL) == 0) pthread_setname_np(th, "memscope-dump");
  pthread_attr_destroy(&attr);
}

void _ms_signal_init(void) {
  int sig = (int)_ms_options.snapshot_signal;
  if (!sig || atomic_exchange(&signal_ready, 1)) return;
  sem_init(&signal_sem, 0, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
  start_signal_thread();
}

void _ms_signal_fork_child(void) {
  if (!atomic_load(&signal_ready)) return;
  sem_init(&signal_sem, 0, 0);
  start_signal_thread();
}

__attribute__((constructor(200))) static void signal_constructor(void) {
  if (atomic_load(&_ms_init_state) != 2) _ms_init();
  _ms_guard++;
  _ms_signal_init();
  _ms_guard--;
}

/* ---------------------------------------------------------------- leak report */

typedef struct leak_site {
  uint32_t stack;
  uint64_t bytes, count;
} leak_site_t;

void _ms_leak_report(void) {
  uint32_t limit = _ms_stack_limit();
  leak_site_t top[10];
  unsigned n = 0;
  uint64_t total_bytes = 0, total_count = 0;
  _ms_sites_read_begin();
  for (uint32_t id = 1; id < limit; id++) {
    if (!_ms_stack_valid(id)) continue;
    ms_site_figs_t s;
    _ms_site_read(id, &s);
    int64_t b = (int64_t)_ms_figs_live_bytes(&s);
    int64_t c = (int64_t)_ms_count_out(_ms_figs_live_count(&s));
    if (b <= 0 && c <= 0) continue;
    total_bytes += (uint64_t)b, total_count += (uint64_t)c;
    leak_site_t ls = {id, (uint64_t)b, (uint64_t)c};
    unsigned pos = n < 10 ? n++ : 10;
    while (pos > 0 && top[pos - 1].bytes < ls.bytes) {
      if (pos < 10) top[pos] = top[pos - 1];
      pos--;
    }
    if (pos < 10) top[pos] = ls;
  }
  _ms_sites_read_end();
  ms_stats_t st;
  _ms_stats_read(&st);
  char line[512];
  snprintf(line, sizeof line,
           "memscope: leak report (pid %d): %llu bytes in %llu blocks still allocated at exit",
           (int)getpid(), (unsigned long long)st.live_bytes,
           (unsigned long long)st.live_allocations);
  _ms_write_stderr(line);
  if (st.sample_rate != 1 && st.sample_rate != 0) {
    snprintf(line, sizeof line, " (sampled, rate %llu: sites below are estimates)",
             (unsigned long long)st.sample_rate);
    _ms_write_stderr(line);
  }
  _ms_write_stderr("\n");
  uint64_t t[MS_LEAK_KINDS][2] = {{0}};
  if (_ms_reach_enabled() && _ms_reach_check(NULL, 0, t) == MS_LEAK_CHECK_DONE) {
    snprintf(line, sizeof line, "memscope: leak check: definitely lost %llu bytes in %llu blocks, "
             "indirectly lost %llu bytes, possibly lost %llu bytes, still reachable %llu bytes\n",
             (unsigned long long)t[1][0], (unsigned long long)t[1][1], (unsigned long long)t[2][0],
             (unsigned long long)t[3][0], (unsigned long long)t[4][0]);
    _ms_write_stderr(line);
  }
  for (unsigned i = 0; i < n; i++) {
    snprintf(line, sizeof line, "memscope: leak #%u: %llu bytes in %llu blocks\n", i + 1,
             (unsigned long long)top[i].bytes, (unsigned long long)top[i].count);
    _ms_write_stderr(line);
    _ms_print_stack("allocated at", top[i].stack);
  }
}
