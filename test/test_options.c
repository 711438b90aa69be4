/* test_options.c — the options table (alloc/options.c): the K/M/G size parser, integers,
 * on/off booleans and signal names as pure functions; _ms_options_init() on a controlled
 * environment (compiled into this test again, so it can be re-run); and the real library's
 * start-up in a child process: a bad MEMSCOPE_* value prints exactly one warning line naming
 * the variable and the default stays in force.
 *
 * The test binary is linked with libmemscope (so the child really starts memscope) and also
 * contains its own copy of options.c, whose hidden symbols do not clash with the library's.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "memscope.h"
#include "options.h"

/* ------------------------------------------------------------------ parsers */

static void test_options_parse_size_valid(void **state) {
  (void)state;
  static const struct { const char *in; uint64_t want; } cases[] = {
      {"0", 0},           {"1", 1},          {"4096", 4096},       {"512K", 512 * 1024},
      {"512k", 512 * 1024}, {"64M", 64u << 20}, {"64m", 64u << 20}, {"1G", 1u << 30},
      {"3g", 3ull << 30}, {"512KB", 512 * 1024}, {"1MiB", 1u << 20}, {"2kb", 2048},
      {"18446744073709551615", UINT64_MAX}, {"18446744073709551600", 18446744073709551600ull},
      {"16777215G", 16777215ull << 30},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    uint64_t v = 12345;
    if (_ms_parse_size(cases[i].in, &v) != 0) fail_msg("'%s' rejected", cases[i].in);
    assert_int_equal(v, cases[i].want);
  }
}

static void test_options_parse_size_invalid(void **state) {
  (void)state;
  static const char *const bad[] = {"",     "K",    "KB",   "B",      "-1",   "1.5M",
                                    "12Q",  " 5",   "5 ",   "0x10",   "1T",   "K5",
                                    "99999999999999999999", "17179869184G", "1MM", "abc"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    uint64_t v = 777;
    if (_ms_parse_size(bad[i], &v) == 0) fail_msg("'%s' accepted as %llu", bad[i],
                                                  (unsigned long long)v);
    assert_int_equal(v, 777); /* untouched on error */
  }
  uint64_t v = 777;
  assert_int_equal(_ms_parse_size(NULL, &v), -1);
}

static void test_options_parse_uint(void **state) {
  (void)state;
  uint64_t v = 0;
  assert_int_equal(_ms_parse_uint("42", &v), 0);
  assert_int_equal(v, 42);
  assert_int_equal(_ms_parse_uint("0", &v), 0);
  assert_int_equal(v, 0);
  assert_int_equal(_ms_parse_uint("18446744073709551615", &v), 0);
  assert_int_equal(v, UINT64_MAX);
  assert_int_equal(_ms_parse_uint("18446744073709551600", &v), 0);
  assert_int_equal(v, 18446744073709551600ull);
  v = 5;
  assert_int_equal(_ms_parse_uint("18446744073709551616", &v), -1);
  assert_int_equal(_ms_parse_uint("", &v), -1);
  assert_int_equal(_ms_parse_uint("4x", &v), -1);
  assert_int_equal(_ms_parse_uint("-3", &v), -1);
  assert_int_equal(_ms_parse_uint("1K", &v), -1); /* plain integers take no suffix */
  assert_int_equal(_ms_parse_uint(NULL, &v), -1);
  assert_int_equal(v, 5);
}

static void test_options_parse_bool(void **state) {
  (void)state;
  static const char *const yes[] = {"1", "on", "ON", "yes", "Yes", "true", "TRUE", "enable",
                                    "enabled"};
  static const char *const no[] = {"0", "off", "OFF", "no", "false", "False", "disable",
                                   "disabled"};
  static const char *const bad[] = {"", "2", "onn", "y", "of", "10", " on"};
  for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
    uint64_t v = 0;
    assert_int_equal(_ms_parse_bool(yes[i], &v), 0);
    assert_int_equal(v, 1);
  }
  for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
    uint64_t v = 1;
    assert_int_equal(_ms_parse_bool(no[i], &v), 0);
    assert_int_equal(v, 0);
  }
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    uint64_t v = 9;
    if (_ms_parse_bool(bad[i], &v) == 0) fail_msg("'%s' accepted", bad[i]);
    assert_int_equal(v, 9);
  }
  uint64_t v = 9;
  assert_int_equal(_ms_parse_bool(NULL, &v), -1);
}

