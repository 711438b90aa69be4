/* timeline.c — live bytes and RSS over time, in a bounded buffer, with the sites that held the
 * most at each point ("who grew it").
 *
 * Points are added from the core's live-bytes flush (every 64 KiB of net change per thread) at
 * most once per MEMSCOPE_INTERVAL_MS, so an idle program adds nothing and a busy one adds a
 * point per interval. When the buffer is full every other point is dropped and the interval
 * doubles: memory stays fixed and the whole run stays covered. RSS comes from /proc/self/statm
 * (a read once per interval, never per allocation). The exact global peak is kept apart by the
 * core and added to every dump.
 *
 * Each point also keeps the TOP (12) sites with the most live bytes at that moment. The
 * allocation path does nothing for this: the sites' live figures already exist (sites.c), and
 * they are read only here, when a point is taken, in a read session of sites.c (shared figures
 * plus the threads' pending deltas). A program can have 100k+ sites, so a point never reads
 * them all: it re-reads a small candidate set (the biggest sites seen so far) and a window of
 * SCAN_WINDOW further ids, moving round-robin, so a site that starts to grow is found within
 * limit / SCAN_WINDOW points and then stays a candidate while it is big. Programs with at most
 * SCAN_WINDOW sites get the exact top sites at every point.
 *
 * Locks: fork's prepare handler takes the sites' read lock before the timeline's, so a dump
 * (_ms_timeline_fill) begins its read session before it locks the timeline; a point taken on an
 * allocating thread holds the timeline lock and only tries the read lock (a snapshot or a peak
 * copy reading the sites just delays the point to the next flush).
 */
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "track.h"

#define MAX_POINTS 4096
#define TOP 12               /* sites kept per point */
#define CANDIDATES 64        /* sites re-read at every point: the biggest seen last time */
#define SCAN_WINDOW 2048     /* further site ids read per point, round-robin */

typedef struct top_site {
  uint32_t id;    /* tracker stack (= site) id; 0 = empty slot */
  uint64_t bytes; /* its estimated live bytes when the point was taken */
} top_site_t;

static ms_dump_point_t points[MAX_POINTS];
static top_site_t point_top[MAX_POINTS][TOP]; /* biggest first, parallel to points */
static uint32_t candidates[CANDIDATES], n_candidates;
static uint32_t scan_next = 1;                /* next id of the round-robin window */
static uint32_t n_points;
static uint64_t interval_ns, last_ns;
static pthread_mutex_t timeline_mutex = PTHREAD_MUTEX_INITIALIZER;

void _ms_timeline_lock(int lock) {
  if (lock) pthread_mutex_lock(&timeline_mutex);
  else pthread_mutex_unlock(&timeline_mutex);
}

