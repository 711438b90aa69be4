/* test_timeline.c — the timeline's "who held the memory" figures (track/timeline.c, dump section
 * timeline_sites): each point lists the biggest sites at that moment, biggest first, and they
 * add up with the rest to the point's live bytes; a site that starts to grow after thousands of
 * other sites exist is found within a few points, although a point reads only a bounded window
 * of the site table. Each case runs in a child that re-executes this program with
 * MEMSCOPE_SAMPLE_RATE=1 and MEMSCOPE_INTERVAL_MS=1 (read once at start-up) and writes one dump
 * with ms_snapshot().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "dump.h"
#include "memscope.h"

#define BLOCK (64 * 1024)

static char self_path[4096];
static char dump_path[256];

/* ---------------------------------------------------------------- child side */

static void pause_ms(int ms) {
  struct timespec ts = {0, ms * 1000000L};
  nanosleep(&ts, NULL);
}

/* n blocks of BLOCK bytes into v, a few at a time, pausing so timeline points fall inside. */
__attribute__((noinline)) static void grow_a(void **v, int n) {
  for (int i = 0; i < n; i++) {
    v[i] = malloc(BLOCK);
    if (i % 8 == 7) pause_ms(2);
  }
}
__attribute__((noinline)) static void grow_b(void **v, int n) {
  for (int i = 0; i < n; i++) {
    v[i] = malloc(BLOCK);
    if (i % 8 == 7) pause_ms(2);
  }
}

/* One small block from a stack `depth` calls deep: with a tag, a distinct site per (tag, depth). */
__attribute__((noinline)) static void *nest(int depth) {
  void *volatile p = depth ? nest(depth - 1) : malloc(100);
  return p;
}

static int child_main(const char *mode) {
  if (strcmp(mode, "phases") == 0) {
    static void *a[128], *b[256];
    grow_a(a, 128); /* 8 MiB */
    pause_ms(5);
    grow_b(b, 256); /* 16 MiB more */
    pause_ms(5);
    return ms_snapshot(dump_path) == 0 ? 0 : 10;
  }
  if (strcmp(mode, "many") == 0) {
    /* 200 tags x 25 depths = 5000 small sites first, more than one point's scan window */
    char name[16];
    for (int t = 0; t < 200; t++) {
      snprintf(name, sizeof name, "t%d", t);
      ms_tag_push(name);
      for (int d = 0; d < 25; d++) (void)nest(d);
      ms_tag_pop();
    }
    static void *big[128];
    grow_a(big, 128); /* then one site grows to 8 MiB */
    pause_ms(5);
    return ms_snapshot(dump_path) == 0 ? 0 : 11;
  }
  return 12;
}

/* ---------------------------------------------------------------- parent side */

