/* environ_clobber.c — a program that rewrites the strings of its own environment, as every
 * setproctitle() does (redis-server, nginx, postgres, sshd, python's setproctitle module): the
 * title is written over argv[] and the environment strings that follow it, after environ was
 * copied elsewhere. memscope read MEMSCOPE_OUTPUT at start; the dump written at exit must still
 * go to that path. Defect found with redis-server: the option kept getenv()'s pointer, which now
 * points into the overwritten area, so the template read as "" and no dump was written
 * ("memscope: could not write dump : could not write the dump file").
 *
 *   environ_clobber DUMP_PATH      (run with MEMSCOPE_OUTPUT=DUMP_PATH; run.sh checks the file) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

int main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  /* what setproctitle does: move environ to the heap, then reuse the old strings' memory */
  size_t n = 0;
  while (environ[n]) n++;
  char **copy = malloc((n + 1) * sizeof *copy);
  if (!copy) return 2;
  for (size_t i = 0; i < n; i++) copy[i] = strdup(environ[i]);
  copy[n] = NULL;
  char **old = environ;
  environ = copy;
  for (size_t i = 0; i < n; i++) memset(old[i], 0, strlen(old[i]));
  if (!getenv("MEMSCOPE_OUTPUT")) return 2; /* the moved copy still has it */
  void *leak = malloc(1000); /* something for the dump to show */
  printf("environment rewritten (%zu strings), %p\n", n, leak);
  return 0; /* the dump is written at exit */
}
