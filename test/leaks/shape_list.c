/* A linked list of 10 nodes whose head is dropped: 1 definitely lost (the head) and 9
 * indirectly lost (reached only through it). */
#include "shape.h"
struct node { struct node *next; char pad[24]; };
__attribute__((noinline)) static void make(void) {
  struct node *head = NULL;
  for (int i = 0; i < 10; i++) {
    struct node *n = shape_alloc(sizeof *n);
    n->next = head;
    head = n;
  }
  __asm__ volatile("" ::"r"(head) : "memory");
}
int main(void) { make(); scrub(); return 0; }
