// usable_cxx.cpp — C++ operator new/delete against the usable size. A program may ask
// malloc_usable_size() of an operator-new block, use every byte of it, and then give sized
// delete that usable size rather than the request (containers that round their capacity up to
// what the allocator really gave do this; the standard only promises the request, memscope and
// glibc accept both). Checked for plain, array, aligned and nothrow forms, sizes 1 B .. 1 MiB:
// the usable bytes hold what was written, sized delete with the request, the usable size or
// (aligned) either, reports nothing (run.sh fails on any memscope line on stderr), and the live
// counters return to the baseline. Exits 1 after printing the first failures.
#include <malloc.h>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>

#include "memscope.h"

static unsigned long failures;

static void fail(const char *how, const char *what, size_t n, size_t u) {
  if (failures++ < 10) std::fprintf(stderr, "FAIL %s: %s n=%zu usable=%zu\n", how, what, n, u);
}

// Fill every usable byte and read it back; returns the usable size.
static size_t use_all(const char *how, void *vp, size_t n, size_t align) {
  auto *p = static_cast<unsigned char *>(vp);
  if (!p) {
    fail(how, "allocation returned nullptr", n, 0);
    return 0;
  }
  if (align > 1 && reinterpret_cast<uintptr_t>(p) % align != 0) fail(how, "misaligned", n, 0);
  size_t u = malloc_usable_size(p);
  if (u < n) fail(how, "usable size below the request", n, u);
  for (size_t i = 0; i < u; i++) p[i] = static_cast<unsigned char>(i * 7 + n);
  for (size_t i = 0; i < u; i++)
    if (p[i] != static_cast<unsigned char>(i * 7 + n)) {
      fail(how, "usable bytes did not hold what was written", n, u);
      break;
    }
  return u;
}

// What plain new promises: alignment for any object of that size without new-extended alignment
// (16 on x86-64); an object smaller than 16 bytes cannot need more than its size rounded down to
// a power of two, and memscope gives 8 there, as glibc's malloc may.
static size_t natural(size_t n) {
  size_t a = 16;
  while (a > 1 && a > n) a /= 2;
  return a;
}

int main() {
  ms_stats_t before{}, after{};
  bool have_stats = ms_stats && ms_stats(&before) == 0; // weak: null when not on memscope
  static const size_t sizes[] = {1,    8,    13,   16,   17,   24,    31,    48,    63,     100,
                                 129,  255,  256,  1000, 1024, 4000,  4096,  4097,  10000,  65536,
                                 100000, 262144, 1048576};
  static const size_t aligns[] = {32, 64, 256, 4096, 65536};
  for (size_t n : sizes) {
    for (int pass = 0; pass < 2; pass++) { // pass 0: delete with the usable size; 1: the request
      void *p = ::operator new(n);
      size_t u = use_all("new", p, n, natural(n));
      ::operator delete(p, pass ? n : u);

      p = ::operator new[](n);
      u = use_all("new[]", p, n, natural(n));
      ::operator delete[](p, pass ? n : u);

      p = ::operator new(n, std::nothrow);
      use_all("new(nothrow)", p, n, natural(n));
      ::operator delete(p, std::nothrow);

      for (size_t a : aligns) {
        std::align_val_t al{a};
        p = ::operator new(n, al);
        u = use_all("new(align)", p, n, a);
        ::operator delete(p, pass ? n : u, al);
        p = ::operator new[](n, al);
        u = use_all("new[](align)", p, n, a);
        ::operator delete[](p, pass ? n : u, al);
        p = ::operator new(n, al, std::nothrow);
        use_all("new(align, nothrow)", p, n, a);
        ::operator delete(p, al, std::nothrow);
      }
    }
  }
  if (have_stats && ms_stats(&after) == 0 &&
      (after.live_allocations > before.live_allocations + 16 ||
       after.live_bytes > before.live_bytes + 4096)) {
    std::fprintf(stderr, "FAIL stats: live %llu blocks / %llu bytes at the end, %llu / %llu at start\n",
                 (unsigned long long)after.live_allocations, (unsigned long long)after.live_bytes,
                 (unsigned long long)before.live_allocations, (unsigned long long)before.live_bytes);
    failures++;
  }
  std::printf("usable_cxx: %lu failures%s\n", failures, have_stats ? "" : " (not on memscope)");
  return failures != 0;
}
