/* A block reached only from a dlopen'ed library's data (shape_lib.so's global): still
 * reachable. argv[1] is the library's path. */
#include <dlfcn.h>
#include <stdio.h>
#include "shape.h"
__attribute__((noinline)) static int make(const char *lib) {
  void *h = dlopen(lib, RTLD_NOW);
  if (!h) return fprintf(stderr, "%s\n", dlerror()), 1;
  void (*set)(void *) = (void (*)(void *))dlsym(h, "shape_lib_set");
  if (!set) return 1;
  set(shape_alloc(88));
  return 0;
}
int main(int argc, char **argv) {
  if (argc < 2 || make(argv[1])) return 1;
  scrub();
  return 0;
}
