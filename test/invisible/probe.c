/* probe.c — prints what a process can see of its own environment, after doing some ordinary
 * work (allocations of many sizes from two threads, one of which has exited): its open
 * descriptors with what they are, blocked/ignored/caught signals, alternate signal stack,
 * threads with their names, and the environment minus the variables the test itself sets
 * (LD_PRELOAD, MEMSCOPE_*). invisible_test.py compares runs with and without memscope.
 * "--exec" : do the work, then re-exec itself with LD_PRELOAD and MEMSCOPE_* removed, so the
 * new image shows what survived exec.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static void work(void) {
  for (int round = 0; round < 3; round++) {
    void *p[512];
    for (int i = 0; i < 512; i++) p[i] = malloc((size_t)(i * 37 % 5000) + 1 + (i == 7 ? 1 << 20 : 0));
    for (int i = 0; i < 512; i++) free(p[i]);
  }
}

static void *thread_main(void *arg) {
  (void)arg;
  work();
  return NULL;
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void print_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) return;
  int self = dirfd(d);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' || atoi(e->d_name) == self) continue;
    char link[512], path[300];
    snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
    ssize_t n = readlink(path, link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    char *colon = strchr(link, ':'); /* pipe:[123] -> pipe: the inode differs run to run */
    if (colon && colon[1] == '[') colon[1] = 0;
    printf("fd %s %s\n", e->d_name, link);
  }
  closedir(d);
}

static void print_status(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[512];
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "SigBlk:", 7) || !strncmp(line, "SigIgn:", 7) || !strncmp(line, "SigCgt:", 7) ||
        !strncmp(line, "Threads:", 8))
      printf("%s", line);
  if (f) fclose(f);
  DIR *d = opendir("/proc/self/task");
  struct dirent *e;
  char *names[256];
  int n = 0;
  while (d && (e = readdir(d)) && n < 256) {
    if (e->d_name[0] == '.') continue;
    char path[300], comm[64] = "";
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
    FILE *c = fopen(path, "r");
    if (c) {
      if (!fgets(comm, sizeof comm, c)) comm[0] = 0;
      fclose(c);
    }
    comm[strcspn(comm, "\n")] = 0;
    names[n++] = strdup(comm);
  }
  if (d) closedir(d);
  qsort(names, (size_t)n, sizeof *names, cmp);
  for (int i = 0; i < n; i++) printf("thread %s\n", names[i]), free(names[i]);
  stack_t ss;
  if (sigaltstack(NULL, &ss) == 0) printf("altstack %s\n", (ss.ss_flags & SS_DISABLE) ? "none" : "set");
}

static int test_var(const char *v) { return !strncmp(v, "LD_PRELOAD=", 11) || !strncmp(v, "MEMSCOPE_", 9); }

static void print_env(void) {
  int n = 0;
  for (char **e = environ; *e; e++) n++;
  char **v = malloc(sizeof *v * (size_t)(n + 1));
  int k = 0;
  for (char **e = environ; *e; e++)
    if (!test_var(*e)) v[k++] = *e;
  qsort(v, (size_t)k, sizeof *v, cmp);
  for (int i = 0; i < k; i++) printf("env %s\n", v[i]);
  free(v);
}

int main(int argc, char **argv) {
  pthread_t t;
  work();
  if (pthread_create(&t, NULL, thread_main, NULL) == 0) pthread_join(t, NULL);
  if (argc > 1 && !strcmp(argv[1], "--exec")) {
    char **keep = malloc(sizeof *keep * 4096);
    int k = 0;
    for (char **e = environ; *e && k < 4095; e++)
      if (!test_var(*e)) keep[k++] = *e;
    keep[k] = NULL;
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = 0;
    char *args[] = {argv[0], NULL};
    execve(self, args, keep); /* by its own name: the thread name stays the probe's */
    perror("execve");
    return 1;
  }
  print_fds();
  print_status();
  print_env();
  return 0;
}