static void test_options_parse_signal(void **state) {
  (void)state;
  static const struct { const char *in; int want; } good[] = {
      {"USR1", SIGUSR1}, {"SIGUSR2", SIGUSR2}, {"sigterm", SIGTERM}, {"hup", SIGHUP},
      {"10", 10},        {"1", 1},             {"PROF", SIGPROF},    {"SIGWINCH", SIGWINCH}};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    uint64_t v = 0;
    if (_ms_parse_signal(good[i].in, &v) != 0) fail_msg("'%s' rejected", good[i].in);
    assert_int_equal(v, good[i].want);
  }
  char rt[16];
  snprintf(rt, sizeof rt, "%d", SIGRTMIN + 1);
  uint64_t v = 0;
  assert_int_equal(_ms_parse_signal(rt, &v), 0);
  assert_int_equal(v, (uint64_t)SIGRTMIN + 1);
  /* signals a dump trigger must never take over, and nonsense */
  static const char *const bad[] = {"0", "9", "19", "11", "7", "999", "", "FOO", "SIG",
                                    "KILL", "SIGSEGV", "-10"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    uint64_t w = 4242;
    if (_ms_parse_signal(bad[i], &w) == 0) fail_msg("'%s' accepted as %llu", bad[i],
                                                    (unsigned long long)w);
    assert_int_equal(w, 4242);
  }
}

/* ------------------------------------------------------------------ _ms_options_init */

static ms_options_t defaults;

static void clear_env(void) {
  static const char *const vars[] = {"MEMSCOPE_SAMPLE_RATE", "MEMSCOPE_OUTPUT",
                                     "MEMSCOPE_SNAPSHOT_SIGNAL", "MEMSCOPE_INTERVAL_MS",
                                     "MEMSCOPE_STACK_DEPTH", "MEMSCOPE_LEAK_REPORT",
                                     "MEMSCOPE_CHECKS", "MEMSCOPE_SEED"};
  for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) unsetenv(vars[i]);
}

/* Run _ms_options_init() from the defaults with stderr captured; returns what it printed. */
static char captured[4096];
static const char *init_capture(void) {
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  int saved = dup(2);
  dup2(fds[1], 2);
  close(fds[1]);
  _ms_options = defaults;
  _ms_options_init();
  dup2(saved, 2);
  close(saved);
  ssize_t n = read(fds[0], captured, sizeof captured - 1);
  close(fds[0]);
  captured[n > 0 ? n : 0] = 0;
  return captured;
}

static int count_lines(const char *s) {
  int n = 0;
  for (; *s; s++) n += *s == '\n';
  return n;
}

static int options_setup(void **state) {
  (void)state;
  defaults = _ms_options;
  clear_env();
  return 0;
}

static void test_options_defaults(void **state) {
  (void)state;
  clear_env();
  const char *err = init_capture();
  assert_string_equal(err, "");
  assert_int_equal(_ms_options.sample_rate, 512 * 1024);
  assert_null(_ms_options.output);
  assert_int_equal(_ms_options.snapshot_signal, 0);
  assert_int_equal(_ms_options.leak_report, 0);
  assert_true(_ms_options.stack_depth > 0 && _ms_options.stack_depth <= MS_STACK_DEPTH_MAX);
  assert_true(_ms_options.interval_ms > 0);
}

static void test_options_env_values(void **state) {
  (void)state;
  clear_env();
  setenv("MEMSCOPE_SAMPLE_RATE", "64K", 1);
  setenv("MEMSCOPE_OUTPUT", "/tmp/x.%p.msp", 1);
  setenv("MEMSCOPE_SNAPSHOT_SIGNAL", "USR2", 1);
  setenv("MEMSCOPE_INTERVAL_MS", "7", 1);
  setenv("MEMSCOPE_STACK_DEPTH", "12", 1);
  setenv("MEMSCOPE_LEAK_REPORT", "on", 1);
  setenv("MEMSCOPE_SEED", "99", 1);
  const char *err = init_capture();
  assert_string_equal(err, "");
  assert_int_equal(_ms_options.sample_rate, 65536);
  assert_string_equal(_ms_options.output, "/tmp/x.%p.msp");
  assert_int_equal(_ms_options.snapshot_signal, SIGUSR2);
  assert_int_equal(_ms_options.interval_ms, 7);
  assert_int_equal(_ms_options.stack_depth, 12);
  assert_int_equal(_ms_options.leak_report, 1);
  assert_int_equal(_ms_options.seed, 99);
  clear_env();
}

