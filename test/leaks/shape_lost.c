/* One block nothing points to: definitely lost. */
#include "shape.h"
__attribute__((noinline)) static void make(void) {
  void *p = shape_alloc(100);
  __asm__ volatile("" ::"r"(p) : "memory");
}
int main(void) { make(); scrub(); return 0; }
