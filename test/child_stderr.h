/* child_stderr.h — for cmocka tests of errors memscope reports on stderr: run a function in a
 * forked child with its stderr captured (so a report or an abort ends the child, not the test),
 * and count a text in what it printed. Header-only; include after <cmocka.h>. */
#ifndef MEMSCOPE_TEST_CHILD_STDERR_H
#define MEMSCOPE_TEST_CHILD_STDERR_H

#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* What the last child printed on stderr (reports with stacks can be long: read it all, so the
 * child never dies of SIGPIPE). */
static char child_err[1 << 20] __attribute__((unused));

/* Read fd to its end into buf (NUL-terminated, cut at cap - 1), close it, then wait for pid and
 * return its wait status. Reading everything first keeps the child from dying of SIGPIPE. */
static inline int drain_and_wait(int fd, pid_t pid, char *buf, size_t cap) {
  size_t n = 0;
  ssize_t r;
  while ((r = read(fd, buf + n, cap - 1 - n)) > 0) n += (size_t)r;
  buf[n] = 0;
  close(fd);
  int status;
  waitpid(pid, &status, 0);
  return status;
}

/* Run fn in a forked child with stderr captured in child_err; returns the wait status. */
static inline int in_child(void (*fn)(void)) {
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  fflush(stdout);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], 2);
    fn();
    _exit(0);
  }
  close(fds[1]);
  return drain_and_wait(fds[0], pid, child_err, sizeof child_err);
}

static inline int count_of(const char *hay, const char *needle) {
  int n = 0;
  for (const char *s = hay; (s = strstr(s, needle)) != NULL; s++) n++;
  return n;
}

#endif /* MEMSCOPE_TEST_CHILD_STDERR_H */