static void test_options_bad_value_warns_once_keeps_default(void **state) {
  (void)state;
  static const char *const cases[][2] = {
      {"MEMSCOPE_SAMPLE_RATE", "12Q"}, {"MEMSCOPE_SNAPSHOT_SIGNAL", "KILL"},
      {"MEMSCOPE_INTERVAL_MS", "fast"}, {"MEMSCOPE_STACK_DEPTH", "deep"},
      {"MEMSCOPE_LEAK_REPORT", "maybe"}, {"MEMSCOPE_SEED", "-4"},
      {"MEMSCOPE_STACK_DEPTH", "0"}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    clear_env();
    setenv(cases[i][0], cases[i][1], 1);
    const char *err = init_capture();
    if (count_lines(err) != 1 || !strstr(err, cases[i][0]) || !strstr(err, cases[i][1]))
      fail_msg("%s=%s: expected one warning line naming it, got '%s'", cases[i][0],
               cases[i][1], err);
    /* every option still holds its default */
    assert_int_equal(_ms_options.sample_rate, defaults.sample_rate);
    assert_int_equal(_ms_options.snapshot_signal, defaults.snapshot_signal);
    assert_int_equal(_ms_options.interval_ms, defaults.interval_ms);
    assert_int_equal(_ms_options.stack_depth, defaults.stack_depth);
    assert_int_equal(_ms_options.leak_report, defaults.leak_report);
    assert_int_equal(_ms_options.seed, defaults.seed);
  }
  clear_env();
}

static void test_options_empty_output_is_unset(void **state) {
  (void)state;
  clear_env();
  setenv("MEMSCOPE_OUTPUT", "", 1);
  init_capture();
  assert_null(_ms_options.output);
  clear_env();
}

/* ------------------------------------------------------------------ the real library, in a child */

static const char *self_exe;

/* Run this binary as "--child-rate" with one variable set; return the sample rate the library
 * reports on stdout (or -1) and stderr in err. */
static long long child_rate(const char *var, const char *value, char *err, size_t errcap) {
  int out[2], errp[2];
  assert_int_equal(pipe(out), 0);
  assert_int_equal(pipe(errp), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(errp[1], 2);
    close(out[0]), close(errp[0]);
    clear_env();
    if (var) setenv(var, value, 1);
    execl(self_exe, self_exe, "--child-rate", (char *)NULL);
    _exit(127);
  }
  close(out[1]), close(errp[1]);
  char buf[256];
  size_t n = 0, e = 0;
  ssize_t r;
  while ((r = read(out[0], buf + n, sizeof buf - 1 - n)) > 0) n += (size_t)r;
  buf[n] = 0;
  while (e + 1 < errcap && (r = read(errp[0], err + e, errcap - 1 - e)) > 0) e += (size_t)r;
  err[e] = 0;
  close(out[0]), close(errp[0]);
  int status;
  waitpid(pid, &status, 0);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  return n ? atoll(buf) : -1;
}

static void test_options_child_bad_sample_rate(void **state) {
  (void)state;
  char err[2048];
  long long rate = child_rate("MEMSCOPE_SAMPLE_RATE", "lots", err, sizeof err);
  assert_int_equal(rate, 512 * 1024);
  assert_int_equal(count_lines(err), 1);
  assert_non_null(strstr(err, "MEMSCOPE_SAMPLE_RATE"));
}

static void test_options_child_good_sample_rates(void **state) {
  (void)state;
  char err[2048];
  assert_int_equal(child_rate("MEMSCOPE_SAMPLE_RATE", "64K", err, sizeof err), 65536);
  assert_string_equal(err, "");
  assert_int_equal(child_rate("MEMSCOPE_SAMPLE_RATE", "1", err, sizeof err), 1);
  assert_string_equal(err, "");
  assert_int_equal(child_rate("MEMSCOPE_SAMPLE_RATE", "0", err, sizeof err), 0);
  assert_string_equal(err, "");
  assert_int_equal(child_rate(NULL, NULL, err, sizeof err), 512 * 1024);
  assert_string_equal(err, "");
}

