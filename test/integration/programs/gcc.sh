#!/bin/bash
# gcc.sh - compile a C program with gcc (cc1, as and ld all run under the same environment),
# print the disassembly of the object and the program's output. Relative paths only, so the
# output does not depend on the temporary directory.
set -eu
cat > prog.c <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
struct item { char name[16]; double weight; };
static int by_weight(const void *a, const void *b) {
  double x = ((const struct item *)a)->weight, y = ((const struct item *)b)->weight;
  return (x > y) - (x < y);
}
int main(void) {
  enum { N = 1000 };
  struct item *v = malloc(N * sizeof *v);
  unsigned s = 7;
  for (int i = 0; i < N; i++) {
    s = s * 1103515245u + 12345u;
    snprintf(v[i].name, sizeof v[i].name, "item%u", s % 10000);
    v[i].weight = (s >> 8) % 100000 / 7.0;
  }
  qsort(v, N, sizeof *v, by_weight);
  printf("%s %.3f %s %.3f\n", v[0].name, v[0].weight, v[N - 1].name, v[N - 1].weight);
  free(v);
  return 0;
}
C
gcc -O2 -g -Wall -c prog.c -o prog.o
objdump -d --no-show-raw-insn prog.o
gcc -O2 prog.c -o prog
./prog
