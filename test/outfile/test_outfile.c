/* test_outfile.c — export/outfile.c directly: a symlink planted at the temporary file's name
 * is neither followed nor reused (O_EXCL|O_NOFOLLOW), the target is replaced only when it is a
 * regular file or absent, and nothing is left behind on failure.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "outfile.h"

static char dir[64];

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/ms_outfile_XXXXXX");
  return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd);
}

static void read_file(const char *p, char *buf, size_t cap) {
  buf[0] = 0;
  FILE *f = fopen(p, "r");
  if (!f) return;
  size_t n = fread(buf, 1, cap - 1, f);
  buf[n] = 0;
  fclose(f);
}

/* A file an attacker would like memscope to overwrite: it must still say "victim" after. */
static void write_victim(const char *path) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("victim", f);
  fclose(f);
}

static void test_outfile_planted_symlink_not_followed(void **state) {
  (void)state;
  char target[128], sentinel[128], planted[256], err[512], buf[64];
  snprintf(target, sizeof target, "%s/dump.msp", dir);
  snprintf(sentinel, sizeof sentinel, "%s/victim", dir);
  write_victim(sentinel);
  /* plant links at the first temporary names this process would use */
  for (int n = 0; n < 4; n++) {
    snprintf(planted, sizeof planted, "%s.tmp.%d.%d", target, (int)getpid(), n);
    assert_int_equal(symlink(sentinel, planted), 0);
  }
  ms_outfile_t o;
  assert_int_equal(_ms_outfile_open(&o, target, 0644, err, sizeof err), 0);
  assert_true(write(o.fd, "new", 3) == 3);
  assert_int_equal(_ms_outfile_commit(&o, err, sizeof err), 0);
  read_file(sentinel, buf, sizeof buf);
  assert_string_equal(buf, "victim");
  read_file(target, buf, sizeof buf);
  assert_string_equal(buf, "new");
  struct stat st;
  assert_int_equal(lstat(target, &st), 0);
  assert_true(S_ISREG(st.st_mode));
}

static void test_outfile_refuses_symlink_target(void **state) {
  (void)state;
  char target[128], sentinel[128], err[512], buf[64];
  snprintf(target, sizeof target, "%s/link.msp", dir);
  snprintf(sentinel, sizeof sentinel, "%s/victim2", dir);
  write_victim(sentinel);
  assert_int_equal(symlink(sentinel, target), 0);
  ms_outfile_t o;
  assert_int_equal(_ms_outfile_open(&o, target, 0644, err, sizeof err), -1);
  assert_non_null(strstr(err, "symbolic link"));
  read_file(sentinel, buf, sizeof buf);
  assert_string_equal(buf, "victim");
}

/* the target turns into a FIFO while the file is being written: commit refuses, cleans up */
static void test_outfile_commit_rechecks(void **state) {
  (void)state;
  char target[128], err[512];
  snprintf(target, sizeof target, "%s/late.msp", dir);
  ms_outfile_t o;
  assert_int_equal(_ms_outfile_open(&o, target, 0644, err, sizeof err), 0);
  char tmp[sizeof o.tmp];
  snprintf(tmp, sizeof tmp, "%s", o.tmp);
  assert_int_equal(mkfifo(target, 0644), 0);
  assert_int_equal(_ms_outfile_commit(&o, err, sizeof err), -1);
  assert_non_null(strstr(err, "FIFO"));
  struct stat st;
  assert_int_equal(lstat(target, &st), 0);
  assert_true(S_ISFIFO(st.st_mode));
  assert_int_equal(access(tmp, F_OK), -1); /* temporary file removed */
}

static void test_outfile_missing_folder(void **state) {
  (void)state;
  char target[128], err[512];
  snprintf(target, sizeof target, "%s/no/such/x.msp", dir);
  assert_int_equal(_ms_outfile_check(target, err, sizeof err), -1);
  assert_non_null(strstr(err, "does not exist"));
  assert_int_equal(_ms_outfile_check_dir("x/", err, sizeof err), -1);
  assert_int_equal(_ms_outfile_check_dir("relative-name.msp", err, sizeof err), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_outfile_planted_symlink_not_followed),
      cmocka_unit_test(test_outfile_refuses_symlink_target),
      cmocka_unit_test(test_outfile_commit_rechecks),
      cmocka_unit_test(test_outfile_missing_folder),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