static void test_options_child_other_bad_values(void **state) {
  (void)state;
  char err[2048];
  assert_int_equal(child_rate("MEMSCOPE_LEAK_REPORT", "sometimes", err, sizeof err), 512 * 1024);
  assert_int_equal(count_lines(err), 1);
  assert_non_null(strstr(err, "MEMSCOPE_LEAK_REPORT"));
  assert_int_equal(child_rate("MEMSCOPE_SNAPSHOT_SIGNAL", "SIGNOPE", err, sizeof err), 512 * 1024);
  assert_int_equal(count_lines(err), 1);
  assert_non_null(strstr(err, "MEMSCOPE_SNAPSHOT_SIGNAL"));
}

/* Secure execution (set-uid): the environment is ignored, like glibc's MALLOC_* tunables. Needs
 * root, to make a set-uid-root copy of this binary and run it as nobody; skipped otherwise. */
static void test_options_secure_execution_ignores_env(void **state) {
  (void)state;
  if (geteuid() != 0) skip();
  char dir[] = "/tmp/ms_suid_XXXXXX";
  assert_non_null(mkdtemp(dir));
  struct statvfs vfs;
  if (statvfs(dir, &vfs) == 0 && (vfs.f_flag & ST_NOSUID)) {
    rmdir(dir);
    skip();
  }
  char copy[128];
  snprintf(copy, sizeof copy, "%s/test_options_suid", dir);
  char cmd[8500];
  snprintf(cmd, sizeof cmd, "cp '%s' '%s'", self_exe, copy);
  assert_int_equal(system(cmd), 0);
  assert_int_equal(chmod(dir, 0755), 0);
  assert_int_equal(chmod(copy, 04755), 0);
  int out[2], errp[2];
  assert_int_equal(pipe(out), 0);
  assert_int_equal(pipe(errp), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(errp[1], 2);
    setenv("MEMSCOPE_SAMPLE_RATE", "1", 1);
    setenv("MEMSCOPE_LEAK_REPORT", "1", 1);
    setenv("MEMSCOPE_OUTPUT", "/tmp/ms_suid_must_not_exist_%p.msp", 1);
    setenv("MEMSCOPE_STACK_DEPTH", "bogus", 1); /* not even read: no warning */
    if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(125);
    execl(copy, copy, "--child-rate", (char *)NULL);
    _exit(127);
  }
  close(out[1]), close(errp[1]);
  char buf[64] = {0}, err[1024] = {0};
  ssize_t n = read(out[0], buf, sizeof buf - 1);
  ssize_t e = read(errp[0], err, sizeof err - 1);
  (void)n, (void)e;
  close(out[0]), close(errp[0]);
  int st;
  waitpid(pid, &st, 0);
  unlink(copy);
  rmdir(dir);
  if (WIFEXITED(st) && WEXITSTATUS(st) == 125) skip(); /* no such user / not allowed */
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  assert_int_equal(atoll(buf), 512 * 1024); /* the default, not the environment's 1 */
  assert_string_equal(err, "");             /* no warning, no leak report */
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--child-rate") == 0) {
    ms_stats_t st;
    if (ms_stats(&st) != MS_OK) return 1;
    printf("%llu\n", (unsigned long long)st.sample_rate);
    return 0;
  }
  self_exe = "/proc/self/exe";
  static char path[4096];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  if (n > 0) path[n] = 0, self_exe = path;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_options_parse_size_valid),
      cmocka_unit_test(test_options_parse_size_invalid),
      cmocka_unit_test(test_options_parse_uint),
      cmocka_unit_test(test_options_parse_bool),
      cmocka_unit_test(test_options_parse_signal),
      cmocka_unit_test(test_options_defaults),
      cmocka_unit_test(test_options_env_values),
      cmocka_unit_test(test_options_bad_value_warns_once_keeps_default),
      cmocka_unit_test(test_options_empty_output_is_unset),
      cmocka_unit_test(test_options_child_bad_sample_rate),
      cmocka_unit_test(test_options_child_good_sample_rates),
      cmocka_unit_test(test_options_child_other_bad_values),
      cmocka_unit_test(test_options_secure_execution_ignores_env),
  };
  return cmocka_run_group_tests(tests, options_setup, NULL);
}
