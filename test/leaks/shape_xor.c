/* The only reference is hidden by XOR (as in an XOR-linked list): definitely lost. */
#include <stdint.h>
#include "shape.h"
volatile uintptr_t hidden;
__attribute__((noinline)) static void make(void) {
  hidden = (uintptr_t)shape_alloc(56) ^ (uintptr_t)0x5a5a5a5a5a5a5a5aull;
}
int main(void) { make(); scrub(); return 0; }
