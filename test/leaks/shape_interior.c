/* A block reached only through a pointer into its middle: possibly lost. */
#include "shape.h"
char *volatile inside;
__attribute__((noinline)) static void make(void) { inside = (char *)shape_alloc(64) + 24; }
int main(void) { make(); scrub(); return 0; }