static void run_child(const char *mode, ms_dump_t *d) {
  snprintf(dump_path, sizeof dump_path, "/tmp/ms-timeline-%d-%s.msp", (int)getpid(), mode);
  pid_t pid = fork();
  if (pid == 0) {
    setenv("MS_TLTEST_CHILD", mode, 1);
    setenv("MS_TLTEST_PATH", dump_path, 1);
    setenv("MEMSCOPE_SAMPLE_RATE", "1", 1);
    setenv("MEMSCOPE_INTERVAL_MS", "1", 1);
    unsetenv("MEMSCOPE_OUTPUT");
    execl(self_path, self_path, (char *)NULL);
    _exit(127);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
  char err[256];
  if (ms_dump_read_file(dump_path, d, err, sizeof err) != 0) fail_msg("%s: %s", dump_path, err);
  unlink(dump_path);
}

/* The stack of the site that allocated exactly `bytes` in total (the test's own sites). */
static uint32_t stack_with_total(const ms_dump_t *d, uint64_t bytes) {
  for (uint32_t i = 0; i < d->n_sites; i++)
    if (d->sites[i].total_bytes == bytes) return d->sites[i].stack;
  fail_msg("no site allocated %llu bytes", (unsigned long long)bytes);
  return MS_DUMP_NONE;
}

/* Rows of point p: grouped by point, in timeline order, biggest first, at most 12. */
static void point_rows(const ms_dump_t *d, uint32_t p, uint32_t *first, uint32_t *n) {
  *first = 0, *n = 0;
  for (uint32_t i = 0; i < d->n_timeline_sites; i++) {
    if (i) assert_true(d->timeline_sites[i].point >= d->timeline_sites[i - 1].point);
    if (d->timeline_sites[i].point != p) continue;
    if (!*n) *first = i;
    else assert_true(d->timeline_sites[i].bytes <= d->timeline_sites[i - 1].bytes);
    ++*n;
  }
  assert_true(*n <= 12);
}

static void test_timeline_points_list_the_biggest_sites(void **state) {
  (void)state;
  ms_dump_t d;
  run_child("phases", &d);
  assert_int_equal(d.format_version, MS_DUMP_FORMAT_VERSION);
  assert_true(d.n_timeline >= 4);
  assert_true(d.n_timeline_sites > 0);
  uint32_t a = stack_with_total(&d, 128ull * BLOCK), b = stack_with_total(&d, 256ull * BLOCK);
  /* the last point (the dump's "now"): b then a, with their exact bytes, and they and the
   * rest make up the live bytes */
  uint32_t last = d.n_timeline - 1, first, n;
  point_rows(&d, last, &first, &n);
  assert_true(n >= 2);
  assert_int_equal(d.timeline_sites[first].stack, b);
  assert_int_equal(d.timeline_sites[first].bytes, 256ull * BLOCK);
  assert_int_equal(d.timeline_sites[first + 1].stack, a);
  assert_int_equal(d.timeline_sites[first + 1].bytes, 128ull * BLOCK);
  uint64_t listed = 0;
  for (uint32_t i = first; i < first + n; i++) listed += d.timeline_sites[i].bytes;
  uint64_t live = d.timeline[last].live_bytes;
  assert_true(listed <= live + BLOCK && live - listed < (1u << 20));
  /* growth is visible: a point while only a grew lists a and not b */
  int a_alone = 0;
  for (uint32_t p = 0; p < d.n_timeline && !a_alone; p++) {
    point_rows(&d, p, &first, &n);
    int has_a = 0, has_b = 0;
    for (uint32_t i = first; i < first + n; i++)
      has_a |= d.timeline_sites[i].stack == a, has_b |= d.timeline_sites[i].stack == b;
    a_alone = has_a && !has_b && n && d.timeline_sites[first].stack == a;
  }
  assert_true(a_alone);
  ms_dump_free(&d);
}

static void test_timeline_finds_a_late_site_among_thousands(void **state) {
  (void)state;
  ms_dump_t d;
  run_child("many", &d);
  assert_true(d.n_sites > 5000);
  uint32_t big = stack_with_total(&d, 128ull * BLOCK);
  uint32_t first, n;
  point_rows(&d, d.n_timeline - 1, &first, &n);
  assert_true(n >= 1);
  assert_int_equal(d.timeline_sites[first].stack, big);
  assert_int_equal(d.timeline_sites[first].bytes, 128ull * BLOCK);
  /* and already while it grew: some earlier point had it first */
  int seen = 0;
  for (uint32_t p = 0; p + 1 < d.n_timeline && !seen; p++) {
    point_rows(&d, p, &first, &n);
    seen = n && d.timeline_sites[first].stack == big && d.timeline_sites[first].bytes < 128ull * BLOCK;
  }
  assert_true(seen);
  ms_dump_free(&d);
}

int main(void) {
  const char *mode = getenv("MS_TLTEST_CHILD");
  if (mode) {
    snprintf(dump_path, sizeof dump_path, "%s", getenv("MS_TLTEST_PATH"));
    return child_main(mode);
  }
  ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
  if (n <= 0) return 1;
  self_path[n] = 0;
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_timeline_points_list_the_biggest_sites),
    cmocka_unit_test(test_timeline_finds_a_late_site_among_thousands),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
