/* timeline.c — live bytes and RSS over time, in a bounded buffer.
 *
 * Points are added from the core's live-bytes flush (every 64 KiB of net change per thread) at
 * most once per MEMSCOPE_INTERVAL_MS, so an idle program adds nothing and a busy one adds a
 * point per interval. When the buffer is full every other point is dropped and the interval
 * doubles: memory stays fixed and the whole run stays covered. RSS comes from /proc/self/statm
 * (a read once per interval, never per allocation). The exact global peak is kept apart by the
 * core and added to every dump.
 */
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "track.h"

#define MAX_POINTS 4096

static ms_dump_point_t points[MAX_POINTS];
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

static void add_point(uint64_t now, uint64_t live) {
  if (n_points == MAX_POINTS) {
    for (uint32_t i = 0; i < MAX_POINTS / 2; i++) points[i] = points[2 * i + 1];
    n_points = MAX_POINTS / 2;
    interval_ns *= 2;
  }
  points[n_points].time_ns = now;
  points[n_points].live_bytes = live;
  points[n_points].rss_bytes = _ms_read_rss();
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

/* For a dump: the buffer plus a final point for "now". */
int _ms_timeline_fill(ms_dump_t *d) {
  ms_stats_t st;
  _ms_stats_read(&st);
  pthread_mutex_lock(&timeline_mutex);
  d->timeline = _ms_xcalloc(n_points + 1, sizeof *d->timeline);
  if (!d->timeline) {
    pthread_mutex_unlock(&timeline_mutex);
    return MS_ENOMEM;
  }
  memcpy(d->timeline, points, n_points * sizeof *points);
  d->n_timeline = n_points;
  uint64_t now = _ms_now_ns();
  if (!n_points || d->timeline[n_points - 1].time_ns < now) {
    d->timeline[n_points].time_ns = now;
    d->timeline[n_points].live_bytes = st.live_bytes;
    d->timeline[n_points].rss_bytes = _ms_read_rss();
    d->n_timeline++;
  }
  pthread_mutex_unlock(&timeline_mutex);
  return MS_OK;
}
