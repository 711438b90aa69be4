/* typenames_prog.c — MS_TRACK on pointers to a struct, a typedef'd struct, an anonymous struct
 * typedef, through a pointer typedef, to const, and to int (named at compile time by
 * _Generic). Built with and without -g: the converter names the pointee types from DWARF
 * ("struct point", "point_t", ...) or keeps "?" (test/cli/formats_test.py typenames). */
#include <stdlib.h>
#include "memscope.h"
struct point { int x, y; };
typedef struct point point_t;
typedef struct { double v[4]; } vec4;
typedef struct point *point_ptr;
int main(void) {
  struct point *p = malloc(sizeof *p * 10);
  MS_TRACK(p);
  point_t *q = malloc(sizeof *q);
  MS_TRACK(q);
  vec4 *v = malloc(sizeof *v);
  MS_TRACK(v);
  point_ptr pp = malloc(sizeof *pp);
  MS_TRACK(pp);
  const struct point *cp = malloc(64);
  MS_TRACK(cp);
  int *i = malloc(8);
  MS_TRACK(i);
  free(p); free(q); free(v); free(pp); free((void *)cp); free(i);
  return 0;
}
