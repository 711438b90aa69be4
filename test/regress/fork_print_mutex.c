/* R5: fork() while another thread is printing a memory-error report (print_mutex held, libdw
 * symbolising). print_mutex (and retired_mutex) are not covered by the atfork handlers, so the
 * child inherits them locked; the child's first printed report hangs forever.
 * Run with MEMSCOPE_CHECKS=overflow (the child's error is fatal, so it is always printed). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
static volatile int started;
static void *reporter(void *arg) {
  (void)arg;
  char *p = malloc(100);
  free(p);
  started = 1;
  free(p); /* double free: printed with libdw symbolisation, which takes a while */
  return NULL;
}
int main(void) {
  pthread_t th;
  pthread_create(&th, NULL, reporter, NULL);
  while (!started) {}
  usleep(2000); /* the report is being printed now */
  pid_t pid = fork();
  if (pid == 0) {
    char *q = malloc(10);
    memset(q, 'x', 12);
    free(q); /* fatal buffer_overflow: report -> print_mutex */
    _exit(0);
  }
  pthread_join(th, NULL);
  for (int i = 0; i < (getenv("R5_WAIT") ? 300 : 50); i++) {
    int st;
    if (waitpid(pid, &st, WNOHANG) == pid) {
      fprintf(stderr, "child ended: %s %d\n", WIFSIGNALED(st) ? "signal" : "exit",
              WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
      return 0;
    }
    usleep(100000);
  }
  fprintf(stderr, "CHILD HUNG (5 s), pid %d\n", pid);
  kill(pid, SIGKILL);
  return 1;
}
