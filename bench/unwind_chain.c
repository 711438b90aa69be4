/* unwind_chain.c — a call chain of known depth for bench_unwind.c.
 *
 * Compiled twice by bench/bench.cmake: once with frame pointers (CHAIN_NAME=ms_chain_fp) and
 * once with -fomit-frame-pointer (CHAIN_NAME=ms_chain_nofp), so the benchmark can show both the
 * cost of each unwinder and whether a frame-pointer walk still finds the frames when the code
 * was built the way most of Debian is (without frame pointers).
 */
#include <stdint.h>

typedef void (*ms_chain_leaf_fn)(void *arg);

/* volatile sink so the compiler neither inlines the recursion nor turns it into a loop/tail call */
static volatile uintptr_t sink;

__attribute__((noinline)) int CHAIN_NAME(int depth, ms_chain_leaf_fn leaf, void *arg) {
  int r;
  if (depth <= 1) {
    leaf(arg);
    r = 1;
  } else {
    r = CHAIN_NAME(depth - 1, leaf, arg) + 1;
  }
  sink += (uintptr_t)r; /* work after the call: no tail call */
  return r;
}
