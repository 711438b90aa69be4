/* A block reached only from a global: still reachable. */
#include "shape.h"
void *volatile keep;
__attribute__((noinline)) static void make(void) { keep = shape_alloc(48); }
int main(void) { make(); scrub(); return 0; }
