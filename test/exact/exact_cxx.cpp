// exact_cxx.cpp — C++ exceptions unwinding through frames that allocate, for exact_test.py: the
// program counts its own allocations per site and writes them as JSON to argv[1]; under
// memscope at rate 1 the sites' figures must equal them. Blocks owned by unique_ptrs in the
// unwound frames are freed by the unwinder; some are kept in a list that leaks.
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

#define NOINLINE __attribute__((noinline, noclone))
#define NO_TAIL() __asm__ volatile("" ::: "memory")

static unsigned long tc, tb, lc, lb;           // site_buffer
static std::vector<char *> *kept;

NOINLINE char *site_buffer(size_t n) {
  char *p = new char[n];
  NO_TAIL();
  return p;
}

NOINLINE static void descend(int depth, int i) {
  size_t n = 24 + static_cast<size_t>(depth * 8 + i % 5);
  std::unique_ptr<char[]> owned(site_buffer(n));
  tc++, tb += n;
  owned[0] = 1;
  if (depth == 0) {
    if (i % 4 == 0) {
      kept->push_back(owned.release());
      lc++, lb += n;
    }
    throw std::runtime_error("unwind me");
  }
  descend(depth - 1, i);
  NO_TAIL();
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  kept = new std::vector<char *>;
  kept->reserve(1000);
  int caught = 0;
  for (int i = 0; i < 2000; i++) {
    try {
      descend(3 + i % 6, i);
    } catch (const std::runtime_error &) {
      caught++;
    }
  }
  FILE *f = std::fopen(argv[1], "w");
  if (!f || caught != 2000) return 2;
  std::fprintf(f, "{\"site_buffer\": {\"total_count\": %lu, \"total_bytes\": %lu, \"live_count\": %lu, \"live_bytes\": %lu}}\n",
               tc, tb, lc, lb);
  std::fclose(f);
  return 0;
}
