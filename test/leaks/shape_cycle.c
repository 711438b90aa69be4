/* Two blocks pointing at each other, nothing pointing at them: a cycle memcheck reports as
 * 1 definitely lost (the clique's leader) + 1 indirectly lost. */
#include "shape.h"
__attribute__((noinline)) static void make(void) {
  void **a = shape_alloc(40), **b = shape_alloc(40);
  a[0] = b;
  b[0] = a;
  __asm__ volatile("" ::"r"(a), "r"(b) : "memory");
}
int main(void) { make(); scrub(); return 0; }
