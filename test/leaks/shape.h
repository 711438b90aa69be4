/* shape.h — helpers shared by the leak-check shape programs (test/leaks/shape_*.c).
 * Every block a shape is about is allocated by shape_alloc(), so the checker (check.py) can
 * pick exactly those out of memscope's and valgrind's reports, whatever the C runtime keeps.
 * scrub() overwrites the dead stack below the caller so that stale copies of pointers left
 * by earlier calls cannot act as roots (for memscope and valgrind alike). */
#ifndef SHAPE_H
#define SHAPE_H
#include <stdlib.h>
#include <string.h>

__attribute__((noinline, used)) void *shape_alloc(size_t n) {
  void *p = malloc(n);
  memset(p, 0, n);
  __asm__ volatile("" ::"r"(p) : "memory");
  return p;
}

__attribute__((noinline, used)) void scrub(void) {
  volatile char pad[16384];
  memset((char *)pad, 0, sizeof pad);
  __asm__ volatile("" ::"r"(pad) : "memory");
}
#endif
