/* test_snapshot.c — dumps written by the library (track/snapshot.c): the signal-triggered dump
 * (written by the helper thread, reason "signal"), %p/%n expansion and distinct names for
 * several dumps, ms_snapshot(NULL) using MEMSCOPE_OUTPUT, the dump at exit (reason "exit"), and a
 * fork child writing its own dump under its own pid. Each case runs in a child process that
 * re-executes this program with the MEMSCOPE_* environment it needs (read once at start-up).
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "dump.h"
#include "memscope.h"

static char self_path[4096];
static char dir[256];

/* ---------------------------------------------------------------- child side */

static int wait_for_file(const char *path, int ms) {
  struct stat st;
  for (int i = 0; i < ms / 10; i++) {
    if (stat(path, &st) == 0 && st.st_size > 0) return 0;
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return -1;
}

static int child_main(const char *mode) {
  char path[600];
  void *volatile keep = malloc(12345); /* the leak the exit dump must show */
  if (!keep) return 10;
  if (strcmp(mode, "signal") == 0) {
    raise(SIGUSR1);
    snprintf(path, sizeof path, "%s/sig.%d.0.msp", dir, (int)getpid());
    return wait_for_file(path, 5000) == 0 ? 0 : 11;
  }
  if (strcmp(mode, "sequence") == 0) {
    if (ms_snapshot(NULL) != 0 || ms_snapshot(NULL) != 0) return 12;
    return 0;
  }
  if (strcmp(mode, "fork") == 0) {
    pid_t pid = fork();
    if (pid == 0) {
      void *volatile c = malloc(777); /* volatile: the compiler may not drop it */
      (void)c;
      _exit(ms_snapshot(NULL) == 0 ? 0 : 13);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return 14;
    printf("child=%d\n", (int)pid);
    return 0;
  }
  return 0; /* "exit": the library writes the dump at exit */
}

/* ---------------------------------------------------------------- parent side */

static int run_child(const char *mode, const char *output, const char *signal_name, char *out,
                     size_t outlen) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    setenv("MS_SNAPTEST_CHILD", mode, 1);
    setenv("MS_SNAPTEST_DIR", dir, 1);
    setenv("MEMSCOPE_OUTPUT", output, 1);
    setenv("MEMSCOPE_SAMPLE_RATE", "1", 1);
    if (signal_name) setenv("MEMSCOPE_SNAPSHOT_SIGNAL", signal_name, 1);
    else unsetenv("MEMSCOPE_SNAPSHOT_SIGNAL");
    execl(self_path, self_path, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  size_t n = 0;
  ssize_t r;
  while (n + 1 < outlen && (r = read(fds[0], out + n, outlen - 1 - n)) > 0) n += (size_t)r;
  out[n] = 0;
  close(fds[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static void read_dump(const char *path, ms_dump_t *d) {
  char err[256];
  int rc = ms_dump_read_file(path, d, err, sizeof err);
  if (rc != 0) fail_msg("%s: %s", path, err);
}

static int count_files(const char *prefix) {
  DIR *dp = opendir(dir);
  int n = 0;
  struct dirent *e;
  while (dp && (e = readdir(dp)) != NULL)
    if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) n++;
  if (dp) closedir(dp);
  return n;
}

static void test_snapshot_signal_dump_written_by_helper_thread(void **state) {
  (void)state;
  char out[256], tmpl[512], path[600];
  snprintf(tmpl, sizeof tmpl, "%s/sig.%%p.%%n.msp", dir);
  int rc = run_child("signal", tmpl, "USR1", out, sizeof out);
  assert_int_equal(rc, 0);
  /* the signal dump is sequence 0; the exit dump comes after it */
  assert_true(count_files("sig.") >= 2);
  DIR *dp = opendir(dir);
  struct dirent *e;
  int seen_signal = 0;
  while ((e = readdir(dp)) != NULL) {
    if (strncmp(e->d_name, "sig.", 4) != 0) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    ms_dump_t d;
    read_dump(path, &d);
    if (d.process.reason == MS_DUMP_REASON_SIGNAL) {
      seen_signal = 1;
      assert_int_equal(d.process.sequence, 0);
    }
    ms_dump_free(&d);
  }
  closedir(dp);
  assert_true(seen_signal);
}

static void test_snapshot_sequence_numbers_give_distinct_files(void **state) {
  (void)state;
  char out[256], tmpl[512], path[600];
  snprintf(tmpl, sizeof tmpl, "%s/seq.%%n.msp", dir);
  assert_int_equal(run_child("sequence", tmpl, NULL, out, sizeof out), 0);
  /* two ms_snapshot(NULL) calls and the exit dump: seq.0, seq.1, seq.2 */
  for (int i = 0; i < 3; i++) {
    snprintf(path, sizeof path, "%s/seq.%d.msp", dir, i);
    ms_dump_t d;
    read_dump(path, &d);
    assert_int_equal(d.process.sequence, i);
    assert_int_equal(d.process.reason, i < 2 ? MS_DUMP_REASON_SNAPSHOT : MS_DUMP_REASON_EXIT);
    ms_dump_free(&d);
  }
  assert_int_equal(count_files("seq."), 3); /* no temporary files left behind */
}

static void test_snapshot_exit_dump_holds_the_leak(void **state) {
  (void)state;
  char out[256], tmpl[512], path[600];
  snprintf(tmpl, sizeof tmpl, "%s/exit.msp", dir);
  assert_int_equal(run_child("exit", tmpl, NULL, out, sizeof out), 0);
  snprintf(path, sizeof path, "%s/exit.msp", dir);
  ms_dump_t d;
  read_dump(path, &d);
  assert_int_equal(d.process.reason, MS_DUMP_REASON_EXIT);
  int found = 0;
  for (uint32_t i = 0; i < d.n_allocs; i++) found |= d.allocs[i].size == 12345;
  assert_true(found);
  ms_dump_free(&d);
}

static void test_snapshot_fork_child_writes_its_own_dump(void **state) {
  (void)state;
  char out[256], tmpl[512], path[600];
  snprintf(tmpl, sizeof tmpl, "%s/fork.%%p.%%n.msp", dir);
  assert_int_equal(run_child("fork", tmpl, NULL, out, sizeof out), 0);
  int child = 0;
  assert_int_equal(sscanf(out, "child=%d", &child), 1);
  snprintf(path, sizeof path, "%s/fork.%d.0.msp", dir, child);
  ms_dump_t d;
  read_dump(path, &d);
  assert_int_equal(d.process.pid, (uint64_t)child);
  int found = 0;
  for (uint32_t i = 0; i < d.n_allocs; i++) found |= d.allocs[i].size == 777;
  assert_true(found);
  ms_dump_free(&d);
}

int main(void) {
  const char *mode = getenv("MS_SNAPTEST_CHILD");
  if (mode) {
    snprintf(dir, sizeof dir, "%s", getenv("MS_SNAPTEST_DIR"));
    return child_main(mode);
  }
  ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
  if (n <= 0) return 1;
  self_path[n] = 0;
  snprintf(dir, sizeof dir, "/tmp/ms-snaptest-XXXXXX");
  if (!mkdtemp(dir)) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_snapshot_signal_dump_written_by_helper_thread),
      cmocka_unit_test(test_snapshot_sequence_numbers_give_distinct_files),
      cmocka_unit_test(test_snapshot_exit_dump_holds_the_leak),
      cmocka_unit_test(test_snapshot_fork_child_writes_its_own_dump),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) rc = rc ? rc : 1;
  return rc;
}