uint64_t _ms_read_rss(void) {
  int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[128];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  const char *p = buf;
  while (*p && *p != ' ') p++; /* skip total size */
  uint64_t pages = 0;
  while (*p == ' ') p++;
  while (*p >= '0' && *p <= '9') pages = pages * 10 + (uint64_t)(*p++ - '0');
  return pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

uint64_t _ms_read_peak_rss(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return (uint64_t)ru.ru_maxrss * 1024;
}

/* The CANDIDATES biggest sites among those offered, unordered until sorted at the end. */
typedef struct best {
  top_site_t s[CANDIDATES];
  uint32_t n, min; /* min: index of the smallest once full */
} best_t;

static void best_offer(best_t *b, uint32_t id, uint64_t bytes) {
  if (b->n == CANDIDATES && bytes <= b->s[b->min].bytes) return;
  for (uint32_t i = 0; i < b->n; i++) /* a candidate can come round in the window too */
    if (b->s[i].id == id) return;
  if (b->n < CANDIDATES) b->s[b->n++] = (top_site_t){id, bytes};
  else b->s[b->min] = (top_site_t){id, bytes};
  if (b->n < CANDIDATES) return;
  b->min = 0;
  for (uint32_t i = 1; i < CANDIDATES; i++)
    if (b->s[i].bytes < b->s[b->min].bytes) b->min = i;
}

/* A site's live bytes, inside a read session (sites.c). */
static uint64_t live_of(uint32_t id) {
  ms_site_figs_t f;
  _ms_site_read(id, &f);
  return _ms_figs_live_bytes(&f);
}

/* The biggest sites now, into out[TOP] (biggest first, id 0 after the last). Under the
 * timeline mutex, in a read session of the sites. Reads at most CANDIDATES + SCAN_WINDOW sites. */
static void take_top(top_site_t *out) {
  best_t b = {.n = 0};
  uint32_t limit = _ms_stack_limit(); /* ids in use: 1 .. limit - 1 */
  for (uint32_t i = 0; i < n_candidates; i++)
    if (candidates[i] < limit) {
      uint64_t v = live_of(candidates[i]);
      if (v) best_offer(&b, candidates[i], v);
    }
  uint32_t span = limit > 1 ? limit - 1 : 0;
  uint32_t count = span < SCAN_WINDOW ? span : SCAN_WINDOW;
  uint32_t id = span <= SCAN_WINDOW || scan_next >= limit ? 1 : scan_next;
  for (uint32_t k = 0; k < count; k++, id++) {
    if (id >= limit) id = 1;
    uint64_t v = live_of(id);
    if (v) best_offer(&b, id, v);
  }
  scan_next = id;
  /* insertion sort, biggest first: at most 64 entries */
  for (uint32_t i = 1; i < b.n; i++) {
    top_site_t t = b.s[i];
    uint32_t j = i;
    for (; j > 0 && b.s[j - 1].bytes < t.bytes; j--) b.s[j] = b.s[j - 1];
    b.s[j] = t;
  }
  n_candidates = b.n;
  for (uint32_t i = 0; i < b.n; i++) candidates[i] = b.s[i].id;
  for (uint32_t i = 0; i < TOP; i++) out[i] = i < b.n ? b.s[i] : (top_site_t){0, 0};
}

static void add_point(uint64_t now, uint64_t live) {
  if (!_ms_sites_read_try_begin()) return; /* the sites are being read: at the next flush */
  if (n_points == MAX_POINTS) {
    for (uint32_t i = 0; i < MAX_POINTS / 2; i++) {
      points[i] = points[2 * i + 1];
      memcpy(point_top[i], point_top[2 * i + 1], sizeof point_top[i]);
    }
    n_points = MAX_POINTS / 2;
    interval_ns *= 2;
  }
  points[n_points].time_ns = now;
  points[n_points].live_bytes = live;
  points[n_points].rss_bytes = _ms_read_rss();
  take_top(point_top[n_points]);
  _ms_sites_read_end();
  n_points++;
  last_ns = now;
}

void _ms_timeline_maybe_add(uint64_t live) {
  uint64_t now = _ms_coarse_now_ns();
  if (interval_ns == 0) interval_ns = _ms_options.interval_ms * 1000000ull;
  if (now - last_ns < interval_ns && n_points) return;
  if (pthread_mutex_trylock(&timeline_mutex) != 0) return;
  if (now - last_ns >= interval_ns || !n_points) add_point(now, live);
  pthread_mutex_unlock(&timeline_mutex);
}

/* The top sites of point p as timeline_sites rows; stack holds the tracker's id until
 * snapshot.c maps it to the dump's stack index. */
static void put_top(ms_dump_t *d, uint32_t p, const top_site_t *top) {
  for (uint32_t k = 0; k < TOP && top[k].id; k++)
    d->timeline_sites[d->n_timeline_sites++] =
        (ms_dump_point_site_t){.point = p, .stack = top[k].id, .bytes = top[k].bytes};
}

/* For a dump: the buffer plus a final point for "now". */
int _ms_timeline_fill(ms_dump_t *d) {
  ms_stats_t st;
  _ms_stats_read(&st);
  _ms_sites_read_begin(); /* before the timeline lock (see the top of this file) */
  pthread_mutex_lock(&timeline_mutex);
  d->timeline = _ms_xcalloc(n_points + 1, sizeof *d->timeline);
  d->timeline_sites = _ms_xcalloc(((size_t)n_points + 1) * TOP, sizeof *d->timeline_sites);
  if (!d->timeline || !d->timeline_sites) {
    pthread_mutex_unlock(&timeline_mutex);
    _ms_sites_read_end();
    return MS_ENOMEM;
  }
  memcpy(d->timeline, points, n_points * sizeof *points);
  d->n_timeline = n_points;
  for (uint32_t i = 0; i < n_points; i++) put_top(d, i, point_top[i]);
  uint64_t now = _ms_now_ns();
  if (!n_points || d->timeline[n_points - 1].time_ns < now) {
    d->timeline[n_points].time_ns = now;
    d->timeline[n_points].live_bytes = st.live_bytes;
    d->timeline[n_points].rss_bytes = _ms_read_rss();
    top_site_t top[TOP];
    take_top(top);
    put_top(d, n_points, top);
    d->n_timeline++;
  }
  pthread_mutex_unlock(&timeline_mutex);
  _ms_sites_read_end();
  return MS_OK;
}
